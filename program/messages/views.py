"""The demo inbox: in the demo only, every e-mail Hallway wrote, readable in the browser, so a
newcomer can click the links in them. Absent (404) everywhere else."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from program.extensions import db
from program.messages.cards import adaptive_card, slack_blocks
from program.messages.composing import write_now
from program.messages.models import Message
from program.permissions import public
from program.web import is_loopback
from seed.demo import demo_logins

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


@dataclass(frozen=True)
class Mailbox:
    label: str
    address: str
    count: int
    latest: Message | None


def _mailboxes() -> list[Mailbox]:
    """Each demo login's mail: how many, and the newest (two queries)."""
    logins = demo_logins()
    addresses = [address for _, address in logins]
    counts = dict(
        db.session.execute(
            sa.select(Message.to_address, sa.func.count())
            .where(Message.to_address.in_(addresses))
            .group_by(Message.to_address)
        ).all()
    )
    ranked = (
        sa.select(
            Message.id,
            sa.func.row_number()
            .over(
                partition_by=Message.to_address,
                order_by=(Message.created_at.desc(), Message.id.desc()),
            )
            .label("n"),
        )
        .where(Message.to_address.in_(addresses))
        .subquery()
    )
    latest = {
        m.to_address: m
        for m in db.session.scalars(
            sa.select(Message).join(ranked, ranked.c.id == Message.id).where(ranked.c.n == 1)
        )
    }
    return [
        Mailbox(label, address, counts.get(address, 0), latest.get(address))
        for label, address in logins
    ]


def _addressee() -> str:
    """The `?to=` address whose mail to show ("" for everyone's)."""
    return request.args.get("to", "").strip().lower()[:254]


def _newest_first(to: str) -> sa.Select[tuple[Message]]:
    stmt = sa.select(Message).order_by(Message.created_at.desc(), Message.id.desc())
    return stmt.where(Message.to_address == to) if to else stmt


@bp.route("/inbox")
@public
def inbox() -> str:
    """Grouped by person: each demo login's mailbox first, then the newest mail of everyone;
    one person's mail opens on their newest message."""
    _require_demo()
    to = _addressee()

    def read() -> tuple[list[Message], list[Mailbox]]:
        messages = list(db.session.scalars(_newest_first(to).limit(200)))
        return messages, [] if to else _mailboxes()

    messages, mailboxes = read()
    if write_now([*messages, *(box.latest for box in mailboxes if box.latest)]) is not None:
        messages, mailboxes = read()  # as written, in two queries rather than one a message
    return render_template(
        "demo/inbox.html",
        messages=messages,
        to=to,
        mailboxes=mailboxes,
        opened=messages[0] if to and messages else None,
    )


@bp.route("/inbox/latest")
@public
def latest() -> Response:
    """Straight to someone's newest e-mail (the demo banner's links), or their empty inbox."""
    _require_demo()
    to = _addressee()
    newest = db.session.scalar(_newest_first(to).limit(1)) if to else None
    if newest is None:
        return redirect(url_for("demo.inbox", to=to))
    return redirect(url_for("demo.message", message_id=newest.id))


def _shown(message_id: int) -> Message:
    """One message of the inbox, written now if the sender has not written it yet."""
    _require_demo()
    found = db.session.get(Message, message_id)
    if found is None:
        abort(404)
    write_now([found])
    return found


@bp.route("/inbox/<int:message_id>")
@public
def message(message_id: int) -> str:
    shown = _shown(message_id)
    blocks = slack_blocks(shown.card) if shown.card else None
    adaptive = adaptive_card(shown.card) if shown.card else None
    return render_template("demo/message.html", message=shown, blocks=blocks, adaptive=adaptive)


@bp.route("/inbox/<int:message_id>/html")
@public
def message_html(message_id: int) -> Response:
    found = _shown(message_id)
    # Links in the e-mail open in the whole window, as they would from a mail program.
    body = (found.body_html or "").replace("<head>", '<head><base target="_top">', 1)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
