"""Slack as a channel of the outbox, against a stand-in speaking Slack's Web API on loopback and
a real SMTP server: each message goes to Slack or by e-mail, never both; a button press records
once; a person Slack cannot reach, or a revoked token, falls back to e-mail and says why."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from slack_bolt.adapter.socket_mode import SocketModeHandler

from program.chat.bolt import bolt_app
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.services import check_in_message, mail_addressing
from program.extensions import db
from program.institution import stored_settings
from program.messages.models import ChatAccount, Message, MessageStatus
from program.messages.sending import send_due
from program.messages.services import queue_messages
from program.people.models import Delivery, Person
from tests.chat.conftest import turned_on
from tests.conftest import login, text_of
from tests.messages.test_intros import formal_pair
from tests.slack import (
    APP_TOKEN,
    SIGNING_SECRET,
    SlackStandIn,
    SocketModeStandIn,
    press_payload,
    signed,
)

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)


@pytest.fixture
def slack(app):
    with SlackStandIn() as stand_in:
        yield turned_on(app, stand_in, "slack")


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


def prompted_in_slack(app, make, slack) -> tuple[int, dict]:
    """A formal pair introduced in Slack, then the trainee's check-in prompt posted there:
    the check-in, and the post whose buttons a test presses."""
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    send(app)
    with app.app_context():
        assignment_id = db.session.scalar(sa.text("select id from assignment"))
    check_in_id = check_in_prompt(app, make, trainee, assignment_id)
    send(app)
    return check_in_id, slack.posts()[-1]


def press(client, payload, secret: str = SIGNING_SECRET):
    body, headers = signed(payload, secret)
    return client.post("/slack/events", data=body, headers=headers)


def test_a_button_press_records_once_and_the_card_says_what_it_recorded(
    app, make, client, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    check_in_id, post = prompted_in_slack(app, make, slack)
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
    # The trainee's press (a rating chosen first) records at once, and the card shows it in
    # place of its buttons.
    assert press(client, press_payload("UTRAINEE", post, "We met", rating="4")).status_code == 200
    with app.app_context():
        found = db.session.get(CheckIn, check_in_id)
        assert (found.status, found.rating) == (CheckInStatus.MET, 4)
    (update,) = slack.called("chat.update")
    assert update["channel"] == "DUTRAINEE" and update["ts"] == post["ts"]
    blocks = update["blocks"]
    assert not any(b["type"] == "actions" for b in blocks)
    assert "Recorded: “We met”, rated 4 of 5" in blocks[-1]["elements"][0]["text"]
    # A second press (another button) changes nothing: the answer was recorded.
    press(client, press_payload("UTRAINEE", post, "Not yet"))
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is CheckInStatus.MET
    assert "answered already" in slack.called("chat.postEphemeral")[-1]["text"]
    assert smtp.messages == []


def test_two_presses_at_once_record_one_answer(app, make, slack, smtp, time_machine):
    time_machine.move_to(NOW)
    check_in_id, post = prompted_in_slack(app, make, slack)
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
    all_by_email(app, smtp, [mentor, trainee], "Slack refused Hallway's token (token_revoked)")


def all_by_email(app, smtp, people, why: str) -> None:
    """Each of these people got their introduction by e-mail, sent, with why on it."""
    assert sorted(m["To"] for m in smtp.messages) == sorted(p.email for p in people)
    sent = messages(app, "intro")
    assert all(m.status is MessageStatus.SENT and m.channel == "email" for m in sent.values())
    assert all(why in m.channel_note for m in sent.values())


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


def test_a_press_over_socket_mode_records_and_is_acknowledged(app, make, slack, smtp, time_machine):
    """`hallway slack connect`'s path: Hallway dials out to Slack's Socket Mode, which sends
    the press as an envelope; the app acknowledges it and records the answer."""
    time_machine.move_to(NOW)
    check_in_id, post = prompted_in_slack(app, make, slack)
    time_machine.move_to(NOW, tick=True)
    with SocketModeStandIn() as socket_mode:
        slack.socket_url = socket_mode.url
        socket_mode.envelopes.append(
            {
                "envelope_id": "envelope-1",
                "type": "interactive",
                "accepts_response_payload": False,
                "payload": press_payload("UTRAINEE", post, "It's scheduled"),
            }
        )
        handler = SocketModeHandler(bolt_app(app), APP_TOKEN)
        handler.connect()
        try:
            for _ in range(100):
                if socket_mode.acks and slack.called("chat.update"):
                    break
                time.sleep(0.05)
        finally:
            handler.close()
    assert socket_mode.acks == ["envelope-1"]
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is CheckInStatus.SCHEDULED
    (update,) = slack.called("chat.update")
    assert "Recorded: “It's scheduled”" in json.dumps(update["blocks"], ensure_ascii=False)


SETTINGS = {
    "name": "Riverside",
    "suppression_threshold": "5",
    "mail_sender": "mentoring@riverside.example.edu",
    "time_zone": "UTC",
}


def test_an_admin_turns_slack_on_only_once_its_token_is_set(app, client, make):
    admin = make.person(is_admin=True)
    login(client, admin.email)
    refused = client.post("/admin/settings", data={**SETTINGS, "chat_tool": "slack"})
    assert "Slack is not set up on this server" in text_of(refused)
    with app.app_context():
        assert stored_settings().chat_tool == ""
    with SlackStandIn() as stand_in:
        app.config.update(stand_in.config())
        assert (
            client.post("/admin/settings", data={**SETTINGS, "chat_tool": "slack"}).status_code
            == 302
        )
        with app.app_context():
            assert stored_settings().chat_tool == "slack"
        refused = client.post("/admin/settings", data={**SETTINGS, "chat_tool": "teams-ish"})
        assert refused.status_code == 200 and "Not a valid choice" in text_of(refused)


def test_a_person_chooses_email_or_slack_on_their_notification_settings(app, client, make):
    person = make.person()
    login(client, person.email)
    # No chat tool: nothing to choose.
    assert "Where should introductions" not in text_of(client.get("/account/notifications"))
    with SlackStandIn() as stand_in:
        app.config.update(stand_in.config())
        with app.app_context():
            stored_settings().chat_tool = "slack"
            db.session.commit()
        page = text_of(client.get("/account/notifications"))
        assert "Slack, where Hallway can reach you there" in page and "never both" in page
        saved = client.post(
            "/account/notifications", data={"preference": "all", "delivery": "email"}
        )
        assert saved.status_code == 302
        with app.app_context():
            assert db.session.get(Person, person.id).delivery is Delivery.EMAIL
        refused = client.post(
            "/account/notifications", data={"preference": "all", "delivery": "fax"}
        )
        assert "Not a valid choice" in text_of(refused)
        with app.app_context():
            assert db.session.get(Person, person.id).delivery is Delivery.EMAIL


def test_the_mail_page_shows_who_got_email_instead_and_a_refused_token(
    app, make, client, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR"}
    send(app)
    admin = make.person(is_admin=True)
    login(client, admin.email)
    page = text_of(client.get("/admin/mail"))
    assert "Sent by e-mail instead of the chat tool" in page
    assert f"{trainee.email} " in page and "Slack has no account with this address" in page
    assert "Sent in Slack: 1; by e-mail: 1." in page
    assert "refused Hallway" not in page
    # A revoked token: the banner says so until a message goes by Slack again.
    make.check_in(mentor, 1)
    slack.revoked = True
    with app.app_context():
        (row,) = db.session.execute(
            mail_addressing([db.session.scalar(sa.select(sa.func.max(CheckIn.id)))])
        ).all()
        queue_messages([check_in_message(row, "checkin_prompt", dedupe_key="p:m")])
        db.session.commit()
    send(app)
    assert "Slack refused Hallway's token (token_revoked)" in text_of(client.get("/admin/mail"))


def test_the_demo_inbox_shows_the_slack_card_beside_the_email(app, make, client, time_machine):
    time_machine.move_to(NOW)
    _, _, trainee = formal_pair(app, make)
    app.config["DEMO"] = True
    with app.app_context():
        intro = db.session.scalar(sa.select(Message.id).where(Message.kind == "intro"))
    page = client.get(f"/demo/inbox/{intro}").get_data(as_text=True)
    assert "Or in Microsoft Teams, for someone who chose it" in page and "Or in Slack" in page
    assert "Its Adaptive Card JSON" in page and "Chat with them" in page
    assert "Internal Medicine Residency: meet Dr. Miguel Santos" in page
    assert "Its Block Kit JSON" in page
    # A name is text in the card too, never markup.
    assert "Priya <b>Natarajan</b>" not in page
    # A check-in's cards, with the rating to choose before "We met".
    check_in_prompt(app, make, trainee, 1)
    with app.app_context():
        prompt = db.session.scalar(sa.select(Message.id).where(Message.kind == "checkin_prompt"))
    page = text_of(client.get(f"/demo/inbox/{prompt}"))
    assert page.count("Rating, with “We met”") == 2 and page.count("It won't happen") >= 3


def test_the_manifest_asks_only_what_hallway_uses(app):
    runner = app.test_cli_runner()
    socket = json.loads(runner.invoke(args=["slack", "manifest"]).output)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["interactivity"]
    assert socket["oauth_config"]["scopes"]["bot"] == [
        "users:read",
        "users:read.email",
        "im:write",
        "mpim:write",
        "chat:write",
    ]
    assert "event_subscriptions" not in socket["settings"]  # it reads no conversation
    http = json.loads(runner.invoke(args=["slack", "manifest", "--http"]).output)
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    stopped = runner.invoke(args=["slack", "connect"])
    assert stopped.exit_code != 0 and "HALLWAY_SLACK_BOT_TOKEN" in stopped.output


def test_the_mail_servers_rate_limit_is_not_spent_on_slack(app, make, slack, smtp, time_machine):
    """An institution's mail server allows one message a minute: what goes to Slack does not
    use that budget, so both introductions go now."""
    time_machine.move_to(NOW)
    app.config["MAIL_RATE_PER_MINUTE"] = 1
    _, mentor, trainee = formal_pair(app, make)
    slack.users = {mentor.email: "UMENTOR", trainee.email: "UTRAINEE"}
    send(app)
    assert len(slack.posts()) == 2 and smtp.messages == []
