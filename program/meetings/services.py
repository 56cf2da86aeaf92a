"""Proposing times, accepting one, rescheduling and cancelling, and the invitations they send.

The one who writes first proposes up to three times; each partner gets one e-mail with a link per
time (opening it changes nothing; the page's button accepts) and one to ask for other times.
Accepting puts the meeting on everyone's calendar: an iCalendar REQUEST with the proposer as
ORGANIZER, everyone as ATTENDEE, a UID that stays the same when the meeting moves and a SEQUENCE
that rises each time; cancelling sends a CANCEL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from program import links, pairings
from program.audit.services import record
from program.coffee.models import ChatMember
from program.db import DomainError, utc_now
from program.extensions import db
from program.formal.models import Assignment
from program.institution import get_settings
from program.links import external_url
from program.meetings import ics
from program.meetings.models import Meeting, MeetingStatus
from program.messages.models import Message, MessageStatus
from program.messages.services import queue_messages, render_message
from program.pairings import Pairing, pairing
from program.people.models import Person

MAX_OPTIONS = 3
AHEAD_DAYS = 90  # how far ahead a time may be proposed
LINK_DAYS = 30
OPEN = (MeetingStatus.PROPOSED, MeetingStatus.OTHER_TIMES)


def pairing_of(meeting: Meeting) -> Pairing:
    """The live pairing a meeting is between; refused once it has ended."""
    found = pairings.pairing_of(meeting)
    if found is None:
        raise DomainError("This pairing has ended.")
    return found


def time_zone() -> ZoneInfo:
    try:
        return ZoneInfo(get_settings().time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime) -> str:
    """A time as people read it: in the institution's zone, with the zone named."""
    zone = time_zone()
    local = moment.astimezone(zone)
    return f"{local.strftime('%A %d %B, %H:%M')} ({zone.key})"


def _member(person: Person, found: Pairing) -> None:
    if person.id not in {p.id for p in found.members}:
        raise DomainError("You are not in this pairing.")


# --- proposing --------------------------------------------------------------------------


def propose(
    person: Person,
    found: Pairing,
    options: list[datetime],
    place: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Offer up to three times; the partners are asked to choose one. Replaces an open proposal
    for the same pairing; a meeting already agreed stays on calendars until a new time is."""
    _member(person, found)
    now = now or utc_now()
    given = [o.astimezone(UTC) for o in options if o is not None]
    chosen = sorted(set(given))
    if len(chosen) < len(given):
        twice = next(o for o in chosen if given.count(o) > 1)
        raise DomainError(
            f"You chose {when(twice)} more than once; propose different times.",
            field="first",
        )
    if not chosen:
        raise DomainError("Propose at least one time.", field="first")
    if len(chosen) > MAX_OPTIONS:
        raise DomainError(f"Propose at most {MAX_OPTIONS} times.", field="first")
    _check_times(chosen, now, "first")
    place = " ".join(place.split())
    if len(place) > 200:
        raise DomainError("Keep the place under 200 characters.", field="place")
    replacing = _close_open(found, now)
    agreed = _agreed(found, now)
    meeting = Meeting(
        **found.columns(),
        proposed_by_id=person.id,
        options=[o.isoformat() for o in chosen],
        place=place,
        uid=agreed.uid if agreed else f"{uuid.uuid4()}@hallway",
        sequence=agreed.sequence if agreed else 0,
        updated_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    rows = []
    for partner in found.members:
        if partner.id == person.id:
            continue
        rows.append(
            render_message(
                partner,
                "meeting_proposal",
                template="meeting_proposal",
                context={
                    "person": partner,
                    "proposer": person,
                    "pairing": found,
                    "place": place,
                    "rescheduling": agreed is not None,
                    # Earlier times they were already sent, which these replace.
                    "replacing": replacing,
                    "choices": [
                        (
                            when(o),
                            _link("meetings.accept_link", "meeting-accept", meeting, partner, i),
                        )
                        for i, o in enumerate(chosen)
                    ],
                    "other_times": _link("meetings.other_times", "meeting-other", meeting, partner),
                },
                program_id=found.program.id,
                dedupe_key=f"meeting_proposal:{meeting.id}:{partner.id}",
                reply_to=[person.email],
            )
        )
    queue_messages(rows)
    return meeting


def _check_times(times: list[datetime], now: datetime, field: str) -> None:
    if min(times) <= now:
        raise DomainError("Every time must be in the future.", field=field)
    if max(times) > now + timedelta(days=AHEAD_DAYS):
        raise DomainError(f"Choose times within the next {AHEAD_DAYS} days.", field=field)


def _close_open(found: Pairing, now: datetime) -> bool:
    """Proposals still waiting for an answer give way to a newer one (their links stop). Their
    e-mails not sent yet are taken back, so the partner gets one e-mail with the times that
    stand; returns whether any was already sent (the new one then says it replaces them)."""
    waiting = list(
        db.session.scalars(sa.select(Meeting).where(found.where(Meeting), Meeting.status.in_(OPEN)))
    )
    if not waiting:
        return False
    for open_one in waiting:
        open_one.status = MeetingStatus.CANCELLED
        open_one.updated_at = now
    keys = sa.or_(*(Message.dedupe_key.like(f"meeting_proposal:{m.id}:%") for m in waiting))
    db.session.execute(
        sa.delete(Message).where(
            Message.kind == "meeting_proposal", keys, Message.status == MessageStatus.QUEUED
        )
    )
    return (
        db.session.scalar(sa.select(Message.id).where(Message.kind == "meeting_proposal", keys))
        is not None
    )


def _agreed(found: Pairing, now: datetime) -> Meeting | None:
    """The pairing's agreed meeting still to come, if any."""
    return db.session.scalar(
        sa.select(Meeting)
        .where(
            found.where(Meeting), Meeting.status == MeetingStatus.AGREED, Meeting.starts_at > now
        )
        .order_by(Meeting.starts_at)
    )


def _link(endpoint: str, purpose: str, meeting: Meeting, person: Person, option: int = -1) -> str:
    token = links.sign(
        purpose,
        {
            "m": meeting.id,
            "p": person.id,
            "o": option,
            "v": links.version(meeting.id, meeting.updated_at),
        },
    )
    return external_url(endpoint, token=token)


def read_link(purpose: str, token: str) -> tuple[Meeting, Person, int]:
    """The meeting, person and option a genuine link stands for; "used" once it was answered
    (or replaced by a newer proposal)."""
    meeting, data = links.read_record(
        purpose,
        token,
        timedelta(days=LINK_DAYS),
        Meeting,
        "m",
        valid=lambda _, data: isinstance(data.get("p"), int),
        version=lambda meeting: links.version(meeting.id, meeting.updated_at),
    )
    return meeting, links.record(Person, data, "p"), int(data.get("o", -1))


# --- answering ----------------------------------------------------------------------------


def accept(person: Person, meeting: Meeting, option: int, now: datetime | None = None) -> Meeting:
    """Agree one of the proposed times: everyone gets the calendar invitation."""
    found = pairing_of(meeting)
    _member(person, found)
    now = now or utc_now()
    if person.id == meeting.proposed_by_id:
        raise DomainError("Your partner chooses one of the times you proposed.")
    if meeting.status is not MeetingStatus.PROPOSED:
        raise DomainError("These times are no longer open: a newer proposal replaced them.")
    if not 0 <= option < len(meeting.options):
        raise DomainError("Choose one of the times proposed.")
    starts = datetime.fromisoformat(meeting.options[option])
    if starts <= now:
        raise DomainError("That time has passed; ask for other times.")
    previous = _agreed(found, now)
    if previous is not None and previous.uid == meeting.uid:
        previous.status = MeetingStatus.CANCELLED
        previous.updated_at = now
        meeting.sequence = previous.sequence + 1
    meeting.status = MeetingStatus.AGREED
    meeting.starts_at = starts
    meeting.updated_at = now
    db.session.flush()
    _send_calendar(found, meeting, now, cancel=False)
    record(
        person,
        "meeting.agreed",
        meeting,
        program_id=found.program.id,
        summary=f"{found.label.capitalize()} agreed for {when(starts)}",
    )
    return meeting


def record_agreed(
    person: Person, found: Pairing, starts: datetime, now: datetime | None = None
) -> Meeting:
    """A time already agreed outside Hallway (a check-in answered "It's scheduled" with its
    time): on everyone's calendar at once, replacing any open proposal or earlier time."""
    _member(person, found)
    now = now or utc_now()
    starts = starts.astimezone(UTC)
    _check_times([starts], now, "scheduled_for")
    _close_open(found, now)
    previous = _agreed(found, now)
    if previous is not None:
        previous.status = MeetingStatus.CANCELLED
        previous.updated_at = now
    meeting = Meeting(
        **found.columns(),
        proposed_by_id=person.id,
        options=[starts.isoformat()],
        status=MeetingStatus.AGREED,
        starts_at=starts,
        uid=previous.uid if previous else f"{uuid.uuid4()}@hallway",
        sequence=previous.sequence + 1 if previous else 0,
        updated_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    _send_calendar(found, meeting, now, cancel=False)
    return meeting


def ask_other_times(person: Person, meeting: Meeting, now: datetime | None = None) -> Meeting:
    found = pairing_of(meeting)
    _member(person, found)
    if meeting.status is not MeetingStatus.PROPOSED:
        raise DomainError("These times are no longer open: a newer proposal replaced them.")
    now = now or utc_now()
    meeting.status = MeetingStatus.OTHER_TIMES
    meeting.updated_at = now
    proposer = meeting.proposed_by
    queue_messages(
        [
            render_message(
                proposer,
                "meeting_update",
                template="meeting_update",
                context={
                    "person": proposer,
                    "other": person,
                    "pairing": found,
                    "change": "other_times",
                    "meeting": meeting,
                    "when": None,
                },
                program_id=found.program.id,
                dedupe_key=f"meeting_other_times:{meeting.id}",
                reply_to=[person.email],
            )
        ]
    )
    return meeting


def cancel(person: Person, meeting: Meeting, now: datetime | None = None) -> Meeting:
    """Call an agreed meeting off: everyone's calendar gets the cancellation."""
    found = pairing_of(meeting)
    _member(person, found)
    if meeting.status is not MeetingStatus.AGREED:
        raise DomainError("Only an agreed meeting can be cancelled.")
    now = now or utc_now()
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.updated_at = now
    _send_calendar(found, meeting, now, cancel=True, by=person)
    return meeting


def _organizer(meeting: Meeting) -> ics.Attendee:
    return ics.Attendee(meeting.proposed_by.name, meeting.proposed_by.email)


def calendar_file(meeting: Meeting, now: datetime, *, cancel: bool = False) -> bytes:
    found = pairing_of(meeting)
    names = " and ".join(p.name for p in found.members)
    return ics.invitation(
        uid=meeting.uid,
        sequence=meeting.sequence,
        starts_at=meeting.starts_at,  # type: ignore[arg-type]
        minutes=meeting.minutes,
        summary=f"{found.label.capitalize()}: {names}",
        description=(
            f"{found.program.name}: {found.label} arranged in Hallway. Afterwards Hallway asks "
            "each of you whether you met."
        ),
        place=meeting.place,
        organizer=_organizer(meeting),
        attendees=[ics.Attendee(p.name, p.email) for p in found.members],
        time_zone=time_zone().key,
        stamp=now,
        cancel=cancel,
    )


def _send_calendar(
    found: Pairing, meeting: Meeting, now: datetime, *, cancel: bool, by: Person | None = None
) -> None:
    calendar = calendar_file(meeting, now, cancel=cancel).decode("utf-8")
    rows = []
    for person in found.members:
        others = [p for p in found.members if p.id != person.id]
        row = render_message(
            person,
            "meeting_update" if cancel else "meeting_invitation",
            template="meeting_update" if cancel else "meeting_invitation",
            context={
                "person": person,
                "others": others,
                "other": by,
                "pairing": found,
                "change": "cancelled",
                "meeting": meeting,
                "when": when(meeting.starts_at),  # type: ignore[arg-type]
            },
            program_id=found.program.id,
            dedupe_key=f"meeting_calendar:{meeting.id}:{meeting.sequence}:{person.id}",
            reply_to=[p.email for p in others],
        )
        rows.append({**row, "calendar": calendar})
    queue_messages(rows)


# --- what a person sees ---------------------------------------------------------------------


def meetings_of(person: Person, now: datetime | None = None) -> dict[tuple[str, int], Meeting]:
    """Each pairing's latest meeting that still matters to the person (open, or agreed and to
    come), keyed by ("assignment" | "chat", id)."""
    now = now or utc_now()
    assignments = sa.select(Assignment.id).where(
        sa.or_(Assignment.mentor_id == person.id, Assignment.trainee_id == person.id)
    )
    chats = sa.select(ChatMember.chat_id).where(ChatMember.person_id == person.id)
    found: dict[tuple[str, int], Meeting] = {}
    for meeting in db.session.scalars(
        sa.select(Meeting)
        .where(
            sa.or_(Meeting.assignment_id.in_(assignments), Meeting.chat_id.in_(chats)),
            sa.or_(
                Meeting.status.in_(OPEN),
                sa.and_(Meeting.status == MeetingStatus.AGREED, Meeting.starts_at > now),
            ),
        )
        .order_by(Meeting.id)
    ):
        found[pairings.ref(meeting)] = meeting
    return found


def may_see(person: Person, meeting: Meeting) -> bool:
    try:
        return person.id in {p.id for p in pairing_of(meeting).members}
    except DomainError:
        return False


# --- the intro's link to propose times ---------------------------------------------------------


def propose_link(kind: str, pairing_id: int, person: Person) -> str:
    """The intro's signed link to the page where the first mover proposes times (opening it
    changes nothing; the page's button sends them)."""
    token = links.sign("meeting-propose", {"k": kind, "i": pairing_id, "p": person.id})
    return external_url("meetings.propose_from_link", token=token)


def read_propose_link(token: str) -> tuple[Pairing, Person]:
    data = links.read("meeting-propose", token, timedelta(days=LINK_DAYS))
    found = pairing(str(data.get("k")), int(data.get("i", 0)))
    person = links.record(Person, data, "p")
    if found is None or person.id not in {p.id for p in found.members}:
        raise links.LinkRefused("invalid")
    return found, person
