"""What a button press on a card records. A press is the person acting, as a click on the
same e-mail link then "Confirm" would be: it records at once, once (the signed answer is used
up by the answer, and two presses at once keep the first), and the card then says what it
recorded in place of its buttons."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from program.checkins.services import ANSWER_LABELS, read_answer_token, record_check_in
from program.db import DomainError
from program.extensions import db
from program.links import LinkRefused, external_url
from program.messages.cards import CHECK_IN, Card
from program.messages.chat import person_of
from program.messages.models import Message
from program.people.models import Person

REFUSED_LINK = {
    "expired": "This check-in is too old to answer here; answer it from your Hallway home page.",
    "used": "This check-in was answered already (or changed since this message was sent).",
    "invalid": "Hallway could not read this button.",
}


@dataclass
class Pressed:
    """What a press did: the words to show in place of the card's buttons (recorded), or to
    show the presser alone (refused); and the card to redraw, where it was found."""

    words: str
    recorded: bool
    card: Card | None = None
    ref: str | None = None


def press(tool: str, user_id: str, action_id: str, value: str, ref: str | None) -> Pressed:
    """Record the press of a card's button by this chat user; commits what it records."""
    person_id = person_of(tool, user_id)
    person = db.session.get(Person, person_id) if person_id is not None else None
    if person is None or not person.active:
        return Pressed(
            "Hallway does not know you here: answer from the e-mail or your home page.", False
        )
    card = None
    if ref is not None:
        card = db.session.scalar(sa.select(Message.card).where(Message.chat_ref == ref))
    if action_id.split(":", 1)[0] != CHECK_IN:
        return Pressed("This button does nothing in Hallway.", False)
    try:
        check_in, status = read_answer_token(value)
    except LinkRefused as exc:
        return Pressed(REFUSED_LINK.get(exc.problem, REFUSED_LINK["invalid"]), False)
    try:
        record_check_in(person, check_in, status)
    except DomainError as exc:
        db.session.rollback()
        return Pressed(str(exc), False)
    db.session.commit()
    change = external_url("checkins.edit", check_in_id=check_in.id)
    return Pressed(
        f"Recorded: “{ANSWER_LABELS[status]}”. To add a rating or what it led to, or to change "
        f"it: {change}",
        True,
        card,
        ref,
    )
