"""Hallway's Slack app manifest: what a workspace admin pastes into "Create an app > From a
manifest" (https://docs.slack.dev/reference/app-manifest). It asks for the fewest scopes the
outbox needs, and no event subscription: Hallway reads no conversation."""

from __future__ import annotations

from typing import Any

# users:read.email finds a person by address (it needs users:read); im:write and mpim:write
# open a DM or a group DM; chat:write posts and updates Hallway's own messages.
BOT_SCOPES = ["users:read", "users:read.email", "im:write", "mpim:write", "chat:write"]


def slack_manifest(institution: str, base_url: str, *, socket_mode: bool) -> dict[str, Any]:
    """The manifest for this install: Socket Mode (no inbound port) or button presses posted
    to `base_url`/slack/events."""
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        interactivity["request_url"] = f"{base_url.rstrip('/')}/slack/events"
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Hallway",
            "description": f"Mentoring and coffee chats at {institution}"[:140],
            "long_description": (
                "Hallway introduces you to your mentor or coffee-chat partner and asks, once a "
                "month or after a chat, whether you met: one tap answers. It finds you by your "
                "e-mail address and posts only its own messages; it reads no conversation. "
                "Prefer e-mail? Choose it in Hallway under Notification settings."
            ),
            "background_color": "#1f4e5f",
        },
        "features": {"bot_user": {"display_name": "Hallway", "always_online": True}},
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
