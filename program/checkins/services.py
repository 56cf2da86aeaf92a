"""Check-ins for both tracks: asking "did you meet?", recording answers, and the follow-ups.

A check-in row exists from the moment a person is asked (status empty) until they answer;
answering again updates the same row while the answer is still editable. Ratings and private
notes belong to their author: no function here returns them for anyone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, raiseload
from sqlalchemy.orm.attributes import set_committed_value

from program import links, pairings
from program.asks.asks import keep_outside_referral
from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.coffee.models import Chat
from program.db import DomainError, escape_like, utc_now
from program.extensions import db
from program.formal.models import Assignment
from program.meetings.services import record_agreed
from program.messages.models import Message, MessageStatus
from program.messages.services import queue_new_messages, unwritten_message
from program.pairings import about, abouts
from program.people.models import Department, MailPreference, Person
from program.people.names import fold
from program.programs.models import Membership, Term

MAX_NOTE_LENGTH = 2000
ANSWER_LABELS = {
    CheckInStatus.MET: "We met",
    CheckInStatus.SCHEDULED: "It's scheduled",
    CheckInStatus.NOT_YET: "Not yet",
    CheckInStatus.WONT_HAPPEN: "It won't happen",
}
# The playbook's follow-ups after a first meeting: a thank-you now, an update in two months.
FOLLOW_UPS = ("thank_you_nudge", "update_nudge")
LED_TO_LABELS = {
    LedTo.COLLABORATION: "A collaboration",
    LedTo.REFERRAL: "A referral or introduction",
    LedTo.OPPORTUNITY: "An opportunity",
    LedTo.ADVICE_ACTED_ON: "Advice I acted on",
}


# --- asking -------------------------------------------------------------------------------


def ensure_check_in(
    person_id: int,
    period_start: date,
    *,
    assignment_id: int | None = None,
    chat_id: int | None = None,
    now: datetime | None = None,
) -> tuple[CheckIn, bool]:
    """The check-in for this person, pairing and period, created if missing (never twice)."""
    stmt = sa.select(CheckIn).where(CheckIn.person_id == person_id)
    if assignment_id is not None:
        stmt = stmt.where(
            CheckIn.assignment_id == assignment_id, CheckIn.period_start == period_start
        )
    else:
        stmt = stmt.where(CheckIn.chat_id == chat_id)
    existing = db.session.scalar(stmt)
    if existing is not None:
        return existing, False
    check_in = CheckIn(
        person_id=person_id,
        assignment_id=assignment_id,
        chat_id=chat_id,
        period_start=period_start,
        asked_at=now or utc_now(),
    )
    db.session.add(check_in)
    db.session.flush()
    return check_in, True


def with_its_person() -> tuple[Any, ...]:
    """Loader options: a check-in's person, in the same query (its pairing is `abouts`')."""
    return (joinedload(CheckIn.person),)


def check_in_message(check_in: Any, kind: str, **columns: Any) -> dict[str, Any]:
    """A check-in's e-mail for the outbox, written when it is sent. `check_in` is anything with
    the check-in's `id`, `person_id`, the person's `email` and the pairing's `program_id` (a row
    of `mail_addressing`)."""
    recipient = SimpleNamespace(id=check_in.person_id, email=check_in.email)
    return unwritten_message(
        recipient,
        kind,
        template=kind,
        program_id=check_in.program_id,
        check_in_id=check_in.id,
        **columns,
    )


def mail_addressing(check_in_ids: Sequence[int]) -> sa.Select[Any]:
    """Each check-in's id, person, e-mail address and program, as columns: all a queued
    message needs (what it says is composed when it is sent)."""
    return (
        sa.select(
            CheckIn.id,
            CheckIn.person_id,
            Person.email,
            sa.func.coalesce(Term.program_id, Chat.program_id).label("program_id"),
        )
        .join(Person, Person.id == CheckIn.person_id)
        .outerjoin(Assignment, Assignment.id == CheckIn.assignment_id)
        .outerjoin(Term, Term.id == Assignment.term_id)
        .outerjoin(Chat, Chat.id == CheckIn.chat_id)
        .where(CheckIn.id.in_(check_in_ids))
        .order_by(CheckIn.id)
    )


# --- answering ----------------------------------------------------------------------------


def is_editable(check_in: CheckIn, now: datetime | None = None) -> bool:
    """Open until answered, then for CHECKIN_EDIT_DAYS after the first answer."""
    if check_in.answered_at is None:
        return True
    window = timedelta(days=current_app.config["CHECKIN_EDIT_DAYS"])
    return (now or utc_now()) <= check_in.answered_at + window


def record_check_in(
    person: Person,
    check_in: CheckIn,
    status: CheckInStatus,
    *,
    met_on: date | None = None,
    rating: int | None = None,
    led_to: LedTo | None = None,
    note: str | None = None,
    today: date | None = None,
    suggested_email: str | None = None,
    scheduled_for: datetime | None = None,
) -> CheckIn:
    """Record (or change) `person`'s answer. Idempotent: one row per person, pairing, period.

    Two answers sent at once (a double tap, the link and the home page together) keep the first:
    the answer is claimed with a compare-and-set on `updated_at` (the row's version), and one
    that changed since the caller read it refuses the later answer with a message.
    """
    if check_in.person_id != person.id:
        raise DomainError("This check-in belongs to someone else.")
    if not is_editable(check_in):
        raise DomainError("This answer can no longer be changed.")
    today = today or utc_now().date()
    if status is not CheckInStatus.MET and (met_on or rating or led_to):
        raise DomainError("A date, rating or outcome goes with “We met” only.", field="status")
    if scheduled_for is not None and status is not CheckInStatus.SCHEDULED:
        raise DomainError("A time goes with “It's scheduled” only.", field="scheduled_for")
    if rating is not None and not 1 <= rating <= 5:
        raise DomainError("A rating is from 1 to 5.", field="rating")
    if met_on is not None and met_on > today:
        raise DomainError("The meeting date cannot be in the future.", field="met_on")
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise DomainError(f"Keep the note under {MAX_NOTE_LENGTH} characters.", field="note")
    first_meeting = status is CheckInStatus.MET and check_in.status is not CheckInStatus.MET
    unmet = status is not CheckInStatus.MET and check_in.status is CheckInStatus.MET
    now = utc_now()
    answer = {
        "status": status,
        "met_on": met_on if status is CheckInStatus.MET else None,
        "rating": rating,
        "led_to": led_to,
        "answered_at": check_in.answered_at or now,
        "updated_at": now,
    }
    if note is not None:
        answer["private_note"] = note.strip() or None
    if suggested_email:
        answer["suggested_person_id"] = _suggested_person(check_in, suggested_email)
        if answer["suggested_person_id"] is None:
            del answer["suggested_person_id"]
    _claim(check_in, answer)
    if first_meeting and person.mail_preference is MailPreference.ALL:
        _queue_follow_ups(check_in, now)
    if unmet:
        _withdraw_follow_ups(check_in)
    if scheduled_for is not None:
        # The same invitation as a time agreed in Hallway: on both calendars.
        found = pairings.pairing_of(check_in)
        if found is None:
            raise DomainError("This pairing has ended.", field="scheduled_for")
        record_agreed(person, found, scheduled_for, now)
    return check_in


def _claim(check_in: CheckIn, answer: dict[str, Any]) -> None:
    """Write the answer only if nobody answered since this request read the row: one UPDATE
    that compares the row's version (`updated_at`) and sets the answer together."""
    seen = check_in.updated_at
    # On the table, not the mapped class: the object is brought up to date below, so the ORM's
    # bulk-update machinery (most of this call's cost) has nothing to do.
    table = CheckIn.__table__
    claimed = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == check_in.id,
            table.c.updated_at.is_(None) if seen is None else table.c.updated_at == seen,
        )
        .values(answer)
    ).rowcount
    if claimed != 1:
        raise DomainError(
            "This check-in was answered a moment ago (from another window or device), and that "
            "answer is kept. You can change it from your home page."
        )
    # The row holds these now: the object says so without writing them a second time.
    for key, value in answer.items():
        set_committed_value(check_in, key, value)


def _suggested_person(check_in: CheckIn, who: str) -> int | None:
    """The person someone was told to meet, by e-mail address or by name: a current member of
    the chat's program. A name that fits several people asks for more (their names shown, as
    the program's members see each other anyway). Someone outside the institution, given as
    "Name <address>", is kept for the person to write to themselves (None here)."""
    if check_in.chat_id is None:
        raise DomainError("Suggestions go with coffee chats.", field="suggest")
    program_id = check_in.chat.program_id
    members = (
        sa.select(Person.id, Person.name, Department.name.label("department"))
        .join(Membership, Membership.person_id == Person.id)
        .outerjoin(Department, Department.id == Person.department_id)
        .where(
            Membership.program_id == program_id,
            Membership.is_current,
            Person.id != check_in.person_id,
            Person.active.is_(True),
        )
        .distinct()
    )
    if "@" in who:
        address = parseaddr(who)[1] or who
        found = db.session.execute(members.where(Person.email == address.strip().lower())).all()
        if not found:
            keep_outside_referral(check_in, who, about(check_in).partners)
            return None
    else:
        words = [w for w in fold(who).replace(",", " ").replace(".", " ").split() if w]
        if not words:
            raise DomainError("Give their name or e-mail address.", field="suggest")
        found = db.session.execute(
            members.where(
                *(Person.sort_name.like(f"%{escape_like(w)}%", escape="\\") for w in words)
            ).limit(6)
        ).all()
    if not found:
        raise DomainError(
            "We could not find that person among this program's members; check the name or "
            "use their e-mail address.",
            field="suggest",
        )
    if len(found) > 1:
        names = "; ".join(f"{row.name} ({row.department or 'no department'})" for row in found[:5])
        raise DomainError(
            f"Several people in this program match: {names}. Add more of the name, or use "
            "their e-mail address.",
            field="suggest",
        )
    return found[0].id


def _queue_follow_ups(check_in: CheckIn, now: datetime) -> None:
    """The playbook's follow-ups after a pair's first meeting: a thank-you today, a brief update
    in a couple of months. Once per person and pairing (a formal pair meets every month; the
    thank-you is for the first), never again after that."""
    later = now + timedelta(days=current_app.config["UPDATE_NUDGE_AFTER_DAYS"])
    pairing = pairings.key(check_in)
    due = {
        f"{kind}:{pairing}:{check_in.person_id}": (kind, when)
        for kind, when in (("thank_you_nudge", now), ("update_nudge", later))
    }
    # Its person and pairing are loaded already (the answer page read them).
    row = SimpleNamespace(
        id=check_in.id,
        person_id=check_in.person_id,
        email=check_in.person.email,
        program_id=about(check_in).program_id,
    )
    queue_new_messages(
        [
            check_in_message(row, kind, dedupe_key=key, next_attempt_at=when)
            for key, (kind, when) in due.items()
        ]
    )


def _withdraw_follow_ups(check_in: CheckIn) -> None:
    """An answer changed away from "we met": the follow-ups it queued go, unless already on
    their way (claimed by a sender); a later "we met" queues them again."""
    db.session.execute(
        sa.delete(Message).where(
            Message.check_in_id == check_in.id,
            Message.kind.in_(FOLLOW_UPS),
            Message.status == MessageStatus.QUEUED,
            Message.claimed_at.is_(None),
        )
    )


# --- one-click links ----------------------------------------------------------------------


def link_max_age() -> timedelta:
    """How long a one-click answer link (check-in or availability) works."""
    return timedelta(days=current_app.config["CHECKIN_LINK_MAX_AGE_DAYS"])


_ANSWER_VALUES = frozenset(status.value for status in CheckInStatus)


def make_answer_token(check_in: CheckIn, status: CheckInStatus) -> str:
    return links.sign(
        "checkin-answer",
        {
            "c": check_in.id,
            "p": check_in.person_id,
            "a": status.value,
            "v": links.version(check_in.id, check_in.updated_at),
        },
    )


def read_answer_token(token: str) -> tuple[CheckIn, CheckInStatus]:
    """The check-in and answer a link stands for, if it is genuine, fresh and unused."""
    # The check-in with its person in one query (what it is about is one more, by `about`).
    check_in, data = links.read_record(
        "checkin-answer",
        token,
        link_max_age(),
        CheckIn,
        "c",
        owner="person_id",
        valid=lambda check_in, data: data.get("a") in _ANSWER_VALUES and check_in.person.active,
        version=lambda check_in: links.version(check_in.id, check_in.updated_at),
        options=with_its_person(),
    )
    return check_in, CheckInStatus(data["a"])


# --- reading a person's own check-ins ----------------------------------------------------


def _with_pairings(stmt: sa.Select[Any]) -> list[CheckIn]:
    """The check-ins `stmt` selects, with what each is about worked out together (any other
    load refused: the page reads nothing else of them)."""
    found = list(db.session.scalars(stmt.options(raiseload("*"))))
    abouts(found)
    return found


def open_check_ins(person: Person) -> list[CheckIn]:
    """The person's unanswered check-ins, oldest first, with what each is about."""
    return _with_pairings(
        sa.select(CheckIn)
        .where(CheckIn.person_id == person.id, CheckIn.answered_at.is_(None))
        .order_by(CheckIn.period_start, CheckIn.id)
    )


def recent_answers(person: Person, limit: int = 10) -> list[CheckIn]:
    """The person's own latest answers (with their own ratings and notes)."""
    return _with_pairings(
        sa.select(CheckIn)
        .where(CheckIn.person_id == person.id, CheckIn.answered_at.is_not(None))
        .order_by(CheckIn.answered_at.desc(), CheckIn.id.desc())
        .limit(limit)
    )
