"""What `flask tick` creates when it is due: check-in prompts, one reminder each.

Idempotent: every message has a dedupe key ("kind:check-in id"), and check-ins are unique per
person, pairing and period, so running it twice creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import ensure_check_in, prompt_message
from program.coffee.models import Chat, ChatMember, Round, RoundStatus
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.meetings.models import Meeting, MeetingStatus
from program.messages.intros import first_mover, follow_up_ask, mailto
from program.messages.models import Message
from program.messages.services import queue_messages, render_message
from program.people.models import MailPreference, Person
from program.programs.models import Program

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
        .options(selectinload(Chat.members), selectinload(Chat.round))
        .where(
            Round.status == RoundStatus.PUBLISHED,
            Round.published_at <= now,
            Round.published_at >= now - timedelta(days=COFFEE_PROMPT_HORIZON_DAYS),
        )
    ).all()
    # A chat with an agreed time is asked about the day after it, not after the fixed delay.
    agreed = dict(
        db.session.execute(
            sa.select(Meeting.chat_id, sa.func.max(Meeting.starts_at))
            .where(
                Meeting.chat_id.in_([c.id for c in chats] or [-1]),
                Meeting.status == MeetingStatus.AGREED,
            )
            .group_by(Meeting.chat_id)
        ).all()
    )
    for chat in chats:
        met_at = agreed.get(chat.id)
        if isinstance(met_at, str):  # SQLite's aggregates come back as text
            met_at = datetime.fromisoformat(met_at)
        due = met_at + timedelta(days=1) if met_at else chat.round.published_at + delay
        if due.tzinfo is None:  # and naive; every time here is UTC
            due = due.replace(tzinfo=UTC)
        if due > now:
            continue
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


# A week after an introduction that nothing has come of, the one who was to write first gets one
# short prompt; an introduction older than the horizon gets none (say, on the first tick after
# an upgrade).
INTRO_FOLLOW_UP_AFTER_DAYS = 7
INTRO_FOLLOW_UP_HORIZON_DAYS = 21
_UNDER_WAY = (CheckInStatus.MET, CheckInStatus.SCHEDULED)


def follow_up_intros(now: datetime) -> int:
    """One prompt, with a ready follow-up note, to the first mover of each introduction from a
    week ago that nobody has answered "scheduled" or "we met" about; never a second one."""
    until = now - timedelta(days=INTRO_FOLLOW_UP_AFTER_DAYS)
    since = now - timedelta(days=INTRO_FOLLOW_UP_HORIZON_DAYS)
    pending: list[tuple[str, Person, list[Person], Program]] = []
    # Quiet: no "scheduled" or "we met" answer, and no time proposed or agreed in Hallway.
    quiet_pair = ~sa.exists().where(
        CheckIn.assignment_id == Assignment.id, CheckIn.status.in_(_UNDER_WAY)
    ) & ~sa.exists().where(Meeting.assignment_id == Assignment.id)
    for a in db.session.scalars(
        sa.select(Assignment)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.started_at.between(since, until),
            quiet_pair,
        )
        .options(selectinload(Assignment.mentor), selectinload(Assignment.trainee))
    ):
        pending.append((f"assignment:{a.id}", a.trainee, [a.mentor], a.term.program))
    quiet_chat = ~sa.exists().where(
        CheckIn.chat_id == Chat.id, CheckIn.status.in_(_UNDER_WAY)
    ) & ~sa.exists().where(Meeting.chat_id == Chat.id)
    for chat in db.session.scalars(
        sa.select(Chat)
        .join(Round, Round.id == Chat.round_id)
        .where(
            Round.status == RoundStatus.PUBLISHED,
            Round.published_at.between(since, until),
            quiet_chat,
        )
        .options(selectinload(Chat.members).selectinload(ChatMember.person))
    ):
        members = [m.person for m in chat.members]
        first = first_mover(members, f"chat:{chat.id}")
        pending.append(
            (f"chat:{chat.id}", first, [p for p in members if p is not first], chat.round.program)
        )
    keys = {f"intro_follow_up:{pairing}": item for pairing, *item in pending}
    rows = []
    for key in sorted(set(keys) - _existing_keys(sorted(keys))):
        person, partners, program = keys[key]
        if not person.active or person.mail_preference is not MailPreference.ALL:
            continue
        ask = follow_up_ask(person, partners, program.name)
        rows.append(
            render_message(
                person,
                "intro_follow_up",
                template="intro_follow_up",
                context={
                    "person": person,
                    "partners": partners,
                    "program_name": program.name,
                    "ask": ask,
                    "write_link": mailto([p.email for p in partners], ask),
                },
                program_id=program.id,
                dedupe_key=key,
                reply_to=[p.email for p in partners],
            )
        )
    queue_messages(rows)
    return len(rows)


def tick(now: datetime) -> dict[str, int]:
    """Everything `flask tick` does at `now`: publish scheduled coffee rounds, ask what is due,
    follow up quiet introductions once, and pause the coffee chats of people who left three
    intros unanswered."""
    from program.coffee.services import publish_due_rounds, snooze_ghosts

    rounds = publish_due_rounds(now)
    counts = schedule_due(now)
    return {
        **counts,
        "rounds": rounds,
        "intro_follow_ups": follow_up_intros(now),
        "paused": snooze_ghosts(now),
    }
