"""How coffee-chat e-mails (a chat's introductions) are written when they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import joinedload, raiseload, selectinload

from program.coffee.enrollment import enrollment_links
from program.coffee.models import Chat, ChatMember
from program.db import by_id
from program.extensions import db
from program.meetings.services import propose_link
from program.messages.intros import (
    chat_first_mover,
    coffee_ask,
    intro_context,
    yes_ask,
)
from program.messages.models import Message
from program.messages.registry import Notifications
from program.people.models import Person


def compose_intros(messages: Sequence[Message]) -> dict[int, dict[str, Any]]:
    """A coffee chat's introductions: the partners and how to reach them; the one at the
    earliest stage writes first, with a ready ask and the link to propose times."""
    chats = by_id(
        db.session,
        Chat,
        (m.chat_id for m in messages if m.chat_id is not None),
        joinedload(Chat.program),
        selectinload(Chat.members).joinedload(ChatMember.person).joinedload(Person.department),
        raiseload("*"),
    )
    contexts = {}
    for message in messages:
        chat = chats.get(message.chat_id) if message.chat_id is not None else None
        members = [m.person for m in chat.members] if chat else []
        person = next((p for p in members if p.id == message.recipient_id), None)
        if chat is None or person is None:
            continue
        program = chat.program
        first = chat_first_mover(members, chat.id, chat.self_started)
        partners = [p for p in members if p is not person]
        to = [p for p in members if p is not first]
        context = intro_context(
            person,
            partners,
            first=first,
            ask=(yes_ask if chat.self_started else coffee_ask)(first, to, program.name),
            program=program.name,
            track="coffee",
            today=message.created_at.date(),
        )
        context["self_started"] = chat.self_started
        if not chat.self_started:  # snoozing and leaving are about rounds
            context["coffee_links"] = enrollment_links(person.id, program.id)
        if person is first:
            context["propose_link"] = propose_link("chat", chat.id, person)
        contexts[message.id] = context
    return contexts


NOTIFICATIONS = Notifications(
    kinds=frozenset({"intro", "coffee_enrolled", "coffee_paused"}),
    optional=frozenset(),
    composers=((compose_intros, ("intro",)),),
)
