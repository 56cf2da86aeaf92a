"""Availability each term: asking mentors whether they can mentor, their answers by one-click
link, the places each offers, and the counts the coordinator reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from program import links
from program.audit.services import record
from program.checkins.services import link_max_age
from program.db import DomainError, utc_now
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus, Availability
from program.links import external_url
from program.messages.services import (
    already_queued,
    queue_messages,
    render_message,
)
from program.people.models import Person
from program.programs.models import Membership, Program, Role, Term
from program.programs.terms import current_term


def holds(person: Person, term: Term, role: Role) -> bool:
    """Whether `person` is a current member of the term's program in `role`."""
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.person_id == person.id,
                Membership.program_id == term.program_id,
                Membership.role == role,
                Membership.is_current,
            )
        )
        is not None
    )


MAX_CAPACITY = 10


def formal_members_query(term: Term, role: Role, *columns: Any) -> sa.Select:
    """The program's active people in the formal track now with `role`, by name: their ids
    and `columns` (or, with no columns given, the people themselves)."""
    return (
        sa.select(Person.id, *columns)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.program_id == term.program_id,
            Membership.role == role,
            Membership.is_current,
            Membership.formal_track.is_(True),
            Person.active.is_(True),
        )
        .order_by(Person.sort_name)
    )


def _formal_members(term: Term, role: Role) -> list[Person]:
    return list(db.session.scalars(formal_members_query(term, role).with_only_columns(Person)))


def current_mentors(term: Term) -> list[Person]:
    return _formal_members(term, Role.MENTOR)


def formal_trainees(term: Term) -> list[Person]:
    return _formal_members(term, Role.TRAINEE)


def formal_trainee_count(term: Term) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(
            Membership.program_id == term.program_id,
            Membership.role == Role.TRAINEE,
            Membership.is_current,
            Membership.formal_track.is_(True),
        )
    )


CARD_CAPACITIES = (1, 2, 3)


def availability_token(
    availability: Availability, accepting: bool, capacity: int | None = None
) -> str:
    """A signed answer: yes or not this term, and (a chat card's buttons) how many."""
    data: dict[str, Any] = {
        "a": availability.id,
        "p": availability.person_id,
        "y": accepting,
        "v": links.version(availability.id, availability.answered_at),
    }
    if capacity is not None:
        data["n"] = capacity
    return links.sign("availability", data)


def read_availability_choice(token: str) -> tuple[Availability, bool, int | None]:
    """The request a signed answer is for, yes or no, and how many when it says."""
    found, data = links.read_record(
        "availability",
        token,
        link_max_age(),
        Availability,
        "a",
        owner="person_id",
        valid=lambda _, data: (
            isinstance(data.get("y"), bool)
            and (data.get("n") is None or isinstance(data.get("n"), int))
        ),
        version=lambda found: links.version(found.id, found.answered_at),
    )
    return found, data["y"], data.get("n")


def read_availability_token(token: str) -> tuple[Availability, bool]:
    found, accepting, _ = read_availability_choice(token)
    return found, accepting


def _availability_message(availability: Availability, kind: str) -> dict[str, Any]:
    person, term = availability.person, availability.term
    return render_message(
        person,
        kind,
        template="availability_request",
        context={
            "person": person,
            "program_name": term.program.name,
            "term_name": term.name,
            "reminder": kind == "reminder",
            # A chat card answers in one tap: yes with how many, or not this term.
            "answers": [
                (
                    f"Yes, {n} mentee{'s' if n > 1 else ''}",
                    availability_token(availability, True, n),
                )
                for n in CARD_CAPACITIES
            ]
            + [("Not this term", availability_token(availability, False))],
            "links": [
                (
                    "Yes, I can mentor",
                    external_url(
                        "formal.availability_link", token=availability_token(availability, True)
                    ),
                ),
                (
                    "Not this term",
                    external_url(
                        "formal.availability_link", token=availability_token(availability, False)
                    ),
                ),
            ],
        },
        program_id=term.program_id,
        dedupe_key=f"{kind}:availability:{availability.id}",
    )


def request_availability(actor: Person | None, term: Term) -> dict[str, int]:
    """Ask every formal-track mentor of the program for this term's availability, once each."""
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed.")
    existing = {
        a.person_id: a
        for a in db.session.scalars(sa.select(Availability).where(Availability.term_id == term.id))
    }
    asked = []
    for mentor in current_mentors(term):
        if mentor.id not in existing:
            availability = Availability(term_id=term.id, person_id=mentor.id)
            db.session.add(availability)
            asked.append(availability)
    db.session.flush()
    queue_messages([_availability_message(a, "availability_request") for a in asked])
    counts = {"asked": len(asked), "already_asked": len(existing)}
    record(
        actor,
        "availability.requested",
        term,
        program_id=term.program_id,
        details=counts,
        summary=f"Availability for {term.name} asked of {len(asked)} mentors",
    )
    return counts


def remind_availability(actor: Person | None, term: Term) -> int:
    """One reminder to the mentors who have not answered (never a second one)."""
    waiting = db.session.scalars(
        sa.select(Availability).where(
            Availability.term_id == term.id, Availability.answered_at.is_(None)
        )
    ).all()
    sent = already_queued([f"reminder:availability:{a.id}" for a in waiting])
    due = [a for a in waiting if f"reminder:availability:{a.id}" not in sent]
    queue_messages([_availability_message(a, "reminder") for a in due])
    record(
        actor,
        "availability.reminded",
        term,
        program_id=term.program_id,
        summary=f"Availability reminder for {term.name} to {len(due)} mentors",
    )
    return len(due)


def answer_availability(
    person: Person, availability: Availability, accepting: bool, capacity: int, topics: str = ""
) -> Availability:
    if availability.person_id != person.id:
        raise DomainError("This request was sent to someone else.")
    if availability.term.closed_at is not None:
        raise DomainError(f"{availability.term.name} is closed.")
    if accepting and not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(f"Take between 1 and {MAX_CAPACITY} mentees.", field="capacity")
    if len(topics) > 2000:
        raise DomainError("Keep the topics under 2,000 characters.", field="topics")
    availability.accepting = accepting
    availability.capacity = capacity if accepting else 0
    availability.topics = topics.strip() if accepting else ""
    availability.answered_at = utc_now()
    db.session.flush()
    return availability


@dataclass(frozen=True)
class Places:
    term: Term
    capacity: int | None  # None: not answered yet
    taken: int


def _availability(term: Term, person: Person) -> Availability | None:
    return db.session.scalar(
        sa.select(Availability).where(
            Availability.term_id == term.id, Availability.person_id == person.id
        )
    )


def mentor_places(program: Program, mentor: Person) -> Places | None:
    """A mentor's places in the program's open term as they (or a coordinator) gave them, and
    those taken; None when there is no open term or they no longer mentor here."""
    term = current_term(program)
    if term is None or term.closed_at is not None or not holds(mentor, term, Role.MENTOR):
        return None
    availability = _availability(term, mentor)
    return Places(
        term,
        availability.capacity if availability and availability.answered_at else None,
        _live_mentees(term, mentor),
    )


def _live_mentees(term: Term, mentor: Person) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .where(
            Assignment.term_id == term.id,
            Assignment.mentor_id == mentor.id,
            Assignment.status != AssignmentStatus.ENDED,
        )
    )


def set_capacity(actor: Person, term: Term, mentor: Person, capacity: int) -> Availability:
    """A coordinator records a mentor's places for the term (0: not mentoring this term), for
    example after a conversation; never fewer than the mentees they already have."""
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed.")
    if not holds(mentor, term, Role.MENTOR):
        raise DomainError(f"{mentor.name} is not a mentor of this program.")
    if not 0 <= capacity <= MAX_CAPACITY:
        raise DomainError(f"Between 0 and {MAX_CAPACITY} mentees.", field="capacity")
    live = _live_mentees(term, mentor)
    if capacity < live:
        raise DomainError(
            f"{mentor.name} already has {live} mentee{'s' if live != 1 else ''} this term "
            "(proposed or published); end or move a pair first.",
            field="capacity",
        )
    availability = _availability(term, mentor)
    if availability is None:
        availability = Availability(term_id=term.id, person_id=mentor.id)
        db.session.add(availability)
    before = availability.capacity if availability.answered_at else None
    availability.accepting = capacity > 0
    availability.capacity = capacity
    availability.answered_at = utc_now()
    db.session.flush()
    record(
        actor,
        "availability.set",
        availability,
        program_id=term.program_id,
        summary=f"{mentor.name}: {capacity} places for {term.name} (was {before})",
        details={"capacity": capacity, "before": before},
    )
    return availability


@dataclass(frozen=True)
class AvailabilityRow:
    """A mentor and their answer for the term, read as columns."""

    name: str
    asked: bool
    answered: bool
    accepting: bool | None
    capacity: int
    topics: str


@dataclass(frozen=True)
class AvailabilityCounts:
    mentors: int
    waiting: int  # asked, no answer yet
    not_asked: int
    capacity: int  # places offered by those who said yes
    trainees: int  # in the formal track, to be matched


def availability_counts(term: Term) -> AvailabilityCounts:
    """The availability page's summary, in two aggregate queries."""
    mentors = formal_members_query(term, Role.MENTOR).order_by(None).subquery()
    total, waiting, not_asked = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(
                Availability.id.is_not(None), Availability.answered_at.is_(None)
            ),
            sa.func.count().filter(Availability.id.is_(None)),
        )
        .select_from(mentors)
        .outerjoin(
            Availability,
            sa.and_(Availability.person_id == mentors.c.id, Availability.term_id == term.id),
        )
    ).one()
    capacity = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Availability.capacity), 0)).where(
            Availability.term_id == term.id, Availability.accepting.is_(True)
        )
    )
    return AvailabilityCounts(total, waiting, not_asked, capacity, formal_trainee_count(term))


def availability_rows(term: Term, page: int = 1, per_page: int = 100) -> list[AvailabilityRow]:
    """One page of the formal track's mentors with their answers: those waiting for an answer
    first, then those not asked yet, then yes, then not this term; by family name within."""
    query = formal_members_query(
        term,
        Role.MENTOR,
        Person.name,
        Availability.id.is_not(None),
        Availability.answered_at.is_not(None),
        Availability.accepting,
        Availability.capacity,
        Availability.topics,
    ).outerjoin(
        Availability,
        sa.and_(Availability.person_id == Person.id, Availability.term_id == term.id),
    )
    urgency = sa.case(
        (sa.and_(Availability.id.is_not(None), Availability.answered_at.is_(None)), 0),
        (Availability.id.is_(None), 1),
        (Availability.accepting.is_(True), 2),
        else_=3,
    )
    return [
        AvailabilityRow(name, asked, answered, accepting, capacity or 0, topics or "")
        for _, name, asked, answered, accepting, capacity, topics in db.session.execute(
            query.order_by(None)
            .order_by(urgency, Person.sort_name, Person.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    ]


def pending_availability(person: Person) -> list[Availability]:
    return list(
        db.session.scalars(
            sa.select(Availability)
            .join(Term, Term.id == Availability.term_id)
            .where(
                Availability.person_id == person.id,
                Availability.answered_at.is_(None),
                Term.closed_at.is_(None),
            )
        )
    )
