"""Slack as a channel of the outbox, against a stand-in speaking Slack's Web API on loopback and
a real SMTP server: each message goes to Slack or by e-mail, never both; a button press records
once; a person Slack cannot reach, or a revoked token, falls back to e-mail and says why."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import check_in_message, mail_addressing
from program.extensions import db
from program.institution import stored_settings
from program.messages.models import ChatAccount, Message, MessageStatus
from program.messages.sending import send_due
from program.messages.services import queue_messages
from program.people.models import Delivery, Person
from tests.messages.test_intros import formal_pair
from tests.slack import SIGNING_SECRET, SlackStandIn, press_payload, signed
from tests.smtp import SmtpServer

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)


@pytest.fixture
def slack(app):
    with SlackStandIn() as stand_in:
        app.config.update(stand_in.config())
        with app.app_context():
            stored_settings().chat_tool = "slack"
            db.session.commit()
        yield stand_in


@pytest.fixture
def smtp(app):
    with SmtpServer() as server:
        app.config.update(server.config())
        yield server


def send(app) -> None:
    with app.app_context():
        send_due()


def messages(app, kind: str) -> dict[int, Message]:
    with app.app_context():
        found = db.session.scalars(sa.select(Message).where(Message.kind == kind)).all()
        for m in found:
            db.session.expunge(m)
        return {m.recipient_id: m for m in found}


def choose(app, person, delivery: Delivery) -> None:
    with app.app_context():
        db.session.get(Person, person.id).delivery = delivery
        db.session.commit()


def test_intros_go_to_slack_in_a_group_dm_for_those_who_chose_it_once_each(
    app, make, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    send(app)
    posts = slack.posts()
    # Both chose Slack (the default): each one's own introduction, in one group DM with both.
    assert len(posts) == 2 and {p["channel"] for p in posts} == {"GUMENTOR-UTRAINEE"}
    blocks = {json.loads(json.dumps(p["blocks"]))[0]["text"]["text"] for p in posts}
    assert any(
        b.startswith("<@UTRAINEE> *Internal Medicine Residency: meet Dr. Miguel Santos*")
        for b in blocks
    )
    # A name cannot become markup in Slack.
    assert any("Priya &lt;b&gt;Natarajan&lt;/b&gt;" in json.dumps(p["blocks"]) for p in posts)
    assert smtp.messages == []  # never a second copy by e-mail
    sent = messages(app, "intro")
    assert {m.channel for m in sent.values()} == {"slack"}
    assert all(m.status is MessageStatus.SENT and m.chat_ref for m in sent.values())
    # Exactly once: sending again sends nothing.
    send(app)
    assert len(slack.posts()) == 2 and smtp.messages == []


def test_someone_who_chose_email_or_is_not_in_slack_gets_email_and_the_admin_sees_why(
    app, make, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    choose(app, mentor, Delivery.EMAIL)
    slack.users = {mentor.email: "UMENTOR"}  # the trainee has no Slack account
    send(app)
    assert slack.posts() == []  # the mentor chose e-mail; the trainee is not in Slack
    assert sorted(m["To"] for m in smtp.messages) == sorted([mentor.email, trainee.email])
    sent = messages(app, "intro")
    assert sent[mentor.id].channel == "email" and sent[mentor.id].channel_note is None
    assert sent[trainee.id].channel == "email"
    assert sent[trainee.id].channel_note == (
        "Sent by e-mail: Slack has no account with this address."
    )
    with app.app_context():
        account = db.session.scalar(
            sa.select(ChatAccount).where(ChatAccount.person_id == trainee.id)
        )
        assert account.external_id is None and account.unreachable


def test_a_partner_on_email_is_not_pulled_into_slack(app, make, slack, smtp, time_machine):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    choose(app, mentor, Delivery.EMAIL)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    send(app)
    (post,) = slack.posts()
    assert post["channel"] == "DUTRAINEE"  # a DM to the trainee alone
    assert [m["To"] for m in smtp.messages] == [mentor.email]


def check_in_prompt(app, make, person, assignment_id) -> int:
    check_in_id = make.check_in(person, assignment_id, period_start=date(2026, 10, 1))
    with app.app_context():
        (row,) = db.session.execute(mail_addressing([check_in_id])).all()
        queue_messages([check_in_message(row, "checkin_prompt", dedupe_key=f"p:{row.id}")])
        db.session.commit()
    return check_in_id


def press(client, payload, secret: str = SIGNING_SECRET):
    body, headers = signed(payload, secret)
    return client.post("/slack/events", data=body, headers=headers)


def test_a_button_press_records_once_and_the_card_says_what_it_recorded(
    app, make, client, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    send(app)
    with app.app_context():
        assignment_id = db.session.scalar(sa.text("select id from assignment"))
    check_in_id = check_in_prompt(app, make, trainee, assignment_id)
    send(app)
    post = slack.posts()[-1]
    assert post["channel"] == "DUTRAINEE" and "Did you meet Dr. Miguel Santos?" in post["text"]
    # Someone else pressing the trainee's button records nothing.
    response = press(client, press_payload("UMENTOR", post, "We met"))
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is None
    assert "someone else" in slack.called("chat.postEphemeral")[-1]["text"]
    # A forged signature is refused by Bolt: nothing recorded.
    assert press(client, press_payload("UTRAINEE", post, "We met"), "wrong").status_code == 401
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is None
    # The trainee's press records at once, and the card shows it in place of its buttons.
    assert press(client, press_payload("UTRAINEE", post, "We met")).status_code == 200
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is CheckInStatus.MET
    (update,) = slack.called("chat.update")
    assert update["channel"] == "DUTRAINEE" and update["ts"] == post["ts"]
    blocks = update["blocks"]
    assert not any(b["type"] == "actions" for b in blocks)
    assert "Recorded: “We met”" in blocks[-1]["elements"][0]["text"]
    # A second press (another button) changes nothing: the answer was recorded.
    press(client, press_payload("UTRAINEE", post, "Not yet"))
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is CheckInStatus.MET
    assert "answered already" in slack.called("chat.postEphemeral")[-1]["text"]
    assert smtp.messages == []


def test_two_presses_at_once_record_one_answer(app, make, slack, smtp, time_machine):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    send(app)
    with app.app_context():
        assignment_id = db.session.scalar(sa.text("select id from assignment"))
    check_in_id = check_in_prompt(app, make, trainee, assignment_id)
    send(app)
    post = slack.posts()[-1]
    answers = ["We met", "It won't happen"]
    barrier = threading.Barrier(2)
    codes = []

    def tap(label: str) -> None:
        with app.test_client() as c:
            body, headers = signed(press_payload("UTRAINEE", post, label))
            barrier.wait()
            codes.append(c.post("/slack/events", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=tap, args=(a,)) for a in answers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    with app.app_context():
        status = db.session.get(CheckIn, check_in_id).status
    assert status in (CheckInStatus.MET, CheckInStatus.WONT_HAPPEN)
    assert len(slack.called("chat.update")) == 1  # one recorded answer


def test_a_revoked_token_sends_by_email_and_says_so(app, make, slack, smtp, time_machine):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    slack.revoked = True
    send(app)
    assert slack.posts() == []
    assert sorted(m["To"] for m in smtp.messages) == sorted([mentor.email, trainee.email])
    sent = messages(app, "intro")
    assert all(m.status is MessageStatus.SENT and m.channel == "email" for m in sent.values())
    assert all(
        "Slack refused Hallway's token (token_revoked)" in m.channel_note for m in sent.values()
    )


def test_slack_asking_to_slow_down_puts_the_message_back_not_lost(
    app, make, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    slack.limited = 1
    with app.app_context():
        report = send_due()
    assert report.slowed and report.sent == 0
    queued = [m for m in messages(app, "intro").values() if m.status is MessageStatus.QUEUED]
    assert len(queued) == 2 and all(m.next_attempt_at > NOW for m in queued)
    assert smtp.messages == []
