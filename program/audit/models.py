"""AuditEvent: an append-only record of every change a person or the system made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import UTCDateTime, utc_now
from program.extensions import db
from program.people.models import Person


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    # Empty for the system (a scheduled job); kept when the person is later removed.
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None] = mapped_column()
    program_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("program.id", ondelete="SET NULL"), index=True
    )
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[Person | None] = relationship()
