"""Slack as a channel of the outbox: people found by their e-mail address, a message posted as
the card's Block Kit, and updated when one of its buttons is pressed.

What Hallway reads from Slack: a person's user id, looked up by the e-mail address Hallway has
for them (`users.lookupByEmail`, scope `users:read.email`). What it writes: its own messages,
in a direct message to the person or, for an introduction of two people who both chose Slack,
in a group DM with both (`conversations.open`, `chat.postMessage`, `chat.update`; scopes
`im:write`, `mpim:write`, `chat:write`). It reads no conversation.

Errors are sorted by whose they are: a person Slack cannot reach (no account with that address,
deactivated) gets the message by e-mail (`Unreachable`); Hallway's token refused (revoked, the
app uninstalled) sends every message by e-mail and says so on the Mail page (`Refused`); Slack
asking to slow down (HTTP 429) puts the batch back for its Retry-After (`SlowDown` in the
sender); anything else is retried as a failed e-mail would be.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from program.messages.cards import Card, card_text, slack_blocks
from program.messages.channel import RateLimited, Refused, Unreachable

TOOL = "slack"
# Errors that say the person is not there to be reached.
NOT_THERE = {
    "users_not_found": "Slack has no account with this address",
    "user_not_found": "Slack has no account with this address",
    "user_disabled": "their Slack account is deactivated",
    "cannot_dm_bot": "the address is a bot's",
    "user_not_visible": "Hallway's app cannot see them in Slack",
}
# Errors that say Hallway itself is refused: every message goes by e-mail until it is fixed.
REFUSED = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "app_uninstalled",
    "missing_scope",
    "no_permission",
    "team_access_not_granted",
}


def _raise_for(exc: SlackApiError) -> None:
    error = str(exc.response.get("error", ""))
    if exc.response.status_code == 429 or error == "ratelimited":
        raise RateLimited(int(exc.response.headers.get("Retry-After", "60"))) from exc
    if error in NOT_THERE:
        raise Unreachable(NOT_THERE[error]) from exc
    if error in REFUSED:
        raise Refused(
            "Slack", "token", error, "reinstall the app or set a new HALLWAY_SLACK_BOT_TOKEN"
        ) from exc
    raise exc


class SlackChannel:
    """One client for a batch: Slack's Web API at `base_url` (a stand-in in the tests)."""

    tool = TOOL
    finds_by_email = True
    group_conversations = True  # an introduction in a group DM with the partners

    def __init__(self, token: str, base_url: str = "https://slack.com/api/") -> None:
        self.client = WebClient(token=token, base_url=base_url, timeout=15)

    def find(self, email: str) -> str:
        """The Slack user id of the person with this address."""
        try:
            found = self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            _raise_for(exc)
        user: dict[str, Any] = found["user"]
        if user.get("deleted"):
            raise Unreachable(NOT_THERE["user_disabled"])
        if user.get("is_bot"):
            raise Unreachable(NOT_THERE["cannot_dm_bot"])
        return str(user["id"])

    def post(self, users: list[str], card: Card, mention: str | None = None) -> str:
        """Post the card in the conversation of these users (a DM, or a group DM for several);
        returns where it is ("channel ts"), to update it later."""
        try:
            opened = self.client.conversations_open(users=users)
            channel = str(opened["channel"]["id"])
            posted = self.client.chat_postMessage(
                channel=channel,
                text=card_text(card),
                blocks=slack_blocks(card, mention=mention),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            _raise_for(exc)
        return f"{channel} {posted['ts']}"

    def update(self, ref: str, card: Card, recorded: str) -> None:
        """Show in place of the buttons what a press recorded."""
        channel, ts = ref.split(" ", 1)
        try:
            self.client.chat_update(
                channel=channel,
                ts=ts,
                text=f"{card_text(card)}\n{recorded}",
                blocks=slack_blocks(card, recorded=recorded),
            )
        except SlackApiError as exc:
            _raise_for(exc)

    def whisper(self, ref: str, user: str, text: str) -> None:
        """Say this to one person in the conversation of a message, seen by them alone."""
        try:
            self.client.chat_postEphemeral(channel=ref.split(" ", 1)[0], user=user, text=text)
        except SlackApiError as exc:
            _raise_for(exc)
