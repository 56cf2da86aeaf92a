"""Who takes part in coffee chats: opting in, snoozing, withdrawing, a coordinator's bulk opt-in
with a reason, the one-click enrollment links, and pausing those who left three intros
unanswered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from program import links
from program.audit.services import record
from program.checkins.models import CheckIn
from program.coffee.models import Chat, Enrollment, Round, RoundStatus
from program.db import DomainError, by_id, utc_now
from program.extensions import db
from program.links import external_url
from program.messages.services import queue_messages, render_message
from program.people.models import Person
from program.programs.models import Membership, Program, Role

GHOST_AFTER = 3  # intros in a row left without any answer
GHOST_SNOOZE_DAYS = 90
MAX_SNOOZE_DAYS = 366
LINK_DAYS = 90
SNOOZE_REASONS = {"asked": "You asked for a break", "unanswered": "Three chats went unanswered"}


def open_enrollment(person_id: int, program_id: int) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(
            Enrollment.person_id == person_id,
            Enrollment.program_id == program_id,
            Enrollment.withdrawn_at.is_(None),
        )
    )


def coffee_members(program: Program) -> sa.Select[Any]:
    """People who may join the program's coffee chats (current members in the coffee track)."""
    return (
        sa.select(Membership.person_id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.program_id == program.id,
            Membership.is_current,
            Membership.coffee_track.is_(True),
            Person.active.is_(True),
        )
    )


def may_join(person: Person, program: Program) -> bool:
    return db.session.scalar(coffee_members(program).where(Person.id == person.id)) is not None


def enroll(person: Person, program: Program) -> Enrollment:
    """Opt in (or, if snoozed, come back now). Idempotent."""
    if not may_join(person, program):
        raise DomainError(f"You are not in the coffee chats of {program.name}.")
    enrollment = open_enrollment(person.id, program.id)
    if enrollment is None:
        enrollment = Enrollment(program_id=program.id, person_id=person.id)
        db.session.add(enrollment)
        record(person, "coffee.enrolled", program, program_id=program.id, summary="Opted in")
    elif enrollment.snooze_reason == "unanswered":
        # Back after going quiet: a fresh enrollment, so the three unanswered chats that paused
        # them do not count against them again.
        enrollment.withdrawn_at = utc_now()
        db.session.flush()
        enrollment = Enrollment(program_id=program.id, person_id=person.id)
        db.session.add(enrollment)
        record(person, "coffee.rejoined", program, program_id=program.id, summary="Rejoined")
    elif enrollment.snoozed_until is not None:
        enrollment.snoozed_until = None
        enrollment.snooze_reason = None
        record(person, "coffee.rejoined", program, program_id=program.id, summary="Rejoined")
    db.session.flush()
    return enrollment


def snooze(person: Person, program: Program, until: date, today: date | None = None) -> Enrollment:
    today = today or utc_now().date()
    enrollment = open_enrollment(person.id, program.id)
    if enrollment is None:
        raise DomainError("You are not taking part in these coffee chats.")
    if not today < until <= today + timedelta(days=MAX_SNOOZE_DAYS):
        raise DomainError("Choose a date after today and within a year.", field="until")
    enrollment.snoozed_until = until
    enrollment.snooze_reason = "asked"
    db.session.flush()
    return enrollment


def left_on(person_id: int, program_id: int) -> date | None:
    """The day the person last left the program's coffee chats, when they are not in them now
    (None while they take part, or if they never joined)."""
    if open_enrollment(person_id, program_id) is not None:
        return None
    last = db.session.scalar(
        sa.select(sa.func.max(Enrollment.withdrawn_at)).where(
            Enrollment.person_id == person_id, Enrollment.program_id == program_id
        )
    )
    return last.date() if last is not None else None


def withdraw(person: Person, program: Program) -> None:
    """Leave the coffee chats; the closed enrollment stays as history."""
    enrollment = open_enrollment(person.id, program.id)
    if enrollment is None:
        return
    enrollment.withdrawn_at = utc_now()
    record(person, "coffee.withdrew", program, program_id=program.id, summary="Withdrew")
    db.session.flush()


ENROLLMENT_ACTIONS = ("join", "snooze", "leave")


def enrollment_token(person_id: int, program_id: int) -> str:
    """One signed token per person and program; the action rides along unsigned in the link,
    which is safe because opening a link only shows the choice and the POST confirms it."""
    return links.sign("coffee", {"u": person_id, "p": program_id})


def read_enrollment_token(token: str) -> tuple[Person, Program]:
    person, data = links.read_record(
        "coffee", token, timedelta(days=LINK_DAYS), Person, "u", valid=lambda p, _: p.active
    )
    return person, links.record(Program, data, "p")


def enrollment_links(person_id: int, program_id: int) -> dict[str, str]:
    url = external_url("coffee.enrollment_link", token=enrollment_token(person_id, program_id))
    return {action: f"{url}?do={action}" for action in ENROLLMENT_ACTIONS}


@dataclass
class EnrollmentCounts:
    members: int  # may take part (current members in the coffee track)
    enrolled: int
    snoozed: int
    by_coordinator: int  # of the enrolled, opted in by a coordinator


def enrollment_counts(program: Program, on: date | None = None) -> EnrollmentCounts:
    on = on or utc_now().date()
    members = db.session.scalar(
        sa.select(sa.func.count()).select_from(coffee_members(program).subquery())
    )
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(Enrollment.snoozed_until).filter(Enrollment.snoozed_until > on),
            sa.func.count(Enrollment.enrolled_by_id),
        ).where(Enrollment.program_id == program.id, Enrollment.withdrawn_at.is_(None))
    ).one()
    return EnrollmentCounts(members, row[0], row[1], row[2])


@dataclass
class BulkEnrollment:
    enrolled: int
    # People left out because they withdrew themselves: (name, the day they opted out).
    skipped: list[tuple[str, date]]


def bulk_enroll(actor: Person, program: Program, reason: str) -> BulkEnrollment:
    """Opt in every coffee-track member who has never taken part, with a recorded reason; each
    person is told and can opt out with one click.

    Someone who opted out (withdrew) is never opted back in by anyone but themselves: they are
    listed as skipped, with the day they left.
    """
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise DomainError(
            "Say why these people are opted in (e.g. “orientation consent form 2026”).",
            field="reason",
        )
    if len(reason) > 300:
        raise DomainError("Keep the reason under 300 characters.", field="reason")
    # Trainees and mentors only: a coordinator who runs the program joins the chats themselves
    # if they want to, and is not opted in with the people they coordinate.
    candidates = coffee_members(program).where(Membership.role.in_([Role.TRAINEE, Role.MENTOR]))
    ever = sa.select(Enrollment.person_id).where(Enrollment.program_id == program.id)
    ids = list(db.session.scalars(candidates.where(Person.id.not_in(ever)).distinct()))
    taking_part = sa.select(Enrollment.person_id).where(
        Enrollment.program_id == program.id, Enrollment.withdrawn_at.is_(None)
    )
    left = db.session.execute(
        sa.select(Person.name, sa.func.max(Enrollment.withdrawn_at))
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.program_id == program.id,
            Person.id.in_(candidates),
            Person.id.not_in(taking_part),
        )
        .group_by(Person.id, Person.name)
        .order_by(Person.sort_name)
    ).all()
    skipped = [(name, withdrawn.date()) for name, withdrawn in left]
    now = utc_now()
    db.session.add_all(
        Enrollment(
            program_id=program.id,
            person_id=person_id,
            enrolled_at=now,
            enrolled_by_id=actor.id,
            consent_note=reason,
        )
        for person_id in ids
    )
    db.session.flush()
    people = db.session.scalars(sa.select(Person).where(Person.id.in_(ids))).all() if ids else []
    queue_messages(
        [
            render_message(
                person,
                "coffee_enrolled",
                template="coffee_enrolled",
                context={
                    "person": person,
                    "program_name": program.name,
                    "reason": reason,
                    "cadence_days": program.coffee_cadence_days,
                    "links": enrollment_links(person.id, program.id),
                },
                program_id=program.id,
                dedupe_key=f"coffee_enrolled:{program.id}:{person.id}:{now.date()}",
            )
            for person in people
        ]
    )
    record(
        actor,
        "coffee.bulk_enrolled",
        program,
        program_id=program.id,
        details={"people": len(ids), "skipped_withdrawn": len(skipped), "reason": reason},
        summary=f"{len(ids)} people opted in to coffee chats: {reason}",
    )
    return BulkEnrollment(enrolled=len(ids), skipped=skipped)


def snooze_ghosts(now: datetime) -> int:
    """Snooze whoever left their last three intros without any answer, and tell them."""
    wait = timedelta(days=current_app.config["CHECKIN_REMINDER_AFTER_DAYS"])
    # Read as columns: every open enrollment's chats of every round, tens of thousands of rows
    # at a school's size, of which only the ghosts are loaded as objects below.
    rows = db.session.execute(
        sa.select(Enrollment.id, CheckIn.answered_at, CheckIn.asked_at)
        .join(Round, Round.program_id == Enrollment.program_id)
        .join(Chat, Chat.round_id == Round.id)
        .join(
            CheckIn,
            sa.and_(CheckIn.chat_id == Chat.id, CheckIn.person_id == Enrollment.person_id),
        )
        .where(
            Enrollment.withdrawn_at.is_(None),
            Enrollment.snoozed_until.is_(None),
            Round.status == RoundStatus.PUBLISHED,
            CheckIn.asked_at >= Enrollment.enrolled_at,
        )
        .order_by(Enrollment.id, Round.number.desc())
    ).all()
    latest: dict[int, list[tuple[datetime | None, datetime]]] = {}
    for enrollment_id, answered_at, asked_at in rows:
        latest.setdefault(enrollment_id, []).append((answered_at, asked_at))
    ghost_ids = [
        eid
        for eid, answers in latest.items()
        if len(answers) >= GHOST_AFTER
        and all(a is None and asked <= now - wait for a, asked in answers[:GHOST_AFTER])
    ]
    ghosts = list(
        by_id(
            db.session,
            Enrollment,
            ghost_ids,
            joinedload(Enrollment.person),
            joinedload(Enrollment.program),
        ).values()
    )
    until = now.date() + timedelta(days=GHOST_SNOOZE_DAYS)
    messages = []
    for enrollment in ghosts:
        enrollment.snoozed_until = until
        enrollment.snooze_reason = "unanswered"
        messages.append(
            render_message(
                enrollment.person,
                "coffee_paused",
                template="coffee_paused",
                context={
                    "person": enrollment.person,
                    "program_name": enrollment.program.name,
                    "until": until,
                    "links": enrollment_links(enrollment.person_id, enrollment.program_id),
                },
                program_id=enrollment.program_id,
                dedupe_key=f"coffee_paused:{enrollment.id}:{until}",
            )
        )
    db.session.flush()
    queue_messages(messages)
    return len(ghosts)
