"""Bulk mail is queued as what to write and written by the sender just before it goes: from the
data as it then is, kept in the outbox as sent, and a message that cannot be written fails
alone, saying why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

import program.messages.composing as composing
import program.messages.registry as registry
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import record_check_in
from program.extensions import db
from program.formal.models import Assignment
from program.messages.models import Message, MessageStatus
from program.people.models import Person
from tests.checkins.conftest import STARTED
from tests.checkins.test_mail_for_real import rows, send
from tests.conftest import login, text_of
from tests.smtp import SmtpServer


def publish(app, make, slug: str = "im") -> tuple[int, int, int]:
    """A formal pair published in a new program: its two introductions queued."""
    program = make.program(f"Internal Medicine Residency {slug}", slug=slug)
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. Miguel Santos")
    trainee = make.trainee(program, name=f"Priya Natarajan {slug}")
    return mentor.id, trainee.id, make.assignment(term, mentor, trainee, introduced=True)


def test_queued_as_a_short_row_and_written_by_the_sender_as_it_goes(app, make):
    mentor, trainee, _ = publish(app, make)
    queued = rows(app)
    assert [m.kind for m in queued] == ["intro", "intro"]
    assert all(m.subject is None and m.body_text is None for m in queued)
    assert all(m.template == "intro" and m.assignment_id for m in queued)
    with app.app_context():  # a name corrected after queueing: the e-mail carries the new one
        db.session.get(Person, mentor).name = "Dr. Miguel Santos-Ortiz"
        db.session.commit()
    with SmtpServer() as smtp:
        report = send(app, smtp)
        received = {m["To"]: m for m in smtp.messages}
    assert report.sent == 2
    sent = {m.recipient_id: m for m in rows(app)}
    to_trainee = received[sent[trainee].to_address]
    assert to_trainee["Subject"] == "Internal Medicine Residency im: meet Dr. Miguel Santos-Ortiz"
    text = to_trainee.get_body(("plain",)).get_content()
    assert "Dr. Miguel Santos-Ortiz" in text and "/meetings/propose/" in text
    # The outbox keeps what was sent, word for word.
    assert sent[trainee].subject == to_trainee["Subject"]
    assert sent[trainee].body_text.strip() == text.strip()
    assert all(m.status is MessageStatus.SENT for m in sent.values())


def test_a_message_about_something_gone_fails_alone_and_says_why(app, make, client):
    _, trainee, assignment = publish(app, make)
    with app.app_context():
        db.session.execute(sa.delete(Assignment).where(Assignment.id == assignment))
        db.session.commit()
    _, other_trainee, _ = publish(app, make, "surgery")
    with SmtpServer() as smtp:
        report = send(app, smtp)
        assert len(smtp.messages) == 2
    assert (report.sent, report.failed) == (2, 2)
    by_recipient = {m.recipient_id: m for m in rows(app)}
    gone = by_recipient[trainee]
    assert gone.status is MessageStatus.FAILED and gone.last_error == composing.GONE
    assert by_recipient[other_trainee].status is MessageStatus.SENT
    # The admin's mail page lists it among the failures, with the reason.
    admin = make.admin()
    login(client, admin.email)
    page = text_of(client.get("/admin/mail"))
    assert "Intro (not written: see why)" in page and composing.GONE in page


def test_a_composer_that_breaks_fails_its_messages_and_the_rest_go(app, make, monkeypatch):
    _, trainee_id, assignment_id = publish(app, make)
    with app.test_request_context():  # and the follow-ups of a first meeting: another composer
        trainee = db.session.get(Person, trainee_id)
        check_in = CheckIn(
            person_id=trainee.id, assignment_id=assignment_id, period_start=datetime.now(UTC).date()
        )
        db.session.add(check_in)
        db.session.commit()
        record_check_in(trainee, check_in, CheckInStatus.MET)
        db.session.execute(
            sa.update(Message)
            .where(Message.kind == "update_nudge")
            .values(next_attempt_at=datetime.now(UTC))
        )
        db.session.commit()

    def broken(messages):
        raise RuntimeError("the template store is unreachable")

    monkeypatch.setitem(registry._composers, "intro", [broken])
    with SmtpServer() as smtp:
        report = send(app, smtp)
        kinds = sorted(m["X-Hallway-Kind"] for m in smtp.messages)
    assert kinds == ["thank_you_nudge", "update_nudge"]
    assert report.failed == 2
    intros = [m for m in rows(app) if m.kind == "intro"]
    assert all(m.status is MessageStatus.FAILED for m in intros)
    assert all("the template store is unreachable" in m.last_error for m in intros)


def test_the_demo_inbox_shows_a_queued_message_written(app, make, client):
    app.config["DEMO"] = True
    _, trainee, _ = publish(app, make)
    with app.app_context():
        message = db.session.scalar(sa.select(Message).where(Message.recipient_id == trainee))
    page = client.get(f"/demo/inbox/{message.id}")
    assert page.status_code == 200
    assert "meet Dr. Miguel Santos" in page.get_data(as_text=True)
    html = client.get(f"/demo/inbox/{message.id}/html").get_data(as_text=True)
    assert "Dr. Miguel Santos" in html
    written = next(m for m in rows(app) if m.id == message.id)
    assert written.body_text and written.status is MessageStatus.QUEUED  # shown, not sent


def test_a_subject_arrives_without_a_leading_space_whatever_its_letters(app, make):
    program = make.program("Résidence de médecine interne du Québec, promotion 2026", slug="q")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. José Núñez-Ortiz")
    trainee = make.trainee(program, name="Zoë Brontë")
    make.assignment(term, mentor, trainee, introduced=True)
    with SmtpServer() as smtp:
        send(app, smtp)
        subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == [
        "Résidence de médecine interne du Québec, promotion 2026: meet Dr. José Núñez-Ortiz",
        "Résidence de médecine interne du Québec, promotion 2026: meet Zoë Brontë",
    ]


def test_writing_a_batch_takes_the_same_queries_for_ten_pairs_as_for_sixty(app, add_pairs):
    """Prompts, reminders, intros and follow-ups are written from what their composers load up
    front, a batch at a time (a lazy load in the loop is refused): writing them does not cost a
    query per message."""
    from tests.checkins.test_messages import tick
    from tests.conftest import QueryCounter

    def writing() -> tuple[int, int]:
        with app.test_request_context():
            messages = db.session.scalars(sa.select(Message).where(Message.body_text.is_(None)))
            batch = list(messages)
            with QueryCounter(app) as counter:
                refused = composing.write_out(batch)
            assert refused == {} and all(m.written for m in batch)
            db.session.commit()
            return counter.count, len(batch)

    add_pairs(10)
    tick(app, STARTED + timedelta(days=7, hours=1))
    few, written = writing()
    assert written == 40
    add_pairs(50)
    tick(app, datetime(2026, 11, 8, 10, tzinfo=UTC))
    many, written = writing()
    assert (
        written == 60 * 2 + 50 * 2 + 40
    )  # November's prompts, the new chats', October's reminders
    assert many == few
