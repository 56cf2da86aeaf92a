"""A term's survey and each invited person's response.

A response row is made when the survey opens, one per person invited (their class year and
tracks as the term's roster had them), and stays unanswered until they answer: the response rate
is a count, not a guess. Answers can be changed until the survey closes. No page, file or report
shows one person's answers: they are read as counts, protected like every other figure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import CreatedAtMixin, UTCDateTime
from program.extensions import db
from program.people.models import Person
from program.programs.models import Term


class Survey(CreatedAtMixin, db.Model):
    __tablename__ = "survey"
    __table_args__ = (
        sa.UniqueConstraint("term_id"),
        sa.CheckConstraint("closes_on >= opens_on", name="closes_after_opening"),
        sa.CheckConstraint("target_percent BETWEEN 1 AND 100", name="target_1_100"),
        sa.CheckConstraint("reminders_sent BETWEEN 0 AND 2", name="at_most_two_reminders"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    instrument: Mapped[str] = mapped_column(sa.String(40))
    opens_on: Mapped[date] = mapped_column(sa.Date)
    closes_on: Mapped[date] = mapped_column(sa.Date)  # the last day it takes answers
    target_percent: Mapped[int] = mapped_column(sa.SmallInteger)
    # The coordinator's own questions as they were when it opened ({"text", "kind"} each).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    reminders_sent: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    term: Mapped[Term] = relationship()


class SurveyResponse(db.Model):
    __tablename__ = "survey_response"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "person_id"),
        sa.CheckConstraint(
            "formal_satisfaction IS NULL OR formal_satisfaction BETWEEN 0 AND 5",
            name="formal_satisfaction_0_5",
        ),
        sa.CheckConstraint(
            "coffee_satisfaction IS NULL OR coffee_satisfaction BETWEEN 0 AND 5",
            name="coffee_satisfaction_0_5",
        ),
        sa.CheckConstraint("formal_satisfaction IS NULL OR in_formal", name="formal_if_in_it"),
        sa.CheckConstraint("coffee_satisfaction IS NULL OR in_coffee", name="coffee_if_in_it"),
        sa.CheckConstraint("mentor_load IS NULL OR is_mentor", name="load_only_for_mentors"),
        sa.CheckConstraint(
            "(answered_at IS NULL) = (career_person IS NULL)", name="answered_has_answers"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("survey.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    # Who they were this term (from the term's roster): the report's lines.
    class_year: Mapped[str] = mapped_column(sa.String(40))
    in_formal: Mapped[bool] = mapped_column(default=False)
    in_coffee: Mapped[bool] = mapped_column(default=False)
    is_mentor: Mapped[bool] = mapped_column(default=False)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The answers (see instrument.py).
    formal_satisfaction: Mapped[int | None] = mapped_column(sa.SmallInteger)
    coffee_satisfaction: Mapped[int | None] = mapped_column(sa.SmallInteger)
    career_person: Mapped[bool | None] = mapped_column()
    outside_people: Mapped[str | None] = mapped_column(sa.String(8))
    led_to: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    mentor_load: Mapped[str | None] = mapped_column(sa.String(20))
    own_answers: Mapped[list[str | None] | None] = mapped_column(sa.JSON(none_as_null=True))

    survey: Mapped[Survey] = relationship()
    person: Mapped[Person] = relationship()
