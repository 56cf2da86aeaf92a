"""Pairs that must never happen: each person's private "please don't pair me with" list,
faculty who assess a trainee (never that trainee's mentor), and a formal pair that ended in a
no-fault rematch (both were promised they are never paired again, in any term or program). Both
matchings and publishing read `ruled_out`; hand-made pairs ask `pair_problem`.

Privacy: a person's list is theirs alone. Nobody else, coordinators included, is told who is on
it; a coordinator learns only that a pair was ruled out by a private preference.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from program.audit.services import record
from program.db import DomainError, name_key
from program.extensions import db
from program.formal.models import Assessor, Assignment, EndReason
from program.people.models import PairingBlock, Person
from program.programs.models import Membership, Program, Role

MAX_BLOCKS = 50
PRIVATE = "This pair is ruled out by a private preference of one of them."


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def ruled_out(person_ids: Collection[int], program_id: int) -> frozenset[tuple[int, int]]:
    """Every pair among these people that must never be made, as (smaller id, larger id): a
    private block by either side, or a faculty member who assesses the trainee here. Two
    queries whatever the number of people (the program's members, filtered here)."""
    members = set(person_ids)
    if not members:
        return frozenset()
    in_program = sa.select(Membership.person_id).where(Membership.program_id == program_id)
    pairs = db.session.execute(
        sa.select(PairingBlock.person_id, PairingBlock.blocked_id).where(
            PairingBlock.person_id.in_(in_program)
        )
    ).all()
    pairs += db.session.execute(
        sa.select(Assessor.assessor_id, Assessor.trainee_id).where(
            Assessor.program_id == program_id
        )
    ).all()
    # Rematches are few, so all of them are read; across programs, as the promise was made.
    pairs += db.session.execute(
        sa.select(Assignment.mentor_id, Assignment.trainee_id).where(
            Assignment.end_reason == EndReason.NO_FAULT_REMATCH
        )
    ).all()
    return frozenset(_pair(a, b) for a, b in pairs if a in members and b in members)


def rematched_on(mentor: Person, trainee: Person) -> datetime | None:
    """When this mentor and trainee's pair ended in a no-fault rematch, if it ever did."""
    return db.session.scalar(
        sa.select(sa.func.min(Assignment.ended_at)).where(
            Assignment.mentor_id == mentor.id,
            Assignment.trainee_id == trainee.id,
            Assignment.end_reason == EndReason.NO_FAULT_REMATCH,
        )
    )


def assesses(mentor: Person, trainee: Person, program_id: int) -> bool:
    """Whether the coordinator recorded that this faculty member assesses the trainee here."""
    return (
        db.session.scalar(
            sa.select(Assessor.id).where(
                Assessor.program_id == program_id,
                Assessor.assessor_id == mentor.id,
                Assessor.trainee_id == trainee.id,
            )
        )
        is not None
    )


def pair_problem(mentor: Person, trainee: Person, program_id: int) -> str | None:
    """Why a hand-made pair may not be made, or None. The assessor rule is said plainly (the
    coordinator recorded it); a private block only as such."""
    if assesses(mentor, trainee, program_id):
        return (
            f"{mentor.name} assesses {trainee.name}'s work, so cannot be their mentor (an "
            "advisor has no role in assessing the student: LCME element 11.1)."
        )
    if (ended := rematched_on(mentor, trainee)) is not None:
        return (
            f"{trainee.name} and {mentor.name} ended their pair in a no-fault rematch on "
            f"{ended:%d %B %Y}; both were promised they would never be paired again."
        )
    if _pair(mentor.id, trainee.id) in ruled_out([mentor.id, trainee.id], program_id):
        return PRIVATE
    return None


# --- a person's own list --------------------------------------------------------------------


def my_blocks(person: Person) -> list[PairingBlock]:
    return list(
        db.session.scalars(
            sa.select(PairingBlock)
            .join(Person, Person.id == PairingBlock.blocked_id)
            .where(PairingBlock.person_id == person.id)
            .order_by(Person.sort_name)
        )
    )


def people_to_block(person: Person, query: str, limit: int = 20) -> list[Person]:
    """People of the person's programs whose name matches, for choosing whom to add."""
    words = name_key(query).split()
    if not words:
        return []
    programs = sa.select(Membership.program_id).where(
        Membership.person_id == person.id, Membership.is_current
    )
    already = sa.select(PairingBlock.blocked_id).where(PairingBlock.person_id == person.id)
    members = sa.select(Membership.person_id).where(
        Membership.program_id.in_(programs), Membership.is_current
    )
    # (A subquery, not a join with DISTINCT: PostgreSQL cannot compare the JSON interests.)
    candidates = db.session.scalars(
        sa.select(Person)
        .where(
            Person.id.in_(members),
            Person.id != person.id,
            Person.id.not_in(already),
            Person.active.is_(True),
        )
        .order_by(Person.sort_name)
    )
    # Matched in Python: case-folded in every alphabet (SQLite's lower() knows only ASCII).
    found = [p for p in candidates if all(w in name_key(p.name) for w in words)]
    return found[:limit]


def shares_a_program(person: Person, other: Person) -> bool:
    mine = sa.select(Membership.program_id).where(
        Membership.person_id == person.id, Membership.is_current
    )
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.person_id == other.id,
                Membership.is_current,
                Membership.program_id.in_(mine),
            )
        )
        is not None
    )


def block(person: Person, other: Person) -> PairingBlock:
    """Add someone to the person's private list (never told to anyone, not even the audit's
    summary: the audit records that the list changed, not whom it names)."""
    if other.id == person.id:
        raise DomainError("You cannot leave yourself out.")
    if not shares_a_program(person, other):
        raise DomainError("Choose someone from one of your programs.")
    existing = db.session.scalar(
        sa.select(PairingBlock).where(
            PairingBlock.person_id == person.id, PairingBlock.blocked_id == other.id
        )
    )
    if existing is not None:
        return existing
    count = db.session.scalar(sa.select(sa.func.count()).where(PairingBlock.person_id == person.id))
    if count >= MAX_BLOCKS:
        raise DomainError(f"Your list can hold {MAX_BLOCKS} people.")
    entry = PairingBlock(person_id=person.id, blocked_id=other.id)
    db.session.add(entry)
    db.session.flush()
    record(person, "pairing_block.changed", person, summary="Changed their private pairing list")
    return entry


def unblock(person: Person, entry_id: int) -> None:
    entry = db.session.get(PairingBlock, entry_id)
    if entry is None or entry.person_id != person.id:
        raise DomainError("That is not on your list.")
    db.session.delete(entry)
    record(person, "pairing_block.changed", person, summary="Changed their private pairing list")


# --- who assesses whom ------------------------------------------------------------------------


def record_assessor(
    actor: Person, program: Program, assessor: Person, trainee: Person | str
) -> Assessor:
    """A coordinator records that a faculty member assesses or grades a trainee here (given as
    a person or their e-mail address): formal matching will never make them a pair."""
    if isinstance(trainee, str):
        found = db.session.scalar(sa.select(Person).where(Person.email == trainee.strip().lower()))
        if found is None:
            raise DomainError("Nobody in Hallway has that address.", field="trainee_email")
        trainee = found
    if assessor.id == trainee.id:
        raise DomainError("Choose a trainee other than the assessor.")
    roles = {
        (m.person_id, m.role)
        for m in db.session.scalars(
            sa.select(Membership).where(
                Membership.program_id == program.id,
                Membership.person_id.in_([assessor.id, trainee.id]),
                Membership.is_current,
            )
        )
    }
    if (trainee.id, Role.TRAINEE) not in roles:
        raise DomainError(
            f"{trainee.name} is not a trainee of {program.name}.", field="trainee_email"
        )
    if not any(pid == assessor.id for pid, _ in roles):
        raise DomainError(f"{assessor.name} is not in {program.name}.")
    existing = db.session.scalar(
        sa.select(Assessor).where(
            Assessor.program_id == program.id,
            Assessor.assessor_id == assessor.id,
            Assessor.trainee_id == trainee.id,
        )
    )
    if existing is not None:
        return existing
    entry = Assessor(
        program_id=program.id,
        assessor_id=assessor.id,
        trainee_id=trainee.id,
        recorded_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        actor,
        "assessor.recorded",
        assessor,
        program_id=program.id,
        summary=f"{assessor.name} assesses {trainee.name}: never their mentor",
    )
    return entry


def remove_assessor(actor: Person, program: Program, entry_id: int) -> None:
    entry = db.session.get(Assessor, entry_id)
    if entry is None or entry.program_id != program.id:
        raise DomainError("That record is not in this program.")
    record(
        actor,
        "assessor.removed",
        entry.assessor,
        program_id=program.id,
        summary=f"{entry.assessor.name} no longer recorded as assessing {entry.trainee.name}",
    )
    db.session.delete(entry)


def assessors_of(program: Program, person: Person) -> list[Assessor]:
    """The records a person page shows: whom this person assesses, and who assesses them."""
    return list(
        db.session.scalars(
            sa.select(Assessor)
            .where(
                Assessor.program_id == program.id,
                sa.or_(Assessor.assessor_id == person.id, Assessor.trainee_id == person.id),
            )
            .order_by(Assessor.id)
        )
    )
