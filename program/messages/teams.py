"""Microsoft Teams as a channel of the outbox, with the Teams SDK for Python
(`microsoft-teams-api`): a card posted as an Adaptive Card in the personal chat Hallway's app
has with the person, through the Bot Framework connector at the service URL Teams gave when the
app was installed for them.

Teams offers a bot no lookup by e-mail address: a person is reachable once the tenant admin has
installed the app for them (for everyone, from the Teams admin center), when Teams tells Hallway
so (`program.chat.teams_bot` keeps the conversation, `ChatAccount.reference`). Until then, and
after they remove it or block it, their messages go by e-mail.

Hallway's token for the connector is the Bot Framework's client-credentials grant for its app
(`HALLWAY_TEAMS_APP_ID`, `HALLWAY_TEAMS_APP_PASSWORD`), kept until shortly before it expires.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import requests
from microsoft_teams.api import ConversationClient, MessageActivityInput
from microsoft_teams.api.models import Attachment
from microsoft_teams.common.http import ClientOptions

from program.messages.cards import Card, adaptive_card, card_text
from program.messages.channel import RateLimited, Refused, Unreachable

TOOL = "teams"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
# What the connector's refusals mean for one person (their chat is gone or blocked).
GONE = {
    404: "Hallway's app is no longer installed for them in Teams",
    403: "they blocked Hallway's app in Teams, or Teams does not allow it for them",
}

_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def bot_token(login_url: str, tenant: str, app_id: str, password: str) -> str:
    """The connector's bearer token for Hallway's app (client credentials), kept until a
    minute before it expires."""
    key = (f"{login_url}/{tenant}", app_id)
    with _tokens_lock:
        found = _tokens.get(key)
        if found and found[1] > time.time() + 60:
            return found[0]
    answer = requests.post(
        f"{login_url.rstrip('/')}/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": password,
            "scope": "https://api.botframework.com/.default",
        },
        timeout=15,
    )
    if answer.status_code in (400, 401):
        raise Refused(
            "Microsoft",
            "app ID or password",
            str(answer.json().get("error", answer.status_code)),
            "set HALLWAY_TEAMS_APP_ID and HALLWAY_TEAMS_APP_PASSWORD to the bot's",
        )
    answer.raise_for_status()
    body = answer.json()
    with _tokens_lock:
        _tokens[key] = (body["access_token"], time.time() + int(body.get("expires_in", 3600)))
    return str(body["access_token"])


def _raise_for(exc: httpx.HTTPStatusError) -> None:
    status = exc.response.status_code
    if status == 429:
        raise RateLimited(int(exc.response.headers.get("Retry-After", "60"))) from exc
    if status == 401:
        raise Refused(
            "Teams", "token", "401", "check HALLWAY_TEAMS_APP_ID and HALLWAY_TEAMS_APP_PASSWORD"
        ) from exc
    if status in GONE:
        raise Unreachable(GONE[status]) from exc
    raise exc


class TeamsChannel:
    """The connector client of one send: posts each card in the person's personal chat."""

    tool = TOOL
    finds_by_email = False  # people are known from the app's installation, not looked up
    group_conversations = False  # a bot cannot start a group chat: a "Chat with them" link

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def _token(self) -> str:
        c = self.config
        return bot_token(
            c["TEAMS_LOGIN_URL"], c["TEAMS_TENANT_ID"], c["TEAMS_APP_ID"], c["TEAMS_APP_PASSWORD"]
        )

    def post(self, users: list[str], card: Card, mention: str | None = None) -> str:
        """Post the card in the personal chat of `users[0]` (its reference: "<service url>
        <conversation id>"); returns "<conversation id> <activity id>"."""
        service_url, conversation = users[0].split(" ", 1)
        activity = MessageActivityInput(text=card_text(card)).add_attachments(
            Attachment(content_type=ADAPTIVE, content=adaptive_card(card))
        )
        token = self._token()

        async def create() -> str:
            client = ConversationClient(service_url, ClientOptions(token=token))
            sent = await client.create_activity(conversation, activity)
            return str(sent.id)

        try:
            activity_id = asyncio.run(create())
        except httpx.HTTPStatusError as exc:
            _raise_for(exc)
        return f"{conversation} {activity_id}"
