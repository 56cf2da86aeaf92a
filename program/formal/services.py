"""The formal track's writes. So far: publishing a mentor-trainee pair for a term, which makes
it active and introduces the two by e-mail (proposals and matching build on this)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from program.audit.services import record
from program.db import DomainError, utc_now
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.messages.services import queue_messages, render_message
from program.people.models import Person
from program.programs.models import Membership, Role, Term

FIRST_STEP = {
    Role.TRAINEE: (
        "Suggested first step: write to your mentor this week with two or three times for a "
        "20-minute meeting and one specific thing you would like to talk about. Make the first "
        "meeting about their path: how they got where they are."
    ),
    Role.MENTOR: (
        "Your mentee will write to propose a first meeting. If you have not heard by next week, "
        "a two-line note from you makes it easy for them to start."
    ),
}
QUESTIONS = [
    "What two or three decisions most changed your path?",
    "What would you stop spending time on if you were me?",
    "What did you want at my stage that turned out to be wrong?",
]


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
    if live is not None:
        raise DomainError(f"{trainee.name} already has a formal mentor this term.")
    assignment = Assignment(
        term_id=term.id,
        mentor_id=mentor.id,
        trainee_id=trainee.id,
        status=AssignmentStatus.ACTIVE,
        started_at=started_at or utc_now(),
    )
    db.session.add(assignment)
    db.session.flush()
    queue_messages(
        [
            render_message(
                person,
                "intro",
                template="intro",
                context={
                    "person": person,
                    "partners": [other],
                    "track": "formal",
                    "first_step": FIRST_STEP[role],
                    "questions": QUESTIONS if role is Role.TRAINEE else [],
                },
                program_id=term.program_id,
                dedupe_key=f"intro:assignment:{assignment.id}:{person.id}",
            )
            for person, other, role in (
                (trainee, mentor, Role.TRAINEE),
                (mentor, trainee, Role.MENTOR),
            )
        ]
    )
    record(
        actor,
        "assignment.published",
        assignment,
        program_id=term.program_id,
        summary=f"{mentor.name} mentors {trainee.name} in {term.name}",
    )
    return assignment
