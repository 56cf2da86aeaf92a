"""A term's matches: proposed by the matcher, reviewed and edited by the coordinator, published
(each pair introduced by e-mail, from the term's first day when it has not begun)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from program.audit.services import record
from program.db import DomainError, utc_now
from program.extensions import db
from program.formal.availability import (
    current_mentors,
    formal_members_query,
    formal_trainees,
    holds,
)
from program.formal.models import Assignment, AssignmentStatus, Availability
from program.matching import formal as matching
from program.messages.services import (
    queue_messages,
    unwritten_message,
)
from program.pairings import pairs_with_people
from program.people.blocks import pair_problem, ruled_out
from program.people.models import CareerStage, Person
from program.programs.models import Role, Term


@dataclass(frozen=True)
class Named:
    id: int
    name: str


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
    assignment = make_pair(actor, term, mentor, trainee, started_at=started_at)
    _introduce([assignment], send_at=assignment.started_at)
    return assignment


def make_pair(
    actor: Person | None,
    term: Term,
    mentor: Person,
    trainee: Person,
    *,
    started_at: datetime | None = None,
) -> Assignment:
    """The pair itself, its rules checked (both hold their roles, no rule rules them out, one
    mentor a trainee a term) and audited: `publish_pair` then introduces them. A pair whose
    intros went out long ago (a history, a test's starting point) is made here alone."""
    if mentor.id == trainee.id:
        raise DomainError("A person cannot mentor themselves.")
    if not holds(mentor, term, Role.MENTOR):
        raise DomainError(f"{mentor.name} is not a mentor of this program.")
    if not holds(trainee, term, Role.TRAINEE):
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
            formal_members_query(
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
        for mentor_id in db.session.scalars(formal_members_query(term, Role.MENTOR))
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
        if not holds(trainee, term, Role.TRAINEE):
            raise DomainError(f"{trainee.name} is not a trainee of this program.")
        if not holds(mentor, term, Role.MENTOR):
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
            for row in db.session.execute(formal_members_query(term, Role.MENTOR, Person.name))
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
