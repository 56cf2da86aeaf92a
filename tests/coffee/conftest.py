"""A coffee program of current members, and enrolling them, for the coffee tests."""

from __future__ import annotations

import pytest

from program.coffee.models import Enrollment
from program.db import utc_now
from program.extensions import db
from program.people.models import CareerStage

STAGES = [CareerStage.MS3, CareerStage.PGY1, CareerStage.PGY2, CareerStage.PGY3]


@pytest.fixture
def coffee(app, make):
    """A program with a coordinator and seven trainees in four departments and stages."""
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program)
    people = [
        make.trainee(
            program,
            name=f"Person {n}",
            department=f"Department {n % 4}",
            stage=STAGES[n % 4],
        )
        for n in range(7)
    ]
    return {"program": program, "coordinator": coordinator, "people": people}


def enroll_all(app, program, people, when=None):
    with app.app_context():
        for p in people:
            db.session.add(
                Enrollment(program_id=program.id, person_id=p.id, enrolled_at=when or utc_now())
            )
        db.session.commit()
