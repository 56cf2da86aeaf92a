"""The chat tools' requests: Slack's button presses over HTTP (`program.chat.bolt`) and what
Teams sends Hallway's bot (`program.chat.teams_bot`)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request
from slack_bolt.adapter.flask import SlackRequestHandler

from program.chat.bolt import bolt_app
from program.chat.teams_bot import authentic, handle
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


@bp.route("/api/messages", methods=["POST"])
@csrf.exempt  # the Bot Framework posts here; its signed token is what is checked
@public
def teams_messages() -> Response | tuple[Response, int] | tuple[str, int]:
    """Teams' activities for Hallway's bot. Not found unless Teams is set up; a request
    without the Bot Framework's token for this app is refused (401) and does nothing."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not (app.config["TEAMS_APP_ID"] and app.config["TEAMS_APP_PASSWORD"]):
        abort(404)
    activity = request.get_json(silent=True)
    if not isinstance(activity, dict):
        return "An activity is JSON.", 400
    if not authentic(app, request.headers.get("Authorization", ""), activity):
        return "Not the Bot Framework.", 401
    answer = handle(app, activity)
    return (jsonify(answer), 200) if answer is not None else ("", 200)
