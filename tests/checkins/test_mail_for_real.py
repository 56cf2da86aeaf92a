"""Mail the way institutions' servers take it: each message on its own, internationalised
addresses, rate limits, "slow down", one-click unsubscribe, bounces, and never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

import program.messages.sending as sending
from program.db import utc_now
from program.extensions import db
from program.messages.models import Message, MessageStatus
from program.messages.sending import UNKNOWN_OUTCOME, send_due
from program.messages.services import queue_message
from program.people.models import MailPreference, Person
from tests.checkins.test_messages import statuses
from tests.conftest import login, text_of
from tests.smtp import SmtpServer

INVITATION = {
    "invited_by": None,
    "link": "http://localhost/x",
    "valid_days": 1,
}


def queue(app, person_ids: list[int], *, kind: str = "invitation", copies: int = 1) -> None:
    """Queue `copies` messages to each person, subjects numbered so duplicates show."""
    with app.test_request_context():
        n = 0
        for person_id in person_ids:
            person = db.session.get(Person, person_id)
            for _ in range(copies):
                n += 1
                if kind == "invitation":
                    queue_message(
                        person,
                        "invitation",
                        template="invitation",
                        context={**INVITATION, "person": person, "program_name": f"P{n}"},
                    )
                else:
                    message = queue_message(
                        person,
                        "invitation",
                        template="invitation",
                        context={**INVITATION, "person": person, "program_name": f"P{n}"},
                    )
                    message.kind = kind
        # Due long ago: a worker started as another process reads the real clock, which a
        # run with the suite's clock moved ahead (HALLWAY_TEST_DAYS_AHEAD) is behind.
        db.session.execute(
            sa.update(Message)
            .where(Message.status == MessageStatus.QUEUED)
            .values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
        db.session.commit()


def send(app, smtp: SmtpServer, **options):
    app.config.update(smtp.config())
    with app.app_context():
        return send_due(**options)


def rows(app) -> list[Message]:
    with app.app_context():
        found = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
        db.session.expunge_all()
        return found


@pytest.fixture
def people(make):
    """299 ordinary addresses and one internationalised one in the middle: three of the
    sender's batches of 100, the odd one in the second, so a batch after it is sent too."""
    ids = [make.person(email=f"p{n}@example.edu").id for n in range(299)]
    ids.insert(150, make.person("José Núñez", email="josé@exämple.edu").id)
    return ids


class TestInternationalisedAddresses:
    def test_sent_with_smtputf8_when_the_server_offers_it(self, app, people):
        queue(app, people)
        with SmtpServer(smtputf8=True) as smtp:
            report = send(app, smtp)
            received = list(smtp.messages)
            envelopes = list(smtp.recorder.envelopes)
        assert report.sent == 300 and report.failed == 0
        assert statuses(app) == {"sent": 300}
        assert ("mentoring@localhost" in envelopes[0][0]) or envelopes[0][0]
        assert ["josé@exämple.edu"] in [to for _, to in envelopes]
        jose = next(m for m in received if "josé" in str(m["To"]))
        assert str(jose["To"]) == "josé@exämple.edu"  # UTF-8 in the header, not an encoded word

    def test_one_clear_failure_and_the_batch_goes_on_when_it_does_not(self, app, people):
        queue(app, people)
        with SmtpServer(smtputf8=False) as smtp:
            report = send(app, smtp)
            assert len(smtp.messages) == 299
        assert (report.sent, report.failed, report.retried) == (299, 1, 0)
        assert statuses(app) == {"sent": 299, "failed": 1}
        failed = next(m for m in rows(app) if m.status is MessageStatus.FAILED)
        assert failed.to_address == "josé@exämple.edu"
        assert "SMTPUTF8" in failed.last_error and "before the @" in failed.last_error
        with app.app_context():
            # Not the address's fault: it is not marked as bouncing.
            assert (
                db.session.scalar(
                    sa.select(Person.email_bouncing_at).where(Person.email == "josé@exämple.edu")
                )
                is None
            )

    def test_an_internationalised_domain_goes_as_idna_without_smtputf8(self, app, make):
        ids = [make.person("Nguyễn Thị Anh", email="anh@trường.vn").id]
        ids.append(make.person(email="plain@example.edu").id)
        queue(app, ids)
        with SmtpServer(smtputf8=False) as smtp:
            report = send(app, smtp)
            envelopes = list(smtp.recorder.envelopes)
            received = list(smtp.messages)
        assert (report.sent, report.failed) == (2, 0)
        assert [to for _, to in envelopes if "anh@" in to[0]] == [["anh@xn--trng-rib8295b.vn"]]
        anh = next(m for m in received if "anh@" in str(m["To"]))
        assert str(anh["To"]) == "anh@xn--trng-rib8295b.vn"
        assert statuses(app) == {"sent": 2}


def test_any_error_in_one_message_is_that_message_alone(app, make, monkeypatch):
    ids = [make.person().id for _ in range(5)]
    queue(app, ids)
    broken = rows(app)[2].id
    real = sending.build_email

    def build(message, sender):
        if message.id == broken:
            raise UnicodeEncodeError("ascii", "é", 0, 1, "a template went wrong")
        return real(message, sender)

    monkeypatch.setattr(sending, "build_email", build)
    with SmtpServer() as smtp:
        report = send(app, smtp)
        assert len(smtp.messages) == 4
    assert (report.sent, report.retried) == (4, 1)
    retry = next(m for m in rows(app) if m.id == broken)
    assert retry.status is MessageStatus.QUEUED and "UnicodeEncodeError" in retry.last_error
    assert retry.next_attempt_at > utc_now() and retry.attempt_started_at is None


class TestRateLimits:
    def test_per_minute_for_all_workers_together(self, app, make):
        queue(app, [make.person().id], copies=75)
        app.config.update(MAIL_RATE_PER_MINUTE=30)
        with SmtpServer() as smtp:
            assert send(app, smtp).sent == 30
            assert send(app, smtp).sent == 0  # the minute's budget is spent, whoever asks
            later = utc_now() + timedelta(seconds=61)
            assert send(app, smtp, now=later).sent == 30
            assert send(app, smtp, now=later + timedelta(seconds=61)).sent == 15
            assert len(smtp.messages) == 75
        assert statuses(app) == {"sent": 75}

    def test_per_day(self, app, make):
        queue(app, [make.person().id], copies=12)
        app.config.update(MAIL_RATE_PER_DAY=10)
        with SmtpServer() as smtp:
            assert send(app, smtp).sent == 10
            assert send(app, smtp, now=utc_now() + timedelta(hours=2)).sent == 0
            assert send(app, smtp, now=utc_now() + timedelta(days=1, minutes=1)).sent == 2

    def test_a_slow_down_answer_pauses_the_rest_of_the_batch(self, app, make):
        ids = [make.person(email=f"q{n}@example.edu").id for n in range(6)]
        queue(app, ids)
        with SmtpServer() as smtp:
            smtp.recorder.defer.add("q2@example.edu")
            report = send(app, smtp)
            assert len(smtp.messages) == 2
        assert report.slowed and (report.sent, report.retried) == (2, 1)
        left = [m for m in rows(app) if m.status is not MessageStatus.SENT]
        assert len(left) == 4 and all(m.status is MessageStatus.QUEUED for m in left)
        assert all(m.next_attempt_at > utc_now() + timedelta(seconds=90) for m in left)
        assert "451" in next(m for m in left if m.to_address == "q2@example.edu").last_error
        with SmtpServer() as smtp:  # later, the server takes them all
            assert send(app, smtp, now=utc_now() + timedelta(minutes=10)).sent == 4
        assert statuses(app) == {"sent": 6}


class TestOneClickUnsubscribe:
    def unsubscribe_link(self, message: EmailMessage) -> str:
        header = str(message["List-Unsubscribe"]).strip()
        assert header.startswith("<http") and header.endswith(">")
        return urlsplit(header[1:-1]).path

    def test_optional_mail_carries_it_and_one_post_turns_it_off(self, app, client, make):
        person = make.person(email="nudged@example.edu")
        queue(app, [person.id], kind="reminder")
        queue(app, [person.id], kind="invitation")
        with SmtpServer() as smtp:
            send(app, smtp)
            reminder, invitation = smtp.messages
        assert str(reminder["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        assert invitation["List-Unsubscribe"] is None  # required mail carries none
        path = self.unsubscribe_link(reminder)

        page = client.get(path)  # a mail scanner opening the link changes nothing
        assert page.status_code == 200 and "nudged@example.edu" in text_of(page)
        with app.app_context():
            assert db.session.get(Person, person.id).mail_preference is MailPreference.ALL
        # RFC 8058: the provider POSTs this body, with no cookie and no CSRF token.
        done = client.post(path, data={"List-Unsubscribe": "One-Click"}, csrf=False)
        assert done.status_code == 200 and "no more reminders" in text_of(done)
        with app.app_context():
            assert db.session.get(Person, person.id).mail_preference is MailPreference.ESSENTIAL

    def test_a_forged_link_is_refused(self, client):
        answer = client.post("/account/unsubscribe/forged", csrf=False)
        assert answer.status_code == 400 and "not valid" in text_of(answer)


class TestBounces:
    def test_a_refused_address_stops_mail_until_the_admin_gives_a_new_one(self, app, client, make):
        admin = make.person(is_admin=True)
        gone = make.person("Gone Away", email="gone@example.edu")
        queue(app, [gone.id], copies=2)
        with SmtpServer() as smtp:
            smtp.recorder.refuse.add("gone@example.edu")
            report = send(app, smtp)
            assert smtp.messages == []
        assert report.failed == 2
        first, second = rows(app)
        assert "550" in first.last_error and "bounced" in second.last_error
        with app.app_context():
            person = db.session.get(Person, gone.id)
            assert person.email_bouncing_at is not None and "550" in person.email_bounce_reason

        login(client, admin.email)
        page = text_of(client.get("/admin/mail"))
        assert "gone@example.edu" in page and "No such user" in page
        queue(app, [gone.id])  # still queued meanwhile: not sent, not retried
        with SmtpServer() as smtp:
            send(app, smtp)
            assert smtp.messages == []

        answer = client.post(f"/admin/people/{gone.id}/email", data={"email": "Back@Example.edu"})
        assert answer.status_code == 302
        with app.app_context():
            person = db.session.get(Person, gone.id)
            assert person.email == "back@example.edu" and person.email_bouncing_at is None
        queue(app, [gone.id])
        with SmtpServer() as smtp:
            assert send(app, smtp).sent == 1
            assert str(smtp.messages[0]["To"]) == "back@example.edu"

    def test_a_taken_address_is_refused_and_nothing_changes(self, app, client, make):
        admin = make.person(is_admin=True)
        one = make.person(email="one@example.edu")
        make.person(email="two@example.edu")
        login(client, admin.email)
        client.post(f"/admin/people/{one.id}/email", data={"email": "two@example.edu"})
        with app.app_context():
            assert db.session.get(Person, one.id).email == "one@example.edu"


class TestNeverTwice:
    def test_a_dead_workers_claims_are_settled_without_a_second_copy(self, app, make):
        queue(app, [make.person().id], copies=3)
        long_ago = utc_now() - timedelta(hours=1)
        with app.app_context():
            ids = db.session.scalars(sa.select(Message.id).order_by(Message.id)).all()
            db.session.execute(
                sa.update(Message)
                .where(Message.id.in_(ids))
                .values(status=MessageStatus.SENDING, claimed_at=long_ago)
            )
            # It died while handing the first to the server: may have been delivered.
            db.session.execute(
                sa.update(Message).where(Message.id == ids[0]).values(attempt_started_at=long_ago)
            )
            db.session.commit()
        with SmtpServer() as smtp:
            assert send(app, smtp).sent == 2
            assert len(smtp.messages) == 2
        first = rows(app)[0]
        assert first.status is MessageStatus.FAILED and first.last_error == UNKNOWN_OUTCOME

    def test_a_gone_workers_unstarted_claims_return_within_a_minute(self, app, make):
        queue(app, [make.person().id], copies=3)
        now = utc_now()
        with app.app_context():
            ids = db.session.scalars(sa.select(Message.id).order_by(Message.id)).all()
            db.session.execute(
                sa.update(Message)
                .where(Message.id.in_(ids))
                .values(status=MessageStatus.SENDING, claimed_at=now - timedelta(seconds=70))
            )
            # The one it had handed to the server (after RCPT, before DATA's end): held.
            db.session.execute(
                sa.update(Message)
                .where(Message.id == ids[0])
                .values(attempt_started_at=now - timedelta(seconds=65))
            )
            db.session.commit()
        with SmtpServer() as smtp:
            assert send(app, smtp, now=now).sent == 2
            assert statuses(app) == {"sent": 2, "sending": 1}
            assert send(app, smtp, now=now + timedelta(minutes=16)).sent == 0
            assert len(smtp.messages) == 2
        first = rows(app)[0]
        assert first.status is MessageStatus.FAILED and first.last_error == UNKNOWN_OUTCOME

    def test_a_sender_killed_before_data_left_nothing_delivered_and_it_is_sent_again(
        self, app, make, monkeypatch
    ):
        """Killed while the server checks the envelope: the transaction provably delivered
        nothing, so the message is not held as "may have been delivered" but sent again."""
        import smtplib

        queue(app, [make.person().id], copies=2)

        class Killed(BaseException):
            pass

        real_rcpt = smtplib.SMTP.rcpt

        def rcpt_then_die(self, *args, **kwargs):
            real_rcpt(self, *args, **kwargs)
            raise Killed()

        with SmtpServer() as smtp:
            monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt_then_die)
            with pytest.raises(Killed):
                send(app, smtp)
            monkeypatch.setattr(smtplib.SMTP, "rcpt", real_rcpt)
            first = rows(app)[0]
            assert first.status is MessageStatus.SENDING and first.attempt_started_at is None
            later = utc_now() + timedelta(minutes=2)
            assert send(app, smtp, now=later).sent == 2
            assert len(smtp.messages) == 2
        assert statuses(app) == {"sent": 2}

    def test_a_long_batch_renews_its_claim_so_nobody_takes_it_over(
        self, app, make, monkeypatch, time_machine
    ):
        from program.messages.sending import claim_due

        time_machine.move_to(utc_now())
        queue(app, [make.person().id], copies=6)
        taken: list[list[int]] = []
        real = sending._send_one

        def slow_send(batch, message):
            real(batch, message)
            time_machine.shift(timedelta(seconds=30))  # a slow server
            if message.id == max(m.id for m in rows(app)) - 2:
                taken.append(claim_due(utc_now(), 100))  # another worker looks

        monkeypatch.setattr(sending, "_send_one", slow_send)
        with SmtpServer() as smtp:
            assert send(app, smtp).sent == 6
            assert len(smtp.messages) == 6
        assert taken == [[]]

    def test_a_stopping_worker_gives_back_what_it_did_not_start(self, app, make):
        queue(app, [make.person().id], copies=10)
        handled = []

        def stop_after_three() -> bool:
            return len(handled) >= 3

        with SmtpServer() as smtp:
            app.config.update(smtp.config())
            real = sending._send_one

            def counting(*args, **kwargs):
                handled.append(1)
                return real(*args, **kwargs)

            sending._send_one = counting
            try:
                with app.app_context():
                    report = send_due(should_stop=stop_after_three)
            finally:
                sending._send_one = real
        assert report.sent == 3
        # Given back at once, due now: another worker sends them without waiting 15 minutes.
        assert statuses(app) == {"sent": 3, "queued": 7}
        assert all(m.next_attempt_at <= utc_now() for m in rows(app) if m.status.value == "queued")

    def test_the_same_message_id_on_every_attempt(self, app, make):
        queue(app, [make.person().id])
        with app.test_request_context():
            message = db.session.scalar(sa.select(Message))
            first = sending.build_email(message, "Hallway <mentoring@example.edu>")
            again = sending.build_email(message, "Hallway <mentoring@example.edu>")
        assert (
            first["Message-ID"]
            == again["Message-ID"]
            == (f"<hallway.message.{message.id}@example.edu>")
        )


@pytest.mark.skipif(
    not __import__("os").environ.get("TEST_DATABASE_URL"), reason="advisory locks need PostgreSQL"
)
def test_connections_at_once_are_capped_across_workers(app, make):
    """MAIL_CONNECTIONS=1: while another worker holds the one slot, this one sends nothing."""
    queue(app, [make.person().id], copies=3)
    app.config.update(MAIL_CONNECTIONS=1)
    with app.app_context():
        holder = db.engine.connect()
        holder.execute(
            sa.select(sa.func.pg_advisory_lock(sa.literal(sending.CONNECTION_LOCK_BASE)))
        )
        try:
            with SmtpServer() as smtp:
                assert send(app, smtp).sent == 0
                assert smtp.messages == []
        finally:
            holder.execute(
                sa.select(sa.func.pg_advisory_unlock(sa.literal(sending.CONNECTION_LOCK_BASE)))
            )
            holder.close()
    with SmtpServer() as smtp:
        assert send(app, smtp).sent == 3
    assert statuses(app) == {"sent": 3}
