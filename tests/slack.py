"""A stand-in for Slack on loopback, for the tests: the Web API methods Hallway calls, answered
as Slack documents them (https://docs.slack.dev/reference/methods), and interaction payloads
signed as Slack signs them (v0 HMAC-SHA256 of "v0:timestamp:body" with the signing secret).
No test reaches the internet: the app's SLACK_API_URL points here."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"


class SlackStandIn:
    """Slack's Web API: `users` maps an e-mail address to a user id; `revoked` makes every
    call fail as with a revoked token; `limited` answers the next N posts with HTTP 429. Every
    call is kept in `calls` as (method, arguments)."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}
        self.revoked = False
        self.limited = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self._answer(parse_qs(urlsplit(self.path).query))

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(size).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                self._answer({**query, **args})

            def _answer(self, args: dict[str, Any]) -> None:
                args = {
                    k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in args.items()
                }
                method = urlsplit(self.path).path.rsplit("/", 1)[-1]
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                status, body, headers = stand_in.answer(method, args, token)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def config(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.url,
        }

    def __enter__(self) -> SlackStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(
        self, method: str, args: dict[str, Any], token: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            self.calls.append((method, args))
            if token != TOKEN:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if self.revoked:
                return 200, {"ok": False, "error": "token_revoked"}, {}
            if method == "auth.test":
                return 200, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}, {}
            if method == "users.lookupByEmail":
                user = self.users.get(args.get("email", ""))
                if user is None:
                    return 200, {"ok": False, "error": "users_not_found"}, {}
                return 200, {"ok": True, "user": {"id": user, "deleted": False}}, {}
            if method == "conversations.open":
                users = args["users"]
                users = users.split(",") if isinstance(users, str) else users
                kind = "D" if len(users) == 1 else "G"
                return 200, {"ok": True, "channel": {"id": kind + "-".join(sorted(users))}}, {}
            if method == "chat.postMessage":
                if self.limited:
                    self.limited -= 1
                    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}
                ts = f"{1700000000 + next(self._ts)}.000100"
                args["ts"] = ts  # kept with the call: a test presses its buttons
                return 200, {"ok": True, "channel": args["channel"], "ts": ts}, {}
            if method in ("chat.update", "chat.postEphemeral"):
                return 200, {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}, {}
            return 200, {"ok": False, "error": "unknown_method"}, {}

    def posts(self) -> list[dict[str, Any]]:
        return [args for method, args in self.calls if method == "chat.postMessage"]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [args for m, args in self.calls if m == method]


def signed(
    payload: dict[str, Any], secret: str = SIGNING_SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """An interaction as Slack posts it: form-encoded `payload`, signed."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return body, {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def press_payload(user: str, post: dict[str, Any], label: str) -> dict[str, Any]:
    """A block_actions payload: `user` pressed the button `label` of the posted message."""
    blocks = post["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    button = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )
    return {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "container": {"type": "message", "channel_id": post["channel"], "message_ts": post["ts"]},
        "channel": {"id": post["channel"]},
        "message": {"ts": post["ts"]},
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "value": button["value"],
                "block_id": "b",
                "action_ts": "1",
            }
        ],
        "response_url": "",
        "trigger_id": "1.2.3",
    }
