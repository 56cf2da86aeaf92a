"""An outcome measure, a term's file of its values, and each person's value.

Values are the institution's data about people (well-being, where they matched): only deans
and admins import or see them, and reports publish them only as protected group figures.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from program.db import CreatedAtMixin, UTCDateTime, name_key, str_enum
from program.extensions import db
from program.people.models import Person


class MeasureKind(enum.Enum):
    NUMERIC = "numeric"  # a number per person: an index, a count
    CATEGORICAL = "categorical"  # one of several answers, one of which is the favourable one


class Better(enum.Enum):
    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"


class Measure(CreatedAtMixin, db.Model):
    __tablename__ = "outcome_measure"
    __table_args__ = (
        sa.CheckConstraint("minimum_group >= 5", name="minimum_group_at_least_5"),
        sa.CheckConstraint(
            "kind = 'numeric' OR favourable IS NOT NULL", name="categorical_has_favourable"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[MeasureKind] = mapped_column(str_enum(MeasureKind, "measure_kind"))
    definition: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(300))
    better: Mapped[Better] = mapped_column(str_enum(Better, "better_direction"))
    # A categorical measure's favourable answer (e.g. "first choice"), compared as a share.
    favourable: Mapped[str | None] = mapped_column(sa.String(120))
    # The fewest people a published group may rest on: some measures (well-being) ask more
    # than the institution's threshold.
    minimum_group: Mapped[int] = mapped_column(default=10)

    @validates("name")
    def _keep_key(self, _field: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class OutcomeUpload(CreatedAtMixin, db.Model):
    """A file as uploaded for a term, kept for its preview until applied (then emptied)."""

    __tablename__ = "outcome_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_slug: Mapped[str] = mapped_column(sa.String(60))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    uploaded_by: Mapped[Person | None] = relationship()


class OutcomeValue(db.Model):
    """One person's value of one measure in a term (a number, or a categorical answer)."""

    __tablename__ = "outcome_value"
    __table_args__ = (
        sa.UniqueConstraint("measure_id", "person_id", "term_slug"),
        sa.CheckConstraint("(number IS NULL) <> (answer IS NULL)", name="a_number_or_an_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(sa.ForeignKey("outcome_measure.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    term_slug: Mapped[str] = mapped_column(sa.String(60), index=True)
    number: Mapped[float | None] = mapped_column(sa.Float)
    answer: Mapped[str | None] = mapped_column(sa.String(120))
    upload_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outcome_upload.id", ondelete="SET NULL")
    )
