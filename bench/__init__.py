"""Benchmarks: `python -m bench.NAME`, each printing its figures as one JSON line last."""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa

from program.extensions import db
from program.programs.models import Program, Term


def database_url() -> str:
    """PostgreSQL when TEST_DATABASE_URL is set (its tables are recreated), else a fresh SQLite."""
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='hallway-bench-')}/bench.db"
    )


def fresh_program() -> tuple[Program, Term]:
    """Empty tables, then one program with one term (inside an app context)."""
    db.drop_all()
    db.create_all()
    program = Program(name="Benchmark Residency", slug="bench")
    db.session.add(program)
    db.session.flush()
    term = Term(
        program_id=program.id,
        slug="fall",
        name="Fall",
        starts_on=date(2026, 8, 1),
        ends_on=date(2026, 12, 31),
    )
    db.session.add(term)
    db.session.commit()
    return program, term


def peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_own_process(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `target(*args)` in a fresh process, so the peak memory it reports is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_put_result, args=(queue, target, *args))
    process.start()
    result = queue.get()
    process.join()
    return result


def _put_result(queue: Any, target: Callable[..., dict[str, Any]], *args: Any) -> None:
    queue.put(target(*args))


def write_round(
    program_id: int,
    number: int,
    when: date,
    ids: list[int],
    rng: Any,
    quality: dict[str, Any] | None = None,
) -> list[tuple[int, int]]:
    """A published coffee round in bulk: everyone in `ids` paired at random (the odd one out
    sits out); returns (chat id, person id) for each seat, so the caller can ask check-ins."""
    from datetime import UTC, datetime

    from program.coffee.models import Chat, ChatMember, Round

    round_id = db.session.scalar(
        sa.insert(Round)
        .values(
            program_id=program_id,
            number=number,
            scheduled_for=when,
            seed=number,
            status="published",
            published_at=datetime.combine(when, datetime.min.time(), UTC),
            quality=quality,
        )
        .returning(Round.id)
    )

    order = rng.permutation(ids).tolist()
    chat_ids = db.session.scalars(
        sa.insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
        [{"round_id": round_id, "program_id": program_id} for _ in range(len(order) // 2)],
    ).all()
    seats = [
        (chat_id, person, position)
        for k, chat_id in enumerate(chat_ids)
        for position, person in enumerate(order[2 * k : 2 * k + 2])
    ]
    db.session.execute(
        sa.insert(ChatMember),
        [
            {"chat_id": c, "round_id": round_id, "person_id": p, "position": pos}
            for c, p, pos in seats
        ],
    )
    return [(c, p) for c, p, _ in seats]


def write_cohorts(term: Term, names: list[str], trainees: list[int]) -> None:
    """The term's cohorts, trainees dealt round them in turn, and the term's roster recorded
    as the importer would."""
    from program.programs.models import Cohort, CohortMember
    from program.programs.terms import record_term_roster

    db.session.execute(
        sa.insert(Cohort), [{"term_id": term.id, "name": n, "name_key": n.lower()} for n in names]
    )
    of_term = sa.select(Cohort.id).where(Cohort.term_id == term.id).order_by(Cohort.id)
    cohorts = list(db.session.scalars(of_term))
    db.session.execute(
        sa.insert(CohortMember),
        [
            {"cohort_id": cohorts[k % len(cohorts)], "term_id": term.id, "person_id": i}
            for k, i in enumerate(trainees)
        ],
    )
    record_term_roster(term)


def analyze() -> None:
    """Planner statistics for what was just written, on PostgreSQL: a database in use has them
    (autovacuum gathers them after bulk changes), so a benchmark measures with them, not in the
    minute after a bulk load before they exist."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
