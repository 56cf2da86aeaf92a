"""Benchmark: Hallway's pages at the size of a whole medical school, or of an academic health
system, served for real.

`BENCH_SHAPE=program` (the default): one program of `BENCH_PEOPLE` (10,000: 7,000 trainees,
3,000 mentors of capacity 3) with a published matching, six coffee rounds and about 60,000
check-ins. `BENCH_SHAPE=institution`: `BENCH_PEOPLE` (50,000) in one install, 40 programs (the
largest a fifth of them, at most 10,000; a long tail of 39 from 500 down to 50) each with two
terms (the last one over, its pairs ended) and the rest in no program; each role's pages are
measured in the largest program and in the one nearest 200 people, with the dean's
all-programs report and the admin's people list and search. Either is written in bulk (and, on
PostgreSQL, analyzed, as autovacuum would); the reports and round previews are built ahead, as
the worker does after each tick (timed: `warm_s`); then Hallway and a bare Flask app (hello,
one INSERT) are served by gunicorn (2 sync workers) on loopback. Each page gets a bounded load,
one request at a time and then eight at once, from a plain HTTP client in threads; each page's
SQL query count is taken once in-process. The tick runs over every program.

PostgreSQL when TEST_DATABASE_URL is set (its tables are recreated), else a SQLite file.
`BENCH_SECONDS` changes the time spent per page and concurrency, `BENCH_PAGES` (names,
comma-separated) measures only those pages.

`python -m bench.http`; the last line printed is JSON:
{"runs": [{"page", "concurrency", "p50_ms", "p95_ms", "rps", "requests", "errors", "queries"}, ...],
 "bare": {"hello_p50_ms", "insert_p50_ms", "insert_rps"},
 "scheduled": {"warm_s", "tick_s", "tick", "publish_round_s", "round_people"}, "shape",
 "people", "programs", "people_in_programs", "checkins",
 "worker_rss_mb": [each web worker's resident memory after the run, MB]}
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench import analyze, database_url, write_cohorts, write_round
from program.extensions import db

# "program": one program of BENCH_PEOPLE; "institution": 40 programs and people in none.
SHAPE = os.environ.get("BENCH_SHAPE", "program")
PEOPLE = int(os.environ.get("BENCH_PEOPLE", "50000" if SHAPE == "institution" else "10000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
# A subset of the pages by name, comma-separated (for working on one page): all when unset.
ONLY = {name.strip() for name in os.environ.get("BENCH_PAGES", "").split(",") if name.strip()}
MAX_REQUESTS = 40
PASSWORD = "bench-password"  # noqa: S105  (the benchmark's made-up accounts)
ROUNDS = 6
ROOT = Path(__file__).resolve().parents[1]
# The served app: no https on loopback, and no sign-in rate limit for the load's own logins.
APP_ENV = {
    "HALLWAY_SECRET_KEY": "bench",
    "HALLWAY_LOGIN_RATE_LIMIT": "100000 per minute",
    "HALLWAY_DEBUG": "0",
}


# --- the institution ----------------------------------------------------------------------


def program_sizes(people: int) -> list[int]:
    """Each program's people: one program of them all, or (the institution) a largest of a
    fifth of them, at most 10,000, and a long tail of 39 from 500 down to 50, log-spaced. The
    rest of the institution's people are in no program (its directory, faculty not mentoring)."""
    if SHAPE != "institution":
        return [people]
    largest = min(10_000, people // 5)
    tail = [500 * 0.1 ** (k / 38) for k in range(39)]
    # A smaller institution (a quick try) gets a proportionally shorter tail.
    scale = min(1.0, (people - largest) / sum(tail))
    sizes = [largest, *(max(4, int(size * scale)) for size in tail)]
    if sum(sizes) > people:
        raise ValueError(f"{people} people are too few for 40 programs")
    return sizes


def populate(people: int) -> dict[str, Any]:
    """Write the institution in bulk (building it is not what is measured); returns the ids and
    addresses the load needs. Program k takes the next `program_sizes()[k]` people, 70% of them
    trainees; the first program is "bench", the one nearest 200 people "small"."""
    from werkzeug.security import generate_password_hash

    from program.checkins.models import CheckIn
    from program.extensions import db
    from program.people.models import CareerStage, Department, Person

    db.drop_all()
    db.create_all()
    today = datetime.now(UTC).date()
    rng = np.random.default_rng(7)
    db.session.execute(
        sa.insert(Department),
        [{"name": f"Department {d}", "name_key": f"department {d}"} for d in range(20)],
    )
    departments = list(db.session.scalars(sa.select(Department.id)))
    sizes = program_sizes(people)
    small = min(range(len(sizes)), key=lambda k: abs(sizes[k] - 200)) if len(sizes) > 1 else 0
    ranges, first = [], 0
    for size in sizes:
        ranges.append(range(first, first + size))
        first += size
    trainee = [False] * people
    for span in ranges:
        for n in span[: len(span) * 7 // 10]:
            trainee[n] = True
    largest = ranges[0]
    first_mentor = largest[len(largest) * 7 // 10]
    # Who signs in: the largest program's first trainee and first mentor, the small one's
    # first trainee.
    signs_in = {largest[0], first_mentor, ranges[small][0]}
    stages = [CareerStage.MS1, CareerStage.MS2, CareerStage.MS3, CareerStage.MS4]
    faculty = [CareerStage.JUNIOR_FACULTY, CareerStage.MID_CAREER_FACULTY]
    hashed = generate_password_hash(PASSWORD)
    rows = [
        {
            "email": f"p{n}@example.edu",
            "name": f"Given{n} Family{n}",
            "interests": ["cardiology"] if n % 5 == 0 else [],
            "security_stamp": f"{n:032d}",
            "department_id": departments[int(rng.integers(len(departments)))],
            "stage": stages[n % 4] if trainee[n] else faculty[n % 2],
            "password_hash": hashed if n in signs_in else None,
        }
        for n in range(people)
    ]
    for key, name, extra in (
        ("coordinator", "Carmen Coordinator", {}),
        ("dean", "Dana Dean", {"is_dean": True}),
        ("admin", "Ada Admin", {"is_admin": True}),
    ):
        rows.append(
            {
                "email": f"{key}@example.edu",
                "name": name,
                "interests": [],
                "security_stamp": key.ljust(32, "0"),
                "password_hash": hashed,
                **extra,
            }
        )
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Person), rows[start : start + 5000])
    ids = list(
        db.session.scalars(
            sa.select(Person.id).where(Person.email.like("p%@example.edu")).order_by(Person.id)
        )
    )
    coordinator_id = db.session.scalar(
        sa.select(Person.id).where(Person.email == "coordinator@example.edu")
    )
    check_ins: list[dict[str, Any]] = []
    for k, span in enumerate(ranges):
        slug = "bench" if k == 0 else "small" if k == small else f"program-{k:02d}"
        name = "Medical School" if k == 0 else f"Program {k:02d}"
        members = [ids[n] for n in span]
        write_program(
            name, slug, members, coordinator_id, today, rng, check_ins, history=SHAPE != "program"
        )
    for start in range(0, len(check_ins), 20000):
        db.session.execute(sa.insert(CheckIn), check_ins[start : start + 20000])
    db.session.commit()
    analyze()
    open_ids = db.session.scalars(
        sa.select(CheckIn.id).where(CheckIn.answered_at.is_(None)).order_by(CheckIn.id)
    ).all()
    return {
        "trainee_id": ids[0],
        "small_trainee_id": ids[ranges[small][0]],
        "small_trainee": f"p{ranges[small][0]}@example.edu",
        "mentor": f"p{first_mentor}@example.edu",
        "checkins": len(check_ins),
        "open_check_ins": list(open_ids),
        "programs": len(sizes),
        "in_programs": sum(sizes),
    }


def write_program(
    name: str,
    slug: str,
    members: list[int],
    coordinator_id: int,
    today: date,
    rng: Any,
    check_ins: list[dict[str, Any]],
    *,
    history: bool,
) -> None:
    """One program in bulk: 70% of `members` trainees, the rest mentors of three places each,
    a term now (begun 100 days ago) with its matching published, and with `history` the term
    before it (its pairs ended); everyone in the coffee chats, six rounds, a third open to asks;
    two months of check-ins of each term's pairs and of the last three rounds, appended to
    `check_ins`."""
    from program.asks.models import Listing
    from program.coffee.models import Enrollment
    from program.formal.models import Assignment, Availability
    from program.programs.models import Membership, Program, Role, Term

    program = Program(name=name, slug=slug)
    db.session.add(program)
    db.session.flush()
    trainees, mentors = members[: len(members) * 7 // 10], members[len(members) * 7 // 10 :]
    db.session.execute(
        sa.insert(Membership),
        [{"person_id": i, "program_id": program.id, "role": Role.TRAINEE} for i in trainees]
        + [{"person_id": i, "program_id": program.id, "role": Role.MENTOR} for i in mentors]
        + [{"person_id": coordinator_id, "program_id": program.id, "role": Role.COORDINATOR}],
    )
    statuses = ["met", "met", "met", "not_yet", "scheduled", None, None]

    def ask(person: int, period: date, **pairing: int) -> None:
        status = statuses[int(rng.integers(len(statuses)))]
        asked = datetime.combine(period, datetime.min.time(), UTC) + timedelta(days=7)
        check_ins.append(
            {
                "person_id": person,
                "period_start": period,
                "asked_at": asked,
                "status": status,
                "answered_at": asked + timedelta(days=2) if status else None,
                "met_on": period + timedelta(days=5) if status == "met" else None,
                "rating": int(rng.integers(1, 6)) if status == "met" else None,
                **pairing,
            }
        )

    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    terms = [("now", "This term", today - timedelta(days=100), today + timedelta(days=60))]
    if history:
        terms.insert(
            0, ("last", "Last term", today - timedelta(days=290), today - timedelta(days=101))
        )
    for term_slug, term_name, starts, ends in terms:
        term = Term(
            program_id=program.id, slug=term_slug, name=term_name, starts_on=starts, ends_on=ends
        )
        db.session.add(term)
        db.session.flush()
        write_cohorts(term, [f"Class of {2027 + k}" for k in range(4)], trainees)
        started = datetime.combine(starts + timedelta(days=10), datetime.min.time(), UTC)
        over = ends < today
        db.session.execute(
            sa.insert(Availability),
            [
                {
                    "term_id": term.id,
                    "person_id": m,
                    "accepting": True,
                    "capacity": 3,
                    "requested_at": started,
                    "answered_at": started,
                }
                for m in mentors
            ],
        )
        ended = datetime.combine(ends, datetime.min.time(), UTC)
        db.session.execute(
            sa.insert(Assignment),
            [
                {
                    "term_id": term.id,
                    "mentor_id": mentors[k % len(mentors)],
                    "trainee_id": t,
                    "status": "ended" if over else "active",
                    "started_at": started,
                    "ended_at": ended if over else None,
                    "end_reason": "term_over" if over else None,
                }
                for k, t in enumerate(trainees[: 3 * len(mentors)])
            ],
        )
        pairs = db.session.execute(
            sa.select(Assignment.id, Assignment.mentor_id, Assignment.trainee_id).where(
                Assignment.term_id == term.id
            )
        ).all()
        months = (
            [(ends - timedelta(days=60)).replace(day=1), (ends - timedelta(days=30)).replace(day=1)]
            if over
            else [last_month, this_month]
        )
        for period in months:
            for a_id, m, t in pairs:
                ask(m, period, assignment_id=a_id)
                ask(t, period, assignment_id=a_id)
    started = datetime.combine(today - timedelta(days=290), datetime.min.time(), UTC)
    db.session.execute(
        sa.insert(Enrollment),
        [{"program_id": program.id, "person_id": i, "enrolled_at": started} for i in members],
    )
    # A third of the program open to asks in the directory, half of them on cardiology.
    db.session.execute(
        sa.insert(Listing),
        [
            {
                "program_id": program.id,
                "person_id": i,
                "note": "Glad to talk about my path.",
                "topics": ["cardiology"] if k % 2 else ["research"],
                "topics_key": "|cardiology|" if k % 2 else "|research|",
                "created_at": started,
            }
            for k, i in enumerate(members[1::3])
        ],
    )
    for number in range(1, ROUNDS + 1):
        when = today - timedelta(days=30 * (ROUNDS - number) + 5)
        for chat_id, person in write_round(
            program.id,
            number,
            when,
            members,
            rng,
            {
                "people": len(members),
                "left_out": 0,
                "cross_department": 0.9,
                "stage_gap_1_2": 0.3,
                "repeats": 0,
                "relaxed": 0,
            },
        ):
            if number > ROUNDS - 3:
                ask(person, when, chat_id=chat_id)


def answer_tokens(check_in_ids: list[int]) -> list[str]:
    from program.checkins.models import CheckIn, CheckInStatus
    from program.checkins.services import make_answer_token
    from program.extensions import db

    found = db.session.scalars(sa.select(CheckIn).where(CheckIn.id.in_(check_in_ids))).all()
    return [make_answer_token(c, CheckInStatus.MET) for c in found]


# --- serving ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_rss_mb(master: int) -> list[float]:
    """The resident memory of each of a gunicorn master's workers (its child processes), in MB,
    read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master:  # the parent's pid, after the state
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        found.append(round(kb / 1024, 1))
    return sorted(found)


@contextmanager
def served(target: str, url: str, workdir: str) -> Iterator[tuple[int, int]]:
    """gunicorn with two sync workers on loopback, stopped with SIGTERM afterwards: its port
    and the master's pid."""
    port = free_port()
    env = {**os.environ, **APP_ENV, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
            target,
        ],
        cwd=workdir,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


# --- the client ---------------------------------------------------------------------------


class Client:
    """One browser's worth of HTTP: its own cookies (the app's are Secure; kept by hand)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""  # a form's CSRF token, where the load needs one

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, data

    def csrf(self, path: str) -> str:
        _, page = self.request("GET", path)
        found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        return found.group(1).decode() if found else ""

    def sign_in(self, email: str) -> None:
        token = self.csrf("/login")
        from urllib.parse import urlencode

        status, _ = self.request(
            "POST",
            "/login",
            urlencode({"csrf_token": token, "email": email, "password": PASSWORD}),
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {email} answered {status}")


def load(
    port: int,
    who: str | None,
    make_request: Callable[[Client, int], tuple[Any, ...]],
    concurrency: int,
    prepare: Callable[[Client], None] | None = None,
) -> dict[str, float]:
    """Requests from `concurrency` threads for up to SECONDS (at least a few each); the
    latencies' median and 95th percentile and the throughput. `prepare` readies each client
    before the clock starts (signing in, or opening a page for its form's CSRF token)."""
    clients = []
    for _ in range(concurrency):
        client = Client(port)
        if who:
            client.sign_in(who)
        if prepare:
            prepare(client)
        clients.append(client)
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + SECONDS

    def work(client: Client) -> None:
        done = 0
        while done < 2 or (time.perf_counter() < deadline and done < MAX_REQUESTS):
            with lock:
                n = next(counter)
            started = time.perf_counter()
            status, _ = make_request(client, n)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status >= 400:
                    failures.append(status)
            done += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        # Refusals (4xx) and failures (5xx): on SQLite, two workers writing at once can be
        # refused with "answered a moment ago"; PostgreSQL's row locks serve both.
        "errors": len(failures),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000, 1),
        "rps": round(len(latencies) / wall, 1),
        "requests": len(latencies),
    }


# --- the run --------------------------------------------------------------------------------


def pages(built: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(name, who is signed in, path) for every page measured: each role's, in the largest
    program ("bench") and, in the institution, in a small one too; the dean's all-programs
    report; the admin's people list and search."""
    coordinator = "coordinator@example.edu"
    shared = [
        ("login", None, "/login"),
        ("trainee home", "p0@example.edu", "/"),
        ("mentor home", built["mentor"], "/"),
        ("coordinator home", coordinator, "/"),
        ("dean home", "dean@example.edu", "/"),
        ("admin home", "admin@example.edu", "/"),
    ]
    listed = [*shared, *program_pages("", "bench", built["trainee_id"], "p0@example.edu")]
    if SHAPE == "institution":
        listed += program_pages(
            "small: ", "small", built["small_trainee_id"], built["small_trainee"]
        )
        listed += [
            ("all programs: reports page", "dean@example.edu", "/reports?program=all&term=now"),
            ("all programs: report PDF", "dean@example.edu", "/reports/all/now.pdf"),
            ("all programs: report CSV", "dean@example.edu", "/reports/all/now.zip"),
            ("admin: people", "admin@example.edu", "/admin/people"),
            ("admin: people, a late page", "admin@example.edu", "/admin/people?page=400"),
            ("admin: people search", "admin@example.edu", "/admin/people?q=Given4242"),
        ]
    return listed


def program_pages(
    prefix: str, slug: str, trainee_id: int, trainee: str
) -> list[tuple[str, str | None, str]]:
    """A program's pages, as its coordinator and one of its trainees read them."""
    coordinator = "coordinator@example.edu"
    return [
        (f"{prefix}overview", coordinator, f"/programs/{slug}/"),
        (f"{prefix}people", coordinator, f"/programs/{slug}/people"),
        (f"{prefix}people, a late page", coordinator, f"/programs/{slug}/people?page=150"),
        (f"{prefix}person", coordinator, f"/programs/{slug}/people/{trainee_id}"),
        (f"{prefix}pairs", coordinator, f"/programs/{slug}/terms/now/pairs"),
        (f"{prefix}matches", coordinator, f"/programs/{slug}/terms/now/matches"),
        (f"{prefix}availability", coordinator, f"/programs/{slug}/terms/now/availability"),
        (f"{prefix}coffee chats", coordinator, f"/programs/{slug}/coffee"),
        (f"{prefix}directory", trainee, f"/programs/{slug}/directory"),
        (
            f"{prefix}directory ahead in another department",
            trainee,
            f"/programs/{slug}/directory?ahead=1&other=1",
        ),
        (
            f"{prefix}directory interest search",
            trainee,
            f"/programs/{slug}/directory?topic=cardio&page=20",
        ),
        (f"{prefix}reports page", coordinator, f"/reports?program={slug}&term=now"),
        (f"{prefix}report PDF", coordinator, f"/reports/{slug}/now.pdf"),
        (f"{prefix}report CSV", coordinator, f"/reports/{slug}/now.zip"),
    ]


def warm_page(port: int, who: str | None, path: str) -> None:
    """Two requests for the page at once, so that each worker has served it before it is
    measured: a process's first request for a page compiles its templates and SQL (once in the
    process's life), and reads a report or preview another process kept (once per change to
    its data). Neither is what people meet between those moments; the build itself is timed
    as `warm_s`."""
    clients = [Client(port) for _ in range(2)]
    for client in clients:
        if who:
            client.sign_in(who)
    threads = [threading.Thread(target=c.request, args=("GET", path)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def count_queries(app: Any, who: str | None, path: str) -> int:
    """The page's SQL statements, counted once in-process."""
    from program.extensions import db

    client = app.test_client()
    if who:
        client.post("/login", data={"email": who, "password": PASSWORD})
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def before(*args: Any) -> None:
        seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def main() -> None:
    from program import create_app

    url = database_url()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    began = time.perf_counter()
    with app.app_context():
        built = populate(PEOPLE)
        tokens = answer_tokens(built["open_check_ins"][:3000])
    print(
        f"built {PEOPLE} people, {built['checkins']} check-ins in "
        f"{time.perf_counter() - began:.0f} s",
        file=sys.stderr,
    )
    # What the worker does after each tick in a deployment: the current report and the next
    # round's preview built ahead, for every process (`program.worker.warm_kept`). The pages
    # are then measured as they are served between ticks; the build itself is timed here.
    from program.worker import warm_kept

    with app.test_request_context():
        began = time.perf_counter()
        warm_kept()
        warm_s = round(time.perf_counter() - began, 2)
    print(json.dumps({"warm_s": warm_s}), file=sys.stderr)

    runs = []
    with served("wsgi:app", url, str(ROOT)) as (port, master):
        # Each worker's first requests import and compile what the app uses: not measured.
        warm = Client(port)
        for _ in range(8):
            warm.request("GET", "/login")
        for name, who, path in pages(built):
            if ONLY and name not in ONLY:
                continue
            queries = count_queries(app, who, path)
            warm_page(port, who, path)
            for concurrency in (1, 8):
                figures = load(port, who, lambda c, n, p=path: c.request("GET", p), concurrency)
                runs.append(
                    {"page": name, "concurrency": concurrency, **figures, "queries": queries}
                )
                print(json.dumps(runs[-1]), file=sys.stderr)
        # The one-click answer: each request answers a different check-in.
        from urllib.parse import urlencode

        unused = iter(tokens)  # across both loads: an answered link refuses a second answer
        taking = threading.Lock()

        def next_token() -> str:
            with taking:
                return next(unused)

        def open_link(client: Client) -> None:
            """A person opens their link first: the page gives the form's CSRF token, which
            is the browser session's (Flask-WTF), good for every form it confirms."""
            client.token = client.csrf(f"/checkin/{next_token()}")

        def confirm(client: Client, n: int) -> tuple[int, bytes]:
            """The confirming POST alone: a link's page opened, "We met" confirmed."""
            body = urlencode({"csrf_token": client.token, "status": "met"})
            return client.request("POST", f"/checkin/{next_token()}", body)

        def open_and_confirm(client: Client, n: int) -> tuple[int, bytes]:
            """What a person does from the e-mail: open the link, then confirm it."""
            token = next_token()
            csrf = client.csrf(f"/checkin/{token}")
            body = urlencode({"csrf_token": csrf, "status": "met"})
            return client.request("POST", f"/checkin/{token}", body)

        for name, request, prepare in (
            ("one-click answer POST", confirm, open_link),
            ("one-click link opened and confirmed", open_and_confirm, None),
        ):
            if ONLY and name not in ONLY:
                continue
            for concurrency in (1, 8):
                figures = load(port, None, request, concurrency, prepare)
                runs.append({"page": name, "concurrency": concurrency, **figures, "queries": None})
                print(json.dumps(runs[-1]), file=sys.stderr)
        # After every page and load: what each web worker holds (the target: 400 MB).
        rss = workers_rss_mb(master)
        print(json.dumps({"worker_rss_mb": rss}), file=sys.stderr)

    with served("bench.bare_app:app", url, str(ROOT)) as (port, _):
        hello = load(port, None, lambda c, n: c.request("GET", "/"), 1)
        insert_1 = load(port, None, lambda c, n: c.request("POST", "/insert", ""), 1)
        insert_8 = load(port, None, lambda c, n: c.request("POST", "/insert", ""), 8)
    bare = {
        "hello_p50_ms": hello["p50_ms"],
        "insert_p50_ms": insert_1["p50_ms"],
        "insert_rps": insert_8["rps"],
    }
    scheduled = {"warm_s": warm_s, **scheduled_work(app)}
    print(
        json.dumps(
            {
                "runs": runs,
                "bare": bare,
                "scheduled": scheduled,
                "shape": SHAPE,
                "people": PEOPLE,
                "programs": built["programs"],
                "people_in_programs": built["in_programs"],
                "checkins": built["checkins"],
                "worker_rss_mb": rss,
            }
        )
    )


def scheduled_work(app: Any) -> dict[str, Any]:
    """The program's scheduled and bulk work, timed in-process after the pages (it changes the
    data): a first `flask tick` (every check-in due, its prompt and reminder) and publishing a
    coffee round of everyone taking part."""
    from program.coffee.rounds import publish_round
    from program.db import utc_now
    from program.extensions import db
    from program.programs.models import Program
    from program.worker import locked_tick

    figures: dict[str, Any] = {}
    with app.app_context():
        started = time.perf_counter()
        counts = locked_tick(utc_now())
        figures["tick_s"] = round(time.perf_counter() - started, 2)
        figures["tick"] = counts
        program = db.session.scalar(sa.select(Program))
        with app.test_request_context():
            started = time.perf_counter()
            round_ = publish_round(None, program)
            db.session.commit()
            figures["publish_round_s"] = round(time.perf_counter() - started, 2)
            figures["round_people"] = round_.quality["people"]
    print(json.dumps(figures), file=sys.stderr)
    return figures


if __name__ == "__main__":
    main()
