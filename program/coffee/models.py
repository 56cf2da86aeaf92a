"""Enrollment (opt-in periods, history kept), Round, Chat and its 2 or 3 members."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import CreatedAtMixin, UTCDateTime, partial_unique_index, str_enum, utc_now
from program.extensions import db
from program.people.models import Person
from program.programs.models import Program


class Enrollment(db.Model):
    """One period of a person's opt-in to a program's coffee chats.

    Withdrawing closes the row and rejoining opens a new one, so the history of who was enrolled
    when is the table itself. A person has at most one open enrollment per program.
    """

    __tablename__ = "enrollment"
    __table_args__ = (
        partial_unique_index(
            "uq_enrollment_open", "program_id", "person_id", where="withdrawn_at IS NULL"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("program.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # Empty when the person opted in themselves; a coordinator's bulk opt-in records who and why.
    enrolled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL")
    )
    consent_note: Mapped[str | None] = mapped_column(sa.String(300))
    snoozed_until: Mapped[date | None] = mapped_column(sa.Date)
    snooze_reason: Mapped[str | None] = mapped_column(sa.String(40))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    program: Mapped[Program] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])


class RoundStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Round(CreatedAtMixin, db.Model):
    """One pairing run of a program's coffee chats; reproducible from its seed."""

    __tablename__ = "round"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "number"),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)", name="published_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("program.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    scheduled_for: Mapped[date] = mapped_column(sa.Date)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[RoundStatus] = mapped_column(
        str_enum(RoundStatus, "round_status"), default=RoundStatus.DRAFT
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Share of cross-department pairs, stage gaps of 1-2, repeats, total weight.
    quality: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    program: Mapped[Program] = relationship()
    chats: Mapped[list[Chat]] = relationship(back_populates="round", cascade="all, delete-orphan")


class Chat(CreatedAtMixin, db.Model):
    """A pair, or for an odd count one trio, within a round; or a pair that met through an ask
    (no round: one person asked, the other said yes). Its program is kept on the row for both."""

    __tablename__ = "chat"
    __table_args__ = (sa.UniqueConstraint("id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("round.id", ondelete="CASCADE"), index=True
    )

    program: Mapped[Program] = relationship()
    round: Mapped[Round | None] = relationship(back_populates="chats")

    @property
    def self_started(self) -> bool:
        return self.round_id is None

    members: Mapped[list[ChatMember]] = relationship(
        back_populates="chat",
        cascade="all, delete-orphan",
        order_by="ChatMember.position",
        foreign_keys="ChatMember.chat_id",
    )


class ChatMember(db.Model):
    """A person in a chat. Nobody is in two chats of one round; a chat has at most 3 seats.
    A self-started chat's members have no round (and so no such limit)."""

    __tablename__ = "chat_member"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "person_id"),
        sa.UniqueConstraint("chat_id", "position"),
        sa.CheckConstraint("position >= 0 AND position <= 2", name="position_range"),
        sa.ForeignKeyConstraint(
            ["chat_id", "round_id"], ["chat.id", "chat.round_id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        # Named apart from the (chat, round) key, which the naming convention calls by the
        # same first column.
        sa.ForeignKey("chat.id", ondelete="CASCADE", name="fk_chat_member_chat")
    )
    round_id: Mapped[int | None] = mapped_column()
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.SmallInteger)

    # Joined on the chat alone: a self-started chat's members have no round to join on.
    chat: Mapped[Chat] = relationship(back_populates="members", foreign_keys=[chat_id])
    person: Mapped[Person] = relationship()


@sa.event.listens_for(ChatMember, "before_insert")
def _round_of_its_chat(_mapper: Any, _connection: Any, member: ChatMember) -> None:
    # The composite key to (chat, round) keeps a member in its chat's round; a member added
    # through the ORM takes the round from its chat.
    if member.round_id is None and member.chat is not None:
        member.round_id = member.chat.round_id
