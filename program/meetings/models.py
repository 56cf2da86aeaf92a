"""Meeting: the times proposed for a pair or chat to meet, and the one agreed."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import CreatedAtMixin, UTCDateTime, str_enum
from program.extensions import db
from program.people.models import Person


class MeetingStatus(enum.Enum):
    PROPOSED = "proposed"  # times offered, waiting for the partner
    OTHER_TIMES = "other_times"  # the partner asked for other times
    AGREED = "agreed"  # one time accepted: on both calendars
    CANCELLED = "cancelled"  # replaced by new times, or called off


class Meeting(CreatedAtMixin, db.Model):
    """One proposal of times for a formal pair (assignment) or a coffee chat, and its outcome.
    A new proposal for the same pairing replaces the open one; a rescheduled meeting keeps its
    calendar UID and raises its SEQUENCE, so calendars update the event instead of adding one."""

    __tablename__ = "meeting"
    __table_args__ = (
        sa.CheckConstraint("(assignment_id IS NULL) <> (chat_id IS NULL)", name="one_pairing"),
        sa.CheckConstraint("status <> 'agreed' OR starts_at IS NOT NULL", name="agreed_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("chat.id", ondelete="CASCADE"), index=True
    )
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    # The times offered, as UTC ISO 8601 strings, in the order offered (1 to 3).
    options: Mapped[list[str]] = mapped_column(sa.JSON)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    minutes: Mapped[int] = mapped_column(default=20)
    status: Mapped[MeetingStatus] = mapped_column(
        str_enum(MeetingStatus, "meeting_status"), default=MeetingStatus.PROPOSED
    )
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The calendar event's identity: shared by the meetings that move one event.
    uid: Mapped[str] = mapped_column(sa.String(120), index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposed_by: Mapped[Person] = relationship()
