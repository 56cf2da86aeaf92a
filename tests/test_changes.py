"""The count of committed changes to what the reports read (`program.changes`): every way a
service writes a watched table moves it once per transaction; a rollback, or a write to a table
no report reads, leaves it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from program.changes import PAIRS, REPORTS, generation
from program.checkins.models import CheckIn
from program.db import insert_rows, utc_now
from program.extensions import db
from program.messages.models import Message
from program.programs.models import Term


@pytest.fixture
def pair(make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall-2026")
    mentor = make.mentor(program, name="Dr. Miguel Santos")
    trainee = make.trainee(program, name="Priya Natarajan")
    assignment = make.assignment(term, mentor, trainee)
    return {"term": term, "mentor": mentor, "trainee": trainee, "assignment": assignment}


def november_check_in(pair: dict) -> CheckIn:
    return CheckIn(
        person_id=pair["trainee"].id,
        assignment_id=pair["assignment"],
        period_start=date(2026, 11, 1),
    )


def current(topic: str = REPORTS) -> int:
    with db.engine.connect() as conn:
        return generation(conn, topic)[1]


def test_each_way_of_writing_a_watched_table_counts_once_per_commit(app, make, pair):
    with app.app_context():
        start = current()
        # The ORM's flush: two writes, one transaction, one more.
        term = db.session.get(Term, pair["term"].id)
        term.name = "Fall term"
        db.session.add(november_check_in(pair))
        db.session.commit()
        assert current() == start + 1
        # A statement through the session, on the mapped class and on the bare table.
        db.session.execute(sa.update(Term).values(name="Autumn"))
        db.session.commit()
        db.session.execute(sa.update(CheckIn.__table__).values(private_note=""))
        db.session.commit()
        assert current() == start + 3
        # The bulk insert (a COPY on PostgreSQL, which the session does not see).
        insert_rows(
            db.session,
            CheckIn,
            [
                {
                    "person_id": pair["mentor"].id,
                    "assignment_id": pair["assignment"],
                    "period_start": date(2026, 12, 1),
                }
            ],
        )
        db.session.commit()
        assert current() == start + 4
        # Pending at the commit, not flushed before it: still counted.
        db.session.get(Term, pair["term"].id).name = "Fall"
        db.session.commit()
        assert current() == start + 5


def test_a_rollback_or_a_table_no_report_reads_leaves_the_count(app, pair):
    with app.app_context():
        start = current()
        db.session.get(Term, pair["term"].id).name = "Never"
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        db.session.add(
            Message(
                recipient_id=pair["trainee"].id,
                to_address="priya@example.edu",
                kind="password_reset",
                subject="Reset your password",
                body_text="A link.",
                body_html="<p>A link.</p>",
            )
        )
        db.session.commit()
        assert current() == start


def test_a_topic_counts_only_the_columns_it_names(app, pair):
    """A sign-in writes the person's time of sign-in: no judgement of pairs changes with it, a
    rename does (the pairs page lists names)."""
    from program.people.models import Person

    with app.app_context():
        start = current(PAIRS), current(REPORTS)
        person = db.session.get(Person, pair["mentor"].id)
        person.last_login_at = utc_now()
        db.session.commit()
        assert (current(PAIRS), current(REPORTS)) == start
        person.name = "Dr. Miguel A. Santos"
        db.session.commit()
        assert (current(PAIRS), current(REPORTS)) == (start[0] + 1, start[1])
        db.session.add(november_check_in(pair))
        db.session.commit()
        assert (current(PAIRS), current(REPORTS)) == (start[0] + 2, start[1] + 1)
