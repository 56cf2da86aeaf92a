"""The roster command line, a 10,000-row file, and a property test over random rows."""

from __future__ import annotations

import string
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from program.extensions import db
from program.people.models import Person
from program.programs.models import Program, Term
from program.roster.parsing import RosterFileError, parse_roster
from program.roster.services import apply_import, plan_import
from tests.accounts.test_accounts import count
from tests.roster.test_import import FIXTURES, data_snapshot


def run(app, *args):
    return app.test_cli_runner().invoke(
        args=["roster", "import", *map(str, args)], catch_exceptions=False
    )


def test_cli_dry_run_writes_nothing_then_import_prints_a_summary(app, make):
    program = make.program(slug="im")
    make.term(program, slug="fall-2026")
    before = data_snapshot(app)
    result = run(app, FIXTURES / "clean.csv", "--program", "im", "--term", "fall-2026", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "6 to add" in result.output and "Dry run: nothing was written." in result.output
    assert data_snapshot(app) == before
    result = run(app, FIXTURES / "clean.csv", "--program", "im", "--term", "fall-2026")
    assert result.exit_code == 0, result.output
    assert "Imported into" in result.output and "6 added" in result.output
    assert count(app, Person) == 6
    again = run(app, FIXTURES / "clean.csv", "--program", "im", "--term", "fall-2026")
    assert "No changes: nothing was written." in again.output


def test_cli_refuses_a_file_with_problems_and_names_them(app, make):
    program = make.program(slug="im")
    make.term(program, slug="fall-2026")
    result = run(app, FIXTURES / "messy.csv", "--program", "im", "--term", "fall-2026")
    assert result.exit_code == 1
    assert "row 4, E-mail: priya.natarajan@example.edu is already on row 2" in result.output
    assert "nothing was imported" in result.output
    assert count(app, Person) == 0
    assert (
        "No program “nope”"
        in run(app, FIXTURES / "clean.csv", "--program", "nope", "--term", "x").output
    )
    assert (
        "not a text CSV file"
        in run(app, FIXTURES / "binary.csv", "--program", "im", "--term", "fall-2026").output
    )


def test_a_ten_thousand_row_file_imports(app, make, tmp_path: Path):
    program = make.program(slug="im")
    make.term(program, slug="fall-2026")
    lines = ["email,name,role,department,stage,cohort,interests,tracks"]
    for n in range(10_000):
        lines.append(
            f"person{n}@example.edu,Person {n},trainee,Dept {n % 12},PGY{n % 7 + 1},Cohort {n % 5},a; b,both"
        )
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines))
    result = run(app, path, "--program", "im", "--term", "fall-2026")
    assert result.exit_code == 0, result.output
    assert "10000 added" in result.output
    assert count(app, Person) == 10_000


cell = st.text(alphabet=string.printable + "éüß–“”=+-@;,\"'\t", max_size=40)
row = st.tuples(
    st.one_of(st.emails(), cell),
    cell,
    st.sampled_from(["trainee", "mentor", "trainee;mentor", "boss", ""]),
    cell,
    st.one_of(st.sampled_from(["PGY1", "MS3", "Fellow", "PGY-9", ""]), cell),
    cell,
    cell,
    st.sampled_from(["both", "formal", "coffee", "tea", ""]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row, max_size=12), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_random_rows_never_raise_an_unhandled_error(app, make, rows, encoding):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["email", "name", "role", "department", "stage", "cohort", "interests", "tracks"]
    )
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding, errors="replace")
    try:
        parsed = parse_roster(data, "random.csv")
    except RosterFileError:
        return
    with app.app_context():
        program = db.session.scalar(sa.select(Program)) or Program(name="P", slug="p")
        if program.id is None:
            db.session.add(program)
            db.session.flush()
            db.session.add(
                Term(
                    program_id=program.id,
                    slug="t",
                    name="T",
                    starts_on=__import__("datetime").date(2026, 1, 1),
                    ends_on=__import__("datetime").date(2026, 6, 1),
                )
            )
            db.session.commit()
        term = db.session.scalar(sa.select(Term))
        plan = plan_import(program, term, parsed)
        if plan.can_apply:
            apply_import(None, program, term, parsed)
        db.session.rollback()
