"""The coffee-chat track: enrollment (opt in, snooze, withdraw, bulk opt-in with a reason),
rounds (preview, publish, schedule) with playbook intros, ghosts, and what a participant sees."""

from __future__ import annotations

import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, joinedload, selectinload

from program import links
from program.audit.services import record
from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.db import DomainError, by_id, insert_rows, text_digest, utc_now
from program.extensions import db
from program.formal.models import Assessor, Assignment, AssignmentStatus
from program.kept import kept
from program.links import external_url
from program.matching import coffee as pairing
from program.matching.formal import DepartmentPreference
from program.messages.intros import (
    coffee_ask,
    first_mover,
    mailto,
)
from program.messages.services import queue_messages, render_message, unwritten_message
from program.people.blocks import ruled_out
from program.people.models import CareerStage, Department, PairingBlock, Person
from program.programs.models import Membership, Program, Role, Term

GHOST_AFTER = 3  # intros in a row left without any answer
GHOST_SNOOZE_DAYS = 90
MAX_SNOOZE_DAYS = 366
LINK_DAYS = 90
SNOOZE_REASONS = {"asked": "You asked for a break", "unanswered": "Three chats went unanswered"}


# --- enrollment ---------------------------------------------------------------------------


def open_enrollment(person_id: int, program_id: int) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(
            Enrollment.person_id == person_id,
            Enrollment.program_id == program_id,
            Enrollment.withdrawn_at.is_(None),
        )
    )


def _coffee_members(program: Program) -> sa.Select[Any]:
    """People who may join the program's coffee chats (current members in the coffee track)."""
    return (
        sa.select(Membership.person_id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.program_id == program.id,
            Membership.ended_at.is_(None),
            Membership.coffee_track.is_(True),
            Person.active.is_(True),
        )
    )


def may_join(person: Person, program: Program) -> bool:
    return db.session.scalar(_coffee_members(program).where(Person.id == person.id)) is not None


def enroll(person: Person, program: Program) -> Enrollment:
    """Opt in (or, if snoozed, come back now). Idempotent."""
    if not may_join(person, program):
        raise DomainError(f"You are not in the coffee chats of {program.name}.")
    enrollment = open_enrollment(person.id, program.id)
    if enrollment is None:
        enrollment = Enrollment(program_id=program.id, person_id=person.id)
        db.session.add(enrollment)
        record(person, "coffee.enrolled", program, program_id=program.id, summary="Opted in")
    elif enrollment.snooze_reason == "unanswered":
        # Back after going quiet: a fresh enrollment, so the three unanswered chats that paused
        # them do not count against them again.
        enrollment.withdrawn_at = utc_now()
        db.session.flush()
        enrollment = Enrollment(program_id=program.id, person_id=person.id)
        db.session.add(enrollment)
        record(person, "coffee.rejoined", program, program_id=program.id, summary="Rejoined")
    elif enrollment.snoozed_until is not None:
        enrollment.snoozed_until = None
        enrollment.snooze_reason = None
        record(person, "coffee.rejoined", program, program_id=program.id, summary="Rejoined")
    db.session.flush()
    return enrollment


def snooze(person: Person, program: Program, until: date, today: date | None = None) -> Enrollment:
    today = today or utc_now().date()
    enrollment = open_enrollment(person.id, program.id)
    if enrollment is None:
        raise DomainError("You are not taking part in these coffee chats.")
    if not today < until <= today + timedelta(days=MAX_SNOOZE_DAYS):
        raise DomainError("Choose a date after today and within a year.", field="until")
    enrollment.snoozed_until = until
    enrollment.snooze_reason = "asked"
    db.session.flush()
    return enrollment


def left_on(person_id: int, program_id: int) -> date | None:
    """The day the person last left the program's coffee chats, when they are not in them now
    (None while they take part, or if they never joined)."""
    if open_enrollment(person_id, program_id) is not None:
        return None
    last = db.session.scalar(
        sa.select(sa.func.max(Enrollment.withdrawn_at)).where(
            Enrollment.person_id == person_id, Enrollment.program_id == program_id
        )
    )
    return last.date() if last is not None else None


def withdraw(person: Person, program: Program) -> None:
    """Leave the coffee chats; the closed enrollment stays as history."""
    enrollment = open_enrollment(person.id, program.id)
    if enrollment is None:
        return
    enrollment.withdrawn_at = utc_now()
    record(person, "coffee.withdrew", program, program_id=program.id, summary="Withdrew")
    db.session.flush()


ENROLLMENT_ACTIONS = ("join", "snooze", "leave")


def enrollment_token(person_id: int, program_id: int) -> str:
    """One signed token per person and program; the action rides along unsigned in the link,
    which is safe because opening a link only shows the choice and the POST confirms it."""
    return links.sign("coffee", {"u": person_id, "p": program_id})


def read_enrollment_token(token: str) -> tuple[Person, Program]:
    person, data = links.read_record(
        "coffee", token, timedelta(days=LINK_DAYS), Person, "u", valid=lambda p, _: p.active
    )
    return person, links.record(Program, data, "p")


def enrollment_links(person_id: int, program_id: int) -> dict[str, str]:
    url = external_url("coffee.enrollment_link", token=enrollment_token(person_id, program_id))
    return {action: f"{url}?do={action}" for action in ENROLLMENT_ACTIONS}


@dataclass
class EnrollmentCounts:
    members: int  # may take part (current members in the coffee track)
    enrolled: int
    snoozed: int
    by_coordinator: int  # of the enrolled, opted in by a coordinator


def enrollment_counts(program: Program, on: date | None = None) -> EnrollmentCounts:
    on = on or utc_now().date()
    members = db.session.scalar(
        sa.select(sa.func.count()).select_from(_coffee_members(program).subquery())
    )
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(Enrollment.snoozed_until).filter(Enrollment.snoozed_until > on),
            sa.func.count(Enrollment.enrolled_by_id),
        ).where(Enrollment.program_id == program.id, Enrollment.withdrawn_at.is_(None))
    ).one()
    return EnrollmentCounts(members, row[0], row[1], row[2])


@dataclass
class BulkEnrollment:
    enrolled: int
    # People left out because they withdrew themselves: (name, the day they opted out).
    skipped: list[tuple[str, date]]


def bulk_enroll(actor: Person, program: Program, reason: str) -> BulkEnrollment:
    """Opt in every coffee-track member who has never taken part, with a recorded reason; each
    person is told and can opt out with one click.

    Someone who opted out (withdrew) is never opted back in by anyone but themselves: they are
    listed as skipped, with the day they left.
    """
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise DomainError(
            "Say why these people are opted in (e.g. “orientation consent form 2026”).",
            field="reason",
        )
    if len(reason) > 300:
        raise DomainError("Keep the reason under 300 characters.", field="reason")
    # Trainees and mentors only: a coordinator who runs the program joins the chats themselves
    # if they want to, and is not opted in with the people they coordinate.
    candidates = _coffee_members(program).where(Membership.role.in_([Role.TRAINEE, Role.MENTOR]))
    ever = sa.select(Enrollment.person_id).where(Enrollment.program_id == program.id)
    ids = list(db.session.scalars(candidates.where(Person.id.not_in(ever)).distinct()))
    taking_part = sa.select(Enrollment.person_id).where(
        Enrollment.program_id == program.id, Enrollment.withdrawn_at.is_(None)
    )
    left = db.session.execute(
        sa.select(Person.name, sa.func.max(Enrollment.withdrawn_at))
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.program_id == program.id,
            Person.id.in_(candidates),
            Person.id.not_in(taking_part),
        )
        .group_by(Person.id, Person.name)
        .order_by(Person.sort_name)
    ).all()
    skipped = [(name, withdrawn.date()) for name, withdrawn in left]
    now = utc_now()
    db.session.add_all(
        Enrollment(
            program_id=program.id,
            person_id=person_id,
            enrolled_at=now,
            enrolled_by_id=actor.id,
            consent_note=reason,
        )
        for person_id in ids
    )
    db.session.flush()
    people = db.session.scalars(sa.select(Person).where(Person.id.in_(ids))).all() if ids else []
    queue_messages(
        [
            render_message(
                person,
                "coffee_enrolled",
                template="coffee_enrolled",
                context={
                    "person": person,
                    "program_name": program.name,
                    "reason": reason,
                    "cadence_days": program.coffee_cadence_days,
                    "links": enrollment_links(person.id, program.id),
                },
                program_id=program.id,
                dedupe_key=f"coffee_enrolled:{program.id}:{person.id}:{now.date()}",
            )
            for person in people
        ]
    )
    record(
        actor,
        "coffee.bulk_enrolled",
        program,
        program_id=program.id,
        details={"people": len(ids), "skipped_withdrawn": len(skipped), "reason": reason},
        summary=f"{len(ids)} people opted in to coffee chats: {reason}",
    )
    return BulkEnrollment(enrolled=len(ids), skipped=skipped)


# --- rounds -------------------------------------------------------------------------------


@dataclass
class Preview:
    program: Program
    number: int
    seed: int
    scheduled_for: date
    plan: pairing.RoundPlan
    people: dict[int, Taking] = field(default_factory=dict)

    @property
    def has_trio(self) -> bool:
        return any(len(chat) == 3 for chat in self.plan.chats)


@dataclass(frozen=True)
class Taking:
    """Someone taking part in a round, as the pairing and the preview need them: columns
    only (ten thousand people loaded as ORM objects took most of a second)."""

    id: int
    name: str
    department_name: str
    stage: CareerStage | None
    email: str


def _taking_part(program: Program, on: date, *columns: Any) -> sa.Select[Any]:
    """`columns` of everyone taking part on `on`: enrolled, not snoozed, active, in the
    coffee track."""
    return (
        sa.select(*columns)
        .select_from(Person)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.program_id == program.id,
            Enrollment.withdrawn_at.is_(None),
            sa.or_(Enrollment.snoozed_until.is_(None), Enrollment.snoozed_until <= on),
            Person.id.in_(_coffee_members(program)),
        )
    )


def eligible(program: Program, on: date) -> list[Taking]:
    """Everyone taking part on `on`: enrolled, not snoozed, active, in the coffee track."""
    return [
        Taking(row.id, row.name, row.department or "", row.stage, row.email)
        for row in db.session.execute(
            _taking_part(
                program,
                on,
                Person.id,
                Person.name,
                Department.name.label("department"),
                Person.stage,
                Person.email,
            )
            .outerjoin(Department, Department.id == Person.department_id)
            .order_by(Person.id)
        ).all()
    ]


def _pool_state(program: Program, on: date) -> tuple[Any, ...]:
    """Checksums of everything a round's preview is made from, in one query: who takes part
    (and their names, addresses, departments and stages), who has met whom, who suggested
    whom, the live formal pairs, the private blocks and the assessors. Any change to these
    changes a sum or a count (two sums of ids, plain and squared, so that people swapping in
    and out cannot cancel out), and so the preview is worked out again; unchanged, it is
    served as kept."""
    stage = sa.case(
        *((Person.stage == member, rank) for rank, member in enumerate(CareerStage, start=1)),
        else_=0,
    )
    # Products in 64 bits: PostgreSQL multiplies integer columns in 32, which overflows once
    # ids pass 46,340 (a large institution's people, over the years).
    person_id = sa.cast(Person.id, sa.BigInteger)
    people = _taking_part(
        program,
        on,
        sa.func.count(),
        sa.func.sum(Person.id),
        sa.func.sum(person_id * person_id),
        sa.func.sum(sa.func.coalesce(Person.department_id, 0) * person_id),
        sa.func.sum(stage * person_id),
        # Each person's name and address as a digest of every character, with their id: a
        # corrected letter or two people's names swapped changes the sum (a sum of lengths
        # missed both, and the preview kept showing the old name).
        sa.func.sum(
            text_digest(sa.cast(Person.id, sa.String) + ":" + Person.name + ":" + Person.email)
        ),
    ).subquery()
    # Every earlier meeting counts: a round's chats, and chats begun in the directory.
    met = (
        sa.select(sa.func.count(), sa.func.max(ChatMember.id))
        .join(Chat, Chat.id == ChatMember.chat_id)
        .outerjoin(Round, Round.id == ChatMember.round_id)
        .where(
            Chat.program_id == program.id,
            sa.or_(Chat.round_id.is_(None), Round.status == RoundStatus.PUBLISHED),
        )
        .subquery()
    )
    suggested = (
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.cast(CheckIn.suggested_person_id, sa.BigInteger) * CheckIn.id),
            sa.func.max(CheckIn.updated_at),
        )
        .join(Chat, Chat.id == CheckIn.chat_id)
        .where(Chat.program_id == program.id, CheckIn.suggested_person_id.is_not(None))
        .subquery()
    )
    # Live formal pairs are never paired; ended ones count as earlier meetings.
    pairs = (
        sa.select(
            sa.func.count(),
            sa.func.sum(Assignment.id),
            sa.func.count().filter(Assignment.status == AssignmentStatus.ENDED),
            sa.func.count().filter(Assignment.started_at.is_not(None)),
        )
        .join(Term, Term.id == Assignment.term_id)
        .where(Term.program_id == program.id)
        .subquery()
    )
    blocks = sa.select(sa.func.count(), sa.func.sum(PairingBlock.id)).subquery()
    assessors = (
        sa.select(sa.func.count(), sa.func.sum(Assessor.id))
        .where(Assessor.program_id == program.id)
        .subquery()
    )
    parts = (people, met, suggested, pairs, blocks, assessors)
    one_row_each = people
    for part in parts[1:]:
        one_row_each = one_row_each.join(part, sa.true())  # each is one row: no product
    return tuple(
        db.session.execute(
            sa.select(*(c for part in parts for c in part.c)).select_from(one_row_each)
        ).one()
    )


def _published(program: Program) -> sa.Select[Any]:
    return sa.select(Round).where(
        Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED
    )


def next_number(program: Program) -> int:
    last = db.session.scalar(
        sa.select(sa.func.max(Round.number)).where(Round.program_id == program.id)
    )
    return (last or 0) + 1


def default_seed(program: Program, number: int) -> int:
    """A fixed seed per program and round number, so a preview and its publish agree."""
    return zlib.crc32(f"{program.slug}:{number}".encode())


def _met_outside_rounds(program: Program, number: int) -> dict[tuple[int, int], int]:
    """Pairs of the program who met other than in a round, with how many rounds ago (their
    meeting counted with the last round published before it): a chat begun in the directory,
    and a formal pair (live or ended). A round must not pair them as if they had never met."""
    rounds = db.session.execute(
        sa.select(Round.published_at, Round.number)
        .where(
            Round.program_id == program.id,
            Round.status == RoundStatus.PUBLISHED,
            Round.published_at.is_not(None),
        )
        .order_by(Round.published_at)
    ).all()
    published_at = [r.published_at for r in rounds]

    def rounds_ago(when: datetime | None) -> int:
        before = bisect_right(published_at, when) if when is not None else len(rounds)
        return number - (rounds[before - 1].number if before else 0)

    one, other = aliased(ChatMember), aliased(ChatMember)
    met = db.session.execute(
        sa.select(one.person_id, other.person_id, sa.func.max(Chat.created_at))
        .join(other, sa.and_(other.chat_id == one.chat_id, other.person_id > one.person_id))
        .join(Chat, Chat.id == one.chat_id)
        .where(Chat.program_id == program.id, Chat.round_id.is_(None))
        .group_by(one.person_id, other.person_id)
    ).all()
    met += db.session.execute(
        sa.select(Assignment.mentor_id, Assignment.trainee_id, sa.func.max(Assignment.started_at))
        .join(Term, Term.id == Assignment.term_id)
        .where(Term.program_id == program.id, Assignment.started_at.is_not(None))
        .group_by(Assignment.mentor_id, Assignment.trainee_id)
    ).all()
    found: dict[tuple[int, int], int] = {}
    for a, b, when in met:
        key, ago = pairing.pair_key(a, b), rounds_ago(when)
        found[key] = min(ago, found.get(key, ago))
    return found


def _inputs(
    program: Program, number: int, people: list[Taking]
) -> tuple[list[pairing.Participant], dict[tuple[int, int], int], frozenset[tuple[int, int]]]:
    # Who has met whom and how many rounds ago, as one row per pair of people, and how many
    # trios each has been in: aggregates, not every chat member of every round.
    published = sa.and_(Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED)
    one, other = aliased(ChatMember), aliased(ChatMember)
    history = {
        (a, b): number - last
        for a, b, last in db.session.execute(
            sa.select(one.person_id, other.person_id, sa.func.max(Round.number))
            .join(other, sa.and_(other.chat_id == one.chat_id, other.person_id > one.person_id))
            .join(Round, Round.id == one.round_id)
            .where(published)
            .group_by(one.person_id, other.person_id)
        ).all()
    }
    for key, ago in _met_outside_rounds(program, number).items():
        history[key] = min(ago, history.get(key, ago))
    trio_chats = (
        sa.select(ChatMember.chat_id)
        .join(Round, Round.id == ChatMember.round_id)
        .where(published)
        .group_by(ChatMember.chat_id)
        .having(sa.func.count() == 3)
    )
    trios: dict[int, int] = dict(
        db.session.execute(
            sa.select(ChatMember.person_id, sa.func.count())
            .where(ChatMember.chat_id.in_(trio_chats))
            .group_by(ChatMember.person_id)
        ).all()
    )
    referred: dict[int, set[int]] = {}
    for person_id, suggested in db.session.execute(
        sa.select(CheckIn.person_id, CheckIn.suggested_person_id)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .where(Chat.program_id == program.id, CheckIn.suggested_person_id.is_not(None))
    ):
        referred.setdefault(person_id, set()).add(suggested)
    # Never to be paired: a formal mentor with their own mentee, and every pair ruled out by a
    # private "don't pair me with" list or an assessor record (never relaxed, unlike repeats).
    formal = frozenset(
        pairing.pair_key(m, t)
        for m, t in db.session.execute(
            sa.select(Assignment.mentor_id, Assignment.trainee_id)
            .join(Term, Term.id == Assignment.term_id)
            .where(Term.program_id == program.id, Assignment.status != AssignmentStatus.ENDED)
        )
    ) | ruled_out([p.id for p in people], program.id)
    participants = [
        pairing.Participant(
            p.id,
            p.department_name or None,
            p.stage.rank if p.stage else None,
            trios.get(p.id, 0),
            frozenset(referred.get(p.id, ())),
        )
        for p in people
    ]
    return participants, history, formal


def preview_round(
    program: Program, seed: int | None = None, on: date | None = None, *, keep: bool = False
) -> Preview:
    """The next round as it would be published now; writes nothing. With `keep`, the one
    worked out for the same pool and settings is served again (see `_pool_state`): the
    coordinator's page opens in milliseconds, not the second it takes at 10,000 people.
    Publishing always works it out afresh."""
    on = on or utc_now().date()
    number = next_number(program)
    draft = db.session.scalar(
        sa.select(Round).where(Round.program_id == program.id, Round.status == RoundStatus.DRAFT)
    )
    if draft is not None:
        number = draft.number
        seed = draft.seed if seed is None else seed
    seed = default_seed(program, number) if seed is None else seed
    settings = (program.coffee_repeat_window, program.coffee_department_preference.value)
    key = (program.id, number, seed, on, settings, _pool_state(program, on)) if keep else None
    found = kept("coffee_previews").get(key) if keep else None
    if found is None:
        people = eligible(program, on)
        participants, history, formal = _inputs(program, number, people)
        plan = pairing.plan_round(
            participants,
            history=history,
            forbidden=formal,
            repeat_window=program.coffee_repeat_window,
            preference=DepartmentPreference(program.coffee_department_preference.value),
            seed=seed,
        )
        found = (plan, {p.id: p for p in people})
        if keep:
            kept("coffee_previews").put(key, found)
    plan, people_by_id = found
    return Preview(program, number, seed, on, plan, people_by_id)


def publish_round(
    actor: Person | None,
    program: Program,
    seed: int | None = None,
    now: datetime | None = None,
) -> Round:
    """Pair everyone taking part, save the round and queue one intro to each person."""
    now = now or utc_now()
    preview = preview_round(program, seed, now.date())
    if not preview.plan.chats:
        raise DomainError("Nobody can be paired: fewer than two people are taking part right now.")
    round_ = db.session.scalar(
        sa.select(Round).where(Round.program_id == program.id, Round.status == RoundStatus.DRAFT)
    )
    if round_ is None:
        round_ = Round(program_id=program.id, number=preview.number)
        db.session.add(round_)
    round_.seed = preview.seed
    round_.scheduled_for = now.date()
    round_.status = RoundStatus.PUBLISHED
    round_.published_at = now
    round_.quality = {
        **preview.plan.quality.as_dict(),
        "people": sum(len(c) for c in preview.plan.chats),
        "left_out": len(preview.plan.left_out),
        "relaxed": len(preview.plan.relaxed),
    }
    db.session.flush()
    chat_ids = db.session.scalars(
        sa.insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
        [
            {"round_id": round_.id, "program_id": program.id, "created_at": now}
            for _ in preview.plan.chats
        ],
    ).all()
    chats = list(zip(chat_ids, preview.plan.chats, strict=True))
    members = [
        {"chat_id": chat_id, "round_id": round_.id, "person_id": pid, "position": k}
        for chat_id, people_ids in chats
        for k, pid in enumerate(people_ids)
    ]
    if members:
        insert_rows(db.session, ChatMember, members)
    db.session.expire(round_, ["chats"])  # written in bulk, behind the ORM's back
    addresses = {pid: taking.email for pid, taking in preview.people.items()}
    introduce_chats(program, chats, addresses)
    record(
        actor,
        "coffee.round_published",
        round_,
        program_id=program.id,
        details={**round_.quality, "seed": round_.seed},
        summary=f"Coffee round {round_.number}: {len(chats)} chats",
    )
    return round_


def introduce_chats(
    program: Program, chats: list[tuple[int, tuple[int, ...]]], addresses: dict[int, str]
) -> None:
    """One introduction to each person of each chat, written when it is sent (see
    `_compose_intros`): here only who gets which, addressed as everyone's address is now."""
    queue_messages(
        [
            unwritten_message(
                SimpleNamespace(id=pid, email=addresses[pid]),
                "intro",
                template="intro",
                program_id=program.id,
                dedupe_key=f"intro:chat:{chat_id}:{pid}",
                reply_to=[addresses[other] for other in ids if other != pid],
                chat_id=chat_id,
            )
            for chat_id, ids in chats
            for pid in ids
        ]
    )


def schedule_round(actor: Person, program: Program, on: date, seed: int | None = None) -> Round:
    """Plan the next round for a date: `flask tick` publishes it then, with whoever takes part."""
    if on < utc_now().date():
        raise DomainError("Choose today or a later date.", field="on")
    round_ = db.session.scalar(
        sa.select(Round).where(Round.program_id == program.id, Round.status == RoundStatus.DRAFT)
    )
    if round_ is None:
        number = next_number(program)
        round_ = Round(program_id=program.id, number=number)
        db.session.add(round_)
    round_.scheduled_for = on
    round_.seed = default_seed(program, round_.number) if seed is None else seed
    db.session.flush()
    record(
        actor,
        "coffee.round_scheduled",
        round_,
        program_id=program.id,
        summary=f"Coffee round {round_.number} scheduled for {on:%d %b %Y}",
    )
    return round_


def too_soon(program: Program, on: date | None = None) -> str | None:
    """Why a round on `on` (today if None) comes before the program's cadence allows, or None."""
    on = on or utc_now().date()
    last = db.session.scalar(
        sa.select(Round)
        .where(Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED)
        .order_by(Round.scheduled_for.desc())
        .limit(1)
    )
    if last is None:
        return None
    gap = (on - last.scheduled_for).days
    if gap >= program.coffee_cadence_days:
        return None
    after = "the same day as" if gap == 0 else f"{gap} day{'s' if gap != 1 else ''} after"
    return (
        f"This round would go out {after} round {last.number} "
        f"({last.scheduled_for:%d %B %Y}); this program's rounds are every "
        f"{program.coffee_cadence_days} days. People already have a chat from that round."
    )


def publish_as_planned(
    actor: Person | None, program: Program, on: date | None, seed: int | None = None
) -> Round:
    """The round as it goes out on `on` (today if None): published there and then, so that
    what a scheduled round will e-mail can be counted (and undone) before it is scheduled."""
    when = on or utc_now().date()
    return publish_round(actor, program, seed, now=datetime.combine(when, time(9), tzinfo=UTC))


def publish_or_schedule(
    actor: Person, program: Program, on: date | None, seed: int | None = None
) -> Round:
    """Publish the next round now (no date, or today), or schedule it for a later date."""
    if on is not None and on > utc_now().date():
        return schedule_round(actor, program, on, seed)
    if on is not None and on < utc_now().date():
        raise DomainError("Choose today or a later date.", field="on")
    return publish_round(actor, program, seed)


def publish_due_rounds(now: datetime) -> int:
    """Publish every scheduled round whose date has come (for `flask tick`)."""
    due = db.session.scalars(
        sa.select(Round)
        .where(Round.status == RoundStatus.DRAFT, Round.scheduled_for <= now.date())
        .options(selectinload(Round.program))
    ).all()
    published = 0
    for round_ in due:
        try:
            with db.session.begin_nested():
                publish_round(None, round_.program, now=now)
            published += 1
        except DomainError as exc:
            current_app.logger.warning("coffee round %s not published: %s", round_.id, exc)
    return published


# How a chat went, from its members' latest answers: the best news any of them gave.
CHAT_OUTCOMES = (
    ("met", "Met"),
    ("scheduled", "Time set"),
    ("not_yet", "Not yet"),
    ("wont_happen", "Won't happen"),
    ("unanswered", "No answer yet"),
)


@dataclass
class RoundDetail:
    round: Round
    chats: list[list[Person]]
    outcomes: dict[str, int]  # chats per outcome (counts only: who answered what stays theirs)
    asked: int
    answered: int


def round_detail(program: Program, number: int) -> RoundDetail | None:
    """A published round's chats and how they went, as counts; three queries."""
    round_ = db.session.scalar(
        sa.select(Round).where(
            Round.program_id == program.id,
            Round.number == number,
            Round.status == RoundStatus.PUBLISHED,
        )
    )
    if round_ is None:
        return None
    chats: dict[int, list[Person]] = {}
    for chat_id, person in db.session.execute(
        sa.select(ChatMember.chat_id, Person)
        .join(Person, Person.id == ChatMember.person_id)
        .where(ChatMember.round_id == round_.id)
        .order_by(ChatMember.chat_id, ChatMember.position)
    ):
        chats.setdefault(chat_id, []).append(person)
    said: dict[int, set[str]] = {chat_id: set() for chat_id in chats}
    asked = answered = 0
    for chat_id, status in db.session.execute(
        sa.select(CheckIn.chat_id, CheckIn.status)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .where(Chat.round_id == round_.id)
    ):
        asked += 1
        if status is not None:
            answered += 1
            said[chat_id].add(status.value)
    outcomes = dict.fromkeys((key for key, _ in CHAT_OUTCOMES), 0)
    for answers in said.values():
        best = next((key for key, _ in CHAT_OUTCOMES if key in answers), "unanswered")
        outcomes[best] += 1
    return RoundDetail(round_, list(chats.values()), outcomes, asked, answered)


def rounds(program: Program) -> list[Round]:
    return list(
        db.session.scalars(
            sa.select(Round).where(Round.program_id == program.id).order_by(Round.number.desc())
        )
    )


# --- ghosts -------------------------------------------------------------------------------


def snooze_ghosts(now: datetime) -> int:
    """Snooze whoever left their last three intros without any answer, and tell them."""
    wait = timedelta(days=current_app.config["CHECKIN_REMINDER_AFTER_DAYS"])
    # Read as columns: every open enrollment's chats of every round, tens of thousands of rows
    # at a school's size, of which only the ghosts are loaded as objects below.
    rows = db.session.execute(
        sa.select(Enrollment.id, CheckIn.answered_at, CheckIn.asked_at)
        .join(Round, Round.program_id == Enrollment.program_id)
        .join(Chat, Chat.round_id == Round.id)
        .join(
            CheckIn,
            sa.and_(CheckIn.chat_id == Chat.id, CheckIn.person_id == Enrollment.person_id),
        )
        .where(
            Enrollment.withdrawn_at.is_(None),
            Enrollment.snoozed_until.is_(None),
            Round.status == RoundStatus.PUBLISHED,
            CheckIn.asked_at >= Enrollment.enrolled_at,
        )
        .order_by(Enrollment.id, Round.number.desc())
    ).all()
    latest: dict[int, list[tuple[datetime | None, datetime]]] = {}
    for enrollment_id, answered_at, asked_at in rows:
        latest.setdefault(enrollment_id, []).append((answered_at, asked_at))
    ghost_ids = [
        eid
        for eid, answers in latest.items()
        if len(answers) >= GHOST_AFTER
        and all(a is None and asked <= now - wait for a, asked in answers[:GHOST_AFTER])
    ]
    ghosts = list(
        by_id(
            db.session,
            Enrollment,
            ghost_ids,
            joinedload(Enrollment.person),
            joinedload(Enrollment.program),
        ).values()
    )
    until = now.date() + timedelta(days=GHOST_SNOOZE_DAYS)
    messages = []
    for enrollment in ghosts:
        enrollment.snoozed_until = until
        enrollment.snooze_reason = "unanswered"
        messages.append(
            render_message(
                enrollment.person,
                "coffee_paused",
                template="coffee_paused",
                context={
                    "person": enrollment.person,
                    "program_name": enrollment.program.name,
                    "until": until,
                    "links": enrollment_links(enrollment.person_id, enrollment.program_id),
                },
                program_id=enrollment.program_id,
                dedupe_key=f"coffee_paused:{enrollment.id}:{until}",
            )
        )
    db.session.flush()
    queue_messages(messages)
    return len(ghosts)


# --- what a participant sees --------------------------------------------------------------


@dataclass
class MyCoffee:
    program: Program
    enrollment: Enrollment | None
    current: list[Person]  # this round's partners
    current_round: Round | None
    met: list[Person]  # people met in this program's chats (own "we met" answers)
    departments: int
    months: int  # months taking part, for "one a month"
    # This round's chat: who writes first, and a link that opens a note to the partners (with
    # the ready ask for the one who writes first).
    first_mover: Person | None = None
    write_link: str = ""
    chat_id: int | None = None


def my_coffee(person: Person) -> list[MyCoffee]:
    """Per program in which the person may join coffee chats: enrollment, partner, network."""
    programs = db.session.scalars(
        sa.select(Program)
        .join(Membership, Membership.program_id == Program.id)
        .where(
            Membership.person_id == person.id,
            Membership.ended_at.is_(None),
            Membership.coffee_track.is_(True),
            Program.active.is_(True),
        )
        .distinct()
        .order_by(Program.name)
    ).all()
    if not programs:
        return []
    program_ids = [p.id for p in programs]
    enrollments = {
        e.program_id: e
        for e in db.session.scalars(
            sa.select(Enrollment).where(
                Enrollment.person_id == person.id,
                Enrollment.program_id.in_(program_ids),
                Enrollment.withdrawn_at.is_(None),
            )
        )
    }
    first_enrolled = dict(
        db.session.execute(
            sa.select(Enrollment.program_id, sa.func.min(Enrollment.enrolled_at))
            .where(Enrollment.person_id == person.id, Enrollment.program_id.in_(program_ids))
            .group_by(Enrollment.program_id)
        ).all()
    )
    mine = db.session.execute(
        sa.select(Round, ChatMember.chat_id)
        .join(ChatMember, ChatMember.round_id == Round.id)
        .where(
            ChatMember.person_id == person.id,
            Round.program_id.in_(program_ids),
            Round.status == RoundStatus.PUBLISHED,
        )
        .order_by(Round.number.desc())
    ).all()
    latest: dict[int, tuple[Round, int]] = {}
    for round_, chat_id in mine:
        latest.setdefault(round_.program_id, (round_, chat_id))
    partners: dict[int, list[Person]] = {}
    chat_ids = [chat_id for _, chat_id in latest.values()]
    if chat_ids:
        for chat_id, other in db.session.execute(
            sa.select(ChatMember.chat_id, Person)
            .join(Person, Person.id == ChatMember.person_id)
            .where(ChatMember.chat_id.in_(chat_ids), ChatMember.person_id != person.id)
        ):
            partners.setdefault(chat_id, []).append(other)
    met_rows = db.session.execute(
        sa.select(Chat.program_id, Person)
        .select_from(CheckIn)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .join(ChatMember, ChatMember.chat_id == Chat.id)
        .join(Person, Person.id == ChatMember.person_id)
        .where(
            CheckIn.person_id == person.id,
            CheckIn.status == CheckInStatus.MET,
            ChatMember.person_id != person.id,
            Chat.program_id.in_(program_ids),
        )
        .order_by(Chat.id.desc())
    ).all()
    met: dict[int, dict[int, Person]] = {}
    for program_id, other in met_rows:
        met.setdefault(program_id, {})[other.id] = other
    now = utc_now()
    result = []
    for program in programs:
        people_met = list(met.get(program.id, {}).values())
        since = first_enrolled.get(program.id)
        months = max(1, round((now - since).days / 30.4)) if since else 0
        current_round, chat_id = latest.get(program.id, (None, None))
        current = partners.get(chat_id, []) if chat_id else []
        first, link = None, ""
        if current:
            first = first_mover([person, *current], f"chat:{chat_id}")
            others = [p for p in (person, *current) if p is not first]
            ask = coffee_ask(first, others, program.name) if first is person else None
            link = mailto([p.email for p in current], ask)
        result.append(
            MyCoffee(
                program=program,
                enrollment=enrollments.get(program.id),
                current=current,
                current_round=current_round,
                met=people_met,
                departments=len({p.department_id for p in people_met if p.department_id}),
                months=months,
                first_mover=first,
                write_link=link,
                chat_id=chat_id,
            )
        )
    return result
