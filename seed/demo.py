"""A small demo institution, Riverside School of Medicine: an admin, a dean, one program with a coordinator, a mentor and two
trainees. Everything is created through the services, as a coordinator's actions would be.

Idempotent: if the demo admin exists, nothing is added, so re-running keeps the data.
"""

from __future__ import annotations

import sqlalchemy as sa

from program.admin.services import update_settings
from program.extensions import db
from program.people.models import CareerStage, Person
from program.people.services import create_person
from program.programs.models import Role
from program.programs.services import create_program, grant_role

DEMO_PASSWORD = "hallway-demo"  # noqa: S105  (printed for the demo, never used in production)
DEMO_DOMAIN = "demo.example.edu"

PEOPLE = [
    # (key, name, department, stage, interests)
    ("admin", "Avery Admin", "Medical Education", CareerStage.STAFF, []),
    ("dean", "Dana Okafor", "Dean's Office", CareerStage.SENIOR_FACULTY, ["education research"]),
    ("coordinator", "Carmen Reyes", "Internal Medicine", CareerStage.STAFF, []),
    (
        "mentor",
        "Dr. Miguel Santos",
        "Cardiology",
        CareerStage.MID_CAREER_FACULTY,
        ["heart failure", "medical education", "wellness"],
    ),
    (
        "trainee1",
        "Priya Natarajan",
        "Internal Medicine",
        CareerStage.PGY1,
        ["cardiology", "medical education"],
    ),
    (
        "trainee2",
        "Jonah Whitfield",
        "Internal Medicine",
        CareerStage.PGY2,
        ["global health", "wellness"],
    ),
]

ROLES = {
    "coordinator": Role.COORDINATOR,
    "mentor": Role.MENTOR,
    "trainee1": Role.TRAINEE,
    "trainee2": Role.TRAINEE,
}


def email_for(key: str) -> str:
    return f"{key}@{DEMO_DOMAIN}"


def demo_logins() -> list[tuple[str, str]]:
    return [
        ("admin", email_for("admin")),
        ("dean", email_for("dean")),
        ("coordinator", email_for("coordinator")),
        ("mentor", email_for("mentor")),
        ("trainee", email_for("trainee1")),
        ("trainee", email_for("trainee2")),
    ]


def seed_demo() -> bool:
    """Create the demo institution unless it is there already; True if it was created."""
    if db.session.scalar(sa.select(Person.id).where(Person.email == email_for("admin"))):
        return False
    people: dict[str, Person] = {}
    for key, name, department, stage, interests in PEOPLE:
        person = create_person(
            None,
            email=email_for(key),
            name=name,
            department=department,
            stage=stage,
            interests=interests,
        )
        person.set_password(DEMO_PASSWORD)
        people[key] = person
    people["admin"].is_admin = True
    people["dean"].is_dean = True
    admin = people["admin"]
    update_settings(
        admin,
        name="Riverside School of Medicine",
        suppression_threshold=10,
        mail_sender="mentoring@demo.example.edu",
    )
    program = create_program(
        admin,
        {
            "name": "Internal Medicine Residency",
            "slug": "im-residency",
            "description": "Three-year categorical residency with a formal mentor for every "
            "resident and monthly coffee chats across departments.",
        },
    )
    for key, role in ROLES.items():
        grant_role(admin, program, people[key], role)
    db.session.flush()
    return True
