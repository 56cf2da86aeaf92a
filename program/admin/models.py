"""InstitutionSettings: the single row of institution-wide settings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from program.db import UTCDateTime, utc_now
from program.extensions import db

# Why 5, and why 5 is also the floor: docs/report-privacy.md. In short, "fewer than 5" still
# leaves 1 to 4 possible people (ACGME reports its resident survey only from 4 respondents up);
# below it a hidden count has too few possible values to hide anyone; above it, at the size of a
# residency, most of a report is hidden with no one better protected (every download is
# audited together, so nothing hidden can be subtracted back out).
DEFAULT_SUPPRESSION_THRESHOLD = 5
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
    # Protected report counts below this read "fewer than N"; never below the floor.
    suppression_threshold: Mapped[int] = mapped_column(default=DEFAULT_SUPPRESSION_THRESHOLD)
    mail_sender: Mapped[str] = mapped_column(sa.String(254), default="")
    # The zone meeting times are proposed, shown and put on calendars in (an IANA name).
    time_zone: Mapped[str] = mapped_column(
        sa.String(64), default="UTC", server_default=sa.text("'UTC'")
    )
    # Institution sign-in only: passwords work for the break-glass administrator alone (each of
    # their sign-ins audited), for when the institution's sign-in is down.
    sso_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    break_glass_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    # Someone at the institution on no roster gets an account at their first institution
    # sign-in (in no program until a coordinator adds them), instead of being turned away.
    sso_self_registration: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The chat tool Hallway delivers in ("" none, "slack"), once its tokens are configured.
    chat_tool: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)
