"""What a button press on a card records (a check-in's answer, an ask's yes or not now, a
mentor's availability). A press is the person acting, as a click on the same e-mail link then
"Confirm" would be: it records at once, once (the signed answer is used
up by the answer, and two presses at once keep the first), and the card then says what it
recorded in place of its buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from program.asks.asks import answer_ask
from program.asks.asks import read_answer_token as read_ask_token
from program.checkins.models import CheckInStatus
from program.checkins.services import ANSWER_LABELS, read_answer_token, record_check_in
from program.db import DomainError
from program.extensions import db
from program.formal.availability import answer_availability, read_availability_choice
from program.links import LinkRefused, external_url
from program.messages.cards import ASK, AVAILABILITY, CHECK_IN, Card
from program.messages.chat import person_of
from program.messages.models import Message
from program.people.models import Person

REFUSED_LINK = {
    "expired": "This is too old to answer here; answer it from your Hallway home page.",
    "used": "This was answered already (or changed since this message was sent).",
    "invalid": "Hallway could not read this button.",
}


@dataclass
class Pressed:
    """What a press did: the words to show in place of the card's buttons (recorded), or to
    show the presser alone (refused); and the card to redraw, where it was found."""

    words: str
    recorded: bool
    card: Card | None = None


def press(
    tool: str, user_id: str, action_id: str, value: str, ref: str | None, rating: str = ""
) -> Pressed:
    """Record the press of a card's button by this chat user (with the rating chosen on the
    card, for "We met"). A refusal writes nothing; what it records, the caller commits (a
    request, or the Slack handler), before the card is redrawn."""
    person_id = person_of(tool, user_id)
    person = db.session.get(Person, person_id) if person_id is not None else None
    if person is None or not person.active:
        return Pressed(
            "Hallway does not know you here: answer from the e-mail or your home page.", False
        )
    record = RECORDERS.get(action_id.split(":", 1)[0])
    if record is None:
        return Pressed("This button does nothing in Hallway.", False)
    # A refusal is undone as `run_service` undoes a form's (a savepoint would start a
    # transaction at once, and on SQLite two presses at once would then collide).
    try:
        words = record(person, value, rating)
    except LinkRefused as exc:
        db.session.rollback()
        return Pressed(REFUSED_LINK.get(exc.problem, REFUSED_LINK["invalid"]), False)
    except DomainError as exc:
        db.session.rollback()
        return Pressed(str(exc), False)
    card = None
    if ref is not None:
        card = db.session.scalar(sa.select(Message.card).where(Message.chat_ref == ref))
    return Pressed(words, True, card)


def _check_in(person: Person, token: str, rating: str = "") -> str:
    check_in, status = read_answer_token(token)
    # A rating goes with "We met" only; chosen with another answer, it is not kept.
    rated = int(rating) if status is CheckInStatus.MET and rating in RATED else None
    record_check_in(person, check_in, status, rating=rated)
    change = external_url("checkins.edit", check_in_id=check_in.id)
    said = f"Recorded: “{ANSWER_LABELS[status]}”" + (f", rated {rated} of 5" if rated else "")
    return f"{said}. To add what it led to, or to change it: {change}"


RATED = {str(n) for n in range(1, 6)}


def _ask(person: Person, token: str, rating: str = "") -> str:
    ask, answer = read_ask_token(token)
    answer_ask(person, ask, answer)
    if answer == "yes":
        return "Recorded: yes. You are introduced to each other, as a coffee chat is."
    return "Recorded: not now. They are told kindly, without a reason."


def _availability(person: Person, token: str, rating: str = "") -> str:
    availability, accepting, capacity = read_availability_choice(token)
    answer_availability(person, availability, accepting, capacity or 0)
    change = external_url("home.index")
    term = availability.term.name
    if not accepting:
        return f"Recorded: not in {term}. To change it: {change}"
    many = f"{capacity} mentee{'s' if capacity != 1 else ''}"
    return f"Recorded: {many} in {term}. To change it or add topics: {change}"


RECORDERS: dict[str, Callable[[Person, str, str], str]] = {
    CHECK_IN: _check_in,
    ASK: _ask,
    AVAILABILITY: _availability,
}
