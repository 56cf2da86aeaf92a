"""A small demo institution, Riverside School of Medicine: an admin, a dean, and the Internal
Medicine Residency with a coordinator, a current term and its roster (a mentor and two trainees),
one formal pair introduced ten days ago and its first check-ins.

Everything is created through the services, the roster through the same importer a coordinator
uses. Idempotent: if the demo admin exists, nothing is added, so re-running keeps the data.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from program.admin.services import update_settings
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.schedule import schedule_due
from program.checkins.services import record_check_in
from program.db import utc_now
from program.extensions import db
from program.formal.services import publish_pair
from program.people.models import CareerStage, Person
from program.people.services import create_person
from program.programs.models import Program, Role, Term
from program.programs.services import create_program, grant_role
from program.programs.terms import create_term
from program.roster.parsing import parse_roster
from program.roster.services import apply_import

DEMO_PASSWORD = "hallway-demo"  # noqa: S105  (printed for the demo, never used in production)
DEMO_DOMAIN = "demo.example.edu"

STAFF = [
    # (key, name, department, stage)
    ("admin", "Avery Admin", "Medical Education", CareerStage.STAFF),
    ("dean", "Dana Okafor", "Dean's Office", CareerStage.SENIOR_FACULTY),
    ("coordinator", "Carmen Reyes", "Internal Medicine", CareerStage.STAFF),
]

ROSTER = f"""Email Address,Full name,Role,Department,PGY,Cohort,Interests,Tracks
mentor@{DEMO_DOMAIN},Dr. Miguel Santos,mentor,Cardiology,Mid-career faculty,,heart failure; medical education; wellness,both
trainee1@{DEMO_DOMAIN},Priya Natarajan,trainee,Internal Medicine,PGY-1,PGY-1,cardiology; medical education,both
trainee2@{DEMO_DOMAIN},Jonah Whitfield,trainee,Internal Medicine,PGY-2,PGY-2,global health; wellness,both
"""  # noqa: E501  (a roster file, kept as its lines)


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


def current_term_dates(today: date) -> tuple[str, date, date]:
    """The academic term around `today`: Fall (August to December) or Spring (January to June)."""
    if today.month >= 7:
        return f"Fall {today.year}", date(today.year, 8, 1), date(today.year, 12, 31)
    return f"Spring {today.year}", date(today.year, 1, 1), date(today.year, 6, 30)


def seed_demo(today: date | None = None) -> bool:
    """Create the demo institution unless it is there already; True if it was created."""
    if db.session.scalar(sa.select(Person.id).where(Person.email == email_for("admin"))):
        return False
    staff: dict[str, Person] = {}
    for key, name, department, stage in STAFF:
        staff[key] = create_person(
            None, email=email_for(key), name=name, department=department, stage=stage
        )
    admin = staff["admin"]
    admin.is_admin = True
    staff["dean"].is_dean = True
    update_settings(
        admin,
        name="Riverside School of Medicine",
        suppression_threshold=10,
        mail_sender=f"mentoring@{DEMO_DOMAIN}",
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
    coordinator = staff["coordinator"]
    grant_role(admin, program, coordinator, Role.COORDINATOR)
    name, starts_on, ends_on = current_term_dates(today or date.today())
    term = create_term(coordinator, program, name, starts_on, ends_on)
    import_roster(coordinator, program, term, ROSTER.encode("utf-8"))
    people = {
        p.email: p
        for p in db.session.scalars(sa.select(Person).where(Person.email.like(f"%@{DEMO_DOMAIN}")))
    }
    for person in people.values():
        person.set_password(DEMO_PASSWORD)
    db.session.flush()
    seed_mentoring(coordinator, term, people)
    return True


def seed_mentoring(coordinator: Person, term: Term, people: dict[str, Person]) -> None:
    """A formal pair introduced ten days ago, its check-ins asked, the mentor's answered; the
    trainee's is left open so a visitor can answer it from the demo inbox."""
    now = utc_now()
    mentor, trainee = people[email_for("mentor")], people[email_for("trainee1")]
    publish_pair(coordinator, term, mentor, trainee, started_at=now - timedelta(days=10))
    schedule_due(now)
    mentor_check_in = db.session.scalar(sa.select(CheckIn).where(CheckIn.person_id == mentor.id))
    record_check_in(
        mentor, mentor_check_in, CheckInStatus.MET, met_on=now.date() - timedelta(days=3), rating=4
    )


def import_roster(actor: Person, program: Program, term: Term, data: bytes) -> None:
    parsed = parse_roster(data, "demo-roster.csv")
    if parsed.errors:
        raise ValueError(f"the demo roster has problems: {parsed.errors}")
    apply_import(actor, program, term, parsed)
