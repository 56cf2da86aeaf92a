"""A stand-in for Slack on loopback, for the tests: the Web API methods Hallway calls, answered
as Slack documents them (https://docs.slack.dev/reference/methods), and interaction payloads
signed as Slack signs them (v0 HMAC-SHA256 of "v0:timestamp:body" with the signing secret).
No test reaches the internet: the app's SLACK_API_URL points here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode

from tests.standin import Answer, JsonService

TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"


class SlackStandIn(JsonService):
    """Slack's Web API: `users` maps an e-mail address to a user id; `revoked` makes every
    call fail as with a revoked token; `limited` answers the next N posts with HTTP 429. Every
    call is kept in `calls` as (method, arguments)."""

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, str] = {}
        self.revoked = False
        self.limited = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.socket_url: str | None = None  # Socket Mode's address (SocketModeStandIn)
        self._ts = itertools.count(1)

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def config(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.url,
        }

    def answer(self, verb: str, path: str, args: dict[str, Any], token: str) -> Answer:
        method = path.rsplit("/", 1)[-1]
        with self.lock:
            self.calls.append((method, args))
            if method == "apps.connections.open":
                if token != APP_TOKEN or self.socket_url is None:
                    return 200, {"ok": False, "error": "invalid_auth"}, {}
                return 200, {"ok": True, "url": self.socket_url}, {}
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


def press_payload(
    user: str, post: dict[str, Any], label: str, rating: str | None = None
) -> dict[str, Any]:
    """A block_actions payload: `user` pressed the button `label` of the posted message, with
    the rating chosen in its select (Slack sends the message's inputs as `state`)."""
    blocks = post["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    button = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button" and e["text"]["text"] == label
    )
    chosen = {"type": "static_select", "selected_option": None}
    if rating is not None:
        chosen["selected_option"] = {
            "text": {"type": "plain_text", "text": rating},
            "value": rating,
        }
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
        "state": {"values": {"b": {"rating:0": chosen}}},
        "response_url": "",
        "trigger_id": "1.2.3",
    }


APP_TOKEN = "xapp-test-token"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's, for Sec-WebSocket-Accept


class SocketModeStandIn:
    """Slack's Socket Mode on loopback: a WebSocket server (RFC 6455, text frames) that says
    hello, sends each envelope in `envelopes` to the app that connects, and keeps the
    acknowledgements it gets back (`acks`, envelope ids)."""

    def __init__(self) -> None:
        self.envelopes: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.listener.getsockname()[1]}/link/?ticket=test"

    def __enter__(self) -> SocketModeStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key")
            )
            accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())  # noqa: S324
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self._send(
                conn, {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
            )
            for envelope in self.envelopes:
                self._send(conn, envelope)
            conn.settimeout(0.2)
            buffer = b""
            while not self.stopped.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while (frame := _frame(buffer)) is not None:
                    opcode, data, used = frame
                    buffer = buffer[used:]
                    if opcode == 0x1:
                        self.acks.append(json.loads(data).get("envelope_id", ""))
                    elif opcode == 0x9:  # ping: pong with its data
                        conn.sendall(bytes([0x8A, len(data)]) + data)
                    elif opcode == 0x8:
                        return

    @staticmethod
    def _send(conn: socket.socket, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        if len(data) < 126:
            head = bytes([0x81, len(data)])
        elif len(data) < 65536:
            head = bytes([0x81, 126]) + len(data).to_bytes(2, "big")
        else:
            head = bytes([0x81, 127]) + len(data).to_bytes(8, "big")
        conn.sendall(head + data)


def _frame(buffer: bytes) -> tuple[int, bytes, int] | None:
    """One client frame from the buffer (always masked): (opcode, data, bytes used)."""
    if len(buffer) < 2:
        return None
    opcode, size, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
    if size == 126:
        size, at = int.from_bytes(buffer[2:4], "big"), 4
    elif size == 127:
        size, at = int.from_bytes(buffer[2:10], "big"), 10
    if len(buffer) < at + 4 + size:
        return None
    mask = buffer[at : at + 4]
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(buffer[at + 4 : at + 4 + size]))
    return opcode, data, at + 4 + size
