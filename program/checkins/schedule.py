"""What `flask tick` creates when it is due: check-in prompts, one reminder each.

Idempotent: every message has a dedupe key ("kind:check-in id"), and check-ins are unique per
person, pairing and period, so running it twice creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from program.checkins.models import CheckIn
from program.checkins.services import ensure_check_in, prompt_message
from program.coffee.models import Chat, Round, RoundStatus
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.messages.models import Message
from program.messages.services import queue_messages
from program.people.models import MailPreference, Person

# A coffee round older than this is not asked about any more (its chat is long past).
COFFEE_PROMPT_HORIZON_DAYS = 60


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            db.session.scalars(sa.select(Message.dedupe_key).where(Message.dedupe_key.in_(chunk)))
        )
    return found


def _queue_new(check_ins: Iterable[CheckIn], kind: str) -> int:
    check_ins = list(check_ins)
    existing = _existing_keys([f"{kind}:{c.id}" for c in check_ins])
    rows: list[dict[str, Any]] = [
        prompt_message(c, kind) for c in check_ins if f"{kind}:{c.id}" not in existing
    ]
    queue_messages(rows)
    return len(rows)


def schedule_due(now: datetime) -> dict[str, int]:
    """Create every check-in and prompt that is due at `now`, and the reminders."""
    delay = timedelta(days=current_app.config["CHECKIN_PROMPT_AFTER_DAYS"])
    month = date(now.year, now.month, 1)
    asked: list[CheckIn] = []

    assignments = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.status == AssignmentStatus.ACTIVE, Assignment.started_at <= now - delay
        )
    )
    for assignment in assignments:
        for person_id in (assignment.mentor_id, assignment.trainee_id):
            check_in, _ = ensure_check_in(person_id, month, assignment_id=assignment.id, now=now)
            asked.append(check_in)

    chats = db.session.scalars(
        sa.select(Chat)
        .join(Round, Round.id == Chat.round_id)
        .options(selectinload(Chat.members))
        .where(
            Round.status == RoundStatus.PUBLISHED,
            Round.published_at <= now - delay,
            Round.published_at >= now - timedelta(days=COFFEE_PROMPT_HORIZON_DAYS),
        )
    )
    for chat in chats:
        for member in chat.members:
            check_in, _ = ensure_check_in(
                member.person_id, chat.round.scheduled_for, chat_id=chat.id, now=now
            )
            asked.append(check_in)

    unanswered = [c for c in asked if c.answered_at is None]
    prompts = _queue_new(unanswered, "checkin_prompt")
    reminders = _queue_new(_due_reminders(now), "reminder")
    return {"check_ins": len(asked), "prompts": prompts, "reminders": reminders}


def _due_reminders(now: datetime) -> list[CheckIn]:
    """Unanswered check-ins asked long enough ago, of people who want reminders."""
    wait = timedelta(days=current_app.config["CHECKIN_REMINDER_AFTER_DAYS"])
    return list(
        db.session.scalars(
            sa.select(CheckIn)
            .join(Person, Person.id == CheckIn.person_id)
            .join(
                Message,
                Message.dedupe_key
                == sa.literal("checkin_prompt:") + sa.cast(CheckIn.id, sa.String),
            )
            .where(
                CheckIn.answered_at.is_(None),
                CheckIn.asked_at <= now - wait,
                Person.active.is_(True),
                Person.mail_preference == MailPreference.ALL,
            )
        )
    )


def tick(now: datetime) -> dict[str, int]:
    """Everything `flask tick` does at `now`: publish scheduled coffee rounds, ask what is due,
    and pause the coffee chats of people who left three intros unanswered."""
    from program.coffee.services import publish_due_rounds, snooze_ghosts

    rounds = publish_due_rounds(now)
    counts = schedule_due(now)
    return {**counts, "rounds": rounds, "paused": snooze_ghosts(now)}
