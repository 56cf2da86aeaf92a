"""The demo's directories: in each program, people open to asks, two guests, asks in every
state (waiting, followed up, accepted, declined, closed, withdrawn), and a referral chain of
three people: a chat partner suggests someone, who is asked and says yes, and who suggests a
third. Everything goes through the services, dated as it would have happened."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from program.asks.asks import (
    answer_ask,
    follow_up_asks,
    keep_outside_referral,
    ready_ask,
    send_ask,
    withdraw_ask,
)
from program.asks.directory import add_guest, open_to_asks
from program.asks.models import Ask, Listing, Meets
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import ensure_check_in, record_check_in
from program.extensions import db
from program.formal.models import Assignment
from program.people.models import Person
from program.programs.models import Membership, Program, Role
from seed.programs import mail_dated

NOTES = [
    "Glad to talk about how I chose my specialty, and what I would do differently.",
    "Ask me about research years, grant writing, or balancing clinic with a lab.",
    "Happy to talk about global health electives and working abroad.",
    "I moved from industry into medicine: ask me about second careers.",
    "Quality improvement, informatics, and getting a project off the ground.",
    "Parenting in residency, and protecting time for what matters.",
]
GUESTS = [
    (
        "Dr. Amara Osei",
        "Alumna (class of 2009), now in global health policy at the WHO.",
        "global health, health policy, careers outside the hospital",
        Meets.VIDEO,
    ),
    (
        "Dr. Tom Reyes",
        "Community internist, 20 years in a rural practice; visiting speaker this spring.",
        "rural medicine, primary care, practice ownership",
        Meets.EITHER,
    ),
]


def _members(program: Program, role: Role) -> list[Person]:
    return list(
        db.session.scalars(
            sa.select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.program_id == program.id,
                Membership.role == role,
                Membership.is_current,
                Membership.coffee_track.is_(True),
                Person.active.is_(True),
            )
            .order_by(Person.id)
        )
    )


def _ask(
    asker: Person, recipient: Person, program: Program, when: datetime, by: Person | None = None
) -> Ask:
    subject, body = ready_ask(asker, recipient, program, by.name if by else None)
    with mail_dated(when):
        return send_ask(
            asker,
            program,
            recipient.id,
            subject=subject,
            body=body,
            referred_by_id=by.id if by else None,
            now=when,
        )


def _met_and_suggested(person: Person, ask: Ask, suggested: Person, when: datetime) -> CheckIn:
    # Dated as the tick dates a chat's check-in: the day of the yes.
    period = ask.answered_at.date()
    check_in, _ = ensure_check_in(person.id, period, chat_id=ask.chat_id, now=when)
    with mail_dated(when):
        record_check_in(
            person,
            check_in,
            CheckInStatus.MET,
            met_on=when.date() - timedelta(days=2),
            rating=5,
            suggested_email=suggested.email,
        )
    return check_in


def seed_directory(
    coordinator: Person, program: Program, domain: str, now: datetime, asker: Person | None = None
) -> None:
    mentors, trainees = _members(program, Role.MENTOR), _members(program, Role.TRAINEE)
    if len(mentors) < 6 or len(trainees) < 4:
        return
    asker = asker if asker in trainees else trainees[0]
    others = [t for t in trainees if t is not asker]
    # Every other mentor and every fourth trainee is open to asks; a few take more a month.
    open_people = mentors[::2] + others[3::4]
    for n, person in enumerate(open_people):
        listing_when = now - timedelta(days=60)
        open_to_asks(
            person,
            program,
            note=NOTES[n % len(NOTES)],
            topics=", ".join(list(person.interests or [])[:4]),
            asks_per_month=3 if n % 3 == 0 else 2,
            meets=(Meets.EITHER, Meets.VIDEO, Meets.IN_PERSON)[n % 3],
        )
        db.session.execute(
            sa.update(Listing)
            .where(Listing.person_id == person.id, Listing.program_id == program.id)
            .values(created_at=listing_when)
        )
    for n, (name, note, topics, meets) in enumerate(GUESTS):
        slug = program.slug
        add_guest(
            coordinator,
            program,
            name=name,
            email=f"guest{n + 1}-{slug}@{domain}",
            note=note,
            topics=topics,
            asks_per_month=2,
            meets=meets,
        )
    guests = list(
        db.session.scalars(
            sa.select(Person)
            .join(Listing, Listing.person_id == Person.id)
            .where(Listing.program_id == program.id, Person.is_guest.is_(True))
            .order_by(Person.id)
        )
    )
    # The asks go to listed mentors other than the asker's own formal mentor (whose intro and
    # meeting the demo's other journeys follow).
    own = set(
        db.session.scalars(sa.select(Assignment.mentor_id).where(Assignment.trainee_id == asker.id))
    )
    listed_mentors = [m for m in mentors[::2] if m.id not in own]
    first, second, third = listed_mentors[0], listed_mentors[1], listed_mentors[2]

    # The referral chain: the asker met `first`, who suggested `second`; asked on that
    # suggestion, `second` said yes, and after their coffee suggested `third`, who now shows
    # first in the asker's directory, "suggested by" `second`.
    start = now - timedelta(days=40)
    ask = _ask(asker, first, program, start)
    with mail_dated(start + timedelta(days=1)):
        answer_ask(first, ask, "yes", now=start + timedelta(days=1))
    check_in = _met_and_suggested(asker, ask, second, start + timedelta(days=12))
    # And someone outside the institution, kept for the asker to write to themselves.
    keep_outside_referral(
        check_in, "Dr. Lena Fischer <lena.fischer@outside.example.org>", [first.name]
    )
    referred = _ask(asker, second, program, start + timedelta(days=13), by=first)
    with mail_dated(start + timedelta(days=14)):
        answer_ask(second, referred, "yes", now=start + timedelta(days=14))
    _met_and_suggested(asker, referred, third, start + timedelta(days=25))

    # Every other state, from other trainees (and one more waiting for the asker).
    _ask(asker, listed_mentors[3], program, now - timedelta(days=2))  # waiting
    nudged = _ask(others[0], listed_mentors[4], program, now - timedelta(days=9))
    declined = _ask(others[1], listed_mentors[3], program, now - timedelta(days=12))
    with mail_dated(now - timedelta(days=11)):
        answer_ask(listed_mentors[3], declined, "no", now=now - timedelta(days=11))
    _ask(others[2], listed_mentors[5 % len(listed_mentors)], program, now - timedelta(days=20))
    withdrawn = _ask(others[1], listed_mentors[4], program, now - timedelta(days=5))
    withdraw_ask(others[1], withdrawn, now=now - timedelta(days=4))
    if guests:
        guest_ask = _ask(others[2], guests[0], program, now - timedelta(days=8))
        with mail_dated(now - timedelta(days=7)):
            answer_ask(guests[0], guest_ask, "yes", now=now - timedelta(days=7))
    # The clock's work as it would have run: the week-old ask's prompt, the old one closed.
    with mail_dated(nudged.created_at + timedelta(days=7)):
        follow_up_asks(now)
