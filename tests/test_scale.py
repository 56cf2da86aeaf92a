"""The busiest pages issue the same number of SQL queries for 20 people as for 2,000 (counted with
a SQLAlchemy event), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember, Enrollment, Round
from program.extensions import db
from program.formal.models import Assignment
from program.people.models import CareerStage, Person
from program.programs.models import Membership, Role, Term
from tests.conftest import login, queries_for

# Left out of the fast lane (`-m "not slow"`): it fills a program of 2,000 people.
pytestmark = pytest.mark.slow

START = datetime(2026, 9, 1, 9, tzinfo=UTC)


def add_people(app, program_id: int, term_id: int, round_id: int, first: int, count: int) -> None:
    """`count` more people in bulk: half trainees with a mentor each, all enrolled in the coffee
    chats, in pairs of the round, with a check-in each."""
    with app.app_context():
        db.session.execute(
            sa.insert(Person),
            [
                {
                    "email": f"scale{n}@example.edu",
                    "name": f"Scale Person {n}",
                    "interests": [],
                    "security_stamp": f"{n:032d}",
                    "stage": CareerStage.PGY1 if n % 2 == 0 else CareerStage.SENIOR_FACULTY,
                }
                for n in range(first, first + count)
            ],
        )
        ids = list(
            db.session.scalars(
                sa.select(Person.id)
                .where(Person.email.like("scale%"))
                .order_by(Person.id)
                .offset(first)
            )
        )
        db.session.execute(
            sa.insert(Membership),
            [
                {
                    "person_id": i,
                    "program_id": program_id,
                    "role": Role.TRAINEE if k % 2 == 0 else Role.MENTOR,
                }
                for k, i in enumerate(ids)
            ],
        )
        db.session.execute(
            sa.insert(Enrollment),
            [{"program_id": program_id, "person_id": i, "enrolled_at": START} for i in ids],
        )
        pairs = list(zip(ids[0::2], ids[1::2], strict=True))
        db.session.execute(
            sa.insert(Assignment),
            [
                {
                    "term_id": term_id,
                    "trainee_id": t,
                    "mentor_id": m,
                    "status": "active",
                    "started_at": START,
                }
                for t, m in pairs
            ],
        )
        chat_ids = db.session.scalars(
            sa.insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
            [{"round_id": round_id, "program_id": program_id} for _ in pairs],
        ).all()
        db.session.execute(
            sa.insert(ChatMember),
            [
                {"chat_id": c, "round_id": round_id, "person_id": p, "position": k}
                for c, pair in zip(chat_ids, pairs, strict=True)
                for k, p in enumerate(pair)
            ],
        )
        db.session.execute(
            sa.insert(CheckIn),
            [
                {
                    "person_id": p,
                    "chat_id": c,
                    "period_start": date(2026, 10, 1),
                    "asked_at": START,
                    "status": "met",
                    "answered_at": START,
                    "met_on": date(2026, 10, 3),
                    "rating": 4,
                }
                for c, pair in zip(chat_ids, pairs, strict=True)
                for p in pair
            ],
        )
        db.session.commit()


def test_busy_pages_issue_the_same_queries_for_20_and_2000_people(app, client, make):
    program = make.program("Scale Residency", slug="scale")
    coordinator = make.coordinator(program)
    term = make.term(program, slug="fall", starts_on=date(2026, 8, 1), ends_on=date(2026, 12, 31))
    with app.app_context():
        round_ = Round(
            program_id=program.id,
            number=1,
            scheduled_for=date(2026, 10, 1),
            seed=1,
            status="published",
            published_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        db.session.add(round_)
        db.session.commit()
        round_id = round_.id
        assert db.session.get(Term, term.id) is not None
    add_people(app, program.id, term.id, round_id, 0, 20)
    login(client, coordinator.email)
    urls = [
        "/programs/scale/",  # the dashboard
        "/programs/scale/people",
        "/programs/scale/coffee",  # the next round's preview
        "/programs/scale/terms/fall/pairs",
        "/programs/scale/terms/fall/matches",
        "/reports?program=scale&term=fall",
    ]
    few = {url: queries_for(client, url) for url in urls}
    add_people(app, program.id, term.id, round_id, 20, 1980)
    many = {url: queries_for(client, url) for url in urls}
    print("queries per page (20 and 2,000 people):", few)
    assert many == few
