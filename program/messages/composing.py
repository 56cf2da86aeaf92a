"""Messages written when they are sent.

Bulk mail (a round's introductions, a tick's check-in prompts, an import's invitations, the
follow-ups after a first meeting) is queued as what to write: the recipient, the kind, the
template and what it is about (a check-in, a chat, a pair, a few ids in `details`). The sender
writes each one just before it goes, from the data as it then is, with a composer registered
registered (see registry.py) by the
domain that owns the template. So queueing ten thousand introductions writes ten
thousand short rows, an e-mail carries names and links as they are when it leaves (a name
corrected in between is the corrected one; a link's validity counts from its sending), and a
follow-up queued for two months later says what is true then.

A composer takes a batch of messages of its template and returns the template context of each
one it writes, loading what they need together (a few queries a batch, never one a message).
Several may share a template, each writing the messages about its own kind of subject (the
introduction of a coffee chat, of a formal pair). A message whose subject has gone (a pair
deleted since) gets no context: it is not sent, and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from program.extensions import db
from program.messages.models import Message
from program.messages.registry import Composer, composers_of
from program.messages.services import written

GONE = "Not sent: what this message was about no longer exists."


def write_out(messages: Sequence[Message]) -> dict[int, str]:
    """Write every unwritten message among these in place (subject and bodies set on the
    objects; the caller commits). Returns the messages that could not be written, with why.

    Each composer is called once for all the messages it writes, whatever their templates."""
    unwritten = [m for m in messages if not m.written]
    refused: dict[int, str] = {}
    work: dict[Composer, list[Message]] = {}
    for message in unwritten:
        found = composers_of(message.template or "")
        if not found:
            refused[message.id] = f"Not sent: no composer writes {message.template!r}."
        for compose in found or ():
            work.setdefault(compose, []).append(message)
    contexts: dict[int, dict[str, Any]] = {}
    for compose, group in work.items():
        # Each message is written or refused on its own: an error in one (a template, a
        # composer) is recorded on it, and the rest of the batch goes on.
        try:
            contexts.update(compose(group))
        except Exception as exc:
            refused.update((m.id, _failure(exc)) for m in group)
    for message in unwritten:
        if message.id in refused:
            continue
        context = contexts.get(message.id)
        if context is None:
            refused[message.id] = GONE
            continue
        try:
            for column, value in written(message.template or "", context).items():
                setattr(message, column, value)
        except Exception as exc:
            refused[message.id] = _failure(exc)
    return refused


def _failure(exc: Exception) -> str:
    return f"Not sent: it could not be written ({type(exc).__name__}: {exc})"[:2000]


def write_now(messages: Sequence[Message]) -> dict[int, str] | None:
    """Write these messages now if they are not all written (the sender, just before they go;
    the demo's inbox, to show them) and keep what they say. Returns those that could not be
    written, with why; None when there was nothing to write (and so no commit: the objects
    were not expired)."""
    if all(m.written for m in messages):
        return None
    refused = write_out(messages)
    db.session.commit()
    return refused
