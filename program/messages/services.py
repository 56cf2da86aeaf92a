"""Queueing e-mails into the outbox. Sending is a separate worker's job; queueing never sends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from program import links
from program.db import DomainError, chunks, insert_new, insert_rows
from program.extensions import db
from program.institution import get_settings
from program.links import external_url
from program.messages.cards import card_for
from program.messages.models import Message
from program.messages.registry import composers_of, is_kind
from program.people.models import Person


def write(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """`email/<template>.{txt,html}` written for `context`: (subject, plain text, HTML).

    The subject is the text template's first line. HTML bodies are autoescaped by Jinja, so names
    and notes from users can never inject markup into an e-mail. E-mail templates see only the
    context given here (not the web pages' globals), which also keeps bulk sending fast.
    """
    context = {
        "institution_name": get_settings().name,
        "settings_link": external_url("home.notifications"),
        **context,
    }
    env = current_app.jinja_env
    text = env.get_template(f"email/{template}.txt").render(context)
    subject, _, body_text = text.partition("\n")
    subject = subject.strip()
    body_html = env.get_template(f"email/{template}.html").render(subject=subject, **context)
    return subject[:300], body_text.lstrip("\n"), body_html


def _row(
    recipient: Any,
    kind: str,
    program_id: int | None,
    dedupe_key: str | None,
    reply_to: list[str] | None,
) -> dict[str, Any]:
    if not is_kind(kind):
        raise DomainError(f"Unknown message kind: {kind}")
    return {
        "recipient_id": recipient.id,
        "to_address": recipient.email,
        "kind": kind,
        "program_id": program_id,
        "dedupe_key": dedupe_key,
        "reply_to": ", ".join(reply_to) if reply_to else None,
    }


def render_message(
    recipient: Any,
    kind: str,
    *,
    template: str,
    context: dict[str, Any],
    program_id: int | None = None,
    dedupe_key: str | None = None,
    reply_to: list[str] | None = None,
) -> dict[str, Any]:
    """Render `email/<template>.{txt,html}` into the column values of an outbox row.

    `recipient` is a Person, or any record with its id and e-mail (a person inserted in bulk).
    """
    return {**_row(recipient, kind, program_id, dedupe_key, reply_to), **written(template, context)}


def written(template: str, context: dict[str, Any]) -> dict[str, Any]:
    """What a message says, as its columns: the e-mail's subject and bodies, and the card a
    chat tool shows instead (None for a kind that goes by e-mail only)."""
    subject, body_text, body_html = write(template, context)
    return {
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "card": card_for(template, context),
    }


def unwritten_message(
    recipient: Any,
    kind: str,
    *,
    template: str,
    program_id: int | None = None,
    dedupe_key: str | None = None,
    reply_to: list[str] | None = None,
    details: dict[str, Any] | None = None,
    **about: Any,
) -> dict[str, Any]:
    """An outbox row that says what to write, written by `template`'s composer when it is sent
    (see composing.py). `about` are the row's references (check_in_id, chat_id, assignment_id);
    `details` anything else the composer needs, as ids."""
    if not composers_of(template):
        raise DomainError(f"No composer writes {template} messages.")
    row = _row(recipient, kind, program_id, dedupe_key, reply_to)
    return {**row, "template": template, "details": details, **about}


# While an action is rehearsed (see `counting_recipients`), the recipients of every message it
# queues. Every message enters the outbox through the three functions below, so counting here
# counts every e-mail any action sends.
_recipients: ContextVar[list[int] | None] = ContextVar("recipients", default=None)


@contextmanager
def counting_recipients() -> Iterator[list[int]]:
    """Collect the recipient id of every message queued inside the block."""
    found: list[int] = []
    token = _recipients.set(found)
    try:
        yield found
    finally:
        _recipients.reset(token)


def _count(recipient_ids: Iterable[int]) -> None:
    found = _recipients.get()
    if found is not None:
        found.extend(recipient_ids)


def queue_message(recipient: Person, kind: str, **options: Any) -> Message:
    """Add one rendered message to the outbox (the caller's next flush writes it)."""
    row = render_message(recipient, kind, **options)
    _count([row["recipient_id"]])
    message = Message(**row)
    db.session.add(message)
    return message


def already_queued(dedupe_keys: list[str]) -> set[str]:
    """Which of these messages exist already (queued or sent): each is written once only."""
    found: set[str] = set()
    for chunk in chunks(dedupe_keys):
        found.update(
            db.session.scalars(sa.select(Message.dedupe_key).where(Message.dedupe_key.in_(chunk)))
        )
    return found


def queue_new_messages(rows: list[dict[str, Any]]) -> None:
    """Add the messages whose dedupe key is new (each is written once only), in one statement:
    the few a request queues, such as a first meeting's follow-ups."""
    added = insert_new(db.session, Message, rows, "dedupe_key", Message.recipient_id)
    _count(added)


def queue_messages(rows: list[dict[str, Any]]) -> None:
    """Add many messages (from `render_message` or `unwritten_message`) in one bulk insert."""
    _count(row["recipient_id"] for row in rows)
    insert_rows(db.session, Message, rows)


# An unsubscribe link keeps working as long as someone may keep the e-mail that carries it.
UNSUBSCRIBE_LINK_MAX_AGE = timedelta(days=730)


def unsubscribe_token(person_id: int) -> str:
    """The signed token of a person's one-click unsubscribe link (RFC 8058)."""
    return links.sign("unsubscribe", {"p": person_id})


def person_for_unsubscribe_token(token: str) -> Person:
    """The person an unsubscribe link is for; LinkRefused when forged, expired or stale."""
    person, _ = links.read_record("unsubscribe", token, UNSUBSCRIBE_LINK_MAX_AGE, Person, "p")
    return person
