"""The other moments a person answers from a chat card: a mentor's availability for a term (yes
with how many, or not this term) and an ask from the directory (yes, or not now), each recorded
once by a tap, as the e-mail's link and its confirmation would record it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from program.asks.models import Ask, AskStatus
from program.coffee.rounds import publish_round
from program.extensions import db
from program.formal.availability import request_availability
from program.formal.models import Availability
from program.messages.models import Message, MessageStatus
from program.people.models import Delivery, Person
from program.programs.models import Program, Term
from tests.asks.test_asks import send as send_ask
from tests.asks.test_asks import world  # noqa: F401 (a fixture)
from tests.chat.conftest import turned_on
from tests.chat.test_slack import press, send
from tests.coffee.conftest import coffee, enroll_all  # noqa: F401 (a fixture)
from tests.conftest import login
from tests.slack import SlackStandIn, press_payload

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)


@pytest.fixture
def slack(app):
    with SlackStandIn() as stand_in:
        yield turned_on(app, stand_in, "slack")


def buttons(post: dict) -> list[str]:
    return [
        e["text"]["text"]
        for b in post["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]


def test_a_mentor_gives_their_availability_with_one_tap(
    app, make, client, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. Ana Mentor")
    slack.users = {mentor.email: "UMENTOR"}
    with app.test_request_context():
        request_availability(None, db.session.get(Term, term.id))
        db.session.commit()
    send(app)
    (post,) = slack.posts()
    assert post["text"].startswith("Can you mentor in")
    assert buttons(post) == ["Yes, 1 mentee", "Yes, 2 mentees", "Yes, 3 mentees", "Not this term"]
    assert press(client, press_payload("UMENTOR", post, "Yes, 2 mentees")).status_code == 200
    with app.app_context():
        availability = db.session.scalar(sa.select(Availability))
        assert (availability.accepting, availability.capacity) == (True, 2)
    (update,) = slack.called("chat.update")
    assert "Recorded: 2 mentees in" in json.dumps(update["blocks"])
    # The same card's other button, later: answered already, nothing changed.
    press(client, press_payload("UMENTOR", post, "Not this term"))
    with app.app_context():
        assert db.session.scalar(sa.select(Availability.capacity)) == 2
    assert "answered already" in slack.called("chat.postEphemeral")[-1]["text"]
    assert smtp.messages == []


def test_an_ask_from_the_directory_is_answered_with_one_tap(
    app, client, request, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    people = request.getfixturevalue("world")  # the directory's people (tests/asks)
    slack.users = {people["ana"].email: "UANA", people["ida"].email: "UIDA"}
    login(client, people["ida"].email)
    assert send_ask(client, people["ana"]).status_code == 302
    send(app)
    post = next(p for p in slack.posts() if p["channel"] == "DUANA")
    assert post["text"].startswith("Ida Asker asks:")
    assert buttons(post) == ["Yes, I'll have a coffee", "Not now"]
    client.post("/logout")
    assert press(client, press_payload("UANA", post, "Not now")).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Ask.status)) is AskStatus.DECLINED
    (update,) = slack.called("chat.update")
    assert "Recorded: not now" in json.dumps(update["blocks"])


def test_a_rounds_intros_go_to_slack_for_those_who_chose_it_and_by_email_to_the_rest(
    app, make, request, slack, smtp, time_machine
):
    time_machine.move_to(NOW)
    found = request.getfixturevalue("coffee")  # seven people in a coffee program (tests/coffee)
    people = found["people"]
    enroll_all(app, found["program"], people)
    # Four in Slack; one of them chose e-mail; three not in Slack at all.
    slack.users = {p.email: f"U{p.id}" for p in people[:4]}
    with app.app_context():
        db.session.get(Person, people[0].id).delivery = Delivery.EMAIL
        db.session.commit()
    with app.test_request_context():
        publish_round(None, db.session.get(Program, found["program"].id))
        db.session.commit()
    send(app)
    send(app)  # again: nothing goes twice
    in_slack = slack.posts()
    by_email = sorted(m["To"] for m in smtp.messages)
    with app.app_context():
        intros = db.session.scalars(sa.select(Message).where(Message.kind == "intro")).all()
        assert len(intros) == 7 and all(m.status is MessageStatus.SENT for m in intros)
        chatted = {m.recipient_id for m in intros if m.channel == "slack"}
    # Exactly once each: a post per person in Slack, an e-mail per everyone else.
    assert chatted == {p.id for p in people[1:4]} and len(in_slack) == 3
    assert by_email == sorted(p.email for p in people if p.id not in chatted)
