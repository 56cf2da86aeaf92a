"""Times proposed, one accepted in a click, and the invitation on both calendars: iCalendar with
METHOD, ORGANIZER, ATTENDEE, UID, SEQUENCE and a time zone; updates and cancellations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from icalendar import Calendar

from program.admin.models import InstitutionSettings
from program.db import utc_now
from program.extensions import db
from program.meetings.models import Meeting, MeetingStatus
from program.messages.models import Message
from program.messages.sending import send_due
from program.people.models import CareerStage
from tests.conftest import login, outbox, text_of
from tests.smtp import SmtpServer


def pair(app, make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. Miguel Santos", stage=CareerStage.SENIOR_FACULTY)
    trainee = make.trainee(program, name="Priya Natarajan", stage=CareerStage.PGY1)
    assignment = make.assignment(term, mentor, trainee)
    with app.app_context():
        db.session.add(
            InstitutionSettings(
                id=1,
                name="Riverside",
                suppression_threshold=5,
                mail_sender="mentoring@riverside.example.edu",
                time_zone="America/New_York",
            )
        )
        db.session.commit()
    return mentor, trainee, assignment


def links_in(app, kind: str, to: str) -> list[str]:
    with app.app_context():
        found = outbox(Message.kind == kind, Message.to_address == to)
        body = found[0].body_text if found else None
    return [u for u in re.findall(r"http://\S+", body or "") if "/account/" not in u]


def future(days: int, hour: int) -> str:
    day = (utc_now() + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def test_propose_accept_and_both_calendars_get_the_invitation(app, client, make):
    mentor, trainee, assignment = pair(app, make)
    login(client, trainee.email)
    page = client.get(f"/meetings/new/assignment/{assignment}")
    assert "Times are in America/New_York" in text_of(page)
    sent = client.post(
        f"/meetings/new/assignment/{assignment}",
        data={"first": future(3, 10), "second": future(4, 14), "place": "Café on 2"},
    )
    assert "Times sent" in text_of(sent)
    client.post("/logout")
    # The mentor's e-mail: one link per time, and one to ask for others.
    accept, *rest = links_in(app, "meeting_proposal", mentor.email)
    assert len(rest) == 2 and "/other-times/" in rest[-1]
    # Opening the link (as a mail scanner would) changes nothing.
    shown = client.get(accept.replace("http://localhost", ""))
    assert "10:00" in text_of(shown)
    with app.app_context():
        assert db.session.scalar(sa.select(Meeting.status)) is MeetingStatus.PROPOSED
    done = client.post(accept.replace("http://localhost", ""), data={})
    assert "Agreed" in text_of(done)
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting))
        assert meeting.status is MeetingStatus.AGREED and meeting.sequence == 0
        # 10:00 in New York is 15:00 UTC (EST) or 14:00 (EDT).
        assert meeting.starts_at.astimezone(UTC).hour in (14, 15)
    # The link is used now, and says so (not as if it were a check-in).
    again = client.post(accept.replace("http://localhost", ""), data={})
    assert again.status_code == 400 and "already been used" in text_of(again)
    assert "check-in" not in text_of(again)
    with SmtpServer() as smtp:
        app.config.update(smtp.config())
        with app.app_context():
            send_due()
        invitations = [
            m for m in smtp.messages if "set for" in m["Subject"] or "with" in m["Subject"]
        ]
    calendars = {}
    for message in smtp.messages:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                assert part.get_param("method") == "REQUEST"
                calendars[message["To"]] = Calendar.from_ical(part.get_content())
    assert set(calendars) == {mentor.email, trainee.email} and invitations
    cal = calendars[mentor.email]
    event = next(e for e in cal.walk("VEVENT"))
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["ORGANIZER"]) == f"mailto:{trainee.email}"
    assert {str(a) for a in event["ATTENDEE"]} == {
        f"mailto:{mentor.email}",
        f"mailto:{trainee.email}",
    }
    assert event["UID"] and int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].dt.tzinfo is not None and "America/New_York" in str(
        event["DTSTART"].params.get("TZID")
    )
    assert any(c.name == "VTIMEZONE" for c in cal.walk()) and str(event["LOCATION"]) == "Café on 2"


def test_moving_keeps_the_uid_and_raises_the_sequence_and_cancelling_sends_a_cancel(
    app, client, make
):
    mentor, trainee, assignment = pair(app, make)
    login(client, trainee.email)
    client.post(f"/meetings/new/assignment/{assignment}", data={"first": future(3, 10)})
    client.post("/logout")
    login(client, mentor.email)
    with app.app_context():
        meeting_id = db.session.scalar(sa.select(Meeting.id))
    client.post(f"/meetings/{meeting_id}/accept/0", data={})
    # The mentor moves it: new times; the trainee accepts one.
    client.post(f"/meetings/new/assignment/{assignment}", data={"first": future(5, 9)})
    client.post("/logout")
    login(client, trainee.email)
    with app.app_context():
        first, moved = db.session.scalars(sa.select(Meeting).order_by(Meeting.id)).all()
        assert first.status is MeetingStatus.AGREED and moved.uid == first.uid
    client.post(f"/meetings/{moved.id}/accept/0", data={})
    with app.app_context():
        first, moved = db.session.scalars(sa.select(Meeting).order_by(Meeting.id)).all()
        assert first.status is MeetingStatus.CANCELLED and moved.status is MeetingStatus.AGREED
        assert moved.sequence == 1
    ics = client.get(f"/meetings/{moved.id}/invitation.ics")
    assert ics.mimetype == "text/calendar" and b"SEQUENCE:1" in ics.data
    client.post(f"/meetings/{moved.id}/cancel", data={})
    with app.app_context():
        cancelled = db.session.get(Meeting, moved.id)
        assert cancelled.status is MeetingStatus.CANCELLED and cancelled.sequence == 2
        last = db.session.scalars(
            sa.select(Message.calendar).where(Message.kind == "meeting_update")
        ).all()
    assert last and all("METHOD:CANCEL" in c and "SEQUENCE:2" in c for c in last)


def test_refusals_write_nothing(app, client, make):
    _mentor, trainee, assignment = pair(app, make)
    outsider = make.trainee(make.program(slug="other"))
    login(client, outsider.email)
    assert client.get(f"/meetings/new/assignment/{assignment}").status_code == 404
    client.post("/logout")
    login(client, trainee.email)
    past = (utc_now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/meetings/new/assignment/{assignment}", data={"first": past})
    assert "Every time must be in the future" in text_of(page)
    far = (utc_now() + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/meetings/new/assignment/{assignment}", data={"first": far})
    assert "within the next 90 days" in text_of(page)
    page = client.post(f"/meetings/new/assignment/{assignment}", data={})
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_the_intro_carries_a_scanner_safe_link_to_propose_times(app, client, make):
    program = make.program("MD Program", slug="md")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. A", stage=CareerStage.SENIOR_FACULTY)
    trainee = make.trainee(program, name="B", stage=CareerStage.MS2)
    make.assignment(term, mentor, trainee, introduced=True)
    (link,) = [u for u in links_in(app, "intro", trainee.email) if "/meetings/propose/" in u]
    assert not [u for u in links_in(app, "intro", mentor.email) if "/meetings/propose/" in u]
    path = link.replace("http://localhost", "")
    assert "Propose times" in text_of(client.get(path))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
    client.post(path, data={"first": future(2, 12), "second": future(3, 12)})
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting))
        assert meeting.proposed_by_id == trainee.id and len(meeting.options) == 2


def test_a_chat_with_an_agreed_time_is_asked_about_the_day_after_it(app, make):
    from program.checkins.models import CheckIn
    from program.checkins.schedule import schedule_due
    from program.meetings.services import accept, propose
    from program.pairings import pairing
    from program.people.models import Person

    program = make.program("MD Program", slug="md")
    a, b = make.trainee(program), make.mentor(program)
    published = datetime(2026, 10, 1, 9, tzinfo=UTC)
    chat_id = make.chat(make.coffee_round(program, published), a, b)
    with app.test_request_context():
        meeting_at = published + timedelta(days=12)
        found = pairing("chat", chat_id)
        meeting = propose(db.session.get(Person, a.id), found, [meeting_at], now=published)
        accept(db.session.get(Person, b.id), meeting, 0, now=published + timedelta(hours=1))
        db.session.commit()
        # The usual delay (7 days) has passed, but the meeting has not: nobody is asked yet.
        assert schedule_due(published + timedelta(days=8))["check_ins"] == 0
        assert schedule_due(meeting_at + timedelta(hours=23))["check_ins"] == 0
        assert schedule_due(meeting_at + timedelta(days=1, hours=1))["check_ins"] == 2
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 2


def test_answering_its_scheduled_with_a_time_sends_the_same_invitation(app, client, make):
    _mentor, trainee, assignment = pair(app, make)
    check_in = make.check_in(trainee, assignment)
    login(client, trainee.email)
    response = client.post(
        f"/check-ins/{check_in}",
        data={"status": "scheduled", "scheduled_for": future(6, 16)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting))
        assert meeting.status is MeetingStatus.AGREED and meeting.proposed_by_id == trainee.id
        calendars = db.session.scalars(
            sa.select(Message.calendar).where(Message.kind == "meeting_invitation")
        ).all()
    assert len(calendars) == 2 and all("METHOD:REQUEST" in c for c in calendars)
    # A time with any other answer is refused, and nothing is written.
    other = make.check_in(trainee, assignment, period_start=(utc_now() - timedelta(days=40)).date())
    refused = client.post(
        f"/check-ins/{other}", data={"status": "met", "scheduled_for": future(6, 16)}
    )
    assert "goes with “It's scheduled” only" in text_of(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 1


def test_the_same_time_twice_is_refused_and_a_new_proposal_replaces_the_waiting_one(
    app, client, make
):
    mentor, trainee, assignment = pair(app, make)
    login(client, trainee.email)
    url = f"/meetings/new/assignment/{assignment}"
    twice = text_of(client.post(url, data={"first": future(3, 15), "second": future(3, 15)}))
    assert "more than once; propose different times" in twice
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
    # Two proposals before the first e-mail went: the mentor gets one, with the times that stand.
    client.post(url, data={"first": future(3, 15)})
    client.post(url, data={"first": future(4, 16), "place": "Café on 2"})
    with app.app_context():
        waiting = outbox(Message.kind == "meeting_proposal", Message.to_address == mentor.email)
        assert len(waiting) == 1 and "Café on 2" in waiting[0].body_text
        assert "The times changed" not in waiting[0].body_text
    with SmtpServer() as smtp:
        app.config.update(smtp.config())
        with app.app_context():
            send_due()
        assert len(smtp.messages) == 1
    # Once one was sent, a new proposal says it replaces those times.
    client.post(url, data={"first": future(5, 10)})
    with app.app_context():
        newest = outbox(Message.kind == "meeting_proposal", Message.to_address == mentor.email)[-1]
        assert "The times changed: these replace the times Priya Natarajan suggested" in (
            newest.body_text
        )


def test_no_field_is_cut_in_silence_its_limit_is_told_and_longer_text_refused(app, client, make):
    """No form field carries a browser maxlength (which cuts pasted text without a word):
    it carries its limit for the page's counter, and the server refuses longer text."""
    _mentor, trainee, assignment = pair(app, make)
    login(client, trainee.email)
    url = f"/meetings/new/assignment/{assignment}"
    page = client.get(url).get_data(as_text=True)
    assert "maxlength" not in page and 'data-max-length="200"' in page
    refused = text_of(client.post(url, data={"first": future(3, 15), "place": "x" * 201}))
    assert "200" in refused and "longer than" in refused
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
