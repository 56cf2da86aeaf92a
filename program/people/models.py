"""Person and Department, and the ordered scale of career stages."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from program.db import CreatedAtMixin, UTCDateTime, name_key, str_enum
from program.extensions import db
from program.people.names import sort_name
from program.people.stages import CareerStage

if TYPE_CHECKING:
    from program.programs.models import Membership


class MailPreference(enum.Enum):
    """How much e-mail a person wants: everything, or only what they must act on."""

    ALL = "all"
    ESSENTIAL = "essential"  # no reminders and no follow-up nudges


class Delivery(enum.Enum):
    """Where a person's messages go: the institution's chat tool where they can be reached
    there (the default), or always e-mail."""

    CHAT = "chat"
    EMAIL = "email"


class Department(db.Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # Departments are matched case- and space-insensitively ("internal  medicine" is
    # "Internal Medicine"), so the normalised key is what must be unique.
    name_key: Mapped[str] = mapped_column(sa.String(120), unique=True)

    @staticmethod
    def key_for(name: str) -> str:
        return name_key(name)


class Person(UserMixin, CreatedAtMixin, db.Model):
    __tablename__ = "person"
    __table_args__ = (
        # E-mail addresses are unique case-insensitively: storing only lower-case makes the
        # plain unique constraint enough, on SQLite and PostgreSQL alike.
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # What people lists sort by (family name first, titles ignored): kept in step with `name`
    # by the ORM (below) and by bulk inserts (the column default), so a list sorts in SQL.
    sort_name: Mapped[str] = mapped_column(
        sa.String(200),
        default=lambda context: sort_name(context.get_current_parameters()["name"]),
        index=True,
    )
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    stage: Mapped[CareerStage | None] = mapped_column(str_enum(CareerStage, "career_stage"))
    interests: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_dean: Mapped[bool] = mapped_column(default=False)
    # A guest (an alumnus, a visiting speaker) a coordinator added to a directory: answers asks
    # by signed links and never signs in.
    is_guest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # Rotated whenever the password changes or the account is deactivated: it is part of every
    # session id and every invitation or reset link, so rotating it ends them all at once.
    security_stamp: Mapped[str] = mapped_column(
        sa.String(32), default=lambda: secrets.token_hex(16)
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_preference: Mapped[MailPreference] = mapped_column(
        str_enum(MailPreference, "mail_preference"),
        default=MailPreference.ALL,
        server_default=MailPreference.ALL.value,
    )
    delivery: Mapped[Delivery] = mapped_column(
        str_enum(Delivery, "delivery"), default=Delivery.CHAT, server_default=Delivery.CHAT.value
    )
    # Set when the mail server refused this address for good; no more mail goes to it until the
    # address changes (or an admin clears it).
    email_bouncing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_bounce_reason: Mapped[str | None] = mapped_column(sa.String(500))

    department: Mapped[Department | None] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    @validates("name")
    def _keep_sort_name(self, key: str, value: str) -> str:
        self.sort_name = sort_name(value)
        return value

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    # Flask-Login: an inactive person cannot log in, and an old session ends when the stamp changes.
    # A guest has no account: never signed in, however they came by a session.
    @property
    def is_active(self) -> bool:
        return self.active and not self.is_guest

    def get_id(self) -> str:
        return f"{self.id}:{self.security_stamp}"

    def set_password(self, password: str) -> None:
        self.set_password_hash(password_hash(password))

    def set_password_hash(self, hashed: str) -> None:
        """A password hashed beforehand (the demo's logins all share one, hashed once)."""
        self.password_hash = hashed
        self.rotate_security_stamp()

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def rotate_security_stamp(self) -> None:
        self.security_stamp = secrets.token_hex(16)

    @property
    def department_name(self) -> str:
        return self.department.name if self.department else ""

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"


def password_hash(password: str) -> str:
    """The stored hash of `password`: scrypt (Werkzeug's default) unless the config chooses
    a cheaper method, as the tests do."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(password, method=method or "scrypt")


class PairingBlock(CreatedAtMixin, db.Model):
    """Someone a person asked never to be paired with, in any program or track. Private: only
    the person who made it sees it; matching reads it, and a coordinator learns only that a
    pair was ruled out by a private preference."""

    __tablename__ = "pairing_block"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "blocked_id"),
        sa.CheckConstraint("person_id <> blocked_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    blocked_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    blocked: Mapped[Person] = relationship(foreign_keys=[blocked_id])
