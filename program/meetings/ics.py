"""The iCalendar (RFC 5545) invitation for an agreed meeting, with the iTIP method (RFC 5546)
that makes Outlook and Google Calendar show Accept and Decline. No Flask: testable alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODUCT = "-//Hallway//Mentoring and coffee chats//EN"


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


def invitation(
    *,
    uid: str,
    sequence: int,
    starts_at: datetime,
    minutes: int,
    summary: str,
    description: str,
    place: str,
    organizer: Attendee,
    attendees: Sequence[Attendee],
    time_zone: str,
    stamp: datetime,
    cancel: bool = False,
) -> bytes:
    """METHOD:REQUEST (or CANCEL) with the organizer and every attendee, a stable UID and the
    SEQUENCE that tells calendars which version is newest; times in the institution's zone,
    with its VTIMEZONE."""
    zone = ZoneInfo(time_zone)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    local = starts_at.astimezone(zone)
    event.add("dtstart", local)
    event.add("dtend", local + timedelta(minutes=minutes))
    event.add("summary", summary)
    event.add("description", description)
    if place:
        event.add("location", place)
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    chair = vCalAddress(f"mailto:{organizer.email}")
    chair.params["cn"] = vText(organizer.name)
    event.add("organizer", chair)
    for person in attendees:
        address = vCalAddress(f"mailto:{person.email}")
        address.params["cn"] = vText(person.name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address, encode=0)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
