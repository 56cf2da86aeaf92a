"""Hallway's Teams bot: what Teams sends to `POST /api/messages`, each request's token checked
with the Teams SDK's validator (signed by the Bot Framework, for Hallway's app, from the service
URL it names).

- The app installed for a person (by the tenant admin for everyone, or by themselves): Hallway
  asks Teams for that member's e-mail address, and keeps the personal conversation with the
  person of that address, so the outbox can write there. Removed: they get e-mail again.
- A button pressed on a card (an Action.Execute invoke): recorded as a press in Slack is
  (`program.chat.services.press`), and answered with the card saying what was recorded, which
  Teams puts in place of the one pressed.
- Anything else (a message typed to the bot) is acknowledged and not read.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import jwt
import sqlalchemy as sa
from flask import Flask

from program.chat.services import press
from program.db import utc_now
from program.extensions import db
from program.messages.cards import RATING, adaptive_card
from program.messages.models import ChatAccount
from program.messages.teams import ADAPTIVE, TOOL, bot_token
from program.people.models import Person

with warnings.catch_warnings():
    # The SDK's package warns, on import, of an experimental widget Hallway does not use.
    warnings.simplefilter("ignore")
    from microsoft_teams.api import ConversationClient
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
    from microsoft_teams.apps.auth import TokenValidator
    from microsoft_teams.common.http import ClientOptions

REMOVED = "Hallway's app was removed or blocked for them in Teams"


def validator(flask_app: Flask) -> TokenValidator:
    """The SDK's validator of the Bot Framework's tokens for this app, made once (it keeps
    the signing keys it fetched)."""
    made = flask_app.extensions.get("hallway_teams_validator")
    if made is None:
        config = flask_app.config
        cloud = with_overrides(
            PUBLIC,
            openid_metadata_url=config["TEAMS_OPENID_URL"],
            token_issuer=config["TEAMS_ISSUER"],
        )
        made = TokenValidator.for_service(config["TEAMS_APP_ID"], cloud=cloud)
        flask_app.extensions["hallway_teams_validator"] = made
    return made


def authentic(flask_app: Flask, authorization: str, activity: dict[str, Any]) -> bool:
    """Whether the request's bearer token is the Bot Framework's, for this app, from the
    service URL the activity names."""
    token = authorization.removeprefix("Bearer ").strip()
    if not token or not authorization.startswith("Bearer "):
        return False
    try:
        asyncio.run(
            validator(flask_app).validate_token(token, service_url=activity.get("serviceUrl"))
        )
    except (jwt.InvalidTokenError, jwt.PyJWKClientError):
        return False
    return True


def _member_email(flask_app: Flask, service_url: str, conversation: str, user: str) -> str:
    """The e-mail address Teams has for a member of a conversation."""
    config = flask_app.config
    token = bot_token(
        config["TEAMS_LOGIN_URL"],
        config["TEAMS_TENANT_ID"],
        config["TEAMS_APP_ID"],
        config["TEAMS_APP_PASSWORD"],
    )

    async def get() -> Any:
        client = ConversationClient(service_url, ClientOptions(token=token))
        return await client.get_member_by_id(conversation, user)

    member = asyncio.run(get())
    return str(getattr(member, "email", None) or getattr(member, "user_principal_name", "") or "")


def _installed(flask_app: Flask, activity: dict[str, Any]) -> None:
    """Keep the personal conversation of the person Hallway's app was installed for."""
    conversation = activity.get("conversation") or {}
    if conversation.get("conversationType", "personal") != "personal":
        return  # installed in a team or a group chat: Hallway writes to people one by one
    user = str((activity.get("from") or {}).get("id", ""))
    service_url = str(activity.get("serviceUrl", ""))
    email = _member_email(flask_app, service_url, str(conversation.get("id", "")), user).lower()
    person = db.session.scalar(sa.select(Person).where(Person.email == email)) if email else None
    if person is None:
        return  # someone Hallway does not know: nothing kept
    account = db.session.scalar(
        sa.select(ChatAccount).where(ChatAccount.person_id == person.id, ChatAccount.tool == TOOL)
    )
    if account is None:
        account = ChatAccount(person_id=person.id, tool=TOOL)
        db.session.add(account)
    account.email, account.external_id, account.unreachable = email, user, None
    account.reference = f"{service_url} {conversation.get('id')}"
    account.checked_at = utc_now()
    db.session.flush()


def _removed(activity: dict[str, Any]) -> None:
    user = str((activity.get("from") or {}).get("id", ""))
    db.session.execute(
        sa.update(ChatAccount)
        .where(ChatAccount.tool == TOOL, ChatAccount.external_id == user)
        .values(unreachable=REMOVED, reference=None, checked_at=utc_now())
    )


def handle(flask_app: Flask, activity: dict[str, Any]) -> dict[str, Any] | None:
    """Act on an authentic activity; returns an invoke's response body (None: just 200). The
    request it came in is its transaction: committed when it answers 200."""
    kind = activity.get("type")
    if kind == "installationUpdate":
        if str(activity.get("action", "")).startswith("remove"):
            _removed(activity)
        else:
            _installed(flask_app, activity)
        return None
    if kind == "conversationUpdate":
        bot = str((activity.get("recipient") or {}).get("id", ""))
        if any(m.get("id") == bot for m in activity.get("membersAdded") or []):
            _installed(flask_app, activity)
        return None
    if kind == "invoke" and activity.get("name") == "adaptiveCard/action":
        return _pressed(activity)
    return None


def _pressed(activity: dict[str, Any]) -> dict[str, Any]:
    action = ((activity.get("value") or {}).get("action")) or {}
    user = str((activity.get("from") or {}).get("id", ""))
    conversation = str((activity.get("conversation") or {}).get("id", ""))
    ref = f"{conversation} {activity.get('replyToId')}" if activity.get("replyToId") else None
    data = action.get("data") or {}
    # Action.Execute sends the card's inputs with its own data: the rating, when chosen.
    pressed = press(
        TOOL,
        user,
        str(action.get("verb", "")),
        str(data.get("token", "")),
        ref,
        str(data.get(RATING, "")),
    )
    if pressed.recorded and pressed.card is not None:
        return {
            "statusCode": 200,
            "type": ADAPTIVE,
            "value": adaptive_card(pressed.card, recorded=pressed.words),
        }
    # A refusal is said to the presser alone; the card stays as it was.
    return {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": pressed.words,
    }
