"""The directory: being open to a coffee (a listing with topics and a monthly limit), finding
people by interest and stage, the suggestions and referrals shown there, and guests a
coordinator lists from outside the program."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from program.asks.models import Ask, AskStatus, Listing, Meets, OutsideReferral
from program.audit.services import record
from program.checkins.models import CheckIn
from program.coffee.enrollment import may_join
from program.coffee.models import Chat, ChatMember
from program.db import DomainError, escape_like, utc_now
from program.extensions import db
from program.messages.intros import shared_interests
from program.people.models import PairingBlock, Person
from program.people.names import fold
from program.people.services import validate_email_address
from program.people.stages import CareerStage
from program.programs.models import Membership, Program, Role

MAX_OPEN_ASKS = 3  # waiting asks a person may have at once
CAPACITY_DAYS = 30  # "asks a month" counts the asks received in the last 30 days
COOL_DOWN_DAYS = 90  # after a "not now", the same person is not asked again for this long
FOLLOW_UP_AFTER_DAYS = 7  # no answer in a week: the asker is prompted to follow up once
CLOSE_AFTER_DAYS = 14  # and after another week the ask closes quietly
ASK_WORDS = (20, 400)  # refused outside this; the guide below is what the form shows
COFFEE_GUIDE = (60, 150)
MENTOR_GUIDE = (150, 250)  # a first approach to a possible mentor (the playbook)
MAX_TOPICS = 10
PER_PAGE = 20


def listing_of(person: Person, program: Program) -> Listing | None:
    return db.session.scalar(
        sa.select(Listing).where(Listing.program_id == program.id, Listing.person_id == person.id)
    )


def parse_topics(text: str) -> list[str]:
    """Topics from "global health, quality; research": trimmed, deduplicated, at most ten."""
    found: list[str] = []
    for part in re.split(r"[,;\n]", text or ""):
        topic = " ".join(part.split())
        if not topic:
            continue
        if len(topic) > 60:
            raise DomainError("Keep each topic under 60 characters.", field="topics")
        if fold(topic) not in {fold(t) for t in found}:
            found.append(topic)
    if len(found) > MAX_TOPICS:
        raise DomainError(f"List at most {MAX_TOPICS} topics.", field="topics")
    return found


def _topics_key(topics: list[str]) -> str:
    return "|" + "".join(f"{fold(t)}|" for t in topics)


def _fill(listing: Listing, *, note: str, topics: str, asks_per_month: int, meets: Meets) -> None:
    """Write what a listing shows, checked: the note, the topics (as typed, comma-separated),
    asks a month and how they meet."""
    found = parse_topics(topics)
    note = " ".join((note or "").split())
    if len(note) > 500:
        raise DomainError("Keep the note under 500 characters.", field="note")
    if not 1 <= asks_per_month <= 10:
        raise DomainError("Asks a month is from 1 to 10.", field="asks_per_month")
    listing.note = note
    listing.topics = found
    listing.topics_key = _topics_key(found)
    listing.asks_per_month = asks_per_month
    listing.meets = meets
    listing.updated_at = utc_now()


def open_to_asks(
    person: Person,
    program: Program,
    *,
    note: str,
    topics: str,
    asks_per_month: int = 2,
    meets: Meets = Meets.EITHER,
) -> Listing:
    """Say (or change) that `person` is open to being asked in `program`'s directory."""
    if person.is_guest or not may_join(person, program):
        raise DomainError("Only members of this program's coffee chats can list themselves.")
    listing = listing_of(person, program) or Listing(program_id=program.id, person_id=person.id)
    _fill(listing, note=note, topics=topics, asks_per_month=asks_per_month, meets=meets)
    if not listing.open:  # new, or back after leaving; a paused one stays paused
        listing.open, listing.paused = True, False
    db.session.add(listing)
    db.session.flush()
    return listing


def set_listing_state(person: Person, program: Program, action: str) -> Listing:
    """Pause, resume or stop one's own listing. Asks already waiting stay answerable."""
    listing = listing_of(person, program)
    if listing is None or not listing.open:
        raise DomainError("You are not in this program's directory.")
    if action == "pause":
        listing.paused = True
    elif action == "resume":
        listing.paused = False
    elif action == "stop":
        listing.open, listing.paused = False, False
    else:
        raise DomainError("Unknown action.")
    listing.updated_at = utc_now()
    return listing


@dataclass
class Filters:
    name: str = ""
    topic: str = ""
    department_id: int | None = None
    stage: CareerStage | None = None
    role: str = ""  # "trainee", "mentor", "coordinator", "guest" or ""
    ahead: bool = False  # one or two stages ahead of the viewer
    other_department: bool = False


@dataclass
class Entry:
    listing: Listing
    person: Person
    roles: list[str]
    shared: list[str]
    referred_by: list[str] = field(default_factory=list)
    full: bool = False
    waiting: bool = False  # the viewer's ask is waiting for an answer
    not_before: datetime | None = None  # a "not now" pauses asks until then

    @property
    def askable(self) -> bool:
        return not (self.full or self.waiting or self.not_before)


@dataclass
class Directory:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    referrals: list[Referral]
    outside: list[OutsideReferral]
    my_interests: list[str]


@dataclass
class Referral:
    """Someone a chat partner suggested the viewer meet, in this program."""

    person: Person
    by: list[str]
    listed: bool  # open to asks in the directory


def my_interests(person: Person, program: Program) -> list[str]:
    own = listing_of(person, program)
    return list(own.topics) if own is not None and own.topics else list(person.interests or [])


def _suggestions(viewer: Person, program: Program) -> dict[int, list[str]]:
    """Who the viewer's chat partners suggested they meet (from their check-ins), and by whom;
    until the viewer asks them (a suggestion acted on is no longer one)."""
    asked = sa.exists().where(
        Ask.asker_id == viewer.id,
        Ask.recipient_id == CheckIn.suggested_person_id,
        Ask.status != AskStatus.WITHDRAWN,
    )
    partner = sa.orm.aliased(ChatMember)
    rows = db.session.execute(
        sa.select(CheckIn.suggested_person_id, Person.name)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .join(partner, partner.chat_id == Chat.id)
        .join(Person, Person.id == partner.person_id)
        .where(
            CheckIn.person_id == viewer.id,
            CheckIn.suggested_person_id.is_not(None),
            Chat.program_id == program.id,
            partner.person_id != viewer.id,
            ~asked,
        )
        .order_by(CheckIn.id)
    ).all()
    found: dict[int, list[str]] = {}
    for suggested, by in rows:
        if by not in found.setdefault(suggested, []):
            found[suggested].append(by)
    return found


def listed_in(program: Program) -> sa.Select[Any]:
    """Open, unpaused listings of active people: members in the coffee track, or guests."""
    member = sa.exists().where(
        Membership.person_id == Listing.person_id,
        Membership.program_id == Listing.program_id,
        Membership.is_current,
        Membership.coffee_track.is_(True),
    )
    return (
        sa.select(Listing)
        .join(Person, Person.id == Listing.person_id)
        .where(
            Listing.program_id == program.id,
            Listing.open.is_(True),
            Listing.paused.is_(False),
            Person.active.is_(True),
            sa.or_(Person.is_guest.is_(True), member),
        )
    )


def hidden_from(viewer: Person) -> sa.ColumnElement[bool]:
    """Nobody who put the viewer on their private list, nor anyone the viewer put on theirs."""
    return ~sa.exists().where(
        sa.or_(
            sa.and_(
                PairingBlock.person_id == Listing.person_id, PairingBlock.blocked_id == viewer.id
            ),
            sa.and_(
                PairingBlock.person_id == viewer.id, PairingBlock.blocked_id == Listing.person_id
            ),
        )
    )


def stages_ahead(viewer: Person, program: Program) -> list[CareerStage]:
    """The next one or two stages after the viewer's, on the ladder as this directory has it:
    for a PGY-1, PGY-2 and PGY-3; for a final-year resident, fellows and junior faculty (not
    PGY-4 and PGY-5 of residencies nobody here is in)."""
    if viewer.stage is None:
        return []
    present = {
        stage
        for stage in db.session.scalars(
            listed_in(program).with_only_columns(Person.stage).distinct()
        )
        if stage is not None and stage.rank > viewer.stage.rank
    }
    return sorted(present, key=lambda s: s.rank)[:2]


def directory(viewer: Person, program: Program, filters: Filters, page: int = 1) -> Directory:
    """One page of the people open to asks that the viewer may see, best suggestions first:
    people a chat partner suggested, then most shared interests, then by name. A fixed number
    of queries whatever the size of the program."""
    interests = my_interests(viewer, program)
    suggested = _suggestions(viewer, program)
    stmt = listed_in(program).where(Listing.person_id != viewer.id, hidden_from(viewer))
    for word in fold(filters.name).replace(",", " ").split():
        stmt = stmt.where(Person.sort_name.like(f"%{escape_like(word)}%", escape="\\"))
    if filters.topic.strip():
        topic = escape_like(fold(" ".join(filters.topic.split())))
        stmt = stmt.where(Listing.topics_key.like(f"%{topic}%", escape="\\"))
    if filters.department_id:
        stmt = stmt.where(Person.department_id == filters.department_id)
    if filters.stage is not None:
        stmt = stmt.where(Person.stage == filters.stage)
    if filters.role == "guest":
        stmt = stmt.where(Person.is_guest.is_(True))
    elif filters.role in {r.value for r in Role}:
        stmt = stmt.where(
            sa.exists().where(
                Membership.person_id == Listing.person_id,
                Membership.program_id == program.id,
                Membership.is_current,
                Membership.role == Role(filters.role),
            )
        )
    if filters.ahead:
        ahead = stages_ahead(viewer, program)
        stmt = stmt.where(Person.stage.in_(ahead) if ahead else sa.false())
    if filters.other_department:
        stmt = stmt.where(
            Person.department_id.is_not(None),
            Person.department_id != viewer.department_id
            if viewer.department_id is not None
            else sa.true(),
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    shared_score = sa.literal(0)
    for interest in {fold(i) for i in interests if str(i).strip()}:
        pattern = f"%|{escape_like(interest)}|%"
        shared_score = shared_score + sa.case(
            (Listing.topics_key.like(pattern, escape="\\"), 1), else_=0
        )
    referred = (
        sa.case((Listing.person_id.in_(list(suggested)), 1), else_=0)
        if suggested
        else sa.literal(0)
    )
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        stmt.options(joinedload(Listing.person).joinedload(Person.department))
        .order_by(referred.desc(), shared_score.desc(), Person.sort_name, Person.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    entries = _entries(viewer, program, rows, interests, suggested)
    return Directory(
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        referrals=_referrals(viewer, program, suggested),
        outside=list(
            db.session.scalars(
                sa.select(OutsideReferral)
                .where(OutsideReferral.person_id == viewer.id)
                .order_by(OutsideReferral.created_at.desc())
            )
        ),
        my_interests=interests,
    )


def _entries(
    viewer: Person,
    program: Program,
    rows: list[Listing],
    interests: list[str],
    suggested: dict[int, list[str]],
) -> list[Entry]:
    ids = [listing.person_id for listing in rows]
    if not ids:
        return []
    roles: dict[int, list[str]] = {}
    for person_id, role in db.session.execute(
        sa.select(Membership.person_id, Membership.role).where(
            Membership.person_id.in_(ids),
            Membership.program_id == program.id,
            Membership.is_current,
        )
    ):
        roles.setdefault(person_id, []).append(role.label)
    now = utc_now()
    received = asks_received(ids, now)
    mine = standing(viewer.id, now, ids)
    return [
        Entry(
            listing=listing,
            person=listing.person,
            roles=["Guest"]
            if listing.person.is_guest
            else sorted(roles.get(listing.person_id, [])),
            shared=shared_interests(interests, listing.topics),
            referred_by=suggested.get(listing.person_id, []),
            full=received.get(listing.person_id, 0) >= listing.asks_per_month,
            waiting=listing.person_id in mine.waiting,
            not_before=mine.not_before.get(listing.person_id),
        )
        for listing in rows
    ]


def _referrals(viewer: Person, program: Program, suggested: dict[int, list[str]]) -> list[Referral]:
    if not suggested:
        return []
    listed = set(
        db.session.scalars(
            listed_in(program)
            .where(Listing.person_id.in_(list(suggested)), hidden_from(viewer))
            .with_only_columns(Listing.person_id)
        )
    )
    blocked = set(
        db.session.scalars(
            sa.select(PairingBlock.person_id).where(
                PairingBlock.blocked_id == viewer.id, PairingBlock.person_id.in_(list(suggested))
            )
        )
    )
    people = db.session.scalars(
        sa.select(Person).where(Person.id.in_(list(suggested)), Person.active.is_(True))
    ).all()
    return [
        Referral(person=p, by=suggested[p.id], listed=p.id in listed)
        for p in sorted(people, key=lambda p: p.sort_name)
        if p.id not in blocked
    ]


def guests(program: Program) -> list[Listing]:
    return list(
        db.session.scalars(
            sa.select(Listing)
            .join(Person, Person.id == Listing.person_id)
            .where(Listing.program_id == program.id, Person.is_guest.is_(True))
            .options(joinedload(Listing.person))
            .order_by(Listing.open.desc(), Person.sort_name)
        )
    )


def add_guest(
    actor: Person,
    program: Program,
    *,
    name: str,
    email: str,
    note: str,
    topics: str,
    asks_per_month: int,
    meets: Meets,
) -> Listing:
    """Add (or update) a guest in a program's directory: a person without an account, who
    answers asks by signed links and appears in reports only in aggregate."""
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise DomainError("Give the guest's name.", field="name")
    address = validate_email_address(email or "")
    person = db.session.scalar(sa.select(Person).where(Person.email == address))
    if person is not None and not person.is_guest:
        raise DomainError(
            f"{address} belongs to {person.name}, who has an account: they can list themselves "
            "in the directory from their home page.",
            field="email",
        )
    if person is None:
        person = Person(email=address, name=name, is_guest=True)
        db.session.add(person)
        db.session.flush()
    person.name = name
    listing = listing_of(person, program) or Listing(
        program_id=program.id, person_id=person.id, added_by_id=actor.id
    )
    _fill(listing, note=note, topics=topics, asks_per_month=asks_per_month, meets=meets)
    listing.open, listing.paused = True, False
    db.session.add(listing)
    db.session.flush()
    record(
        actor,
        "directory.guest_added",
        listing,
        program_id=program.id,
        summary=f"Guest {name} in the directory",
    )
    return listing


def remove_guest(actor: Person, program: Program, listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None or listing.program_id != program.id or not listing.person.is_guest:
        raise DomainError("No such guest in this program.")
    listing.open = False
    listing.updated_at = utc_now()
    record(
        actor,
        "directory.guest_removed",
        listing,
        program_id=program.id,
        summary=f"Guest {listing.person.name} removed from the directory",
    )
    return listing


def asks_received(recipient_ids: list[int], now: datetime) -> dict[int, int]:
    """Asks each of these people received in the last 30 days (their "asks a month")."""
    return dict(
        db.session.execute(
            sa.select(Ask.recipient_id, sa.func.count())
            .where(
                Ask.recipient_id.in_(recipient_ids),
                Ask.created_at >= now - timedelta(days=CAPACITY_DAYS),
                Ask.status != AskStatus.WITHDRAWN,
            )
            .group_by(Ask.recipient_id)
        ).all()
    )


@dataclass
class Standing:
    """An asker's asks that limit what they may ask now."""

    waiting: set[int]  # the recipients of their asks still waiting
    not_before: dict[int, datetime]  # who said not now, and until when not to ask again


def standing(asker_id: int, now: datetime, recipient_ids: list[int] | None = None) -> Standing:
    """The asker's waiting asks (to anyone, or to these people) and the "not now"s still
    cooling down."""
    rows = db.session.execute(
        sa.select(Ask.recipient_id, Ask.status, Ask.answered_at).where(
            Ask.asker_id == asker_id,
            *([Ask.recipient_id.in_(recipient_ids)] if recipient_ids is not None else []),
            sa.or_(
                Ask.status == AskStatus.WAITING,
                sa.and_(
                    Ask.status == AskStatus.DECLINED,
                    Ask.answered_at >= now - timedelta(days=COOL_DOWN_DAYS),
                ),
            ),
        )
    ).all()
    standing = Standing(set(), {})
    for recipient, status, answered_at in rows:
        if status is AskStatus.WAITING:
            standing.waiting.add(recipient)
        else:
            until = answered_at + timedelta(days=COOL_DOWN_DAYS)
            standing.not_before[recipient] = max(until, standing.not_before.get(recipient, until))
    return standing
