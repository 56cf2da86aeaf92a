"""Message: one e-mail in the outbox, sent by a worker, retried, never sent twice."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import CreatedAtMixin, JSONText, UTCDateTime, str_enum, utc_now
from program.extensions import db
from program.people.models import Person


class MessageStatus(enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Message(CreatedAtMixin, db.Model):
    __tablename__ = "message"
    __table_args__ = (
        sa.Index("ix_message_due", "status", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        # A message is written (subject and bodies) or says what to write when it is sent.
        sa.CheckConstraint(
            "(subject IS NOT NULL AND body_text IS NOT NULL AND body_html IS NOT NULL) "
            "OR template IS NOT NULL",
            name="written_or_composable",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    # The address at the time of queueing, so a later change of address cannot redirect it.
    to_address: Mapped[str] = mapped_column(sa.String(254))
    # Kinds grow with the product (invitation, password_reset, intro, check-in prompt, ...), so
    # this is a plain string checked by the messages service rather than a database enum.
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    # Empty until written: bulk mail (intros, check-in prompts, invitations, follow-ups) is queued
    # as what to write, and composed from the data as it then is when it is sent (see
    # composing.py): queueing ten thousand of them writes ten thousand short rows, not pages.
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    body_text: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    # The e-mail template (and composer) that writes an unwritten message.
    template: Mapped[str | None] = mapped_column(sa.String(60))
    # What its composer needs beyond the row's own references: ids and a few words of context
    # (an invitation's program and roles), never anything private.
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    program_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("program.id", ondelete="SET NULL"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="SET NULL")
    )
    chat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chat.id", ondelete="SET NULL"))
    check_in_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("check_in.id", ondelete="SET NULL")
    )
    # "kind:pairing:period": at most one message of a kind per pairing per period.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    # Where a reply goes: an introduction's partners, so answering it writes to them.
    reply_to: Mapped[str | None] = mapped_column(sa.String(1000))
    # An iCalendar invitation (or cancellation) sent along as a text/calendar part.
    calendar: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), default=MessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set just before the message is handed to the mail server: a claim left "sending" with this
    # set may have been delivered, so it is never sent again on its own (see sending.py).
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # What the message says in a chat tool (`program.messages.cards`), written with its bodies
    # for the kinds that have one; the channel it went by ("email", "slack"), why it went by
    # e-mail when its recipient chose chat, and the chat message it became (to update it when
    # its buttons are pressed).
    card: Mapped[dict[str, Any] | None] = mapped_column(JSONText())
    channel: Mapped[str | None] = mapped_column(sa.String(10))
    channel_note: Mapped[str | None] = mapped_column(sa.String(500))
    chat_ref: Mapped[str | None] = mapped_column(sa.String(200))

    recipient: Mapped[Person] = relationship()

    @property
    def written(self) -> bool:
        return self.body_text is not None

    @property
    def heading(self) -> str:
        """The subject, or for a message not written yet what it will be."""
        if self.subject is not None:
            return self.subject
        what = self.kind.replace("_", " ").capitalize()
        if self.status is MessageStatus.FAILED:
            return f"{what} (not written: see why)"
        return f"{what} (written when it is sent)"


class ChatAccount(db.Model):
    """A person as a chat tool knows them: in Slack found by their e-mail address, in Teams
    made when Hallway's app is installed for them; their id there, or why they cannot be
    reached (not found, deactivated, the app removed), as last known."""

    __tablename__ = "chat_account"
    __table_args__ = (sa.UniqueConstraint("person_id", "tool", name="one_account_per_tool"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    tool: Mapped[str] = mapped_column(sa.String(10))
    # The address it was looked up by: a changed address is looked up again.
    email: Mapped[str] = mapped_column(sa.String(254))
    external_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    unreachable: Mapped[str | None] = mapped_column(sa.String(300))
    # Where the tool says to write to them, when it is not their id alone: Teams' service URL
    # and the personal conversation its app was installed in ("<service url> <conversation>").
    reference: Mapped[str | None] = mapped_column(sa.String(1000))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
