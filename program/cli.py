"""Command-line entry points: the demo, and creating the first administrator.

Each command is one transaction: it commits when it finishes and rolls back on any error, like
a request does.
"""

from __future__ import annotations

import os
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from program.commands import one_transaction
from program.extensions import database_is_empty, db
from program.web import is_loopback


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and seed the demo, then stop.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Create the database, seed the demo institution, print the logins and serve it.

    Refuses any database that holds more than a demo, and serves only on this machine: the demo
    has published passwords and an inbox that shows every e-mail.
    """
    from seed.demo import DEMO_PASSWORD, demo_logins, foreign_people, point_links_at, seed_demo

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not is_loopback(host):
        raise click.ClickException(
            f"The demo serves only on this machine (127.0.0.1, ::1 or localhost), not on {host}: "
            "its passwords are published and its inbox shows every e-mail."
        )
    if "HALLWAY_BASE_URL" not in os.environ:
        # Links in the demo's e-mails must lead back to this very server.
        app.config["BASE_URL"] = f"http://{host}:{port}"
    if not database_is_empty():
        strangers = foreign_people()
        if strangers:
            raise click.ClickException(
                f"This database holds {strangers} people who are not demo people: it is not a "
                "demo database, and the demo writes nothing to it. Point DATABASE_URL at an "
                "empty database (or unset it for the embedded SQLite demo)."
            )
    upgrade()
    created = one_transaction(seed_demo)()
    one_transaction(point_links_at)(app.config["BASE_URL"])
    click.echo("Demo institution " + ("created." if created else "already there; kept as it is."))
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    for role, email in demo_logins():
        click.echo(f"  {role:<24} {email}")
    if no_serve:
        return
    click.echo(f"\nHallway is at http://{host}:{port}/  (Ctrl+C stops it)\n")
    # The demo serves plain http on this machine, where a Secure cookie would never come back,
    # and its mail goes to files and the demo inbox, never out.
    app.config.update(
        DEMO=True, SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False, MAIL_TRANSPORT="file"
    )
    start_demo_worker(app)
    # `app.run` refuses to block inside the flask command, so serve with Werkzeug directly.
    run_simple(host, port, app, threaded=True)


def start_demo_worker(app: Flask, every_seconds: float = 10.0) -> threading.Thread:
    """In the demo, the worker's loop in a thread: tick and send the outbox every few seconds."""
    from program.worker import run_worker

    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(app, stop),
        kwargs={"tick_every": every_seconds, "send_every": every_seconds},
        name="demo-mail",
        daemon=True,
    )
    thread.start()
    return thread


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@with_appcontext
@one_transaction
def create_admin_command(email: str, name: str) -> None:
    """Create the first administrator and print their invitation link."""
    from program.accounts.services import LinkPurpose, make_link_token
    from program.links import external_url
    from program.people.services import create_person

    person = create_person(None, email=email, name=name)
    person.is_admin = True
    db.session.flush()
    link = external_url(
        "accounts.accept_invitation", token=make_link_token(person, LinkPurpose.INVITATION)
    )
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    click.echo(f"Administrator {person.email} created. Set a password within {days} days at:")
    click.echo(link)


@click.command("tick")
@with_appcontext
def tick_command() -> None:
    """Create what is due now: check-in prompts, reminders. Safe to run as often as you like,
    on every machine at once: while one tick runs, another skips and exits 0."""
    from program.db import utc_now
    from program.worker import locked_tick

    counts = locked_tick(utc_now())
    if counts is None:
        click.echo("Another tick is running; it does this one's work. Nothing done here.")
        return
    click.echo(
        f"{counts['rounds']} coffee rounds published; {counts['check_ins']} check-ins due, "
        f"{counts['prompts']} prompts and {counts['reminders']} reminders queued; "
        f"{counts['intro_follow_ups']} quiet introductions followed up; "
        f"{counts['paused']} people's coffee chats paused after three unanswered."
    )


@click.command("worker")
@click.option("--tick-every", default=60.0, show_default=True, help="Seconds between ticks.")
@click.option("--send-every", default=10.0, show_default=True, help="Seconds between sends.")
@click.option("--once", is_flag=True, help="One tick and one send, then stop.")
@with_appcontext
def worker_command(tick_every: float, send_every: float, once: bool) -> None:
    """Tick and send the outbox in one long-running process, until SIGTERM or Ctrl+C.

    Run one on every machine you like against PostgreSQL; on SQLite, run one.
    """
    from program.worker import install_stop_signals, run_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    install_stop_signals(stop)
    # Flushed at once: under systemd or a log file, stdout is block-buffered.
    click.echo(f"Hallway worker: tick every {tick_every:g} s, send every {send_every:g} s.")
    sys.stdout.flush()
    totals = run_worker(app, stop, tick_every=tick_every, send_every=send_every, once=once)
    click.echo(
        f"Worker stopped: {totals['ticks']} ticks ({totals['ticks_skipped']} skipped while "
        f"another ran), {totals['sent']} sent, {totals['retried']} to retry, "
        f"{totals['failed']} failed."
    )


def register_commands(app: Flask) -> None:
    from program.chat.cli import slack_cli, teams_cli
    from program.coffee.cli import coffee_cli
    from program.formal.cli import formal_cli
    from program.messages.cli import messages_cli
    from program.reporting.cli import report_command
    from program.roster.cli import roster_cli

    app.cli.add_command(demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(roster_cli)
    app.cli.add_command(messages_cli)
    app.cli.add_command(formal_cli)
    app.cli.add_command(coffee_cli)
    app.cli.add_command(slack_cli)
    app.cli.add_command(teams_cli)
    app.cli.add_command(report_command)
    app.cli.add_command(tick_command)
    app.cli.add_command(worker_command)
