"""Microsoft Teams as a channel of the outbox, against a stand-in for Microsoft's sign-in, the
Bot Framework's keys and its connector on loopback, and a real SMTP server: the app installed
for a person keeps their chat; introductions and check-ins go there as Adaptive Cards, or by
e-mail, never both; a button press (an invoke, signed) records once and answers with the card
saying what was recorded; a request not signed by the Bot Framework for this app does nothing."""

from __future__ import annotations

import json
import struct
import threading
import warnings
import zipfile
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa

from program.checkins.models import CheckIn, CheckInStatus
from program.extensions import db
from program.institution import stored_settings
from program.messages.models import ChatAccount, Message
from program.messages.teams import _tokens
from tests.chat.conftest import turned_on
from tests.chat.test_slack import all_by_email, check_in_prompt, messages, send
from tests.conftest import login, text_of
from tests.messages.test_intros import formal_pair
from tests.teams import TeamsStandIn

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the SDK's package warns of an experimental widget
    from microsoft_teams.cards import AdaptiveCard


@pytest.fixture
def teams(app):
    _tokens.clear()  # each test's stand-in is a new Microsoft
    with TeamsStandIn() as stand_in:
        yield turned_on(app, stand_in, "teams")


def post(client, teams, activity, **signing):
    return client.post(
        "/api/messages", data=json.dumps(activity), headers=teams.signed(activity, **signing)
    )


def install(client, teams, person, user: str) -> None:
    teams.members[user] = person.email
    response = post(client, teams, teams.installed(user, f"a:chat-{user}"))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_installing_the_app_keeps_the_persons_chat_and_only_the_bot_framework_is_heard(
    app, make, client, teams, time_machine
):
    time_machine.move_to(NOW)
    person = make.person()
    teams.members["29:one"] = person.email
    activity = teams.installed("29:one", "a:chat-one")
    # Not signed by the Bot Framework's key, or for another app: refused, nothing kept.
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(client, teams, activity, key=forged).status_code == 401
    assert post(client, teams, activity, audience="another-app").status_code == 401
    assert client.post("/api/messages", json=activity, csrf=False).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ChatAccount.id))) == 0
    assert post(client, teams, activity).status_code == 200
    with app.app_context():
        account = db.session.scalar(sa.select(ChatAccount))
        assert (account.person_id, account.tool, account.external_id) == (
            person.id,
            "teams",
            "29:one",
        )
        assert account.reference == f"{teams.service_url} a:chat-one"
    # Installed again, as Teams also says it (the bot added to their personal chat), and a
    # message typed to the bot, which Hallway does not read: the same chat kept, nothing else.
    added = {
        **activity,
        "type": "conversationUpdate",
        "membersAdded": [{"id": activity["recipient"]["id"]}],
    }
    assert post(client, teams, added).status_code == 200
    typed = {**activity, "type": "message", "text": "hello?"}
    assert post(client, teams, typed).status_code == 200
    with app.app_context():
        (account,) = db.session.scalars(sa.select(ChatAccount)).all()
        assert account.reference == f"{teams.service_url} a:chat-one"
    # Removed: their messages go by e-mail again.
    assert post(client, teams, {**activity, "action": "remove"}).status_code == 200
    with app.app_context():
        account = db.session.scalar(sa.select(ChatAccount))
        assert account.reference is None and "removed" in account.unreachable


def test_intros_go_to_teams_for_those_it_reaches_and_by_email_to_the_rest_once_each(
    app, make, client, teams, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    install(client, teams, trainee, "29:trainee")  # the mentor's app is not installed
    send(app)
    ((conversation, activity),) = teams.posts()
    assert conversation == "a:chat-29:trainee"
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    AdaptiveCard.model_validate(card)  # the SDK's own model of an Adaptive Card reads it
    assert card["body"][0]["text"] == "Internal Medicine Residency: meet Dr. Miguel Santos"
    chat = next(a for a in card["actions"] if a["title"] == "Chat with them")
    assert chat["url"] == f"https://teams.microsoft.com/l/chat/0/0?users={mentor.email}"
    assert [m["To"] for m in smtp.messages] == [mentor.email]
    sent = messages(app, "intro")
    assert sent[trainee.id].channel == "teams" and sent[trainee.id].chat_ref.endswith("activity-1")
    assert sent[mentor.id].channel == "email"
    assert sent[mentor.id].channel_note == (
        "Sent by e-mail: Hallway's app is not installed for them in Microsoft Teams."
    )
    send(app)
    assert len(teams.posts()) == 1 and len(smtp.messages) == 1  # exactly once
    admin = make.person(is_admin=True)
    login(client, admin.email)
    page = text_of(client.get("/admin/mail"))
    assert "Sent in Microsoft Teams: 1; by e-mail: 1." in page
    assert "Hallway's app is not installed for them in Microsoft Teams" in page


def prompted_in_teams(app, make, client, teams) -> tuple[int, str, dict]:
    _, mentor, trainee = formal_pair(app, make)
    install(client, teams, trainee, "29:trainee")
    install(client, teams, mentor, "29:mentor")
    send(app)
    with app.app_context():
        assignment_id = db.session.scalar(sa.text("select id from assignment"))
    check_in_id = check_in_prompt(app, make, trainee, assignment_id)
    send(app)
    _, activity = teams.posts()[-1]
    activity_id = f"activity-{len(teams.posts())}"
    return check_in_id, activity_id, activity["attachments"][0]["content"]


def test_a_button_press_records_once_and_the_card_answers_with_what_it_recorded(
    app, make, client, teams, smtp, time_machine
):
    time_machine.move_to(NOW)
    check_in_id, activity_id, card = prompted_in_teams(app, make, client, teams)
    assert [a["title"] for a in card["actions"] if a["type"] == "Action.Execute"] == [
        "We met",
        "It's scheduled",
        "Not yet",
        "It won't happen",
    ]
    # The mentor pressing the trainee's card: told so, nothing recorded.
    other = post(
        client, teams, teams.pressed("29:mentor", "a:chat-29:trainee", activity_id, card, "We met")
    )
    assert other.json["type"] == "application/vnd.microsoft.activity.message"
    assert "someone else" in other.json["value"]
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is None
    assert next(b for b in card["body"] if b["type"] == "Input.ChoiceSet")["id"] == "rating"
    # A rating chosen with "Not yet" is not kept: it goes with "We met" only.
    pressed = teams.pressed(
        "29:trainee", "a:chat-29:trainee", activity_id, card, "Not yet", {"rating": "5"}
    )
    answer = post(client, teams, pressed)
    assert answer.status_code == 200 and answer.json["statusCode"] == 200
    assert answer.json["type"] == "application/vnd.microsoft.card.adaptive"
    updated = answer.json["value"]
    AdaptiveCard.model_validate(updated)
    assert "Recorded: “Not yet”" in updated["body"][-1]["text"]
    assert not any(a["type"] == "Action.Execute" for a in updated.get("actions", []))
    with app.app_context():
        found = db.session.get(CheckIn, check_in_id)
        assert (found.status, found.rating) == (CheckInStatus.NOT_YET, None)
    again = post(
        client, teams, teams.pressed("29:trainee", "a:chat-29:trainee", activity_id, card, "We met")
    )
    assert "answered already" in again.json["value"]
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is CheckInStatus.NOT_YET
    assert smtp.messages == []


def test_two_presses_at_once_record_one_answer(app, make, client, teams, smtp, time_machine):
    time_machine.move_to(NOW, tick=True)
    check_in_id, activity_id, card = prompted_in_teams(app, make, client, teams)
    barrier = threading.Barrier(2)
    kinds = []

    def tap(title: str) -> None:
        activity = teams.pressed("29:trainee", "a:chat-29:trainee", activity_id, card, title)
        with app.test_client() as c:
            barrier.wait()
            kinds.append(post(c, teams, activity).json["type"])

    threads = [threading.Thread(target=tap, args=(t,)) for t in ("We met", "It won't happen")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(kinds) == [
        "application/vnd.microsoft.activity.message",
        "application/vnd.microsoft.card.adaptive",
    ]
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status in (
            CheckInStatus.MET,
            CheckInStatus.WONT_HAPPEN,
        )


def test_a_removed_app_or_a_wrong_password_sends_by_email_and_says_why(
    app, make, client, teams, smtp, time_machine
):
    time_machine.move_to(NOW)
    _, mentor, trainee = formal_pair(app, make)
    install(client, teams, trainee, "29:trainee")
    install(client, teams, mentor, "29:mentor")
    teams.removed.add("a:chat-29:trainee")  # removed without Hallway hearing of it
    teams.password = "rotated"  # and the app's secret rotated at Microsoft
    _tokens.clear()
    send(app)
    assert teams.posts() == []
    all_by_email(app, smtp, [mentor, trainee], "Microsoft refused Hallway's app ID or password")
    # The secret fixed: the removed chat is told apart from the working one.
    teams.password = "test-app-password"
    _tokens.clear()
    with app.app_context():
        db.session.execute(sa.delete(Message))
        db.session.commit()
    check_in_prompt(app, make, trainee, 1)
    send(app)
    prompt = messages(app, "checkin_prompt")[trainee.id]
    assert prompt.channel == "email"
    assert prompt.channel_note.startswith("Sent by e-mail: they blocked Hallway's app in Teams")


def test_teams_is_not_found_where_it_is_not_set_up(client):
    assert client.post("/api/messages", json={"type": "message"}, csrf=False).status_code == 404


def test_the_app_package_is_a_personal_bot_with_its_icons(app, tmp_path, teams):
    out = tmp_path / "hallway-teams.zip"
    result = app.test_cli_runner().invoke(args=["teams", "manifest", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color, outline = package.read("color.png"), package.read("outline.png")
    assert (
        manifest["manifestVersion"] == "1.17" and manifest["id"] == teams.config()["TEAMS_APP_ID"]
    )
    (bot,) = manifest["bots"]
    assert bot["botId"] == manifest["id"] and bot["scopes"] == ["personal"]
    assert manifest["validDomains"] == [urlsplit(app.config["BASE_URL"]).hostname]
    # The icons Teams asks for: 192 px in colour, a 32 px outline (PNG, RGBA).
    for png, size in ((color, 192), (outline, 32)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)


def test_an_admin_turns_teams_on_only_once_its_app_is_set(app, client, make):
    admin = make.person(is_admin=True)
    login(client, admin.email)
    data = {
        "name": "Riverside",
        "suppression_threshold": "5",
        "mail_sender": "",
        "time_zone": "UTC",
        "chat_tool": "teams",
    }
    assert "Microsoft Teams is not set up on this server" in text_of(
        client.post("/admin/settings", data=data)
    )
    with TeamsStandIn() as stand_in:
        app.config.update(stand_in.config())
        assert client.post("/admin/settings", data=data).status_code == 302
        with app.app_context():
            assert stored_settings().chat_tool == "teams"
        assert "Microsoft Teams, where Hallway can reach you there" in text_of(
            client.get("/account/notifications")
        )
