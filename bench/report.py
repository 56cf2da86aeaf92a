"""Benchmark: the semester report for an institution of 2,000 and of 20,000 people over one term,
with ten check-ins per person (200,000 at 20,000 people), each size in its own process so its
peak memory is its own.

Half the people are trainees, half mentors, in 12 departments and 3 cohorts; every trainee has
a mentor (5 monthly check-ins each side) and everyone is in 5 coffee-chat rounds (one check-in
each); the term ran its survey (three in four answered) and has two outcome measures. `html_s`
includes reading the data and computing the metrics (the first output built); `pdf_s` and
`csv_s` build from the same computed report, as the report page does. On PostgreSQL the data is
analyzed first, as autovacuum would have done on a database in use.

`python -m bench.report`; the last line printed is JSON:
{"runs": [{"people", "checkins", "html_s", "pdf_s", "csv_s", "total_s", "peak_mb"}, ...]}
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench import (
    analyze,
    database_url,
    fresh_program,
    in_own_process,
    peak_mb,
    write_cohorts,
    write_round,
)

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "2000,20000").split(",")]
MONTHS = 5
ROUNDS = 5
STATUSES = ["met", "met", "met", "scheduled", "not_yet", "wont_happen", None, None]


def populate(people: int) -> None:
    """Write the institution in bulk (setting up is not what is measured)."""
    from program.checkins.models import CheckIn
    from program.coffee.models import Enrollment
    from program.extensions import db
    from program.formal.models import Assignment
    from program.people.models import CareerStage, Department, Person
    from program.programs.models import Membership, Role

    program, term = fresh_program()
    rng = np.random.default_rng(7)
    db.session.execute(
        sa.insert(Department),
        [{"name": f"Department {d}", "name_key": f"department {d}"} for d in range(12)],
    )
    departments = list(db.session.scalars(sa.select(Department.id)))
    trainee_stages = [CareerStage.PGY1, CareerStage.PGY2, CareerStage.PGY3]
    mentor_stages = [CareerStage.JUNIOR_FACULTY, CareerStage.MID_CAREER_FACULTY]
    half = people // 2
    db.session.execute(
        sa.insert(Person),
        [
            {
                "email": f"p{n}@example.edu",
                "name": f"Person {n}",
                "interests": [],
                "security_stamp": f"{n:032d}",
                "department_id": departments[int(rng.integers(12))],
                "stage": (trainee_stages[n % 3] if n < half else mentor_stages[n % 2]),
            }
            for n in range(people)
        ],
    )
    ids = list(db.session.scalars(sa.select(Person.id).order_by(Person.id)))
    trainees, mentors = ids[:half], ids[half:]
    db.session.execute(
        sa.insert(Membership),
        [
            {
                "person_id": i,
                "program_id": program.id,
                "role": Role.TRAINEE if k < half else Role.MENTOR,
            }
            for k, i in enumerate(ids)
        ],
    )
    # The term's cohorts and roster, as the importer records them.
    write_cohorts(term, [f"PGY-{k}" for k in (1, 2, 3)], trainees)
    start = datetime(2026, 8, 1, 9, tzinfo=UTC)
    db.session.execute(
        sa.insert(Assignment),
        [
            {
                "term_id": term.id,
                "mentor_id": m,
                "trainee_id": t,
                "status": "active",
                "started_at": start,
            }
            for t, m in zip(trainees, mentors, strict=False)
        ],
    )
    assignments = db.session.execute(
        sa.select(Assignment.id, Assignment.mentor_id, Assignment.trainee_id)
    ).all()
    db.session.execute(
        sa.insert(Enrollment),
        [{"program_id": program.id, "person_id": i, "enrolled_at": start} for i in ids],
    )
    rows: list[dict[str, Any]] = []

    def check_in(person: int, period: date, **pairing: int) -> None:
        status = STATUSES[int(rng.integers(len(STATUSES)))]
        met = status == "met"
        rows.append(
            {
                "person_id": person,
                "period_start": period,
                "asked_at": datetime.combine(period, datetime.min.time(), UTC) + timedelta(days=7),
                "status": status,
                "answered_at": start if status else None,
                "met_on": period + timedelta(days=5) if met else None,
                "rating": int(rng.integers(1, 6)) if met and rng.random() < 0.6 else None,
                "led_to": "advice_acted_on" if met and rng.random() < 0.2 else None,
                **pairing,
            }
        )

    for month in range(MONTHS):
        period = date(2026, 8 + month, 1)
        for a_id, m, t in assignments:
            check_in(m, period, assignment_id=a_id)
            check_in(t, period, assignment_id=a_id)
    for number in range(1, ROUNDS + 1):
        when = date(2026, 8 + number - 1, 15)
        for chat_id, person in write_round(program.id, number, when, ids, rng):
            check_in(person, when, chat_id=chat_id)
    for begin in range(0, len(rows), 20000):
        db.session.execute(sa.insert(CheckIn), rows[begin : begin + 20000])
    survey_and_outcomes(program, term, trainees, mentors, rng, start)
    db.session.commit()


def survey_and_outcomes(
    program: Any, term: Any, trainees: list[int], mentors: list[int], rng: Any, start: datetime
) -> None:
    """The term's survey, three in four answering, and two outcome measures (a well-being index
    for everyone, a first-choice match for trainees), one value each for nine in ten."""
    from program.extensions import db
    from program.outcomes.models import Measure, OutcomeValue
    from program.surveys.models import Survey, SurveyResponse

    survey = Survey(
        term_id=term.id,
        program_id=program.id,
        instrument="hallway-term-survey-1",
        opens_on=date(2026, 12, 17),
        closes_on=date(2027, 1, 7),
        target_percent=70,
    )
    db.session.add(survey)
    db.session.flush()
    years = ["PGY1", "PGY2", "PGY3"]
    responses = []
    for k, person in enumerate([*trainees, *mentors]):
        mentor = k >= len(trainees)
        answered = rng.random() < 0.75
        responses.append(
            {
                "survey_id": survey.id,
                "person_id": person,
                "class_year": "Mentors" if mentor else years[k % 3],
                "in_formal": True,
                "in_coffee": True,
                "is_mentor": mentor,
                "invited_at": start,
                "answered_at": start if answered else None,
                "formal_satisfaction": int(rng.integers(0, 6)) if answered else None,
                "coffee_satisfaction": int(rng.integers(0, 6)) if answered else None,
                "career_person": bool(rng.random() < 0.8) if answered else None,
                "outside_people": ["0", "1-2", "3-5", "6+"][int(rng.integers(4))]
                if answered
                else None,
                "led_to": ["referral"] if answered and rng.random() < 0.3 else None,
                "mentor_load": "about_right" if answered and mentor else None,
            }
        )
    db.session.execute(sa.insert(SurveyResponse), responses)
    wellbeing = Measure(
        name="Well-being index",
        kind="numeric",
        definition="0 to 9",
        source="bench",
        better="lower",
        minimum_group=10,
    )
    match = Measure(
        name="First-choice specialty",
        kind="categorical",
        definition="yes or no",
        source="bench",
        better="higher",
        favourable="yes",
        minimum_group=10,
    )
    db.session.add_all([wellbeing, match])
    db.session.flush()
    values = [
        {"measure_id": wellbeing.id, "person_id": p, "term_slug": "fall", "number": float(v)}
        for p, v in zip([*trainees, *mentors], rng.integers(0, 10, len(trainees) * 2), strict=False)
        if rng.random() < 0.9
    ]
    values += [
        {"measure_id": match.id, "person_id": p, "term_slug": "fall", "answer": a}
        for p, a in zip(trainees, rng.choice(["yes", "no"], len(trainees)), strict=True)
        if rng.random() < 0.9
    ]
    db.session.execute(sa.insert(OutcomeValue), values)


def run(people: int) -> dict[str, Any]:
    from program import create_app
    from program.admin.models import DEFAULT_SUPPRESSION_THRESHOLD
    from program.extensions import db
    from program.models import CheckIn  # noqa: F401  (every table registered)
    from reports.build import build_report
    from reports.bundle import build_bundle
    from reports.data import data_as_of, find_scope
    from reports.html import build_html
    from reports.pdf import build_pdf

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url(), "SECRET_KEY": "bench", "TESTING": True}
    )
    with app.app_context():
        populate(people)
        analyze()
        checkins = db.session.scalar(sa.text("SELECT count(*) FROM check_in"))
        with db.engine.connect() as conn:
            started = time.perf_counter()
            scope = find_scope(conn, "fall", "bench")
            report = build_report(
                conn,
                scope,
                institution="Benchmark University",
                threshold=DEFAULT_SUPPRESSION_THRESHOLD,
                as_of=data_as_of(conn, scope),
                version="bench",
                program_slug="bench",
            )
            build_html(report)
            html_s = time.perf_counter() - started
            started = time.perf_counter()
            build_pdf(report)
            pdf_s = time.perf_counter() - started
            started = time.perf_counter()
            build_bundle(report)
            csv_s = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {
        "people": people,
        "checkins": int(checkins),
        "html_s": round(html_s, 3),
        "pdf_s": round(pdf_s, 3),
        "csv_s": round(csv_s, 3),
        "total_s": round(html_s + pdf_s + csv_s, 3),
        "peak_mb": round(peak_mb()),
    }


def main() -> None:
    runs = []
    for people in SIZES:
        result = in_own_process(run, people)
        print(
            f"{people} people, {result['checkins']} check-ins: html {result['html_s']} s, "
            f"pdf {result['pdf_s']} s, csv {result['csv_s']} s, total {result['total_s']} s, "
            f"peak {result['peak_mb']} MB",
            file=sys.stderr,
        )
        runs.append(result)
    print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
