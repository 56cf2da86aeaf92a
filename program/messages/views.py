"""The demo inbox: in the demo only, every e-mail Hallway wrote, readable in the browser, so a
newcomer can click the links in them. Absent (404) everywhere else."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from werkzeug.wrappers import Response

from program.extensions import db
from program.messages.models import Message
from program.permissions import public
from program.web import is_loopback

bp = Blueprint("demo", __name__, url_prefix="/demo")

# A stored e-mail is shown as it would arrive: its own inline styles, no scripts, no remote
# content, and nothing that could submit a form or navigate this window.
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def _require_demo() -> None:
    # The demo serves only on loopback (flask demo refuses any other host); refusing any other
    # client here too keeps the inbox, which holds everyone's reset links, on this machine.
    remote = request.remote_addr or ""
    if not current_app.config.get("DEMO") or not is_loopback(remote):
        abort(404)


@bp.route("/inbox")
@public
def inbox() -> str:
    _require_demo()
    to = request.args.get("to", "").strip().lower()[:254]
    stmt = sa.select(Message).order_by(Message.created_at.desc(), Message.id.desc()).limit(200)
    if to:
        stmt = stmt.where(Message.to_address == to)
    messages = db.session.scalars(stmt).all()
    return render_template("demo/inbox.html", messages=messages, to=to)


@bp.route("/inbox/<int:message_id>")
@public
def message(message_id: int) -> str:
    _require_demo()
    found = db.session.get(Message, message_id)
    if found is None:
        abort(404)
    return render_template("demo/message.html", message=found)


@bp.route("/inbox/<int:message_id>/html")
@public
def message_html(message_id: int) -> Response:
    _require_demo()
    found = db.session.get(Message, message_id)
    if found is None:
        abort(404)
    # Links in the e-mail open in the whole window, as they would from a mail program.
    body = found.body_html.replace("<head>", '<head><base target="_top">', 1)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
