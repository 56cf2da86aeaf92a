"""Benchmark: preview, commit and re-import of a 10,000-row roster.

`python -m bench.roster` runs on a fresh SQLite file, and on PostgreSQL when TEST_DATABASE_URL
is set (the database's tables are dropped and recreated). The last line printed is JSON:
{"rows": ..., "preview_s": ..., "commit_s": ..., "reimport_s": ...}
"""

from __future__ import annotations

import json
import os
import sys
import time

import sqlalchemy as sa

import program.models  # noqa: F401  (every table on the metadata)
from bench import database_url, fresh_program
from program import create_app
from program.extensions import db
from program.roster.services import apply_import, plan_import, read_roster

ROWS = int(os.environ.get("BENCH_ROWS", "10000"))
STAGES = ["MS3", "MS4", "PGY-1", "PGY2", "Resident, PGY 3", "Fellow", "Assistant Professor"]


def build_roster(rows: int) -> bytes:
    lines = ["Email Address,Full name,Role,Department,PGY,Cohort,Interests,Tracks"]
    for n in range(rows):
        role = "mentor" if n % 4 == 0 else "trainee"
        stage = "Assistant Professor" if role == "mentor" else STAGES[n % 6]
        lines.append(
            f"person{n:05d}@example.edu,Person {n:05d} Example,{role},Department {n % 12},"
            f'"{stage}",Cohort {n % 6},interest {n % 30}; interest {n % 17},both'
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    url = database_url()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    data = build_roster(ROWS)
    with app.app_context():
        program, term = fresh_program()

        with app.test_request_context():
            started = time.perf_counter()
            parsed = read_roster(data, "roster.csv")
            plan = plan_import(program, term, parsed)
            preview_s = time.perf_counter() - started
            if plan.errors:
                raise SystemExit(f"the generated roster has problems: {plan.errors[:3]}")

            started = time.perf_counter()
            result = apply_import(None, program, term, parsed)
            db.session.commit()
            commit_s = time.perf_counter() - started
            if result.counts["added"] != ROWS:
                raise SystemExit(f"expected {ROWS} people added: {result.counts}")

            started = time.perf_counter()
            again = apply_import(None, program, term, read_roster(data, "roster.csv"))
            db.session.commit()
            reimport_s = time.perf_counter() - started
            if again.counts["unchanged"] != ROWS:
                raise SystemExit(f"expected a re-import to change nothing: {again.counts}")

        people = db.session.scalar(sa.text("SELECT count(*) FROM person"))
        db.session.close()  # PostgreSQL: a transaction left open would block the DROP below
        db.drop_all()
    print(f"database: {url.split(':', 1)[0]}, people written: {people}", file=sys.stderr)
    print(f"preview {preview_s:.2f} s, commit {commit_s:.2f} s, re-import {reimport_s:.2f} s")
    print(
        json.dumps(
            {
                "rows": ROWS,
                "preview_s": round(preview_s, 3),
                "commit_s": round(commit_s, 3),
                "reimport_s": round(reimport_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
