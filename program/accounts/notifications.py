"""How accounts' e-mails (invitations, password resets) are written when they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app

from program.accounts.services import LinkPurpose, make_link_token, passwords_allowed_for
from program.db import by_id
from program.extensions import db
from program.links import external_url
from program.messages.models import Message
from program.messages.registry import Notifications
from program.people.models import Person


def compose_invitations(messages: Sequence[Message]) -> dict[int, dict[str, Any]]:
    details = {m.id: m.details or {} for m in messages}
    wanted = {m.recipient_id for m in messages} | {
        d["invited_by"] for d in details.values() if d.get("invited_by")
    }
    people = by_id(db.session, Person, wanted)
    contexts = {}
    for message in messages:
        person, said = people.get(message.recipient_id), details[message.id]
        if person is None:
            continue
        # With institution sign-in only, no password to choose: the way in that works.
        with_password = passwords_allowed_for(person)
        link = (
            external_url(
                "accounts.accept_invitation",
                token=make_link_token(person, LinkPurpose.INVITATION),
            )
            if with_password
            else external_url("accounts.login")
        )
        contexts[message.id] = {
            "person": person,
            "invited_by": people.get(said.get("invited_by") or 0),
            "program_name": said.get("program_name", ""),
            "doing": said.get("doing") or [],
            "link": link,
            "with_password": with_password,
            "valid_days": current_app.config["INVITATION_MAX_AGE_DAYS"],
        }
    return contexts


NOTIFICATIONS = Notifications(
    kinds=frozenset({"invitation", "password_reset"}),
    optional=frozenset(),
    composers=((compose_invitations, ("invitation",)),),
)
