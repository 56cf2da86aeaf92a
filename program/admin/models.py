"""InstitutionSettings: the single row of institution-wide settings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from program.db import UTCDateTime, utc_now
from program.extensions import db

DEFAULT_SUPPRESSION_THRESHOLD = 10
MIN_SUPPRESSION_THRESHOLD = 5


class InstitutionSettings(db.Model):
    __tablename__ = "institution_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint(
            f"suppression_threshold >= {MIN_SUPPRESSION_THRESHOLD}", name="threshold_minimum"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1, autoincrement=False)
    name: Mapped[str] = mapped_column(sa.String(200), default="Hallway")
    # Report cells below this count are shown as "<N"; never below 5 so a person stays hidden.
    suppression_threshold: Mapped[int] = mapped_column(default=DEFAULT_SUPPRESSION_THRESHOLD)
    mail_sender: Mapped[str] = mapped_column(sa.String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)
