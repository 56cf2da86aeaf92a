"""Hallway's Slack app (Bolt for Python): the button presses on its cards, received over HTTP
(`POST /slack/events`, each request's signature checked with the signing secret) or over
Socket Mode (`hallway slack connect`: Hallway dials out to Slack, so no inbound port has to be
opened through a hospital's firewall). Either way a press is handled by `press` in the app's
context, and the card is redrawn to say what was recorded."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, has_app_context
from slack_bolt import Ack, App
from slack_sdk import WebClient

from program.chat.services import RECORDERS, Pressed, press
from program.extensions import db
from program.messages.cards import RATING
from program.messages.slack import TOOL, SlackChannel

# Every button of a card: those that answer (`press` records them) and those that open a page.
ACTIONS = re.compile(rf"^({'|'.join(map(re.escape, RECORDERS))}|link|{RATING}):")


def _where(body: dict[str, Any]) -> str | None:
    """The pressed message as the outbox recorded it ("channel ts")."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return f"{channel} {ts}" if channel and ts else None


def _rating(body: dict[str, Any]) -> str:
    """The rating chosen on the card when its button was pressed (Slack sends the state of
    the message's inputs with the press)."""
    for block in ((body.get("state") or {}).get("values") or {}).values():
        for action_id, chosen in block.items():
            if action_id.startswith(f"{RATING}:"):
                return str(((chosen or {}).get("selected_option") or {}).get("value", ""))
    return ""


def handle_press(flask_app: Flask, body: dict[str, Any]) -> Pressed | None:
    """Record the press in `body` (a block_actions payload) and answer in Slack."""
    action = (body.get("actions") or [{}])[0]
    if str(action.get("action_id", "")).startswith(("link:", f"{RATING}:")):
        return None  # a page Slack opened, or a rating chosen: nothing to record yet
    user = str((body.get("user") or {}).get("id", ""))
    ref = _where(body)
    config = flask_app.config
    channel = SlackChannel(config["SLACK_BOT_TOKEN"], config["SLACK_API_URL"])
    pressed = press(
        TOOL,
        user,
        str(action.get("action_id", "")),
        str(action.get("value", "")),
        ref,
        _rating(body),
    )
    # The press is this handler's transaction (under HTTP as under Socket Mode): kept before
    # Slack is told it was recorded.
    db.session.commit()
    if ref is None:
        return pressed
    if pressed.recorded and pressed.card is not None:
        channel.update(ref, pressed.card, pressed.words)
    elif not pressed.recorded:
        channel.whisper(ref, user, pressed.words)
    return pressed


def bolt_app(flask_app: Flask) -> App:
    """The Slack app of this Flask app, made once."""
    made = flask_app.extensions.get("hallway_slack")
    if made is not None:
        return made
    config = flask_app.config
    app = App(
        signing_secret=config["SLACK_SIGNING_SECRET"] or None,
        client=WebClient(token=config["SLACK_BOT_TOKEN"] or None, base_url=config["SLACK_API_URL"]),
        # Asked on the first event instead of at start-up: the app starts with Slack down.
        token_verification_enabled=False,
        # Handled before the answer to Slack: the press is recorded when Slack hears "200".
        process_before_response=True,
    )

    @app.action(ACTIONS)
    def _pressed(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        if has_app_context():
            handle_press(flask_app, body)
        else:  # Socket Mode: a thread of its own
            with flask_app.app_context():
                handle_press(flask_app, body)

    flask_app.extensions["hallway_slack"] = app
    return app
