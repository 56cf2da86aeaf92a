"""Program, Membership (person x program x role), Term, Cohort and cohort membership."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from program.db import CreatedAtMixin, JSONText, UTCDateTime, name_key, str_enum
from program.extensions import db
from program.people.models import Person


class Role(enum.Enum):
    COORDINATOR = "coordinator"
    MENTOR = "mentor"
    TRAINEE = "trainee"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class DepartmentPreference(enum.Enum):
    """Whether the formal track prefers a mentor from the trainee's own department."""

    SAME = "same"
    DIFFERENT = "different"
    NONE = "none"


class Program(CreatedAtMixin, db.Model):
    __tablename__ = "program"
    __table_args__ = (
        sa.CheckConstraint("length(slug) > 0", name="slug_not_empty"),
        sa.CheckConstraint("silent_after_days > 0", name="silent_after_days_positive"),
        sa.CheckConstraint("coffee_cadence_days > 0", name="coffee_cadence_days_positive"),
        sa.CheckConstraint(
            "coffee_repeat_window IS NULL OR coffee_repeat_window >= 0",
            name="coffee_repeat_window_not_negative",
        ),
        sa.CheckConstraint(
            "survey_days_before_end BETWEEN 1 AND 60", name="survey_days_before_end_1_60"
        ),
        sa.CheckConstraint(
            "survey_target_percent BETWEEN 1 AND 100", name="survey_target_percent_1_100"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Unique in every alphabet whatever the case ("Ärzte" and "ÄRZTE" are one name).
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Formal track: how long without a recorded meeting before a pair is flagged as silent.
    silent_after_days: Mapped[int] = mapped_column(default=45)
    formal_department_preference: Mapped[DepartmentPreference] = mapped_column(
        str_enum(DepartmentPreference, "department_preference"),
        default=DepartmentPreference.NONE,
    )
    # Informal track: days between rounds, and how many past rounds a pair may not repeat
    # within (NULL: never repeat while a new partner exists).
    coffee_cadence_days: Mapped[int] = mapped_column(default=30)
    coffee_repeat_window: Mapped[int | None] = mapped_column()
    coffee_department_preference: Mapped[DepartmentPreference] = mapped_column(
        str_enum(DepartmentPreference, "coffee_department_preference"),
        default=DepartmentPreference.DIFFERENT,
        server_default=DepartmentPreference.DIFFERENT.value,
    )
    # The term survey (program/surveys): opened this many days before a term's last day, its
    # reminders stopping once this share of every class year has answered, and the program's
    # own questions ({"text", "kind"} each, at most three) asked after the fixed ones.
    survey_days_before_end: Mapped[int] = mapped_column(default=14, server_default="14")
    survey_target_percent: Mapped[int] = mapped_column(default=70, server_default="70")
    survey_questions: Mapped[list[dict[str, str]]] = mapped_column(
        JSONText, default=list, server_default="[]"
    )

    @validates("name")
    def _keep_key(self, _field: str, value: str) -> str:
        self.name_key = name_key(value)
        return value

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="program", cascade="all, delete-orphan"
    )
    terms: Mapped[list[Term]] = relationship(
        back_populates="program", cascade="all, delete-orphan", order_by="Term.starts_on"
    )

    def __repr__(self) -> str:
        return f"<Program {self.slug}>"


class Membership(CreatedAtMixin, db.Model):
    """A role a person holds in a program. Ending a membership keeps the row, for history."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("person_id", "program_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    # Which tracks this person is part of in the program (eligibility, from the roster): the
    # formal track assigns mentors; the coffee track still needs the person's own opt-in.
    formal_track: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    coffee_track: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.String(200))

    person: Mapped[Person] = relationship(back_populates="memberships")
    program: Mapped[Program] = relationship(back_populates="memberships")

    @property
    def tracks(self) -> set[str]:
        """The tracks this role takes part in, by name ("formal", "coffee")."""
        return {t for t, on in (("formal", self.formal_track), ("coffee", self.coffee_track)) if on}

    @hybrid_property
    def is_current(self) -> bool:
        """Held now (not ended): on an object, a bool; on the class, the SQL condition, so
        "current member" is written once (`Membership.is_current` in a query)."""
        return self.ended_at is None

    @is_current.inplace.expression
    @classmethod
    def _is_current_expression(cls) -> sa.ColumnElement[bool]:
        return cls.ended_at.is_(None)


class Term(CreatedAtMixin, db.Model):
    """A semester of one program. Reports are per term."""

    __tablename__ = "term"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "slug"),
        sa.CheckConstraint("ends_on > starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("program.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(sa.String(60))
    name: Mapped[str] = mapped_column(sa.String(120))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    program: Mapped[Program] = relationship(back_populates="terms")
    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="term", cascade="all, delete-orphan", order_by="Cohort.name"
    )


class Cohort(CreatedAtMixin, db.Model):
    """A named group of trainees inside a term (e.g. "PGY-1"), used to break reports down."""

    __tablename__ = "cohort"
    __table_args__ = (
        sa.UniqueConstraint("term_id", "name_key"),
        # Target of CohortMember's composite key, which ties a member's term to its cohort's.
        sa.UniqueConstraint("id", "term_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    name_key: Mapped[str] = mapped_column(sa.String(120))

    @validates("name")
    def _keep_key(self, _field: str, value: str) -> str:
        self.name_key = name_key(value)
        return value

    term: Mapped[Term] = relationship(back_populates="cohorts")
    members: Mapped[list[CohortMember]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )


class CohortMember(db.Model):
    """A person in a cohort. Nobody is in two cohorts of the same term."""

    __tablename__ = "cohort_member"
    __table_args__ = (
        sa.UniqueConstraint("term_id", "person_id"),
        sa.ForeignKeyConstraint(
            ["cohort_id", "term_id"], ["cohort.id", "cohort.term_id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(index=True)
    term_id: Mapped[int] = mapped_column()
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )

    cohort: Mapped[Cohort] = relationship(back_populates="members", overlaps="members")
    person: Mapped[Person] = relationship()


class TermRosterEntry(db.Model):
    """A person as they were in a term: their roles, tracks, department, stage and cohort.

    Recorded when the term's roster is imported, when someone joins the program or changes
    cohort while the term is open, and once more when the term is closed; never again after
    that. Reports describe a term from these rows, so a closed term's report does not change
    when people move on.
    """

    __tablename__ = "term_roster_entry"
    __table_args__ = (sa.UniqueConstraint("term_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(sa.ForeignKey("term.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    is_trainee: Mapped[bool] = mapped_column(default=False)
    is_mentor: Mapped[bool] = mapped_column(default=False)
    formal_track: Mapped[bool] = mapped_column(default=True)
    coffee_track: Mapped[bool] = mapped_column(default=True)
    # Names as they were, not links: a department renamed later keeps this term's name.
    department: Mapped[str | None] = mapped_column(sa.String(120))
    stage: Mapped[str | None] = mapped_column(sa.String(40))
    cohort: Mapped[str | None] = mapped_column(sa.String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
