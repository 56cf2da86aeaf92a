"""CheckIn: "did you meet?" for a formal assignment-month or a coffee chat.

A row is created when the question is asked; it stays unanswered (status NULL) until the person
answers, so "no response" is a category the reports can count rather than a missing row.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.coffee.models import Chat
from program.db import UTCDateTime, str_enum, utc_now
from program.extensions import db
from program.formal.models import Assignment
from program.people.models import Person


class CheckInStatus(enum.Enum):
    MET = "met"
    SCHEDULED = "scheduled"
    NOT_YET = "not_yet"
    WONT_HAPPEN = "wont_happen"


class LedTo(enum.Enum):
    COLLABORATION = "collaboration"
    REFERRAL = "referral"
    OPPORTUNITY = "opportunity"
    ADVICE_ACTED_ON = "advice_acted_on"


class CheckIn(db.Model):
    __tablename__ = "check_in"
    __table_args__ = (
        # One answer per person per pairing per period; answering again updates the row.
        sa.UniqueConstraint("person_id", "assignment_id", "period_start"),
        sa.UniqueConstraint("person_id", "chat_id"),
        sa.CheckConstraint(
            "(assignment_id IS NULL) <> (chat_id IS NULL)", name="exactly_one_pairing"
        ),
        sa.CheckConstraint("(status IS NULL) = (answered_at IS NULL)", name="answer_has_time"),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_1_5"),
        sa.CheckConstraint("rating IS NULL OR status = 'met'", name="rating_only_if_met"),
        sa.CheckConstraint("led_to IS NULL OR status = 'met'", name="led_to_only_if_met"),
        sa.CheckConstraint("met_on IS NULL OR status = 'met'", name="met_on_only_if_met"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("chat.id", ondelete="CASCADE"), index=True
    )
    # A formal assignment is asked about each month (the month's first day); a chat once (its
    # round's date).
    period_start: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[CheckInStatus | None] = mapped_column(str_enum(CheckInStatus, "check_in_status"))
    met_on: Mapped[date | None] = mapped_column(sa.Date)
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    led_to: Mapped[LedTo | None] = mapped_column(str_enum(LedTo, "led_to"))
    # "Who else should I meet?" after a coffee chat: the next round prefers this pair.
    suggested_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    # Seen by its author alone: never rendered for anyone else, never exported.
    private_note: Mapped[str | None] = mapped_column(sa.Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    assignment: Mapped[Assignment | None] = relationship()
    chat: Mapped[Chat | None] = relationship()
