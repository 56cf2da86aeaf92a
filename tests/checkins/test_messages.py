"""The outbox: sending through a real SMTP server, retries, exactly-once, and `flask tick`."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from program import create_app
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.schedule import schedule_due
from program.db import utc_now
from program.extensions import db
from program.messages.models import Message, MessageStatus
from program.messages.sending import send_due
from program.messages.services import queue_message
from program.people.models import MailPreference, Person
from tests.accounts.test_accounts import count, snapshot
from tests.checkins.conftest import STARTED
from tests.conftest import CsrfClient, make_config, text_of
from tests.smtp import SmtpServer


def tick(app, now: datetime) -> dict[str, int]:
    """What `flask tick` does, at a chosen time."""
    with app.test_request_context():
        counts = schedule_due(now)
        db.session.commit()
        return counts


def statuses(app) -> dict[str, int]:
    with app.app_context():
        return dict(
            (s.value, n)
            for s, n in db.session.execute(
                sa.select(Message.status, sa.func.count()).group_by(Message.status)
            ).all()
        )


class TestTick:
    def test_prompts_come_a_week_after_the_intro_once_then_one_reminder(self, app, pair):
        with app.app_context():
            db.session.execute(sa.delete(CheckIn))
            db.session.commit()
        assert tick(app, STARTED + timedelta(days=3))["prompts"] == 0  # too early to ask
        october_8 = STARTED + timedelta(days=7, hours=1)
        assert tick(app, october_8) == {"check_ins": 2, "prompts": 2, "reminders": 0}
        before = snapshot(app)
        assert tick(app, october_8 + timedelta(hours=1)) == {
            "check_ins": 2,
            "prompts": 0,
            "reminders": 0,
        }
        assert snapshot(app) == before  # tick twice = once
        assert tick(app, october_8 + timedelta(days=4))["reminders"] == 0
        assert tick(app, october_8 + timedelta(days=5))["reminders"] == 2
        assert tick(app, october_8 + timedelta(days=6))["reminders"] == 0  # one reminder only
        with app.app_context():
            kinds = sorted(db.session.scalars(sa.select(Message.kind)))
        assert kinds == ["checkin_prompt", "checkin_prompt", "reminder", "reminder"]
        # November brings the monthly check-in.
        november = tick(app, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        assert november["prompts"] == 2

    def test_no_reminder_for_answered_or_essential_only(self, app, pair):
        with app.app_context():
            db.session.execute(sa.delete(CheckIn))
            db.session.get(Person, pair["mentor"].id).mail_preference = MailPreference.ESSENTIAL
            db.session.commit()
        october_8 = STARTED + timedelta(days=7, hours=1)
        tick(app, october_8)
        with app.app_context():
            answered = db.session.scalar(
                sa.select(CheckIn).where(CheckIn.person_id == pair["trainee"].id)
            )
            answered.status, answered.answered_at = CheckInStatus.NOT_YET, utc_now()
            db.session.commit()
        assert tick(app, october_8 + timedelta(days=10))["reminders"] == 0

    def test_the_same_queries_for_ten_pairs_and_chats_as_for_sixty(self, app, add_pairs):
        """Each prompt's people and pairing are loaded up front (a lazy load in the loop is
        refused), so the tick's queries do not grow with the number of pairs and chats."""
        from tests.conftest import QueryCounter

        def queries(now: datetime) -> tuple[int, dict[str, int]]:
            with QueryCounter(app) as counter:
                counts = tick(app, now)
            return counter.count, counts

        october_8 = STARTED + timedelta(days=7, hours=1)
        add_pairs(10)
        few, counts = queries(october_8)
        assert counts == {"check_ins": 40, "prompts": 40, "reminders": 0}
        few_reminders, counts = queries(october_8 + timedelta(days=5))
        assert counts["reminders"] == 40
        add_pairs(50)
        many, counts = queries(datetime(2026, 11, 8, 10, tzinfo=UTC))
        assert counts["prompts"] == 60 * 2 + 50 * 2  # November's, and the new chats'
        many_reminders, counts = queries(datetime(2026, 11, 13, 10, tzinfo=UTC))
        assert counts["reminders"] == 220
        assert (many, many_reminders) == (few, few_reminders)

    def test_the_tick_command(self, app, pair):
        result = app.test_cli_runner().invoke(args=["tick"])
        assert result.exit_code == 0, result.output
        assert "prompts and" in result.output and "reminders queued" in result.output
        assert "coffee rounds published" in result.output


class TestSending:
    def test_send_with_no_mail_server_says_why_and_where_the_demos_mail_is(self, app, pair):
        import socket

        run_tick_prompts(app)
        with socket.socket() as free:  # a port nothing listens on
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        result = app.test_cli_runner().invoke(args=["messages", "send"])
        assert "0 sent, 2 to retry later, 0 failed." in result.output
        assert f"Nothing could be sent through the mail server at 127.0.0.1:{port}: " in (
            result.output
        )
        assert "ConnectionRefusedError" in result.output and "/demo/inbox" in result.output
        assert statuses(app) == {"queued": 2}

    def test_send_delivers_both_parts_with_working_links(self, app, pair):
        run_tick_prompts(app)
        with SmtpServer() as smtp:
            app.config.update(smtp.config())
            result = app.test_cli_runner().invoke(args=["messages", "send"])
            assert "2 sent, 0 to retry later, 0 failed." in result.output
            received = {m["To"]: m for m in smtp.messages}
        assert statuses(app) == {"sent": 2}
        email = received[pair["trainee"].email]
        assert email["Subject"] == "Did you meet Dr. Miguel Santos?"
        assert email["From"] == app.config["MAIL_DEFAULT_SENDER"]
        assert email["Message-ID"] and email["Auto-Submitted"] == "auto-generated"
        text = email.get_body(("plain",)).get_content()
        html = email.get_body(("html",)).get_content()
        assert "We met: http://localhost/checkin/" in text
        assert "Choose how much e-mail you get: http://localhost/account/notifications" in text
        assert 'href="http://localhost/checkin/' in html
        # The link from the e-mail works: it opens the answer page and records on confirm.
        path = re.search(r"We met: http://localhost(/checkin/\S+)", text).group(1)
        client = app.test_client()
        assert client.get(path).status_code == 200
        assert client.post(path, data={"status": "met"}).status_code == 200
        with app.app_context():
            check_in = db.session.scalar(
                sa.select(CheckIn).where(CheckIn.person_id == pair["trainee"].id)
            )
            assert check_in.status.value == "met"

    def test_each_message_is_sent_once_even_if_send_runs_again(self, app, pair):
        run_tick_prompts(app)
        with SmtpServer() as smtp:
            app.config.update(smtp.config())
            send_twice = [app.test_cli_runner().invoke(args=["messages", "send"]) for _ in range(2)]
            assert "0 sent" in send_twice[1].output
            assert len(smtp.messages) == 2

    def test_an_unreachable_server_is_retried_with_backoff_then_failed(self, app, pair):
        run_tick_prompts(app)
        app.config.update(
            {
                "MAIL_TRANSPORT": "smtp",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": 9,
                "SMTP_TIMEOUT": 2,
                "MESSAGE_MAX_ATTEMPTS": 2,
            }
        )
        with app.app_context():
            report = send_due()
            assert (report.sent, report.retried) == (0, 2)
            message = db.session.scalar(sa.select(Message))
            assert message.status is MessageStatus.QUEUED and message.attempts == 1
            assert message.next_attempt_at > utc_now() + timedelta(seconds=90)
            assert message.last_error
            assert send_due().retried == 0  # not due yet
            report = send_due(now=utc_now() + timedelta(hours=1))
            assert report.failed == 2
        assert statuses(app) == {"failed": 2}

    def test_a_refused_recipient_fails_at_once(self, app, pair):
        run_tick_prompts(app)
        with SmtpServer() as smtp:
            smtp.recorder.refuse.add(pair["mentor"].email)
            app.config.update(smtp.config())
            with app.app_context():
                report = send_due()
        assert (report.sent, report.failed, report.retried) == (1, 1, 0)

    def test_names_are_escaped_in_html_and_plain_in_text(self, app, make):
        person = make.person('<b onmouseover="x">Bobby</b> & Co')
        with SmtpServer() as smtp:
            app.config.update(smtp.config())
            with app.test_request_context():
                from program.accounts.services import send_invitation

                send_invitation(db.session.get(Person, person.id), None)
                db.session.commit()
                send_due()
            email = smtp.messages[0]
        html = email.get_body(("html",)).get_content()
        assert (
            "<b onmouseover" not in html
            and "&lt;b onmouseover=&#34;x&#34;&gt;Bobby&lt;/b&gt; &amp; Co" in html
        )
        assert '<b onmouseover="x">Bobby</b> & Co' in email.get_body(("plain",)).get_content()


def run_tick_prompts(app):
    with app.app_context():
        db.session.execute(sa.delete(CheckIn))
        db.session.commit()
    assert tick(app, STARTED + timedelta(days=8))["prompts"] == 2


@pytest.mark.skipif(
    not __import__("os").environ.get("TEST_DATABASE_URL"), reason="row locks need PostgreSQL"
)
def test_two_workers_in_parallel_send_each_message_exactly_once(app, database_url, make):
    person = make.person()
    with app.test_request_context():
        recipient = db.session.get(Person, person.id)
        for n in range(1000):
            queue_message(
                recipient,
                "invitation",
                template="invitation",
                context={
                    "person": recipient,
                    "invited_by": None,
                    "program_name": f"P{n}",
                    "link": "http://localhost/x",
                    "valid_days": 1,
                },
            )
        db.session.commit()
    with SmtpServer() as smtp:
        reports = []

        def worker():
            worker_app = create_app(make_config(database_url, **smtp.config()))
            worker_app.test_client_class = CsrfClient
            with worker_app.app_context():
                reports.append(send_due())
                db.engine.dispose()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 1000 == len(set(subjects))
    assert sum(r.sent for r in reports) == 1000
    assert all(r.sent > 0 for r in reports), "both workers took part"
    assert statuses(app) == {"sent": 1000}
    assert count(app, Message) == 1000


def test_demo_inbox_shows_mail_only_in_demo_mode(app, client, make):
    person = make.person("Priya")
    with app.test_request_context():
        from program.accounts.services import send_invitation

        send_invitation(db.session.get(Person, person.id), None)
        db.session.commit()
        message_id = db.session.scalar(sa.select(Message.id))
    assert client.get("/demo/inbox").status_code == 404
    app.config["DEMO"] = True
    page = client.get("/demo/inbox")
    assert "You are invited to Hallway" in text_of(page)
    assert client.get(f"/demo/inbox/{message_id}").status_code == 200
    raw = client.get(f"/demo/inbox/{message_id}/html")
    assert "default-src 'none'" in raw.headers["Content-Security-Policy"]
    assert '<base target="_top">' in raw.get_data(as_text=True)


def test_demo_inbox_groups_by_login_opens_on_the_newest_and_the_banner_leads_there(
    app, client, make
):
    from seed.demo import email_for

    trainee = make.person("Demo Trainee", email=email_for("trainee1"))
    with app.test_request_context():
        from program.accounts.services import send_invitation, send_password_reset

        send_invitation(db.session.get(Person, trainee.id), None)
        db.session.commit()
        old = db.session.scalar(sa.select(Message))
        old.created_at = old.created_at - timedelta(days=30)  # written a month ago
        send_password_reset(email_for("trainee1"))
        db.session.commit()
        newest = db.session.scalar(sa.select(Message).order_by(Message.created_at.desc()))
    app.config["DEMO"] = True
    page = text_of(client.get("/demo/inbox"))
    trainee1 = email_for("trainee1")
    assert f"Trainee {trainee1} 2 e-mails to {trainee1} Newest: {newest.subject}" in page
    assert "Coordinator (MD program)" in page
    banner = client.get("/demo/inbox").get_data(as_text=True)
    assert f'href="/demo/inbox/latest?to={email_for("trainee1")}"' in banner
    jump = client.get(f"/demo/inbox/latest?to={email_for('trainee1')}")
    assert jump.headers["Location"].endswith(f"/demo/inbox/{newest.id}")
    assert (
        client.get("/demo/inbox/latest?to=nobody@example.edu")
        .headers["Location"]
        .endswith("/demo/inbox?to=nobody@example.edu")
    )
    theirs = text_of(client.get(f"/demo/inbox?to={email_for('trainee1')}"))
    assert f"Newest: {newest.subject}" in theirs
