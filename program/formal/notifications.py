"""What the formal track mails and how its e-mails are written when sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import joinedload, raiseload

from program.db import by_id
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.meetings.services import propose_link
from program.messages.intros import formal_ask, intro_context
from program.messages.models import Message
from program.messages.registry import Notifications
from program.people.models import Person
from program.programs.models import Term


def compose_intros(messages: Sequence[Message]) -> dict[int, dict[str, Any]]:
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


NOTIFICATIONS = Notifications(
    kinds=frozenset(
        {"intro", "availability_request", "reminder", "rematch_request", "pair_nudge", "pair_ended"}
    ),
    optional=frozenset({"pair_nudge"}),
    composers=((compose_intros, ("intro",)),),
)
