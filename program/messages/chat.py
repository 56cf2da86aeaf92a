"""Which channel a message goes by, and its delivery in the chat tool.

A message goes to the chat tool when the institution turned one on (Admin > Institution) and
its token is set, the message has a card (an introduction, a check-in), and its recipient
chose the chat tool (the default) and can be reached there; else by e-mail, with why on the
message when its recipient had chosen chat. Never both: the e-mail is the fallback, not a copy.

People are found by e-mail address and remembered (`ChatAccount`): found, for a week; not found,
for a day (a new colleague joins the workspace); an address changed since is looked up again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from program.extensions import db
from program.institution import get_settings
from program.messages.channel import Unreachable
from program.messages.models import ChatAccount, Message
from program.messages.slack import TOOL, SlackChannel
from program.messages.teams import TOOL as TEAMS
from program.messages.teams import TeamsChannel
from program.people.models import Delivery, Person

FOUND_FOR = timedelta(days=7)
NOT_FOUND_FOR = timedelta(days=1)
TOOL_NAMES = {TOOL: "Slack", TEAMS: "Microsoft Teams"}
Channel = SlackChannel | TeamsChannel


def configured(tool: str) -> bool:
    """Whether this server has the chat tool's credentials (from the environment)."""
    config = current_app.config
    if tool == TOOL:
        return bool(config["SLACK_BOT_TOKEN"])
    if tool == TEAMS:
        return bool(config["TEAMS_APP_ID"] and config["TEAMS_APP_PASSWORD"])
    return False


def chat_tool() -> str:
    """The chat tool messages go by ("" for none): turned on, and its credentials set."""
    tool = get_settings().chat_tool
    return tool if configured(tool) else ""


def channel_for_batch() -> Channel | None:
    config = current_app.config
    tool = chat_tool()
    if tool == TOOL:
        return SlackChannel(config["SLACK_BOT_TOKEN"], config["SLACK_API_URL"])
    if tool == TEAMS:
        return TeamsChannel(config)
    return None


def chooses_chat(person_ids: set[int]) -> set[int]:
    """Of these people, those whose messages go to the chat tool where they can be reached."""
    if not person_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Person.id).where(Person.id.in_(person_ids), Person.delivery == Delivery.CHAT)
        )
    )


def account_of(channel: Channel, person_id: int, email: str, now: datetime) -> str:
    """Where to write to the person in the chat tool: their Slack id, looked up by address
    when not known (or stale); Teams' conversation, known since the app was installed for
    them. Raises Unreachable (with why) when they are not there."""
    account = db.session.scalar(
        sa.select(ChatAccount).where(
            ChatAccount.person_id == person_id, ChatAccount.tool == channel.tool
        )
    )
    if not channel.finds_by_email:
        if account is None or account.unreachable or not account.reference:
            raise Unreachable(
                account.unreachable
                if account and account.unreachable
                else f"Hallway's app is not installed for them in {TOOL_NAMES[channel.tool]}"
            )
        return account.reference
    if account is not None and account.email == email:
        fresh = now - account.checked_at < (NOT_FOUND_FOR if account.unreachable else FOUND_FOR)
        if fresh and account.unreachable:
            raise Unreachable(account.unreachable)
        if fresh and account.external_id:
            return account.external_id
    if account is None:
        account = ChatAccount(person_id=person_id, tool=channel.tool, email=email)
        db.session.add(account)
    account.email, account.checked_at = email, now
    try:
        account.external_id, account.unreachable = channel.find(email), None
    except Unreachable as exc:
        account.external_id, account.unreachable = None, str(exc)[:300]
        db.session.flush()
        raise
    db.session.flush()
    return account.external_id


def person_of(tool: str, external_id: str) -> int | None:
    """Who pressed a button: the person with this id in the chat tool."""
    return db.session.scalar(
        sa.select(ChatAccount.person_id).where(
            ChatAccount.tool == tool,
            ChatAccount.external_id == external_id,
            ChatAccount.unreachable.is_(None),
        )
    )


def conversation(channel: Channel, message: Message, now: datetime) -> tuple[list[str], str | None]:
    """Whom the message is posted to: its recipient, and for an introduction the partners who
    chose the chat tool too and are there (a group DM, the recipient mentioned); the users'
    ids and the mention."""
    me = account_of(channel, message.recipient_id, message.to_address, now)
    if not channel.group_conversations:
        return [me], None
    card: dict[str, Any] = message.card or {}
    users = [me]
    for partner_id, email in db.session.execute(
        sa.select(Person.id, Person.email)
        .where(Person.id.in_(card.get("partners", [])), Person.delivery == Delivery.CHAT)
        .order_by(Person.id)
    ):
        try:
            users.append(account_of(channel, partner_id, email, now))
        except Unreachable:
            continue  # they get their introduction by e-mail; this one is the recipient's
    return users, (me if len(users) > 1 else None)


def chat_account_of(person_id: int) -> ChatAccount | None:
    """A person's account in the institution's chat tool, as last looked up (None: no tool,
    or not looked up yet)."""
    tool = chat_tool()
    if not tool:
        return None
    return db.session.scalar(
        sa.select(ChatAccount).where(ChatAccount.person_id == person_id, ChatAccount.tool == tool)
    )
