"""The formal track's rules: availability each term, proposing, editing and publishing matches
with introductions, how active pairs are doing, no-fault rematches and ending a pair."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, raiseload

from program import links
from program.audit.services import record
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import link_max_age
from program.db import DomainError, by_id, utc_date, utc_now
from program.extensions import db
from program.formal.health import UNANSWERED_AFTER_DAYS, Health, judge
from program.formal.models import (
    Assessor,
    Assignment,
    AssignmentStatus,
    Availability,
    EndReason,
    pairs_with_people,
)
from program.matching import formal as matching
from program.meetings.services import propose_link
from program.messages.composing import composer
from program.messages.intros import formal_ask, intro_context, mailto
from program.messages.models import Message
from program.messages.services import (
    already_queued,
    queue_messages,
    render_message,
    unwritten_message,
)
from program.people.blocks import pair_problem, ruled_out
from program.people.models import CareerStage, MailPreference, Person
from program.programs.models import Membership, Program, Role, Term
from program.programs.services import coordinators
from program.programs.terms import current_term
from program.web import external_url


def _holds(person: Person, term: Term, role: Role) -> bool:
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.person_id == person.id,
                Membership.program_id == term.program_id,
                Membership.role == role,
                Membership.ended_at.is_(None),
            )
        )
        is not None
    )


def first_moment(term: Term) -> datetime:
    """When a term's pairs begin: the start of its first day (UTC)."""
    return datetime.combine(term.starts_on, time(0), tzinfo=UTC)


def _starts(term: Term, started_at: datetime | None) -> datetime:
    """When pairs published now begin: `started_at` when given (a history, a late import),
    else now, or the term's first day for a term that has not begun. Such *scheduled* pairs
    are live from then: their intros leave that day (the worker's sender sends nothing before
    a message's time), check-ins and follow-ups count from it, and the two see "From ..."."""
    if started_at is not None:
        return started_at
    return max(utc_now(), first_moment(term))


def publish_pair(
    actor: Person | None,
    term: Term,
    mentor: Person,
    trainee: Person,
    *,
    started_at: datetime | None = None,
) -> Assignment:
    """Make `mentor` the formal mentor of `trainee` for `term`, and introduce them by e-mail."""
    if mentor.id == trainee.id:
        raise DomainError("A person cannot mentor themselves.")
    if not _holds(mentor, term, Role.MENTOR):
        raise DomainError(f"{mentor.name} is not a mentor of this program.")
    if not _holds(trainee, term, Role.TRAINEE):
        raise DomainError(f"{trainee.name} is not a trainee of this program.")
    live = db.session.scalar(
        sa.select(Assignment.id).where(
            Assignment.term_id == term.id,
            Assignment.trainee_id == trainee.id,
            Assignment.status != AssignmentStatus.ENDED,
        )
    )
    if problem := pair_problem(mentor, trainee, term.program_id):
        raise DomainError(problem)
    if live is not None:
        raise DomainError(f"{trainee.name} already has a formal mentor this term.")
    assignment = Assignment(
        term_id=term.id,
        mentor_id=mentor.id,
        trainee_id=trainee.id,
        status=AssignmentStatus.ACTIVE,
        started_at=_starts(term, started_at),
    )
    db.session.add(assignment)
    db.session.flush()
    _introduce([assignment], send_at=assignment.started_at)
    record(
        actor,
        "assignment.published",
        assignment,
        program_id=term.program_id,
        summary=f"{mentor.name} mentors {trainee.name} in {term.name}",
    )
    return assignment


def _introduce(assignments: list[Assignment], send_at: datetime) -> None:
    """One intro e-mail to each side of each newly active pair (never twice: dedupe keys),
    written when it is sent (see `_compose_intros`), not before `send_at` (a scheduled pair's
    first day)."""
    rows = []
    for pair in pairs_with_people(a.id for a in assignments):
        sides = (
            (pair.trainee_id, pair.trainee_email, pair.mentor_email),
            (pair.mentor_id, pair.mentor_email, pair.trainee_email),
        )
        rows += [
            unwritten_message(
                SimpleNamespace(id=person_id, email=email),
                "intro",
                template="intro",
                program_id=pair.program_id,
                dedupe_key=f"intro:assignment:{pair.id}:{person_id}",
                reply_to=[other_email],
                assignment_id=pair.id,
            )
            | {"next_attempt_at": send_at}
            for person_id, email, other_email in sides
        ]
    queue_messages(rows)


@composer("intro")
def _compose_intros(messages: Sequence[Message]) -> dict[int, dict[str, Any]]:
    """A formal pair's introductions: the mentee writes first, with a 150-250-word first
    approach ready to send and the link to propose times."""
    assignments = by_id(
        db.session,
        Assignment,
        (m.assignment_id for m in messages if m.assignment_id is not None),
        joinedload(Assignment.mentor).joinedload(Person.department),
        joinedload(Assignment.trainee).joinedload(Person.department),
        joinedload(Assignment.term).joinedload(Term.program),
        raiseload("*"),
    )
    contexts = {}
    for message in messages:
        assignment = assignments.get(message.assignment_id or 0)
        # A scheduled pair ended before its first day is introduced to nobody.
        if (
            assignment is None
            or assignment.status is AssignmentStatus.ENDED
            or message.recipient_id not in (assignment.mentor_id, assignment.trainee_id)
        ):
            continue
        mentor, trainee = assignment.mentor, assignment.trainee
        person, other = (
            (trainee, mentor) if message.recipient_id == trainee.id else (mentor, trainee)
        )
        program = assignment.term.program
        context = intro_context(
            person,
            [other],
            first=trainee,
            ask=formal_ask(trainee, mentor, program.name),
            program=program.name,
            track="formal",
            today=message.created_at.date(),
        )
        if person is trainee:
            context["propose_link"] = propose_link("assignment", assignment.id, trainee)
        contexts[message.id] = context
    return contexts


# --- availability -------------------------------------------------------------------------

MAX_CAPACITY = 10


def _formal_members_query(term: Term, role: Role, *columns: Any) -> sa.Select:
    """The program's active people in the formal track now with `role`, by name: their ids
    and `columns` (or, with no columns given, the people themselves)."""
    return (
        sa.select(Person.id, *columns)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.program_id == term.program_id,
            Membership.role == role,
            Membership.ended_at.is_(None),
            Membership.formal_track.is_(True),
            Person.active.is_(True),
        )
        .order_by(Person.sort_name)
    )


def _formal_members(term: Term, role: Role) -> list[Person]:
    return list(db.session.scalars(_formal_members_query(term, role).with_only_columns(Person)))


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
            Membership.ended_at.is_(None),
            Membership.formal_track.is_(True),
        )
    )


def availability_token(availability: Availability, accepting: bool) -> str:
    return links.sign(
        "availability",
        {
            "a": availability.id,
            "p": availability.person_id,
            "y": accepting,
            "v": links.version(availability.id, availability.answered_at),
        },
    )


def read_availability_token(token: str) -> tuple[Availability, bool]:
    data = links.read("availability", token, link_max_age())
    found = db.session.get(Availability, data["a"]) if isinstance(data.get("a"), int) else None
    if found is None or found.person_id != data.get("p") or not isinstance(data.get("y"), bool):
        raise links.LinkRefused("invalid")
    if data.get("v") != links.version(found.id, found.answered_at):
        raise links.LinkRefused("used")
    return found, data["y"]


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
    if term is None or term.closed_at is not None or not _holds(mentor, term, Role.MENTOR):
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
    if not _holds(mentor, term, Role.MENTOR):
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
    mentors = _formal_members_query(term, Role.MENTOR).order_by(None).subquery()
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
    query = _formal_members_query(
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


# --- proposing, reviewing and publishing a term's matches ---------------------------------


def remaining_capacity(term: Term) -> dict[int, int]:
    """Places each accepting mentor still has this term (capacity less live pairs): two
    aggregate queries, whatever the number of mentors."""
    capacity = dict(
        db.session.execute(
            sa.select(Availability.person_id, Availability.capacity).where(
                Availability.term_id == term.id, Availability.accepting.is_(True)
            )
        ).all()
    )
    for mentor_id, live in db.session.execute(
        sa.select(Assignment.mentor_id, sa.func.count())
        .where(Assignment.term_id == term.id, Assignment.status != AssignmentStatus.ENDED)
        .group_by(Assignment.mentor_id)
    ):
        if mentor_id in capacity:
            capacity[mentor_id] -= live
    return capacity


def as_matching(person: Person, capacity: int | None = None) -> matching.Person:
    fields = {
        "id": person.id,
        "department": person.department_name or None,
        "stage_rank": person.stage.rank if person.stage else None,
        "interests": frozenset(person.interests or []),
    }
    if capacity is None:
        return matching.Person(**fields)
    return matching.Mentor(**fields, capacity=capacity)


def propose_matches(
    actor: Person | None, term: Term, seed: int = 0, only: frozenset[int] | None = None
) -> matching.Proposal:
    """Replace the term's draft proposal with a new one for every trainee without a live mentor
    (or, with `only`, for just those trainees, leaving other drafts as they are)."""
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed.")
    drafts = sa.delete(Assignment).where(
        Assignment.term_id == term.id, Assignment.status == AssignmentStatus.PROPOSED
    )
    if only is not None:
        drafts = drafts.where(Assignment.trainee_id.in_(only))
    db.session.execute(drafts)
    taken = set(
        db.session.scalars(
            sa.select(Assignment.trainee_id).where(
                Assignment.term_id == term.id, Assignment.status != AssignmentStatus.ENDED
            )
        )
    )
    trainees = [
        t for t in formal_trainees(term) if t.id not in taken and (only is None or t.id in only)
    ]
    capacity = remaining_capacity(term)
    mentors = [m for m in current_mentors(term) if capacity.get(m.id, 0) > 0]
    forbidden = _never_paired([p.id for p in (*trainees, *mentors)], term.program_id)
    preference = matching.DepartmentPreference(term.program.formal_department_preference.value)
    proposal = matching.propose(
        [as_matching(t) for t in trainees],
        [as_matching(m, capacity[m.id]) for m in mentors],
        preference,
        forbidden=forbidden,
        seed=seed,
    )
    for pair in proposal.pairs:
        db.session.add(
            Assignment(
                term_id=term.id,
                mentor_id=pair.mentor_id,
                trainee_id=pair.trainee_id,
                status=AssignmentStatus.PROPOSED,
                fit=pair.fit,
            )
        )
    db.session.flush()
    record(
        actor,
        "matches.proposed",
        term,
        program_id=term.program_id,
        details={
            "pairs": len(proposal.pairs),
            "unmatched": len(proposal.unmatched),
            "total_fit": proposal.total_fit,
            "seed": seed,
            "solver": proposal.solver,
        },
        summary=f"{len(proposal.pairs)} matches proposed for {term.name}",
    )
    return proposal


def _never_paired(person_ids: list[int], program_id: int) -> frozenset[tuple[int, int]]:
    """(trainee id, mentor id) pairs the matching must never make (`ruled_out`'s pairs, which
    are unordered, taken both ways)."""
    never = ruled_out(person_ids, program_id)
    return frozenset(never | {(b, a) for a, b in never})


class WhyUnmatched(enum.Enum):
    """Why a formal-track trainee has no mentor yet, worst first, each with what to do."""

    NO_CAPACITY = "No mentor has a place left this term"
    NO_ELIGIBLE_MENTOR = "Every mentor with a place is ruled out for them"
    NOT_PROPOSED = "Not proposed yet"
    NOT_PUBLISHED = "Proposed, not published yet"


@dataclass(frozen=True)
class TraineeRef:
    """What a list of trainees shows, read as columns."""

    id: int
    name: str
    stage: CareerStage | None
    sort_name: str


@dataclass(frozen=True)
class Unmatched:
    trainee: TraineeRef
    why: WhyUnmatched


def unmatched_trainees(term: Term, capacity: dict[int, int] | None = None) -> list[Unmatched]:
    """Formal-track trainees without an active mentor this term, each with why, in a fixed
    number of queries: the places mentors have left (`capacity`, when the caller has it from
    `remaining_capacity`), and the pairs ruled out."""
    mentored = sa.select(Assignment.trainee_id).where(
        Assignment.term_id == term.id, Assignment.status == AssignmentStatus.ACTIVE
    )
    # Only those without a mentor are read (thousands have one).
    waiting = [
        TraineeRef(*row)
        for row in db.session.execute(
            _formal_members_query(
                term, Role.TRAINEE, Person.name, Person.stage, Person.sort_name
            ).where(Person.id.not_in(mentored))
        )
    ]
    if not waiting:
        return []
    proposed = set(
        db.session.scalars(
            sa.select(Assignment.trainee_id).where(
                Assignment.term_id == term.id, Assignment.status == AssignmentStatus.PROPOSED
            )
        )
    )
    capacity = remaining_capacity(term) if capacity is None else capacity
    place_ids = {
        mentor_id
        for mentor_id in db.session.scalars(_formal_members_query(term, Role.MENTOR))
        if capacity.get(mentor_id, 0) > 0
    }
    ruled: dict[int, int] = {}
    everyone = [t.id for t in waiting] + list(place_ids)
    for trainee_id, mentor_id in _never_paired(everyone, term.program_id):
        if mentor_id in place_ids:
            ruled[trainee_id] = ruled.get(trainee_id, 0) + 1
    found = []
    for trainee in waiting:
        if trainee.id in proposed:
            why = WhyUnmatched.NOT_PUBLISHED
        elif not place_ids:
            why = WhyUnmatched.NO_CAPACITY
        elif ruled.get(trainee.id, 0) >= len(place_ids):
            why = WhyUnmatched.NO_ELIGIBLE_MENTOR
        else:
            why = WhyUnmatched.NOT_PROPOSED
        found.append(Unmatched(trainee, why))
    order = list(WhyUnmatched)
    return sorted(found, key=lambda u: (order.index(u.why), u.trainee.sort_name))


def set_proposed_mentor(
    actor: Person, term: Term, trainee: Person, mentor: Person | None
) -> Person:
    """Change, add or remove (mentor None) a trainee's proposed mentor, within capacity."""
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed.")
    current = db.session.scalar(
        sa.select(Assignment).where(
            Assignment.term_id == term.id,
            Assignment.trainee_id == trainee.id,
            Assignment.status != AssignmentStatus.ENDED,
        )
    )
    if current is not None and current.status is AssignmentStatus.ACTIVE:
        raise DomainError(f"{trainee.name}'s pair is already published.")
    if mentor is not None:
        if not _holds(trainee, term, Role.TRAINEE):
            raise DomainError(f"{trainee.name} is not a trainee of this program.")
        if not _holds(mentor, term, Role.MENTOR):
            raise DomainError(f"{mentor.name} is not a mentor of this program.")
        left = remaining_capacity(term).get(mentor.id, 0)
        if current is not None and current.mentor_id == mentor.id:
            return trainee
        if left <= 0:
            raise DomainError(f"{mentor.name} has no place left this term.", field="mentor")
        if mentor.stage and trainee.stage and mentor.stage.rank <= trainee.stage.rank:
            raise DomainError(
                f"{mentor.name} is not further on in their career than {trainee.name}.",
                field="mentor",
            )
        if problem := pair_problem(mentor, trainee, term.program_id):
            raise DomainError(problem, field="mentor")
    if current is not None:
        db.session.delete(current)
        db.session.flush()
    if mentor is not None:
        pair = matching.fit_matrix(
            [as_matching(trainee)],
            [as_matching(mentor, 1)],
            matching.DepartmentPreference(term.program.formal_department_preference.value),
        )
        db.session.add(
            Assignment(
                term_id=term.id,
                mentor_id=mentor.id,
                trainee_id=trainee.id,
                status=AssignmentStatus.PROPOSED,
                fit=float(pair[0, 0]),
            )
        )
        db.session.flush()
    record(
        actor,
        "matches.edited",
        trainee,
        program_id=term.program_id,
        summary=f"{trainee.name}: proposed mentor "
        f"{'set to ' + mentor.name if mentor else 'removed'}",
    )


def publish_matches(actor: Person | None, term: Term, started_at: datetime | None = None) -> int:
    """Make every proposed pair active and introduce both sides; returns how many. A term that
    has not begun gets them *scheduled* for its first day (see `_starts`).

    `started_at` records pairs that in fact began earlier (the demo's history, a late import)."""
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed.")
    proposed = list(
        db.session.scalars(
            sa.select(Assignment).where(
                Assignment.term_id == term.id, Assignment.status == AssignmentStatus.PROPOSED
            )
        )
    )
    # A draft made before a rematch, an assessor record or a private block is checked again:
    # publishing is the promise's last gate.
    never = _never_paired(
        list({p for a in proposed for p in (a.trainee_id, a.mentor_id)}), term.program_id
    )
    refused = [a for a in proposed if (a.trainee_id, a.mentor_id) in never]
    if refused:
        problems = [pair_problem(a.mentor, a.trainee, term.program_id) for a in refused[:3]]
        more = f" And {len(refused) - 3} more such pairs." if len(refused) > 3 else ""
        raise DomainError(
            "Nothing was published: "
            + " ".join(p or "" for p in problems)
            + more
            + " Choose another mentor for them, then publish."
        )
    begins = _starts(term, started_at)
    for assignment in proposed:
        assignment.status = AssignmentStatus.ACTIVE
        assignment.started_at = begins
    db.session.flush()
    _introduce(proposed, send_at=begins)
    record(
        actor,
        "matches.published",
        term,
        program_id=term.program_id,
        details={"pairs": len(proposed)},
        summary=f"{len(proposed)} formal pairs published for {term.name}",
    )
    return len(proposed)


def pair_reasons(assignment: Assignment, term: Term) -> tuple[str, ...]:
    """Why a proposed pair fits, in the matching module's words."""
    preference = matching.DepartmentPreference(term.program.formal_department_preference.value)
    return matching.reasons(
        as_matching(assignment.trainee), as_matching(assignment.mentor, 1), preference
    )


@dataclass(frozen=True)
class Published:
    trainee: str
    mentor: str
    started_at: datetime


@dataclass
class Review:
    proposed: list[Assignment]
    published: list[Published]  # the requested page of them
    published_total: int
    unmatched: list[Unmatched]
    capacity_left: dict[int, int]
    mentors: list[Named]
    # (trainee id, mentor id) pairs the mentor lists must not offer (never paired: see blocks).
    ruled_out: frozenset[tuple[int, int]] = frozenset()


PUBLISHED_PER_PAGE = 100


def review(term: Term, page: int = 1) -> Review:
    """Everything the review page shows, in a fixed number of queries: the draft whole (it is
    what the coordinator edits), the published pairs one page at a time, as columns."""
    proposed = db.session.scalars(
        sa.select(Assignment)
        .options(joinedload(Assignment.mentor), joinedload(Assignment.trainee))
        .join(Person, Person.id == Assignment.trainee_id)
        .where(Assignment.term_id == term.id, Assignment.status == AssignmentStatus.PROPOSED)
        .order_by(Person.sort_name, Assignment.id)
    ).all()
    active = sa.and_(Assignment.term_id == term.id, Assignment.status == AssignmentStatus.ACTIVE)
    total = db.session.scalar(sa.select(sa.func.count()).where(active)) or 0
    trainee, mentor = aliased(Person), aliased(Person)
    published = [
        Published(*row)
        for row in db.session.execute(
            sa.select(trainee.name, mentor.name, Assignment.started_at)
            .join(trainee, trainee.id == Assignment.trainee_id)
            .join(mentor, mentor.id == Assignment.mentor_id)
            .where(active)
            .order_by(trainee.sort_name, Assignment.id)
            .offset((page - 1) * PUBLISHED_PER_PAGE)
            .limit(PUBLISHED_PER_PAGE)
        )
    ]
    capacity = remaining_capacity(term)
    unmatched = [
        # A trainee in the draft has a mentor on this page, beside their name.
        u
        for u in unmatched_trainees(term, capacity)
        if u.why is not WhyUnmatched.NOT_PUBLISHED
    ]
    # Only a draft or a trainee without a mentor has a choice of mentor to make.
    mentors = (
        [
            Named(*row)
            for row in db.session.execute(_formal_members_query(term, Role.MENTOR, Person.name))
        ]
        if proposed or unmatched
        else []
    )
    choosing = [a.trainee_id for a in proposed] + [u.trainee.id for u in unmatched]
    return Review(
        proposed=list(proposed),
        published=published,
        published_total=total,
        unmatched=unmatched,
        capacity_left=capacity,
        mentors=mentors,
        ruled_out=_never_paired(choosing + [m.id for m in mentors], term.program_id)
        if mentors
        else frozenset(),
    )


# --- how active pairs are doing, no-fault rematches, ending a pair --------------------------


def _active_pairs(where: sa.ColumnElement[bool]) -> list[Assignment]:
    """Active pairs matching `where`, both people loaded, the newest first."""
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .options(joinedload(Assignment.mentor), joinedload(Assignment.trainee))
            .where(Assignment.status == AssignmentStatus.ACTIVE, where)
            .order_by(Assignment.started_at.desc(), Assignment.id)
        )
    )


@dataclass(frozen=True)
class Named:
    id: int
    name: str


@dataclass(frozen=True)
class PairSummary:
    """What the pairs page and the dashboard show of an active pair, read as plain columns
    (loading thousands of pairs with both people as ORM objects took seconds)."""

    id: int
    trainee: Named
    mentor: Named
    started_at: datetime
    rematch_requested_at: datetime | None
    rematch_requested_by_id: int | None
    sort_key: str

    @property
    def trainee_id(self) -> int:
        return self.trainee.id

    @property
    def mentor_id(self) -> int:
        return self.mentor.id


@dataclass
class PairRow:
    assignment: PairSummary
    health: Health
    nudged_on: date | None = None  # this quiet spell's gentle nudge, if one went

    @property
    def may_nudge(self) -> bool:
        return self.health.quiet and self.nudged_on is None


def _nudge_key(assignment_id: int, quiet_since: date, person_id: int) -> str:
    return f"pair_nudge:assignment:{assignment_id}:{quiet_since.isoformat()}:{person_id}"


def _nudged(rows: list[PairRow], program_id: int) -> None:
    """Fill in the nudge of each quiet row's current quiet spell, in one query: the program's
    nudges since the oldest spell began (a few), not thousands of keys looked up."""
    keys = {
        _nudge_key(r.assignment.id, r.health.quiet_since, person_id): r
        for r in rows
        if r.health.flags
        for person_id in (r.assignment.trainee_id, r.assignment.mentor_id)
    }
    if not keys:
        return
    oldest = min(r.health.quiet_since for r in keys.values())
    for key, created in db.session.execute(
        sa.select(Message.dedupe_key, Message.created_at).where(
            Message.kind == "pair_nudge",
            Message.program_id == program_id,
            Message.created_at >= datetime.combine(oldest, time(0), tzinfo=UTC),
        )
    ):
        if key in keys:
            keys[key].nudged_on = created.date()


def _later(a: sa.ColumnElement[date], b: sa.ColumnElement[date]) -> sa.ColumnElement[date]:
    """The later of two days in SQL, `a` when `b` is NULL."""
    return sa.case((b > a, b), else_=a)


def _judged(term: Term, now: datetime, assignment_id: int | None = None) -> sa.Subquery:
    """Every active pair of the term (or just `assignment_id`), one row each, with what
    `health.judge` decides of it worked out in SQL, so that thousands of pairs are counted,
    sorted and cut to a page by the database: the last meeting's parts, whether the latest
    period asked about UNANSWERED_AFTER_DAYS ago was answered, the day the quiet spell began,
    the flags and their urgency. The randomized test in tests/test_pairs.py holds each row
    to `judge` in Python.

    One pass: the pairs left-joined to their check-ins, grouped by period, with window
    functions across each pair's periods; no aggregate is joined to another, so a planner
    misled by stale statistics (right after a bulk import) still reads each row once."""
    trainee, mentor = aliased(Person), aliased(Person)
    met = CheckIn.status == CheckInStatus.MET
    per_pair = {"partition_by": Assignment.id}
    due = sa.func.min(CheckIn.asked_at) <= now - timedelta(days=UNANSWERED_AFTER_DAYS)
    periods = (
        sa.select(
            Assignment.id,
            Assignment.started_at,
            Assignment.rematch_requested_at,
            Assignment.rematch_requested_by_id,
            Assignment.trainee_id,
            Assignment.mentor_id,
            sa.func.count(CheckIn.answered_at).label("answers"),
            sa.case((due, True), else_=False).label("due"),
            sa.func.max(sa.func.max(sa.case((met, CheckIn.met_on))))
            .over(**per_pair)
            .label("met_on"),
            # A "we met" without a date counts on the day it was answered.
            sa.func.max(
                sa.func.max(sa.case((sa.and_(met, CheckIn.met_on.is_(None)), CheckIn.answered_at)))
            )
            .over(**per_pair)
            .label("met_answered_at"),
            # The pair's latest due period first (with none due, any: it carries the rest).
            sa.func.row_number()
            .over(**per_pair, order_by=(sa.case((due, 0), else_=1), CheckIn.period_start.desc()))
            .label("n"),
        )
        .outerjoin(CheckIn, CheckIn.assignment_id == Assignment.id)
        .where(
            Assignment.term_id == term.id,
            Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.id == assignment_id if assignment_id is not None else sa.true(),
        )
        # Narrow groups (names are joined to the one row per pair after, not sorted through).
        .group_by(Assignment.id, CheckIn.period_start)
        .subquery()
    )
    p = periods.c
    today = now.date()
    started = utc_date(p.started_at)
    quiet_since = _later(_later(started, p.met_on), utc_date(p.met_answered_at))
    silent = quiet_since <= today - timedelta(days=term.program.silent_after_days)
    no_answers = sa.and_(p.due, p.answers == 0)
    rematch = p.rematch_requested_at.is_not(None)
    assessed = (
        sa.select(Assessor.id)
        .where(
            Assessor.program_id == term.program_id,
            Assessor.assessor_id == p.mentor_id,
            Assessor.trainee_id == p.trainee_id,
        )
        .exists()
    )
    return (
        sa.select(
            *(c for c in p if c.key != "n"),
            assessed.label("assessed"),
            trainee.name.label("trainee_name"),
            trainee.sort_name.label("sort_key"),
            mentor.name.label("mentor_name"),
            sa.or_(silent, no_answers).label("quiet"),
            sa.case((assessed, -1), (rematch, 0), (silent, 1), (no_answers, 2), else_=3).label(
                "urgency"
            ),
            # Longest quiet first (days quiet stop at 0: a meeting dated ahead is today's).
            sa.case((quiet_since > today, today), else_=quiet_since).label("quiet_order"),
        )
        .join(trainee, trainee.id == p.trainee_id)
        .join(mentor, mentor.id == p.mentor_id)
        .where(p.n == 1)
        .subquery()
    )


@dataclass(frozen=True)
class PairCounts:
    total: int
    flagged: int  # needing a look: a rematch asked, silent or not answering
    quiet: int  # silent or not answering: a gentle nudge's pairs


def _urgency_order(c: Any) -> tuple[Any, ...]:
    """Most urgent first, then the longest quiet, then by the trainee's family name."""
    return (c.urgency, c.quiet_order, c.sort_key, c.id)


def _pair_counts(j: sa.Subquery) -> tuple[Any, Any, Any]:
    """All pairs, those needing a look, the quiet ones: aggregates over `_judged`."""
    return (
        sa.func.count(),
        sa.func.count().filter(j.c.urgency < 3),
        sa.func.count().filter(j.c.quiet),
    )


def _pair_rows(query: sa.Select[Any], columns: Any) -> list[Any]:
    """Plain rows of a query over `_judged`, most urgent first (Core, not the ORM: no
    bookkeeping per row)."""
    return list(db.session.connection().execute(query.order_by(*_urgency_order(columns))).all())


def _health_of(rows: list[Any], term: Term, now: datetime) -> list[PairRow]:
    """PairRows of `_judged` rows, their health from `judge` (the SQL's flags are its mirror)."""
    silent_after = term.program.silent_after_days
    found = []
    for row in rows:
        answered_day = row.met_answered_at.date() if row.met_answered_at else None
        met_days = [d for d in (row.met_on, answered_day) if d is not None]
        summary = PairSummary(
            row.id,
            Named(row.trainee_id, row.trainee_name),
            Named(row.mentor_id, row.mentor_name),
            row.started_at,
            row.rematch_requested_at,
            row.rematch_requested_by_id,
            row.sort_key,
        )
        health = judge(
            row.started_at,
            max(met_days) if met_days else None,
            (row.answers > 0) if row.due else None,
            now,
            silent_after,
            rematch_requested=row.rematch_requested_at is not None,
            assessed=bool(row.assessed),
        )
        found.append(PairRow(summary, health))
    _nudged(found, term.program_id)
    return found


def pair_health(
    term: Term, now: datetime | None = None, assignment_id: int | None = None
) -> list[PairRow]:
    """Every active pair of the term (or just `assignment_id`) with its last meeting and flags,
    most urgent first, then the longest quiet, then by the trainee's family name."""
    now = now or utc_now()
    j = _judged(term, now, assignment_id)
    return _health_of(_pair_rows(sa.select(j), j.c), term, now)


def pair_page(
    term: Term, page: int, per_page: int, now: datetime | None = None
) -> tuple[list[PairRow], PairCounts]:
    """One page of the term's active pairs in `pair_health`'s order, and how many there are
    and need a look: one query, whatever the number of pairs."""
    now = now or utc_now()
    j = _judged(term, now)
    counts = _pair_counts(j)
    rows = _pair_rows(
        sa.select(j, *(c.over() for c in counts)).offset((page - 1) * per_page).limit(per_page),
        j.c,
    )
    if not rows:
        # Past the last page, or no pairs: counted without the page.
        return [], PairCounts(*db.session.execute(sa.select(*counts)).one())
    return _health_of(rows, term, now), PairCounts(*rows[0][-3:])


@dataclass
class Attention:
    """What the overview says of the term's pairs."""

    quiet: list[PairRow]  # the most urgent few silent or unanswering pairs
    quiet_count: int  # all of them
    rematch: list[PairRow]  # every pair with a rematch asked
    must_end: list[PairRow]  # every pair whose mentor assesses the trainee


def pairs_needing_attention(term: Term, named: int, now: datetime | None = None) -> Attention:
    """The `named` most urgent quiet pairs, how many are quiet, every rematch asked and every
    pair that must end: one query, whatever the number of pairs."""
    now = now or utc_now()
    j = _judged(term, now)
    ranked = (
        sa.select(
            j,
            sa.func.count().filter(j.c.quiet).over().label("all_quiet"),
            sa.func.row_number()
            .over(partition_by=j.c.quiet, order_by=_urgency_order(j.c))
            .label("rank"),
        )
        .where(sa.or_(j.c.quiet, j.c.rematch_requested_at.is_not(None), j.c.assessed))
        .subquery()
    )
    r = ranked.c
    rows = _pair_rows(
        sa.select(ranked).where(
            sa.or_(
                r.rematch_requested_at.is_not(None), r.assessed, sa.and_(r.quiet, r.rank <= named)
            )
        ),
        r,
    )
    found = dict(zip((row.id for row in rows), _health_of(rows, term, now), strict=True))
    return Attention(
        quiet=[found[row.id] for row in rows if row.quiet and row.rank <= named],
        quiet_count=rows[0].all_quiet if rows else 0,
        rematch=[found[row.id] for row in rows if row.rematch_requested_at is not None],
        must_end=[found[row.id] for row in rows if row.assessed],
    )


def nudge_pair(actor: Person | None, assignment: Assignment, now: datetime | None = None) -> int:
    """One short, kind e-mail to each side of a quiet pair (never a second one in the same
    quiet spell); returns how many went. Someone who turned optional e-mail off is skipped."""
    if assignment.status is not AssignmentStatus.ACTIVE:
        raise DomainError("This pair has ended.")
    row = next(iter(pair_health(assignment.term, now, assignment.id)), None)
    if row is None or not row.health.quiet:
        raise DomainError("This pair is not quiet: there is nothing to nudge.")
    if row.nudged_on is not None:
        raise DomainError(
            f"This pair was nudged on {row.nudged_on:%d %B %Y}; one nudge per quiet spell."
        )
    program = assignment.term.program
    sides = ((assignment.trainee, assignment.mentor), (assignment.mentor, assignment.trainee))
    rows = [
        render_message(
            person,
            "pair_nudge",
            template="pair_nudge",
            context={
                "person": person,
                "partner": partner,
                "program_name": program.name,
                "health": row.health,
                "propose_link": propose_link("assignment", assignment.id, person),
                "home_link": external_url("home.index"),
            },
            program_id=program.id,
            dedupe_key=_nudge_key(assignment.id, row.health.quiet_since, person.id),
            reply_to=[partner.email],
        )
        for person, partner in sides
        if person.active and person.mail_preference is MailPreference.ALL
    ]
    queue_messages(rows)
    record(
        actor,
        "pair.nudged",
        assignment,
        program_id=program.id,
        details={"sent": len(rows), "quiet_since": row.health.quiet_since.isoformat()},
        summary=f"{assignment.trainee.name} and {assignment.mentor.name} nudged",
    )
    return len(rows)


def _own_active_pair(person: Person, assignment: Assignment) -> None:
    if person.id not in (assignment.mentor_id, assignment.trainee_id):
        raise DomainError("This is not your mentoring pair.")
    if assignment.status is not AssignmentStatus.ACTIVE:
        raise DomainError("This mentoring pair has already ended.")


def request_rematch(person: Person, assignment: Assignment) -> Assignment:
    """A private, no-fault request by either side; the coordinators alone are told."""
    _own_active_pair(person, assignment)
    if assignment.rematch_requested_at is not None:
        return assignment
    assignment.rematch_requested_at = utc_now()
    assignment.rematch_requested_by_id = person.id
    term = assignment.term
    queue_messages(
        [
            render_message(
                membership.person,
                "rematch_request",
                template="rematch_request",
                context={
                    "person": membership.person,
                    "program_name": term.program.name,
                    "term_name": term.name,
                    "assignment": assignment,
                    "asked_by": person,
                    "pairs_link": external_url(
                        "formal.pairs", slug=term.program.slug, term_slug=term.slug
                    ),
                },
                program_id=term.program_id,
                dedupe_key=f"rematch_request:{assignment.id}:{membership.person_id}",
            )
            for membership in coordinators(term.program)
        ]
    )
    record(
        person,
        "assignment.rematch_requested",
        assignment,
        program_id=term.program_id,
        summary="No-fault rematch requested",
    )
    return assignment


def end_assignment(
    actor: Person, assignment: Assignment, reason: EndReason, *, propose_new: bool = False
) -> matching.Proposal | None:
    """End an active pair with its reason; for a no-fault rematch, optionally propose the
    trainee a new mentor at once (never the same one again: the matching forbids it)."""
    if assignment.status is not AssignmentStatus.ACTIVE:
        raise DomainError("This pair is not active.")
    term = assignment.term
    assignment.status = AssignmentStatus.ENDED
    assignment.end_reason = reason
    assignment.ended_at = utc_now()
    db.session.flush()
    record(
        actor,
        "assignment.ended",
        assignment,
        program_id=term.program_id,
        details={"reason": reason.value},
        summary=f"{assignment.mentor.name} and {assignment.trainee.name}: ended "
        f"({END_REASON_LABELS[reason].lower()})",
    )
    proposal = None
    if propose_new and reason is EndReason.NO_FAULT_REMATCH:
        proposal = propose_matches(actor, term, only=frozenset({assignment.trainee_id}))
    _tell_trainee_what_next(assignment, reason, proposal)
    return proposal


def _tell_trainee_what_next(
    assignment: Assignment, reason: EndReason, proposal: matching.Proposal | None
) -> None:
    """The trainee learns the pair ended and what happens next (a trainee who left the
    program is not written to; the mentor learns it from the coordinator, as before)."""
    trainee, term = assignment.trainee, assignment.term
    if not trainee.active or (
        reason is EndReason.LEFT_PROGRAM and not _holds(trainee, term, Role.TRAINEE)
    ):
        return
    queue_messages(
        [
            render_message(
                trainee,
                "pair_ended",
                template="pair_ended",
                context={
                    "person": trainee,
                    "mentor": assignment.mentor,
                    "program_name": term.program.name,
                    "term_name": term.name,
                    "reason": reason.value,
                    "proposed": bool(proposal and proposal.pairs),
                    "home_link": external_url("home.index"),
                },
                program_id=term.program_id,
                dedupe_key=f"pair_ended:assignment:{assignment.id}",
            )
        ]
    )


END_REASON_LABELS = {
    EndReason.NO_FAULT_REMATCH: "No-fault rematch",
    EndReason.TERM_OVER: "Term over",
    EndReason.LEFT_PROGRAM: "Left the program",
}


@dataclass
class MyPair:
    """A published pair as one of its two people sees it on their home page."""

    assignment: Assignment
    other: Person
    last_meeting: date | None
    this_month: CheckIn | None  # the person's own check-in for the current month, if asked
    # Opens a note to the other (the mentee's with the ready first approach: they write first).
    write_link: str = ""
    starts_on: date | None = None  # a scheduled pair's first day (its term has not begun)


def my_pairs(person: Person, now: datetime | None = None) -> list[MyPair]:
    """The person's active formal pairs, each with its last meeting and this month's check-in."""
    now = now or utc_now()
    active = _active_pairs(
        sa.or_(Assignment.mentor_id == person.id, Assignment.trainee_id == person.id)
    )
    if not active:
        return []
    ids = [a.id for a in active]
    last = dict(
        db.session.execute(
            sa.select(CheckIn.assignment_id, sa.func.max(CheckIn.met_on))
            .where(CheckIn.assignment_id.in_(ids), CheckIn.status == CheckInStatus.MET)
            .group_by(CheckIn.assignment_id)
        ).all()
    )
    month = date(now.year, now.month, 1)
    mine = {
        c.assignment_id: c
        for c in db.session.scalars(
            sa.select(CheckIn).where(
                CheckIn.assignment_id.in_(ids),
                CheckIn.person_id == person.id,
                CheckIn.period_start == month,
            )
        )
    }
    out = []
    for a in active:
        other = a.trainee if a.mentor_id == person.id else a.mentor
        ask = formal_ask(person, other, a.term.program.name) if a.trainee_id == person.id else None
        starts_on = a.started_at.date() if a.started_at > now else None
        out.append(
            MyPair(a, other, last.get(a.id), mine.get(a.id), mailto([other.email], ask), starts_on)
        )
    # Today's pairs first, then those still to begin.
    return sorted(out, key=lambda p: p.starts_on is not None)
