"""Taking part in coffee chats: joining, snoozing and leaving from the home page or a one-click\nlink, a coordinator's bulk opt-in with a reason, and the pause after three unanswered intros."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.enrollment import enrollment_token, snooze_ghosts
from program.coffee.models import ChatMember, Enrollment
from program.coffee.rounds import publish_round
from program.db import utc_now
from program.extensions import db
from program.messages.models import Message
from program.people.models import Person
from program.programs.models import Program
from tests.coffee.conftest import enroll_all
from tests.conftest import login, text_of


def test_join_snooze_and_leave_from_the_home_page(app, client, coffee):
    person = coffee["people"][0]
    login(client, person.email)
    assert "Join the coffee chats" in text_of(client.get("/"))
    response = client.post("/coffee/mine/im", data={"action": "join"}, follow_redirects=True)
    assert "You are in" in text_of(response)
    until = (utc_now().date() + timedelta(days=20)).isoformat()
    response = client.post(
        "/coffee/mine/im", data={"action": "snooze", "until": until}, follow_redirects=True
    )
    assert "Snoozed until" in text_of(response)
    response = client.post(
        "/coffee/mine/im", data={"action": "snooze", "until": "2020-01-01"}, follow_redirects=True
    )
    assert "Choose a date after today and within a year." in text_of(response)
    client.post("/coffee/mine/im", data={"action": "leave"})
    client.post("/coffee/mine/im", data={"action": "join"})
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Enrollment).where(Enrollment.person_id == person.id).order_by(Enrollment.id)
        ).all()
    # History is kept: a closed period, then a new one.
    assert [r.withdrawn_at is not None for r in rows] == [True, False]


def test_someone_outside_the_program_cannot_join(app, client, make, coffee):
    outsider = make.trainee(make.program("Surgery", slug="surgery"))
    login(client, outsider.email)
    assert client.post("/coffee/mine/im", data={"action": "join"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0


def test_an_email_link_only_shows_the_choice_until_confirmed(app, client, coffee):
    person = coffee["people"][1]
    enroll_all(app, coffee["program"], [person])
    with app.test_request_context():
        token = enrollment_token(person.id, coffee["program"].id)
    page = client.get(f"/coffee/{token}?do=leave")
    assert page.status_code == 200 and "Leave the coffee chats" in text_of(page)
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.withdrawn_at)) is None  # GET wrote nothing
    response = client.post(f"/coffee/{token}", data={"action": "leave"})
    assert "You have left the coffee chats" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.withdrawn_at)) is not None
    assert client.get(f"/coffee/{token}x").status_code == 400
    # The same link opened again after leaving says so and offers to rejoin, not to leave.
    again = text_of(client.get(f"/coffee/{token}?do=leave"))
    assert (
        f"You left the coffee chats of Internal Medicine Residency on {utc_now():%-d %B %Y}"
        in again
    )
    assert "Rejoin the coffee chats" in again and "Leave the coffee chats" not in again
    rejoined = client.post(f"/coffee/{token}", data={"action": "join"})
    assert "You are in" in text_of(rejoined)


def test_bulk_opt_in_needs_a_reason_and_tells_each_person(app, client, coffee):
    login(client, coffee["coordinator"].email)
    response = client.post("/programs/im/coffee/enroll", data={"reason": ""}, follow_redirects=True)
    assert "Say why these people are opted in" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
    asked = text_of(
        client.post("/programs/im/coffee/enroll", data={"reason": "orientation consent form 2026"})
    )
    assert "Opt everyone in to the coffee chats? This e-mails 7 people." in asked
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
    response = client.post(
        "/programs/im/coffee/enroll",
        data={"reason": "orientation consent form 2026", "confirmed": "yes"},
        follow_redirects=True,
    )
    # The seven trainees; never the coordinator, who may join on their own.
    assert "7 people opted in" in text_of(response)
    with app.app_context():
        notes = set(db.session.scalars(sa.select(Enrollment.consent_note)))
        told = db.session.scalar(
            sa.select(sa.func.count()).where(Message.kind == "coffee_enrolled")
        )
        body = db.session.scalar(
            sa.select(Message.body_text).where(Message.kind == "coffee_enrolled")
        )
    assert notes == {"orientation consent form 2026"} and told == 7
    assert "orientation consent form 2026" in body and "/coffee/" in body
    again = client.post(
        "/programs/im/coffee/enroll", data={"reason": "second time"}, follow_redirects=True
    )
    assert "0 people opted in" in text_of(again)


def test_bulk_opt_in_never_re_enrols_someone_who_opted_out(app, client, coffee):
    """Opted out the same day, or any day before: skipped with the reason, no server error."""
    login(client, coffee["coordinator"].email)
    client.post(
        "/programs/im/coffee/enroll",
        data={"reason": "orientation consent form", "confirmed": "yes"},
    )
    with app.test_request_context():
        from program.coffee.enrollment import withdraw

        trainee = db.session.get(Person, coffee["people"][0].id)
        withdraw(trainee, db.session.get(Program, coffee["program"].id))
        db.session.commit()
        name, trainee_id = trainee.name, trainee.id
        told_before = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
    answer = client.post(
        "/programs/im/coffee/enroll", data={"reason": "second consent drive"}, follow_redirects=True
    )
    page = text_of(answer)
    assert answer.status_code == 200 and "0 people opted in" in page
    assert "opted out themselves" in page and name in page
    with app.app_context():
        open_rows = db.session.scalar(
            sa.select(sa.func.count()).where(
                Enrollment.person_id == trainee_id, Enrollment.withdrawn_at.is_(None)
            )
        )
        assert open_rows == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == told_before


def test_three_unanswered_intros_pause_someone_and_one_click_brings_them_back(app, client, coffee):
    program = coffee["program"]
    people = coffee["people"][:4]
    start = utc_now() - timedelta(days=80)
    enroll_all(app, program, people, when=start)
    ghost = people[0]
    with app.app_context():
        for month in range(3):
            when = start + timedelta(days=30 * month)
            round_ = publish_round(None, db.session.get(Program, program.id), now=when)
            for member in db.session.scalars(
                sa.select(ChatMember).where(ChatMember.round_id == round_.id)
            ):
                answered = member.person_id != ghost.id
                db.session.add(
                    CheckIn(
                        person_id=member.person_id,
                        chat_id=member.chat_id,
                        period_start=round_.scheduled_for,
                        asked_at=when + timedelta(days=7),
                        status=CheckInStatus.MET if answered else None,
                        answered_at=when + timedelta(days=8) if answered else None,
                    )
                )
        db.session.commit()
        # Not before the last question has had its time to be answered.
        assert snooze_ghosts(start + timedelta(days=60 + 8)) == 0
        assert snooze_ghosts(start + timedelta(days=60 + 14)) == 1
        db.session.commit()
        enrollment = db.session.scalar(
            sa.select(Enrollment).where(Enrollment.person_id == ghost.id)
        )
        assert enrollment.snooze_reason == "unanswered" and enrollment.snoozed_until
        notice = db.session.scalar(sa.select(Message).where(Message.kind == "coffee_paused"))
        assert notice.to_address == ghost.email and "/coffee/" in notice.body_text
        # The coordinators' dashboard lists paused people, so the e-mail says who sees it.
        assert "Only your program coordinators see that your chats are paused" in notice.body_text
        assert "Nobody else is told" not in notice.body_text
        assert snooze_ghosts(start + timedelta(days=90)) == 0  # told once
    login(client, ghost.email)
    assert "Come back now" in text_of(client.get("/"))
    client.post("/coffee/mine/im", data={"action": "join"})
    with app.app_context():
        assert snooze_ghosts(start + timedelta(days=100)) == 0  # a fresh start
        current = db.session.scalar(
            sa.select(Enrollment).where(
                Enrollment.person_id == ghost.id, Enrollment.withdrawn_at.is_(None)
            )
        )
        assert current.snoozed_until is None
