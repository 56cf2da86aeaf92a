from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

STARTED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def add_pairs(make) -> Callable[[int], None]:
    """`add_pairs(n)`: n more formal pairs from 1 October 2026 in one program, each pair also
    in one chat of a coffee round published that day."""
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall-2026")
    round_id = make.coffee_round(program, STARTED)

    def add(n: int) -> None:
        for _ in range(n):
            mentor, trainee = make.mentor(program), make.trainee(program)
            make.assignment(term, mentor, trainee, started_at=STARTED)
            make.chat(round_id, mentor, trainee)

    return add


@pytest.fixture
def pair(make):
    """A published formal pair that started on 1 October 2026, and the trainee's October
    check-in (not yet asked by e-mail)."""
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall-2026")
    mentor = make.mentor(program, name="Dr. Miguel Santos")
    trainee = make.trainee(program, name="Priya Natarajan")
    assignment = make.assignment(term, mentor, trainee, started_at=STARTED)
    check_in = make.check_in(trainee, assignment)
    return {
        "program": program,
        "mentor": mentor,
        "trainee": trainee,
        "assignment": assignment,
        "check_in": check_in,
    }
