"""Open to a coffee, the directory, asks and their one-click answers, referrals and guests.

The playbook: find people doing what interests you, send a short personal ask, follow up once
after a week, and at the end ask "who else should I meet?". Limits keep it humane: a few open
asks per person, never more asks a month than the recipient offered, and a pause after a no.
A yes makes a chat with no round, introduced, checked in on and reported like a round's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from program import links
from program.asks.models import Ask, AskStatus, Listing, Meets, OutsideReferral
from program.audit.services import record
from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember
from program.coffee.services import introduce_chats, may_join
from program.db import DomainError, by_id, escape_like, utc_now
from program.extensions import db
from program.links import external_url
from program.messages.intros import Ask as Note
from program.messages.intros import follow_up_ask, mailto, shared_interests
from program.messages.services import queue_message, queue_messages, render_message
from program.people.models import MailPreference, PairingBlock, Person
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


# --- open to a coffee ---------------------------------------------------------------------


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


# --- the directory ------------------------------------------------------------------------


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


def _listed(program: Program) -> sa.Select[Any]:
    """Open, unpaused listings of active people: members in the coffee track, or guests."""
    member = sa.exists().where(
        Membership.person_id == Listing.person_id,
        Membership.program_id == Listing.program_id,
        Membership.ended_at.is_(None),
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


def _hidden_from(viewer: Person) -> sa.ColumnElement[bool]:
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
        for stage in db.session.scalars(_listed(program).with_only_columns(Person.stage).distinct())
        if stage is not None and stage.rank > viewer.stage.rank
    }
    return sorted(present, key=lambda s: s.rank)[:2]


def directory(viewer: Person, program: Program, filters: Filters, page: int = 1) -> Directory:
    """One page of the people open to asks that the viewer may see, best suggestions first:
    people a chat partner suggested, then most shared interests, then by name. A fixed number
    of queries whatever the size of the program."""
    interests = my_interests(viewer, program)
    suggested = _suggestions(viewer, program)
    stmt = _listed(program).where(Listing.person_id != viewer.id, _hidden_from(viewer))
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
                Membership.ended_at.is_(None),
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
            Membership.ended_at.is_(None),
        )
    ):
        roles.setdefault(person_id, []).append(role.label)
    now = utc_now()
    received = _received(ids, now)
    mine = _standing(viewer.id, now, ids)
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
            _listed(program)
            .where(Listing.person_id.in_(list(suggested)), _hidden_from(viewer))
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


# --- the ask ------------------------------------------------------------------------------


def is_mentor_ask(asker: Person, recipient: Person) -> bool:
    """A first approach to a possible mentor (two or more stages ahead) is longer, per the
    playbook; a coffee between near-peers is shorter."""
    if asker.stage is None or recipient.stage is None:
        return False
    return recipient.stage.rank - asker.stage.rank >= 2


def word_guide(asker: Person, recipient: Person) -> tuple[int, int]:
    return MENTOR_GUIDE if is_mentor_ask(asker, recipient) else COFFEE_GUIDE


def ready_ask(
    asker: Person, recipient: Person, program: Program, referred_by: str | None = None
) -> tuple[str, str]:
    """The prefilled ask (subject, body): who you are, how you came across them, one specific
    thing, a 20-minute coffee or video call in the next few weeks, two or three questions."""
    stage = asker.stage.label if asker.stage is not None else ""
    who = f"{stage} in {asker.department_name}" if stage and asker.department_name else stage
    listing = listing_of(recipient, program)
    topics = list(listing.topics) if listing is not None else []
    common = shared_interests(my_interests(asker, program), topics or recipient.interests)
    if referred_by:
        found = f"{referred_by} suggested I write to you"
    else:
        found = f"I found you in the {program.name} directory"
    if common:
        specific = f"saw that we share an interest in {' and '.join(common)}"
    elif topics:
        specific = f"saw that you are glad to talk about {topics[0]}"
    else:
        specific = "would like to learn from your path"
    mentor = is_mentor_ask(asker, recipient)
    questions = (
        "- How did you choose your direction, and what would you do differently?\n"
        "- What should someone at my stage be doing now that they usually are not?\n"
        "- Who else do you think I should talk to?"
        if mentor
        else "- What does a week of your work look like?\n- Who else should I talk to?"
    )
    more = (
        " I am early in working out where I want to go, and I have been reading and asking "
        "around; hearing how you made your own choices would help me more than anything I can "
        "find written down. I will come with my questions written and keep to the time."
        if mentor
        else ""
    )
    body = (
        f"Dear {recipient.name},\n\n"
        f"I am {asker.name}{', ' + who if who else ''}. {found}, and {specific}.{more}\n\n"
        "Could I take 20 minutes of your time in the next few weeks, for a coffee or a video "
        "call, whichever suits you? A few questions I have in mind:\n"
        f"{questions}\n\n"
        f"Thank you for considering it.\n\n{asker.name}"
    )
    return f"{program.name}: 20 minutes for a coffee?", body


def words(text: str) -> int:
    return len(text.split())


def _received(recipient_ids: list[int], now: datetime) -> dict[int, int]:
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
class _Standing:
    """An asker's asks that limit what they may ask now."""

    waiting: set[int]  # the recipients of their asks still waiting
    not_before: dict[int, datetime]  # who said not now, and until when not to ask again


def _standing(asker_id: int, now: datetime, recipient_ids: list[int] | None = None) -> _Standing:
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
    standing = _Standing(set(), {})
    for recipient, status, answered_at in rows:
        if status is AskStatus.WAITING:
            standing.waiting.add(recipient)
        else:
            until = answered_at + timedelta(days=COOL_DOWN_DAYS)
            standing.not_before[recipient] = max(until, standing.not_before.get(recipient, until))
    return standing


def askable_listing(asker: Person, program: Program, recipient_id: int) -> Listing:
    """The recipient's listing, if the asker may see it in the directory (else "not found")."""
    listing = db.session.scalar(
        _listed(program).where(
            Listing.person_id == recipient_id,
            Listing.person_id != asker.id,
            _hidden_from(asker),
        )
    )
    if listing is None:
        raise LookupError(recipient_id)
    return listing


def send_ask(
    asker: Person,
    program: Program,
    recipient_id: int,
    *,
    subject: str,
    body: str,
    referred_by_id: int | None = None,
    now: datetime | None = None,
) -> Ask:
    """Send an ask from Hallway with the asker as Reply-To, within the limits."""
    now = now or utc_now()
    if asker.is_guest:
        raise DomainError("Guests answer asks; they do not send them.")
    listing = askable_listing(asker, program, recipient_id)
    recipient = listing.person
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or len(subject) > 200:
        raise DomainError("Give the ask a subject of at most 200 characters.", field="subject")
    low, high = ASK_WORDS
    if not low <= words(body) <= high:
        raise DomainError(
            f"An ask is between {low} and {high} words (this one has {words(body)}): say who you "
            "are, why them, and the one thing you would like to ask.",
            field="body",
        )
    mine = _standing(asker.id, now)
    if recipient.id in mine.waiting:
        raise DomainError(f"Your ask to {recipient.name} is still waiting for an answer.")
    if (until := mine.not_before.get(recipient.id)) is not None:
        raise DomainError(
            f"{recipient.name} said not now; you can ask again from {until:%d %B %Y}."
        )
    # One waiting ask per recipient (a unique index), so recipients count asks.
    if len(mine.waiting) >= MAX_OPEN_ASKS:
        raise DomainError(
            f"You have {MAX_OPEN_ASKS} asks waiting for an answer. Wait for one, or withdraw "
            "one from your home page, before asking someone new."
        )
    if _received([recipient.id], now).get(recipient.id, 0) >= listing.asks_per_month:
        raise DomainError(
            f"{recipient.name} has had all the asks they take this month; try again later."
        )
    if referred_by_id is not None and referred_by_id not in _suggestions_for(
        asker, program, recipient.id
    ):
        referred_by_id = None  # only a real referral is named in the ask
    ask = Ask(
        program_id=program.id,
        asker_id=asker.id,
        recipient_id=recipient.id,
        referred_by_id=referred_by_id,
        subject=subject,
        body=body,
        created_at=now,
    )
    db.session.add(ask)
    db.session.flush()
    queue_message(
        recipient,
        "ask",
        template="ask",
        context={
            "ask": ask,
            "asker": asker,
            "recipient": recipient,
            "program_name": program.name,
            "referred_by": db.session.get(Person, referred_by_id) if referred_by_id else None,
            "yes_link": answer_link(ask, "yes"),
            "no_link": answer_link(ask, "no"),
            "respond_by": now + timedelta(days=CLOSE_AFTER_DAYS),
        },
        program_id=program.id,
        dedupe_key=f"ask:{ask.id}",
        reply_to=[asker.email],
    )
    return ask


def _suggestions_for(asker: Person, program: Program, recipient_id: int) -> set[int]:
    """The people whose chats with the asker produced a suggestion to meet the recipient."""
    partner = sa.orm.aliased(ChatMember)
    return set(
        db.session.scalars(
            sa.select(partner.person_id)
            .select_from(CheckIn)
            .join(Chat, Chat.id == CheckIn.chat_id)
            .join(partner, partner.chat_id == Chat.id)
            .where(
                CheckIn.person_id == asker.id,
                CheckIn.suggested_person_id == recipient_id,
                Chat.program_id == program.id,
                partner.person_id != asker.id,
            )
        )
    )


def referrer_for(asker: Person, program: Program, recipient_id: int) -> Person | None:
    found = sorted(_suggestions_for(asker, program, recipient_id))
    return db.session.get(Person, found[0]) if found else None


# --- answers ------------------------------------------------------------------------------

ANSWERS = ("yes", "no")


def answer_link(ask: Ask, answer: str) -> str:
    token = links.sign(
        "ask", {"ask": ask.id, "answer": answer, "v": links.version(ask.id, ask.answered_at)}
    )
    return external_url("asks.answer_link", token=token)


def read_answer_token(token: str) -> tuple[Ask, str]:
    """The ask and answer a link stands for, if it is genuine, unexpired and still waiting."""
    # Good until a week after the ask closes, so a late click is told it closed.
    ask, data = links.read_record(
        "ask",
        token,
        timedelta(days=CLOSE_AFTER_DAYS + 7),
        Ask,
        "ask",
        valid=lambda _, data: data.get("answer") in ANSWERS,
        version=lambda ask: links.version(ask.id, ask.answered_at),
    )
    return ask, data["answer"]


def answer_ask(person: Person, ask: Ask, answer: str, now: datetime | None = None) -> Ask:
    """Yes: a chat between the two, introduced like a round's. Not now: the asker is told
    kindly, without a reason. One answer: a second (another tab, a double tap) is refused."""
    now = now or utc_now()
    if ask.recipient_id != person.id:
        raise DomainError("This ask was sent to someone else.")
    if answer not in ANSWERS:
        raise DomainError("Answer yes or not now.")
    if ask.status is not AskStatus.WAITING:
        raise DomainError(f"This ask is already answered: {ask.status.label.lower()}.")
    chat_id = None
    if answer == "yes":
        chat = Chat(program_id=ask.program_id, created_at=now)
        db.session.add(chat)
        db.session.flush()
        chat_id = chat.id
        db.session.add_all(
            [
                ChatMember(chat_id=chat.id, person_id=ask.asker_id, position=0),
                ChatMember(chat_id=chat.id, person_id=ask.recipient_id, position=1),
            ]
        )
        db.session.flush()
    status = AskStatus.ACCEPTED if answer == "yes" else AskStatus.DECLINED
    claimed = db.session.execute(
        sa.update(Ask)
        .where(Ask.id == ask.id, Ask.status == AskStatus.WAITING)
        .values(status=status, answered_at=now, chat_id=chat_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise DomainError("This ask was answered a moment ago, and that answer is kept.")
    db.session.refresh(ask)
    program = db.session.get(Program, ask.program_id)
    if chat_id is not None:
        introduce_chats(
            program,
            [(chat_id, (ask.asker_id, ask.recipient_id))],
            {ask.asker_id: ask.asker.email, ask.recipient_id: ask.recipient.email},
        )
    else:
        queue_message(
            ask.asker,
            "ask_answer",
            template="ask_not_now",
            context={
                "ask": ask,
                "program_name": program.name,
                "directory": _directory_url(program),
            },
            program_id=program.id,
            dedupe_key=f"ask_not_now:{ask.id}",
        )
    return ask


def withdraw_ask(person: Person, ask: Ask, now: datetime | None = None) -> Ask:
    if ask.asker_id != person.id:
        raise DomainError("This ask is someone else's.")
    if ask.status is not AskStatus.WAITING:
        raise DomainError("Only an ask still waiting can be withdrawn.")
    ask.status, ask.answered_at = AskStatus.WITHDRAWN, now or utc_now()
    return ask


def _directory_url(program: Program) -> str:
    return external_url("asks.directory", slug=program.slug)


@dataclass
class MyAsks:
    sent: list[Ask]
    received: list[Ask]  # waiting for this person's answer
    said_yes: list[Ask]  # asks they said yes to lately: their chats, with the asker

    def __bool__(self) -> bool:
        return bool(self.sent or self.received or self.said_yes)


def my_asks(person: Person) -> MyAsks:
    """The asks a person sent (waiting, and answered in the last month) and those waiting for
    their answer."""
    since = utc_now() - timedelta(days=30)
    options = (joinedload(Ask.asker), joinedload(Ask.recipient))
    sent = db.session.scalars(
        sa.select(Ask)
        .where(
            Ask.asker_id == person.id,
            sa.or_(Ask.status == AskStatus.WAITING, Ask.answered_at >= since),
        )
        .options(*options)
        .order_by(Ask.created_at.desc())
    ).all()
    received = db.session.scalars(
        sa.select(Ask)
        .where(
            Ask.recipient_id == person.id,
            sa.or_(
                Ask.status == AskStatus.WAITING,
                sa.and_(Ask.status == AskStatus.ACCEPTED, Ask.answered_at >= since),
            ),
        )
        .options(*options)
        .order_by(Ask.created_at)
    ).all()
    return MyAsks(
        list(sent),
        [a for a in received if a.status is AskStatus.WAITING],
        [a for a in received if a.status is AskStatus.ACCEPTED],
    )


# --- the follow-up and the quiet close ------------------------------------------------------


def follow_up_asks(now: datetime) -> dict[str, int]:
    """A week without an answer: one prompt to the asker to follow up once. Two weeks: the ask
    closes quietly (nobody is told; the asker sees it on their home page)."""
    closed = db.session.execute(
        sa.update(Ask)
        .where(
            Ask.status == AskStatus.WAITING,
            Ask.created_at <= now - timedelta(days=CLOSE_AFTER_DAYS),
        )
        .values(status=AskStatus.CLOSED, answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    due = db.session.scalars(
        sa.select(Ask)
        .where(
            Ask.status == AskStatus.WAITING,
            Ask.nudged_at.is_(None),
            Ask.created_at <= now - timedelta(days=FOLLOW_UP_AFTER_DAYS),
        )
        .options(joinedload(Ask.asker), joinedload(Ask.recipient))
    ).all()
    programs = by_id(db.session, Program, {ask.program_id for ask in due})
    rows = []
    for ask in due:
        ask.nudged_at = now
        asker = ask.asker
        if not asker.active or asker.mail_preference is not MailPreference.ALL:
            continue
        program = programs[ask.program_id]
        note = follow_up_ask(asker, [ask.recipient], program.name)
        rows.append(
            render_message(
                asker,
                "ask_follow_up",
                template="ask_follow_up",
                context={
                    "ask": ask,
                    "person": asker,
                    "recipient": ask.recipient,
                    "program_name": program.name,
                    "note": note,
                    "write_link": mailto([ask.recipient.email], note),
                    "closes_on": ask.created_at + timedelta(days=CLOSE_AFTER_DAYS),
                },
                program_id=program.id,
                dedupe_key=f"ask_follow_up:{ask.id}",
                reply_to=[ask.recipient.email],
            )
        )
    queue_messages(rows)
    return {"ask_follow_ups": len(rows), "asks_closed": closed}


# --- referrals outside the institution ----------------------------------------------------


def keep_outside_referral(check_in: CheckIn, who: str, by: list[str]) -> OutsideReferral:
    """Someone outside the institution, as "Name <address>": kept for the person to write to
    themselves. Hallway does not e-mail them."""
    name, address = parseaddr(who)
    name, address = " ".join(name.split()), address.strip().lower()
    if not name or "@" not in address or len(address) > 254 or len(name) > 200:
        raise DomainError(
            "We could not find that person among this program's members. For someone outside "
            "the institution, give their name and address: Dr. Kim <kim@example.org>.",
            field="suggest",
        )
    found = db.session.scalar(
        sa.select(OutsideReferral).where(
            OutsideReferral.person_id == check_in.person_id, OutsideReferral.email == address
        )
    )
    if found is None:
        found = OutsideReferral(person_id=check_in.person_id, email=address, name=name)
        db.session.add(found)
    found.check_in_id, found.name, found.suggested_by = check_in.id, name, ", ".join(by)[:400]
    return found


def outside_ask(person: Person, referral: OutsideReferral) -> str:
    """A mailto link with a short ask that names the referrer, for the person to send."""
    by = referral.suggested_by or "A colleague"
    body = (
        f"Dear {referral.name},\n\n"
        f"{by} suggested I get in touch. I am {person.name}"
        f"{', ' + person.stage.label if person.stage else ''}. Could I take 20 minutes of your "
        "time in the next few weeks, by video or for a coffee, to ask two or three questions "
        "about your work?\n\n"
        f"Thank you,\n{person.name}"
    )
    return mailto([referral.email], Note(f"{by} suggested I get in touch", body))


# --- guests -------------------------------------------------------------------------------


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
