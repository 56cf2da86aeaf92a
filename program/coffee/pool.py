"""Who a round pairs, and what it must avoid: the people taking part on a date, the round's
number and seed, and every meeting that counts as a repeat (earlier rounds, directory chats,
formal pairs)."""

from __future__ import annotations

import zlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from program.changes import POOL, kept_until_changed
from program.checkins.models import CheckIn
from program.coffee.enrollment import coffee_members
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.db import text_digest
from program.extensions import db
from program.formal.models import Assessor, Assignment, AssignmentStatus
from program.matching import coffee as pairing
from program.people.blocks import ruled_out
from program.people.models import CareerStage, Department, PairingBlock, Person
from program.programs.models import Program, Term


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
            Person.id.in_(coffee_members(program)),
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


# What `pool_state` reads: a committed write to any moves `program.changes`' POOL generation,
# under which each process keeps the state it found (reading it sums every name and address).
POOL_READS = (
    ("person", ("name", "email", "department_id", "stage", "active")),
    "enrollment",
    "membership",
    "chat",
    "chat_member",
    "round",
    ("check_in", ("suggested_person_id",)),
    "assignment",
    "term",
    "pairing_block",
    "assessor",
)


def pool_state(program: Program, on: date) -> tuple[Any, ...]:
    """`pool_checksums`, found again only when a write to what it reads was committed since
    this process last found them (about 0.5 s at 50,000 people, where the generation is one
    row), or while the request's own transaction has written it."""
    return kept_until_changed(
        POOL, "pool-state", (program.id, on), lambda: pool_checksums(program, on)
    )


def pool_checksums(program: Program, on: date) -> tuple[Any, ...]:
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


def round_inputs(
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
