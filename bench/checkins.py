"""Benchmark: record 10,000 check-ins through the service, and send 10,000 messages to an SMTP
server on loopback (aiosmtpd, from the test extra), each written by the sender as it goes.

`python -m bench.checkins` runs on a fresh SQLite file, or on PostgreSQL when TEST_DATABASE_URL is
set (its tables are dropped and recreated). The last line printed is JSON:
{"checkins_per_s": ..., "messages_per_s": ...}
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

import sqlalchemy as sa

import program.models  # noqa: F401  (every table on the metadata)
from bench import database_url, fresh_program
from program import create_app
from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.checkins.services import record_check_in
from program.db import utc_now
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.messages.models import Message
from program.messages.sending import send_due
from program.people.models import Person
from program.programs.models import Program, Term
from tests.smtp import free_port

CHECKINS = int(os.environ.get("BENCH_CHECKINS", "10000"))


def build_pairs(program: Program, term: Term, pairs: int) -> None:
    """`pairs` active formal pairs, written in bulk (setting up is not what is measured)."""
    people = [
        {
            "email": f"p{n}@example.edu",
            "name": f"Person {n}",
            "interests": [],
            "security_stamp": f"{n:032d}",
        }
        for n in range(pairs * 2)
    ]
    db.session.execute(sa.insert(Person), people)
    ids = list(db.session.scalars(sa.select(Person.id).order_by(Person.id)))
    started = utc_now() - timedelta(days=10)
    db.session.execute(
        sa.insert(Assignment),
        [
            {
                "term_id": term.id,
                "mentor_id": ids[2 * n],
                "trainee_id": ids[2 * n + 1],
                "status": AssignmentStatus.ACTIVE,
                "started_at": started,
            }
            for n in range(pairs)
        ],
    )
    rows = db.session.execute(sa.select(Assignment.id, Assignment.mentor_id, Assignment.trainee_id))
    period = date(started.year, started.month, 1)
    db.session.execute(
        sa.insert(CheckIn),
        [
            {"person_id": person_id, "assignment_id": a_id, "period_start": period}
            for a_id, mentor_id, trainee_id in rows
            for person_id in (mentor_id, trainee_id)
        ],
    )
    db.session.commit()


def wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the SMTP server did not start")


def main() -> None:
    url = database_url()
    port = free_port()
    # The SMTP server runs in its own process, as a real one would: sharing this process's GIL
    # would make it, not Hallway, the thing measured.
    server = subprocess.Popen(  # noqa: S603  (our own interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
    )
    try:
        wait_for_port(port)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "TESTING": True,
                "MAIL_TRANSPORT": "smtp",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": port,
                "SMTP_SECURITY": "none",
            }
        )
        with app.test_request_context():
            program, term = fresh_program()
            build_pairs(program, term, CHECKINS // 2)

            check_ins = db.session.scalars(sa.select(CheckIn).order_by(CheckIn.id)).all()
            people = {p.id: p for p in db.session.scalars(sa.select(Person))}
            today = utc_now().date()
            started = time.perf_counter()
            for n, check_in in enumerate(check_ins):
                if n % 3 == 0:
                    record_check_in(people[check_in.person_id], check_in, CheckInStatus.NOT_YET)
                else:
                    record_check_in(
                        people[check_in.person_id],
                        check_in,
                        CheckInStatus.MET,
                        met_on=today,
                        rating=n % 5 + 1,
                        led_to=LedTo.ADVICE_ACTED_ON,
                    )
            db.session.commit()
            checkin_s = time.perf_counter() - started

            # Send exactly CHECKINS due messages: the follow-ups just queued, topped up with copies.
            db.session.execute(sa.delete(Message).where(Message.next_attempt_at > utc_now()))
            due = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
            template = db.session.scalars(sa.select(Message)).first()
            # Copies of a follow-up as queued (unwritten): the sender writes each as it goes.
            columns = ("recipient_id", "to_address", "kind", "template", "check_in_id")
            extra = {c: getattr(template, c) for c in columns}
            if due < CHECKINS:
                db.session.execute(sa.insert(Message), [extra] * (CHECKINS - due))
            db.session.commit()
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
            db.session.close()  # a worker starts with an empty session, as `messages send` does
            started = time.perf_counter()
            report = send_due()
            send_s = time.perf_counter() - started
            db.session.close()
            db.drop_all()
    finally:
        server.terminate()
        server.wait()
    if report.sent != total:
        raise SystemExit(f"sent {report.sent} of {total}: {report}")
    print(f"database: {url.split(':', 1)[0]}", file=sys.stderr)
    print(f"{len(check_ins)} check-ins in {checkin_s:.2f} s; {total} messages in {send_s:.2f} s")
    print(
        json.dumps(
            {
                "checkins_per_s": round(len(check_ins) / checkin_s, 1),
                "messages_per_s": round(total / send_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
