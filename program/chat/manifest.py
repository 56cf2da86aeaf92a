"""The chat tools' app manifests. Slack's: what a workspace admin pastes into "Create an app >
From a manifest" (https://docs.slack.dev/reference/app-manifest), asking for the fewest scopes
the outbox needs and no event subscription: Hallway reads no conversation. Teams': the app
package a tenant admin uploads (https://learn.microsoft.com/microsoftteams/platform/resources/
schema/manifest-schema): the manifest, for a bot in the personal scope only, and its two icons.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from typing import Any
from urllib.parse import urlsplit

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


TEAMS_SCHEMA = "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
ACCENT = (0x1F, 0x4E, 0x5F)


def teams_manifest(institution: str, base_url: str, app_id: str, version: str) -> dict[str, Any]:
    """The Teams app's manifest: Hallway's bot (`app_id`, the Azure bot's Microsoft App ID),
    personal scope only (it writes to people one by one and is in no team or group chat)."""
    site = base_url.rstrip("/")
    return {
        "$schema": TEAMS_SCHEMA,
        "manifestVersion": "1.17",
        "version": version,
        "id": app_id,
        "developer": {
            "name": institution[:32],
            "websiteUrl": site,
            "privacyUrl": f"{site}/how-hallway-works",
            "termsOfUseUrl": f"{site}/how-hallway-works",
        },
        "name": {"short": "Hallway", "full": f"Hallway: mentoring at {institution}"[:100]},
        "description": {
            "short": "Introductions and one-tap check-ins for mentoring and coffee chats",
            "full": (
                "Hallway introduces you to your mentor or coffee-chat partner and asks, once a "
                "month or after a chat, whether you met: one tap answers. It writes to you "
                "here and reads nothing of your chats. Prefer e-mail? Choose it in Hallway "
                "under Notification settings."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [urlsplit(site).hostname or site],
    }


def _png(size: int, pixel: Any) -> bytes:
    """A PNG of `size` square, RGBA, each pixel from `pixel(x, y)`."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _in_h(x: float, y: float) -> bool:
    """Whether (x, y), from 0 to 1 across the icon, is on the letter H."""
    return (
        0.25 <= y <= 0.75
        and (0.25 <= x <= 0.37 or 0.63 <= x <= 0.75 or 0.45 <= y <= 0.55)
        and 0.25 <= x <= 0.75
    )


def teams_package(manifest: dict[str, Any]) -> bytes:
    """The app package: the manifest and its icons (192 px in colour, a 32 px white outline on
    transparent), zipped as Teams' admin center takes it."""
    white = (255, 255, 255, 255)
    color = _png(192, lambda x, y: white if _in_h(x / 192, y / 192) else (*ACCENT, 255))
    outline = _png(32, lambda x, y: white if _in_h(x / 32, y / 32) else (0, 0, 0, 0))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        package.writestr("color.png", color)
        package.writestr("outline.png", outline)
    return out.getvalue()
