"""The long-running worker and the scheduled work on many machines at once: ticks that never
collide, workers that stop cleanly on SIGTERM, and a killed worker that sends nothing twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from program.checkins.models import CheckIn
from program.db import utc_now
from program.extensions import db
from program.messages.models import Message, MessageStatus
from program.messages.sending import send_due
from program.worker import TICK_LOCK_KEY, _sqlite_lock, locked_tick
from tests.checkins.test_mail_for_real import queue
from tests.checkins.test_messages import statuses
from tests.conftest import TEST_SECRET
from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def test_a_tick_while_another_holds_the_lock_skips_and_writes_nothing(app, pair_for_tick):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            holder = db.engine.connect()
            holder.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.literal(TICK_LOCK_KEY))))
            try:
                assert locked_tick(utc_now()) is None
            finally:
                holder.rollback()
                holder.close()
        else:
            with _sqlite_lock(app.instance_path) as got:
                assert got
                assert locked_tick(utc_now()) is None
        assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0
        counts = locked_tick(utc_now())
        assert counts is not None and counts["prompts"] == 2


def test_ticks_started_at_once_never_fail_and_never_ask_twice(app, pair_for_tick):
    errors: list[BaseException] = []
    results: list[dict | None] = []
    barrier = threading.Barrier(4)

    def one_tick() -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.append(locked_tick(utc_now()))
            except BaseException as exc:  # a unique-constraint error is what this guards
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one_tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r["prompts"] for r in results if r) == 2
    with app.app_context():
        kinds = sorted(db.session.scalars(sa.select(Message.kind)))
    # Two prompts, and the quiet introduction's one follow-up (started ten days ago): once each.
    assert kinds == ["checkin_prompt", "checkin_prompt", "intro_follow_up"]


@pytest.fixture
def pair_for_tick(make):
    """A formal pair whose first check-in is due now, in a term around today (its survey, near
    its end, far off whatever the day the tests run)."""
    program = make.program("Medicine")
    today = utc_now().date()
    term = make.term(
        program, starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=120)
    )
    mentor, trainee = make.mentor(program), make.trainee(program)
    make.assignment(term, mentor, trainee, started_at=utc_now() - timedelta(days=10))


def worker_env(database_url: str, smtp: SmtpServer, instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HALLWAY_SECRET_KEY": TEST_SECRET,
        "HALLWAY_MAIL_TRANSPORT": "smtp",
        "HALLWAY_SMTP_HOST": "127.0.0.1",
        "HALLWAY_SMTP_PORT": str(smtp.port),
        "HALLWAY_BASE_URL": "http://localhost",
        "FLASK_APP": "program",
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "worker", "--send-every", "0.2", "--tick-every", "3600"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigterm_stops_the_worker_cleanly(app, database_url, make, tmp_path):
    queue(app, [make.person().id], copies=400)
    with SmtpServer() as smtp:
        worker = start_worker(worker_env(database_url, smtp, tmp_path))
        wait_for(lambda: len(smtp.messages) >= 20)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
        received = [str(m["Subject"]) for m in smtp.messages]
    assert worker.returncode == 0, output
    assert "Worker stopped" in output
    counts = statuses(app)
    # What it had claimed but not started is back in the queue at once; nothing hangs "sending".
    assert "sending" not in counts
    assert counts["sent"] == len(received) == len(set(received))
    assert counts["sent"] + counts.get("queued", 0) == 400


@pytest.mark.skipif(not ON_POSTGRES, reason="several workers at once need PostgreSQL")
def test_two_workers_one_killed_send_nothing_twice(app, database_url, make, tmp_path):
    """1,000 messages, two worker processes, one killed with SIGKILL part-way."""
    queue(app, [make.person().id], copies=1000)
    with SmtpServer() as smtp:
        env = worker_env(database_url, smtp, tmp_path)
        first, second = start_worker(env), start_worker(env)
        wait_for(lambda: len(smtp.messages) >= 150)
        first.kill()
        first.wait(timeout=10)
        # The survivor sends everything it can; a minute after the kill the dead one's claims
        # lapse and it takes them too: only a message handed to the server at the kill (after
        # the envelope, before DATA's end) may still be held.
        wait_for(
            lambda: "queued" not in (now := statuses(app)) and now.get("sending", 0) <= 1,
            seconds=180,
        )
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=30)
        stuck = statuses(app).get("sending", 0)
        assert stuck <= 1
        # Fifteen minutes later a worker settles the one held, if any.
        app.config.update(smtp.config())
        with app.app_context():
            send_due(now=utc_now() + timedelta(minutes=16))
        received = collections.Counter(str(m["Subject"]) for m in smtp.messages)
    counts = statuses(app)
    duplicated = sum(n - 1 for n in received.values() if n > 1)
    unknown = 0
    with app.app_context():
        unknown = db.session.scalar(
            sa.select(sa.func.count(Message.id)).where(Message.status == MessageStatus.FAILED)
        )
    print(  # the closing note's figures
        f"\nworkers: sent {counts.get('sent', 0)}, duplicated {duplicated}, delayed {stuck}, "
        f"outcome unknown {unknown}"
    )
    assert duplicated == 0
    # The one being handed over at the kill may or may not have arrived: that is why it is
    # marked "outcome unknown" rather than sent again.
    assert counts.get("sent", 0) <= len(received) <= counts.get("sent", 0) + unknown
    assert counts.get("sent", 0) + unknown == 1000
    assert unknown <= 1  # at most the one message being handed over at the kill
