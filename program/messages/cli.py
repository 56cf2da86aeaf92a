"""`flask messages send`: send the outbox's due messages."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from program.messages.sending import send_due

messages_cli = AppGroup("messages", help="The outbox.")


@messages_cli.command("send")
@click.option("--limit", type=int, default=None, help="Stop after this many messages.")
def send_command(limit: int | None) -> None:
    """Send every due message once; retry failures later with backoff.

    Run it from cron every minute or two. Several may run at once on PostgreSQL; on SQLite run one.
    """
    report = send_due(limit=limit)
    click.echo(f"{report.sent} sent, {report.retried} to retry later, {report.failed} failed.")
    if report.retried and not report.sent:
        config = current_app.config
        where = (
            f"the mail server at {config['SMTP_HOST']}:{config['SMTP_PORT']}"
            if config.get("MAIL_TRANSPORT") == "smtp"
            else f"the {config.get('MAIL_TRANSPORT')} transport"
        )
        click.echo(
            f"Nothing could be sent through {where}: {report.last_error}\n"
            "Set HALLWAY_SMTP_HOST and HALLWAY_SMTP_PORT (see the README's production section) "
            "to your institution's mail server. The demo sends nothing out: while `flask demo` "
            "runs, its mail is shown at /demo/inbox."
        )
