"""Listing (open to a coffee), Ask (one person's short request to another), OutsideReferral."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import CreatedAtMixin, UTCDateTime, partial_unique_index, str_enum
from program.extensions import db
from program.people.models import Person


class Meets(enum.Enum):
    """How someone in the directory is glad to meet."""

    EITHER = "either"
    IN_PERSON = "in_person"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"either": "Coffee or video", "in_person": "In person", "video": "Video only"}[
            self.value
        ]


class Listing(CreatedAtMixin, db.Model):
    """One person's entry in one program's directory: open to being asked, what about, and how
    often. A member writes their own; a coordinator writes a guest's. Stopping keeps the row
    (with `open` false) so coming back keeps the note."""

    __tablename__ = "listing"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "person_id"),
        sa.CheckConstraint(
            "asks_per_month >= 1 AND asks_per_month <= 10", name="asks_per_month_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    open: Mapped[bool] = mapped_column(default=True)
    paused: Mapped[bool] = mapped_column(default=False)
    # What they are glad to talk about, in their own words; shown to askers as written.
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The topics folded ("|global health|quality|"), so the directory finds and ranks them in
    # SQL, accents and case aside.
    topics_key: Mapped[str] = mapped_column(sa.String(1000), default="|")
    asks_per_month: Mapped[int] = mapped_column(sa.SmallInteger, default=2)
    meets: Mapped[Meets] = mapped_column(str_enum(Meets, "meets"), default=Meets.EITHER)
    # Set for a guest, by the coordinator who added them.
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(foreign_keys=[person_id])

    @property
    def askable(self) -> bool:
        return self.open and not self.paused


class AskStatus(enum.Enum):
    WAITING = "waiting"  # sent, no answer yet
    ACCEPTED = "accepted"  # yes: a chat was made
    DECLINED = "declined"  # "not now"
    CLOSED = "closed"  # no answer in two weeks: closed quietly
    WITHDRAWN = "withdrawn"  # the asker took it back

    @property
    def label(self) -> str:
        return {
            "waiting": "Waiting for an answer",
            "accepted": "Said yes",
            "declined": "Not now",
            "closed": "Closed without an answer",
            "withdrawn": "Withdrawn",
        }[self.value]


class Ask(CreatedAtMixin, db.Model):
    """A short personal request from one person to another found in the directory. Sent by
    Hallway with the asker as Reply-To; a yes makes a chat (no round) between the two."""

    __tablename__ = "ask"
    __table_args__ = (
        sa.CheckConstraint("asker_id <> recipient_id", name="not_self"),
        sa.CheckConstraint("(status = 'waiting') = (answered_at IS NULL)", name="answer_has_time"),
        sa.CheckConstraint("(status = 'accepted') = (chat_id IS NOT NULL)", name="yes_has_chat"),
        # One waiting ask between two people at a time (asked twice is asked once).
        partial_unique_index(
            "uq_ask_waiting", "asker_id", "recipient_id", where="status = 'waiting'"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    asker_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    # Who suggested the asker write (a check-in's "who else should I meet?").
    referred_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[AskStatus] = mapped_column(
        str_enum(AskStatus, "ask_status"), default=AskStatus.WAITING
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the asker was prompted to follow up once (a week without an answer).
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chat.id", ondelete="CASCADE"))

    asker: Mapped[Person] = relationship(foreign_keys=[asker_id])
    recipient: Mapped[Person] = relationship(foreign_keys=[recipient_id])
    referred_by: Mapped[Person | None] = relationship(foreign_keys=[referred_by_id])


class OutsideReferral(CreatedAtMixin, db.Model):
    """Someone outside the institution a chat partner suggested: kept for the person to write
    to themselves. Hallway never e-mails them."""

    __tablename__ = "outside_referral"
    __table_args__ = (sa.UniqueConstraint("person_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    check_in_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("check_in.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    # The names of the partners who suggested them, as they were.
    suggested_by: Mapped[str] = mapped_column(sa.String(400), default="")
