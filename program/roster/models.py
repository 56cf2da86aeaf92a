"""RosterUpload: an uploaded roster file, kept so the preview and the import read the same bytes
and so every import can be traced to exactly the file it came from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import CreatedAtMixin, UTCDateTime
from program.extensions import db
from program.people.models import Person
from program.programs.models import Program, Term


class RosterUpload(CreatedAtMixin, db.Model):
    __tablename__ = "roster_upload"
    __table_args__ = (sa.CheckConstraint("size >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # Deferred: listing uploads never loads the files themselves.
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts of what the import did (added, changed, unchanged, ...), once applied.
    summary: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    program: Mapped[Program] = relationship()
    term: Mapped[Term] = relationship()
    uploaded_by: Mapped[Person | None] = relationship()
