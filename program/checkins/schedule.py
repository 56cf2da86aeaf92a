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
from sqlalchemy.orm import aliased, selectinload

from program import pairings
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import check_in_message, mail_addressing
from program.coffee.models import Chat, ChatMember, Round, RoundStatus
from program.db import chunks, insert_rows
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.meetings.models import Meeting, MeetingStatus
from program.messages.intros import chat_first_mover, follow_up_ask, mailto
from program.messages.models import Message
from program.messages.services import already_queued, queue_messages, render_message
from program.people.models import MailPreference, Person
from program.programs.models import Program

# A coffee round older than this is not asked about any more (its chat is long past).
COFFEE_PROMPT_HORIZON_DAYS = 60


def _mail_key(kind: str, message: Any = Message) -> sa.ColumnElement[bool]:
    """SQL: `message` is the check-in's `kind` e-mail (its dedupe key, "kind:check-in id")."""
    return message.dedupe_key == sa.literal(f"{kind}:") + sa.cast(CheckIn.id, sa.String)


def _queue_new(check_in_ids: Iterable[int], kind: str) -> int:
    """Queue `kind` ("checkin_prompt", "reminder") for each check-in that has not had it, as
    short rows read from columns (each is written when it is sent), in one bulk write."""
    not_yet = ~sa.exists().where(_mail_key(kind)).correlate(CheckIn)
    rows = [
        check_in_message(row, kind, dedupe_key=f"{kind}:{row.id}")
        for chunk in chunks(sorted(set(check_in_ids)))
        for row in db.session.execute(mail_addressing(chunk).where(not_yet))
    ]
    queue_messages(rows)
    return len(rows)


Wanted = tuple[str, int, int, date]  # ("assignment" or "chat", person id, pairing id, period)


def _ensure_check_ins(wanted: list[Wanted], now: datetime) -> list[Any]:
    """The check-ins `wanted`, the missing ones written in one bulk insert (never twice: a
    row is unique per person, pairing and period): each as (id, answered), read as columns."""
    column = {"assignment": CheckIn.assignment_id, "chat": CheckIn.chat_id}
    keys = set(wanted)
    found: dict[Wanted, Any] = {}

    def load(kind: str) -> None:
        mine = [key for key in wanted if key[0] == kind]
        periods = sorted({period for *_, period in mine})
        # A chat is asked about once, whatever date its row carries (one written elsewhere, as
        # a self-started chat's may be, still counts): matched on person and chat alone.
        once = {(key[1], key[2]): key for key in mine}
        for chunk in chunks(sorted({pairing for _, _, pairing, _ in mine})):
            stmt = sa.select(
                CheckIn.id,
                CheckIn.person_id,
                column[kind].label("pairing"),
                CheckIn.period_start,
                CheckIn.answered_at.is_not(None).label("answered"),
            ).where(column[kind].in_(chunk))
            if kind != "chat":
                stmt = stmt.where(CheckIn.period_start.in_(periods))
            for row in db.session.execute(stmt):
                key = (kind, row.person_id, row.pairing, row.period_start)
                if kind == "chat":
                    key = once.get((row.person_id, row.pairing), key)
                if key in keys:
                    found[key] = row

    kinds = sorted({kind for kind, *_ in wanted})
    for kind in kinds:
        load(kind)
    missing = [key for key in wanted if key not in found]
    if missing:
        insert_rows(
            db.session,
            CheckIn,
            [
                {
                    "person_id": person_id,
                    # Both keys in every row: one bulk insert takes rows of one shape.
                    **pairings.columns(kind, pairing),
                    "period_start": period,
                    "asked_at": now,
                }
                for kind, person_id, pairing, period in missing
            ],
        )
        for kind in sorted({kind for kind, *_ in missing}):
            load(kind)
    return [found[key] for key in wanted]


def schedule_due(now: datetime) -> dict[str, int]:
    """Create every check-in and prompt that is due at `now`, and the reminders."""
    delay = timedelta(days=current_app.config["CHECKIN_PROMPT_AFTER_DAYS"])
    month = date(now.year, now.month, 1)
    wanted: list[Wanted] = []

    for assignment_id, mentor_id, trainee_id in db.session.execute(
        sa.select(Assignment.id, Assignment.mentor_id, Assignment.trainee_id).where(
            Assignment.status == AssignmentStatus.ACTIVE, Assignment.started_at <= now - delay
        )
    ):
        for person_id in (mentor_id, trainee_id):
            wanted.append(("assignment", person_id, assignment_id, month))

    horizon = now - timedelta(days=COFFEE_PROMPT_HORIZON_DAYS)
    chats = db.session.execute(
        sa.select(Chat.id, Round.published_at, Round.scheduled_for)
        .join(Round, Round.id == Chat.round_id)
        .where(
            Round.status == RoundStatus.PUBLISHED,
            Round.published_at <= now,
            Round.published_at >= horizon,
        )
    ).all()
    # A chat someone started with an ask dates from its yes.
    chats += [
        (chat_id, created_at, created_at.date())
        for chat_id, created_at in db.session.execute(
            sa.select(Chat.id, Chat.created_at).where(
                Chat.round_id.is_(None), Chat.created_at <= now, Chat.created_at >= horizon
            )
        )
    ]
    # A chat with an agreed time is asked about the day after it, not after the fixed delay.
    agreed: dict[int, Any] = {}
    for chunk in chunks([c[0] for c in chats]):
        agreed.update(
            db.session.execute(
                sa.select(Meeting.chat_id, sa.func.max(Meeting.starts_at))
                .where(Meeting.chat_id.in_(chunk), Meeting.status == MeetingStatus.AGREED)
                .group_by(Meeting.chat_id)
            ).all()
        )
    due_chats: dict[int, date] = {}
    for chat_id, published_at, scheduled_for in chats:
        met_at = agreed.get(chat_id)
        if isinstance(met_at, str):  # SQLite's aggregates come back as text
            met_at = datetime.fromisoformat(met_at)
        due = met_at + timedelta(days=1) if met_at else published_at + delay
        if due.tzinfo is None:  # and naive; every time here is UTC
            due = due.replace(tzinfo=UTC)
        if due <= now:
            due_chats[chat_id] = scheduled_for
    for chunk in chunks(sorted(due_chats)):
        for chat_id, person_id in db.session.execute(
            sa.select(ChatMember.chat_id, ChatMember.person_id).where(ChatMember.chat_id.in_(chunk))
        ):
            wanted.append(("chat", person_id, chat_id, due_chats[chat_id]))

    asked = _ensure_check_ins(wanted, now)
    prompts = _queue_new([c.id for c in asked if not c.answered], "checkin_prompt")
    reminders = _queue_new(_due_reminders(now), "reminder")
    return {"check_ins": len(asked), "prompts": prompts, "reminders": reminders}


def _due_reminders(now: datetime) -> list[int]:
    """Unanswered check-ins asked long enough ago, prompted and not yet reminded, of people
    who want reminders."""
    wait = timedelta(days=current_app.config["CHECKIN_REMINDER_AFTER_DAYS"])
    reminded = sa.exists().where(_mail_key("reminder", aliased(Message))).correlate(CheckIn)
    return list(
        db.session.scalars(
            sa.select(CheckIn.id)
            .join(Person, Person.id == CheckIn.person_id)
            .join(Message, _mail_key("checkin_prompt"))
            .where(
                CheckIn.answered_at.is_(None),
                CheckIn.asked_at <= now - wait,
                Person.active.is_(True),
                Person.mail_preference == MailPreference.ALL,
                ~reminded,
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
        .outerjoin(Round, Round.id == Chat.round_id)
        .where(
            sa.or_(
                sa.and_(
                    Round.status == RoundStatus.PUBLISHED,
                    Round.published_at.between(since, until),
                ),
                sa.and_(Chat.round_id.is_(None), Chat.created_at.between(since, until)),
            ),
            quiet_chat,
        )
        .options(selectinload(Chat.members).selectinload(ChatMember.person))
    ):
        members = [m.person for m in chat.members]
        first = chat_first_mover(members, chat.id, chat.self_started)
        pending.append(
            (f"chat:{chat.id}", first, [p for p in members if p is not first], chat.program)
        )
    keys = {f"intro_follow_up:{pairing}": item for pairing, *item in pending}
    rows = []
    for key in sorted(set(keys) - already_queued(sorted(keys))):
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
