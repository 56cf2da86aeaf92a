"""Availability (a mentor's answer for a term) and Assignment (mentor <-> trainee for a term)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import (
    CreatedAtMixin,
    UTCDateTime,
    partial_unique_index,
    str_enum,
    utc_now,
)
from program.extensions import db
from program.people.models import Person
from program.programs.models import Term


class Availability(db.Model):
    """A mentor's answer for one term; `answered_at` is empty until they answer."""

    __tablename__ = "availability"
    __table_args__ = (
        sa.UniqueConstraint("term_id", "person_id"),
        sa.CheckConstraint("capacity >= 0 AND capacity <= 50", name="capacity_range"),
        sa.CheckConstraint("accepting OR capacity = 0", name="capacity_only_when_accepting"),
        sa.CheckConstraint("(accepting IS NULL) = (answered_at IS NULL)", name="answer_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    accepting: Mapped[bool | None] = mapped_column()
    capacity: Mapped[int] = mapped_column(default=0)
    topics: Mapped[str] = mapped_column(sa.Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    term: Mapped[Term] = relationship()
    person: Mapped[Person] = relationship()


class AssignmentStatus(enum.Enum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(enum.Enum):
    TERM_OVER = "term_over"
    NO_FAULT_REMATCH = "no_fault_rematch"
    LEFT_PROGRAM = "left_program"


class Assignment(db.Model):
    """A formal mentor and trainee for a term: proposed -> active -> ended (with a reason)."""

    __tablename__ = "assignment"
    __table_args__ = (
        sa.CheckConstraint("mentor_id <> trainee_id", name="not_self"),
        sa.CheckConstraint(
            "(status = 'ended') = (end_reason IS NOT NULL AND ended_at IS NOT NULL)",
            name="ended_has_reason",
        ),
        sa.CheckConstraint(
            "status = 'proposed' OR started_at IS NOT NULL", name="started_has_time"
        ),
        # A trainee has one live (proposed or active) formal mentor per term.
        partial_unique_index(
            "uq_assignment_live_trainee", "term_id", "trainee_id", where="status <> 'ended'"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    trainee_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus, "assignment_status"), default=AssignmentStatus.PROPOSED
    )
    end_reason: Mapped[EndReason | None] = mapped_column(str_enum(EndReason, "end_reason"))
    fit: Mapped[float | None] = mapped_column()
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A no-fault rematch request is private: only coordinators ever see who asked.
    rematch_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rematch_requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )

    term: Mapped[Term] = relationship()
    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    trainee: Mapped[Person] = relationship(foreign_keys=[trainee_id])


class Assessor(CreatedAtMixin, db.Model):
    """A faculty member who assesses or grades a trainee in a program: never their mentor
    (LCME element 11.1 asks that advisors have no role in assessing the student)."""

    __tablename__ = "assessor"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "assessor_id", "trainee_id"),
        sa.CheckConstraint("assessor_id <> trainee_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    assessor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    trainee_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    assessor: Mapped[Person] = relationship(foreign_keys=[assessor_id])
    trainee: Mapped[Person] = relationship(foreign_keys=[trainee_id])
