"""Slack's requests over HTTP: button presses on Hallway's cards (`program.chat.bolt`)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from slack_bolt.adapter.flask import SlackRequestHandler

from program.chat.bolt import bolt_app
from program.extensions import csrf
from program.permissions import public

bp = Blueprint("chat", __name__)


@bp.route("/slack/events", methods=["POST"])
@csrf.exempt  # Slack posts here; the request's signature is what is checked
@public
def slack_events() -> Response:
    """Slack's interactions. Refused unless Slack is set up with a signing secret (Bolt then
    refuses any request whose signature or timestamp is wrong, with a 401)."""
    config = current_app.config
    if not (config["SLACK_BOT_TOKEN"] and config["SLACK_SIGNING_SECRET"]):
        abort(404)
    return SlackRequestHandler(bolt_app(current_app._get_current_object())).handle(request)  # type: ignore[attr-defined]
