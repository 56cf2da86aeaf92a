"""The long-running worker: what is due (tick), the outbox (send), and the reports and round
previews built ahead after each tick (`warm_kept`), in one process.

Run `hallway worker` on as many machines as you like against one PostgreSQL:

- tick runs under a PostgreSQL advisory lock held for its transaction, so two ticks never run at
  once anywhere (the second one finds the lock taken, skips and exits 0); on SQLite, a lock file
  in the instance folder does the same on the one machine SQLite allows;
- senders claim messages with SELECT ... FOR UPDATE SKIP LOCKED (see `program.messages.sending`).

SIGTERM or SIGINT stops it cleanly: the message being sent is finished and recorded, messages
claimed but not yet started go back to the queue at once, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import fcntl
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from program.asks.asks import follow_up_asks
from program.checkins.schedule import follow_up_intros, schedule_due
from program.coffee.enrollment import snooze_ghosts
from program.coffee.rounds import preview_round, publish_due_rounds
from program.db import utc_now
from program.extensions import db
from program.messages.sending import send_due
from program.programs.models import Program
from program.programs.terms import current_term
from program.reporting.services import make_report
from program.surveys.services import open_due_surveys, remind_due
from program.wiring import register_notifications, watch_report_data

# Any fixed 64-bit number, unique to Hallway's tick among the advisory locks of the database.
TICK_LOCK_KEY = 0x4A11_7A1C


@contextlib.contextmanager
def _sqlite_lock(instance_path: str) -> Iterator[bool]:
    path = Path(instance_path) / "tick.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _tick_lock() -> Iterator[bool]:
    """True while this process alone may tick: a PostgreSQL advisory lock for the session's
    transaction (released by its commit or rollback, or by PostgreSQL if the process dies), or
    on SQLite a lock file."""
    if db.engine.dialect.name == "postgresql":
        yield bool(
            db.session.scalar(
                sa.select(sa.func.pg_try_advisory_xact_lock(sa.literal(TICK_LOCK_KEY)))
            )
        )
    else:
        with _sqlite_lock(current_app.instance_path) as got:
            yield got


def tick(now: datetime) -> dict[str, int]:
    """Everything `flask tick` does at `now`: publish scheduled coffee rounds, ask what is due,
    follow up quiet introductions once, pause the coffee chats of people who left three intros
    unanswered, and open the term surveys due (with their reminders)."""
    rounds = publish_due_rounds(now)
    counts = schedule_due(now)
    return {
        **counts,
        "rounds": rounds,
        "intro_follow_ups": follow_up_intros(now),
        "paused": snooze_ghosts(now),
        **follow_up_asks(now),
        "surveys_invited": open_due_surveys(now),
        "surveys_reminded": remind_due(now),
    }


def locked_tick(now: datetime) -> dict[str, int] | None:
    """Run `tick` in one transaction if no other tick holds the lock; None when one does.

    Commits on success, rolls back on any error.
    """
    try:
        with _tick_lock() as got:
            counts = tick(now) if got else None
            db.session.commit()  # inside the lock: the next tick sees all this one wrote
    except BaseException:
        db.session.rollback()
        raise
    return counts


def warm_kept(should_stop: Callable[[], bool] = lambda: False) -> None:
    """Build ahead what the heaviest pages read, for every process serving the database (see
    `program.kept`): each program's current-term report and its next coffee round's preview.
    Each is built only if its data moved since it was last built; else it is found kept.
    `should_stop` is asked before each program (a stopping worker does not finish them all)."""
    for program in list(db.session.scalars(sa.select(Program).order_by(Program.id))):
        if should_stop():
            return
        slug = program.slug
        try:
            term = current_term(program)
            if term is not None:
                make_report(program, term.slug)
            preview_round(program, keep=True)
            db.session.commit()
        except Exception:
            # One program's failure leaves the others built ahead; its pages build on demand.
            current_app.logger.exception("building ahead failed for program %s", slug)
            db.session.rollback()


def run_worker(
    app: Flask,
    stop: threading.Event,
    *,
    tick_every: float = 60.0,
    send_every: float = 10.0,
    once: bool = False,
) -> dict[str, Any]:
    """Tick every `tick_every` seconds and send the outbox every `send_every`, until `stop`.

    An error in one cycle is logged and the loop goes on: a worker must outlive a bad message or
    a database restart. Returns what it did, for the command's last line.
    """
    register_notifications()
    watch_report_data()
    totals = {"ticks": 0, "ticks_skipped": 0, "sent": 0, "retried": 0, "failed": 0}
    next_tick = time.monotonic()
    while not stop.is_set():
        with app.app_context():
            try:
                ticked = False
                if time.monotonic() >= next_tick:
                    counts = locked_tick(utc_now())
                    totals["ticks" if counts is not None else "ticks_skipped"] += 1
                    ticked = counts is not None
                    next_tick = time.monotonic() + tick_every
                report = send_due(should_stop=stop.is_set)
                totals["sent"] += report.sent
                totals["retried"] += report.retried
                totals["failed"] += report.failed
                if ticked:
                    # The one ticking builds ahead (the others would build the same), after
                    # sending: the prompts its tick queued do not wait for seconds of reports.
                    warm_kept(should_stop=stop.is_set)
            except Exception:
                app.logger.exception("worker cycle failed; trying again")
                db.session.rollback()
            finally:
                db.session.remove()
        if once:
            break
        stop.wait(send_every)
    return totals


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd, Kubernetes) and SIGINT (Ctrl+C) end the loop after the current message."""

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
