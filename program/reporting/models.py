"""ActionItem: a finding of a term's report and the action taken on it, followed up the next
term (LCME 1.1, ACGME's Annual Program Evaluation: findings turned into actions that are
followed up)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from program.db import CreatedAtMixin, UTCDateTime, str_enum
from program.extensions import db


class ActionStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return {
            "planned": "Planned",
            "in_progress": "In progress",
            "done": "Done",
            "dropped": "Dropped",
        }[self.value]


class ActionItem(CreatedAtMixin, db.Model):
    __tablename__ = "action_item"
    __table_args__ = (
        sa.CheckConstraint("length(finding) > 0", name="finding_not_empty"),
        sa.CheckConstraint("length(action) > 0", name="action_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"), index=True)
    finding: Mapped[str] = mapped_column(sa.String(1000))
    action: Mapped[str] = mapped_column(sa.String(1000))
    owner: Mapped[str] = mapped_column(sa.String(200), default="")
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "action_status"), default=ActionStatus.PLANNED
    )
    outcome: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
