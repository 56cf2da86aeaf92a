"""A stand-in for Microsoft Teams on loopback, for the tests: Microsoft's token endpoint (the
client-credentials grant), the Bot Framework's OpenID metadata and signing keys, and the
connector's REST API the outbox writes to (v3 conversations: activities, members), as the Bot
Framework documents them (https://learn.microsoft.com/azure/bot-service/rest-api/). Activities
are sent to the app signed with the stand-in's own RSA key, which the app is configured to
trust instead of Microsoft's. No test reaches the internet."""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.standin import Answer, JsonService

APP_ID = "00000000-0000-4000-8000-000000000b07"
APP_PASSWORD = "test-app-password"
ISSUER = "https://api.botframework.com"
BOT_TOKEN = "test-connector-token"
KEY_ID = "stand-in-key"


class TeamsStandIn(JsonService):
    """`members` maps a user id to their e-mail address (what Teams gives for a member);
    `removed` holds conversations whose app was removed (the connector answers 403);
    `password` is the app password Microsoft accepts. Every connector call is kept in
    `calls` as (method, path, body)."""

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[str, str] = {}
        self.removed: set[str] = set()
        self.password = APP_PASSWORD
        self.calls: list[tuple[str, str, Any]] = []
        self._ids = itertools.count(1)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def url(self) -> str:
        return self.base

    @property
    def service_url(self) -> str:
        return f"{self.url}/teams/"

    def config(self) -> dict[str, str]:
        return {
            "TEAMS_APP_ID": APP_ID,
            "TEAMS_APP_PASSWORD": APP_PASSWORD,
            "TEAMS_TENANT_ID": "botframework.com",
            "TEAMS_LOGIN_URL": self.url,
            "TEAMS_OPENID_URL": f"{self.url}/v1/.well-known/openidconfiguration",
            "TEAMS_ISSUER": ISSUER,
        }

    def answer(self, method: str, path: str, body: dict[str, Any], token: str) -> Answer:
        status, answer = self._answer(method, path, body, f"Bearer {token}")
        return status, answer, {}

    def _answer(self, method: str, path: str, body: Any, auth: str) -> tuple[int, Any]:
        with self.lock:
            if path.endswith("/oauth2/v2.0/token"):
                if body.get("client_id") != APP_ID or body.get("client_secret") != self.password:
                    return 401, {"error": "invalid_client"}
                return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": BOT_TOKEN}
            if path == "/v1/.well-known/openidconfiguration":
                return 200, {"issuer": ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys"}
            if path == "/v1/.well-known/keys":
                public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
                return 200, {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}
            self.calls.append((method, path, body))
            if auth != f"Bearer {BOT_TOKEN}":
                return 401, {"error": {"code": "Unauthorized"}}
            found = re.fullmatch(
                r"/teams/v3/conversations/([^/]+)/(activities|members)(?:/(.+))?", path
            )
            if found is None:
                return 404, {"error": {"code": "NotFound"}}
            conversation, what, rest = found.groups()
            if conversation in self.removed:
                return 403, {"error": {"code": "BotNotInConversationRoster"}}
            if what == "members":
                email = self.members.get(rest or "")
                if email is None:
                    return 404, {"error": {"code": "MemberNotFoundInConversation"}}
                return 200, {"id": rest, "name": email, "email": email, "userPrincipalName": email}
            if method == "PUT":
                return 200, {"id": rest}
            return 201, {"id": f"activity-{next(self._ids)}"}

    def posts(self) -> list[tuple[str, dict[str, Any]]]:
        """(conversation, activity) of each activity the app created."""
        return [
            (path.split("/")[4], body)
            for method, path, body in self.calls
            if method == "POST" and path.endswith("/activities")
        ]

    def signed(
        self, activity: dict[str, Any], *, key: Any = None, audience: str = APP_ID
    ) -> dict[str, str]:
        """The headers the Bot Framework sends an activity with: its bearer token, signed."""
        now = int(time.time())
        token = jwt.encode(
            {
                "iss": ISSUER,
                "aud": audience,
                "serviceurl": activity["serviceUrl"],
                "iat": now,
                "nbf": now,
                "exp": now + 300,
            },
            key or self.key,
            algorithm="RS256",
            headers={"kid": KEY_ID},
        )
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def installed(self, user: str, conversation: str) -> dict[str, Any]:
        """The activity Teams sends when the app is installed for a person."""
        return {
            "type": "installationUpdate",
            "action": "add",
            "id": f"install-{user}",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": user, "aadObjectId": f"aad-{user}"},
            "recipient": {"id": f"28:{APP_ID}", "name": "Hallway"},
            "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "t1"},
        }

    def pressed(
        self,
        user: str,
        conversation: str,
        activity_id: str,
        card: dict,
        title: str,
        inputs: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The invoke Teams sends when `user` presses the card's Action.Execute `title`, with
        the card's inputs (Teams merges them into the action's data)."""
        action = next(a for a in card["actions"] if a["title"] == title)
        return {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "id": f"invoke-{next(self._ids)}",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": user},
            "recipient": {"id": f"28:{APP_ID}"},
            "conversation": {"id": conversation, "conversationType": "personal"},
            "replyToId": activity_id,
            "value": {
                "action": {
                    "type": "Action.Execute",
                    "verb": action["verb"],
                    "data": {**action["data"], **(inputs or {})},
                }
            },
        }
