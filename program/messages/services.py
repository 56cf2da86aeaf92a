"""Queueing e-mails into the outbox. Sending is a separate worker's job; queueing never sends."""

from __future__ import annotations

from typing import Any

from flask import render_template

from program.db import DomainError
from program.extensions import db
from program.messages.models import Message
from program.people.models import Person

# Every kind of e-mail Hallway writes; the outbox refuses any other, so a typo cannot create a
# kind that no preference, report or template knows about.
MESSAGE_KINDS = frozenset(
    {
        "invitation",
        "password_reset",
        "checkin_prompt",
        "reminder",
        "availability_request",
        "intro",
        "thank_you_nudge",
        "update_nudge",
        "enrollment_notice",
    }
)


def queue_message(
    recipient: Person,
    kind: str,
    *,
    template: str,
    context: dict[str, Any],
    program_id: int | None = None,
    dedupe_key: str | None = None,
) -> Message:
    """Render `email/<template>.{txt,html}` and add the message to the outbox.

    The subject is the text template's first line. HTML bodies are autoescaped by Jinja, so names
    and notes from users can never inject markup into an e-mail.
    """
    if kind not in MESSAGE_KINDS:
        raise DomainError(f"Unknown message kind: {kind}")
    from program.admin.services import get_settings

    context = {"institution_name": get_settings().name, **context}
    text = render_template(f"email/{template}.txt", **context)
    subject, _, body_text = text.partition("\n")
    body_html = render_template(f"email/{template}.html", subject=subject, **context)
    message = Message(
        recipient_id=recipient.id,
        to_address=recipient.email,
        kind=kind,
        subject=subject.strip()[:300],
        body_text=body_text.lstrip("\n"),
        body_html=body_html,
        program_id=program_id,
        dedupe_key=dedupe_key,
    )
    db.session.add(message)
    db.session.flush()
    return message
