"""Institution settings, and the reads behind the admin pages."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from program.admin.models import (
    MIN_SUPPRESSION_THRESHOLD,
    InstitutionSettings,
)
from program.audit.models import AuditEvent
from program.audit.services import record, record_changes
from program.db import DomainError, escape_like, utc_now
from program.extensions import db
from program.institution import stored_settings
from program.messages.channel import REFUSED
from program.messages.chat import configured
from program.messages.models import Message, MessageStatus
from program.people.models import Person
from program.people.services import matches_name_or_email


def active_admins() -> list[Person]:
    """The institution's active administrators, by name."""
    return list(
        db.session.scalars(
            sa.select(Person)
            .where(Person.is_admin.is_(True), Person.active.is_(True))
            .order_by(Person.sort_name, Person.id)
        )
    )


NOT_SET_UP = {
    "slack": "Slack is not set up on this server: set HALLWAY_SLACK_BOT_TOKEN (and the signing "
    "secret or the app token) first, as the README's “Slack” says.",
    "teams": "Microsoft Teams is not set up on this server: set HALLWAY_TEAMS_APP_ID and "
    "HALLWAY_TEAMS_APP_PASSWORD first, as the README's “Microsoft Teams” says.",
}


def update_settings(
    actor: Person,
    *,
    name: str,
    suppression_threshold: int,
    mail_sender: str,
    time_zone: str | None = None,
    chat_tool: str | None = None,
) -> InstitutionSettings:
    if chat_tool not in (None, "", "slack", "teams"):
        raise DomainError("Choose a chat tool from the list.", field="chat_tool")
    if chat_tool and not configured(chat_tool):
        raise DomainError(
            NOT_SET_UP[chat_tool],
            field="chat_tool",
        )
    if suppression_threshold < MIN_SUPPRESSION_THRESHOLD:
        raise DomainError(
            f"The suppression threshold cannot be below {MIN_SUPPRESSION_THRESHOLD}: smaller "
            "counts could identify people.",
            field="suppression_threshold",
        )
    if time_zone is not None:
        time_zone = time_zone.strip()
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError(
                "Give a time zone by its name, for example America/Chicago or Europe/London.",
                field="time_zone",
            ) from None
    cleaned_name = " ".join(name.split())
    if not cleaned_name:
        raise DomainError("The institution needs a name.", field="name")
    settings = stored_settings()
    before = (
        {
            "name": settings.name,
            "suppression_threshold": settings.suppression_threshold,
            "mail_sender": settings.mail_sender,
            "time_zone": settings.time_zone,
            "chat_tool": settings.chat_tool,
        }
        if sa.inspect(settings).persistent
        else {}
    )
    after = {
        "name": cleaned_name,
        "suppression_threshold": suppression_threshold,
        "mail_sender": mail_sender.strip(),
        "time_zone": time_zone or settings.time_zone or "UTC",
        "chat_tool": settings.chat_tool if chat_tool is None else chat_tool,
    }
    for key, value in after.items():
        setattr(settings, key, value)
    db.session.flush()
    record_changes(
        actor,
        "settings.updated",
        settings,
        "Institution settings",
        before,
        after,
        {
            "name": "name",
            "suppression_threshold": "suppression threshold",
            "mail_sender": "mail sender",
            "time_zone": "time zone",
            "chat_tool": "chat tool",
        },
    )
    return settings


def send_again(actor: Person, message_id: int) -> Any:
    """Put a failed message back in the outbox, at once (the admin decided: for "may have been
    delivered", after checking with the person, or once a mail server is fixed). Audited."""
    message = db.session.get(Message, message_id)
    if message is None or message.status is not MessageStatus.FAILED:
        raise DomainError("That message is not among the failed ones.")
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = utc_now()
    message.claimed_at = message.attempt_started_at = None
    message.last_error = None
    db.session.flush()
    record(
        actor,
        "message.sent_again",
        message,
        summary=f"Failed message to {message.to_address} put back in the outbox",
    )
    return message


def search_people(query: str, page: int, per_page: int = 25) -> Pagination:
    """People whose name or e-mail contains `query`, by name, a page at a time."""
    stmt = sa.select(Person).order_by(Person.sort_name, Person.id)
    stmt = stmt.where(*matches_name_or_email(query))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def audit_log(page: int, action_prefix: str = "", per_page: int = 50) -> Pagination:
    stmt = (
        sa.select(AuditEvent)
        .options(sa.orm.joinedload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if action_prefix:
        stmt = stmt.where(AuditEvent.action.like(f"{escape_like(action_prefix)}%", escape="\\"))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def mail_problems(limit: int = 200) -> dict[str, Any]:
    """The admin's view of mail that did not arrive: bouncing addresses, failed messages and
    how much is waiting, newest first."""
    bouncing = db.session.scalars(
        sa.select(Person)
        .where(Person.email_bouncing_at.is_not(None))
        .order_by(Person.email_bouncing_at.desc())
        .limit(limit)
    ).all()
    failed = db.session.scalars(
        sa.select(Message)
        .where(Message.status == MessageStatus.FAILED)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(Message.status, sa.func.count(Message.id)).group_by(Message.status)
        ).all()
    )
    # Messages whose recipients chose the chat tool but went by e-mail, with why.
    fell_back = db.session.scalars(
        sa.select(Message)
        .where(Message.status == MessageStatus.SENT, Message.channel_note.is_not(None))
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    by_channel = dict(
        db.session.execute(
            sa.select(Message.channel, sa.func.count(Message.id))
            .where(Message.status == MessageStatus.SENT, Message.channel.is_not(None))
            .group_by(Message.channel)
        ).all()
    )
    # The latest send's refusal by the chat tool: every chat message goes by e-mail until its
    # token is fixed.
    latest = (fell_back[0].channel_note or "") if fell_back else ""
    if latest:
        in_chat = db.session.scalar(
            sa.select(sa.func.max(Message.id)).where(
                Message.status == MessageStatus.SENT, Message.channel.not_in(["email"])
            )
        )
        if in_chat is not None and in_chat > fell_back[0].id:
            latest = ""  # a message went by the chat tool since: it works again
    return {
        "bouncing": bouncing,
        "failed": failed,
        "counts": counts,
        "Status": MessageStatus,
        "fell_back": fell_back,
        "by_channel": by_channel,
        "refused": latest if REFUSED in latest else None,
    }
