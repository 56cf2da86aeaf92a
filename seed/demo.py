"""A small demo institution, Riverside School of Medicine: an admin, a dean, and the Internal
Medicine Residency with a coordinator, a current term and its roster (18 mentors, 48
residents), a published formal matching eight weeks old with two months of check-ins (some of
its pairs silent), and four monthly coffee-chat rounds with their check-ins (one person paused
by the ghost rule).

Everything is created through the services, the roster through the same importer a coordinator
uses. Idempotent: if the demo admin exists, nothing is added, so re-running keeps the data.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from program.admin.models import DEFAULT_SUPPRESSION_THRESHOLD
from program.admin.services import update_settings
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.schedule import schedule_due
from program.checkins.services import ensure_check_in, record_check_in
from program.coffee.enrollment import bulk_enroll, snooze_ghosts, withdraw
from program.coffee.models import ChatMember, Enrollment
from program.coffee.rounds import publish_round
from program.db import utc_now
from program.extensions import db
from program.formal.availability import answer_availability, request_availability
from program.formal.matches import propose_matches, publish_matches, publish_pair
from program.formal.models import Assignment, Availability
from program.meetings.services import accept, propose
from program.messages.models import Message
from program.pairings import pairing
from program.people.models import CareerStage, Person, password_hash
from program.people.services import create_person
from program.programs.models import Program, Role, Term
from program.programs.services import create_program, grant_role
from program.programs.terms import create_term, slugify
from program.roster.parsing import parse_roster
from program.roster.services import apply_import
from seed.directory import seed_directory
from seed.programs import SPECS, mail_dated, seed_outcomes, seed_program, term_dates

DEMO_PASSWORD = "hallway-demo"  # noqa: S105  (printed for the demo, never used in production)
DEMO_DOMAIN = "demo.example.edu"

STAFF = [
    # (key, name, department, stage)
    ("admin", "Avery Admin", "Medical Education", CareerStage.STAFF),
    ("dean", "Dana Okafor", "Dean's Office", CareerStage.SENIOR_FACULTY),
    ("coordinator", "Carmen Reyes", "Internal Medicine", CareerStage.STAFF),
]

MENTORS = [
    # (key, name, department, stage, interests, capacity offered or None for "not this term")
    (
        "mentor",
        "Dr. Miguel Santos",
        "Cardiology",
        "Mid-career faculty",
        "heart failure; medical education; wellness",
        1,
    ),
    (
        "abello",
        "Dr. Aisha Bello",
        "Nephrology",
        "Senior faculty",
        "research careers; global health; dialysis",
        3,
    ),
    (
        "hkim",
        "Dr. Hannah Kim",
        "Pulmonology",
        "Junior faculty",
        "critical care; parenting in residency; wellness",
        2,
    ),
    (
        "rlindqvist",
        "Dr. Robert Lindqvist",
        "Gastroenterology",
        "Senior faculty",
        "fellowship applications; endoscopy; leadership",
        3,
    ),
    (
        "fhaddad",
        "Dr. Fatima Haddad",
        "Infectious Disease",
        "Mid-career faculty",
        "global health; antimicrobial stewardship; research careers",
        2,
    ),
    (
        "opark",
        "Dr. Owen Park",
        "Hospital Medicine",
        "Junior faculty",
        "quality improvement; medical education; hospitalist careers",
        2,
    ),
    (
        "gmbeki",
        "Dr. Grace Mbeki",
        "Oncology",
        "Senior faculty",
        "palliative care; research careers; leadership",
        2,
    ),
    (
        "scohen",
        "Dr. Sarah Cohen",
        "Geriatrics",
        "Mid-career faculty",
        "palliative care; primary care",
        None,
    ),
]
TRAINEES = [
    # (key, name, stage, interests)
    ("trainee1", "Priya Natarajan", "PGY-1", "cardiology; medical education"),
    ("trainee2", "Jonah Whitfield", "PGY-2", "global health; wellness"),
    ("tadeyemi", "Tolu Adeyemi", "PGY-1", "research careers; nephrology"),
    ("mgarcia", "Mateo Garcia", "PGY-1", "critical care; wellness"),
    ("lchen", "Lily Chen", "PGY-1", "fellowship applications; gastroenterology"),
    ("nokafor", "Ngozi Okafor", "PGY-2", "global health; infectious disease"),
    ("bwalsh", "Brendan Walsh", "PGY-2", "quality improvement; hospitalist careers"),
    ("yhassan", "Yusuf Hassan", "PGY-2", "palliative care; oncology"),
    ("esato", "Emi Sato", "PGY-3", "leadership; fellowship applications"),
    ("dmiller", "Dana Miller", "PGY-3", "medical education; research careers"),
    ("ardelean", "Andrei Ardelean", "PGY-3", "critical care; parenting in residency"),
    ("kosei", "Kwame Osei", "PGY-1", "research careers; leadership"),
]
FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chloe",
    "Diego",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Imani",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nikhil",
    "Olivia",
    "Pablo",
    "Rania",
    "Samuel",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yara",
    "Zane",
    "Aditi",
    "Bilal",
    "Carmen",
    "Dmitri",
    "Esther",
]
LAST_NAMES = [
    "Abara",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fofana",
    "Gupta",
    "Hoang",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lindgren",
    "Moreau",
    "Nakamura",
    "Oyelaran",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sandoval",
    "Tanaka",
]
DEPARTMENTS = (
    "Cardiology",
    "Nephrology",
    "Pulmonology",
    "Gastroenterology",
    "Infectious Disease",
    "Hospital Medicine",
    "Oncology",
    "Endocrinology",
    "Rheumatology",
    "Emergency Medicine",
)
INTERESTS = (
    "research careers",
    "medical education",
    "wellness",
    "global health",
    "leadership",
    "fellowship applications",
    "quality improvement",
    "critical care",
    "palliative care",
    "parenting in residency",
)
MENTOR_STAGES = ("Junior faculty", "Mid-career faculty", "Senior faculty")
EXTRA_MENTORS = 10
EXTRA_TRAINEES = 36


def _generated_name(n: int) -> str:
    return f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 7) % len(LAST_NAMES)]}"


def _interests(n: int) -> str:
    return "; ".join(INTERESTS[(n + k * 3) % len(INTERESTS)] for k in range(2))


# A realistic residency: more mentors and residents, named deterministically.
MENTORS += [
    (
        f"faculty{n}",
        f"Dr. {_generated_name(n + 100)}",
        DEPARTMENTS[n % len(DEPARTMENTS)],
        MENTOR_STAGES[n % 3],
        _interests(n),
        None if n == 4 else 2,  # one more declines
    )
    for n in range(EXTRA_MENTORS)
]
TRAINEES += [
    (f"resident{n}", _generated_name(n), f"PGY-{n % 3 + 1}", _interests(n + 5))
    for n in range(EXTRA_TRAINEES)
]
# Pairs the demo shows on the coordinator's pairs page: ones that met, and ones gone quiet.
QUIET_TRAINEES = {"trainee2", "nokafor", "esato"} | {
    f"resident{n}" for n in range(EXTRA_TRAINEES) if n % 4 == 3
}


def roster_csv() -> str:
    """The demo roster as a coordinator's spreadsheet export would have it."""
    lines = ["Email Address,Full name,Role,Department,PGY,Cohort,Interests,Tracks"]
    for key, name, department, stage, interests, _ in MENTORS:
        lines.append(f"{email_for(key)},{name},mentor,{department},{stage},,{interests},both")
    for key, name, stage, interests in TRAINEES:
        lines.append(
            f"{email_for(key)},{name},trainee,Internal Medicine,{stage},{stage},{interests},both"
        )
    return "\n".join(lines) + "\n"


def email_for(key: str) -> str:
    return f"{key}@{DEMO_DOMAIN}"


def foreign_people() -> int:
    """How many people in the database are not the demo's: a demo must never write among them."""
    return db.session.scalar(
        sa.select(sa.func.count(Person.id)).where(~Person.email.like(f"%@{DEMO_DOMAIN}"))
    )


# Where a demo served before: its own machine, on whatever port it was given then.
_DEMO_BASE = re.compile(r"http://(?:127\.0\.0\.1|localhost|\[::1\]):\d+")


def point_links_at(base_url: str) -> int:
    """Make the demo's written e-mails link to `base_url`: a demo seeded on one port and served
    again on another (`--port`) must not send people to the old one. Demo databases only (the
    demo refuses any other). Returns how many messages changed."""
    changed = 0
    for message in db.session.scalars(sa.select(Message).where(Message.body_text.is_not(None))):
        parts = {
            attr: _DEMO_BASE.sub(base_url, getattr(message, attr) or "")
            for attr in ("body_text", "body_html")
        }
        if any(parts[a] != (getattr(message, a) or "") for a in parts):
            message.body_text, message.body_html = parts["body_text"], parts["body_html"] or None
            changed += 1
    db.session.flush()
    return changed


def demo_logins() -> list[tuple[str, str]]:
    return [
        ("admin", email_for("admin")),
        ("dean", email_for("dean")),
        ("coordinator", email_for("coordinator")),
        ("coordinator (surgery)", email_for("surgery-coordinator")),
        ("coordinator (MD program)", email_for("md-coordinator")),
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
        suppression_threshold=DEFAULT_SUPPRESSION_THRESHOLD,
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
    with mail_dated(utc_now() - timedelta(days=120)):
        import_roster(coordinator, program, term, roster_csv().encode("utf-8"))
    people = {
        p.email: p
        for p in db.session.scalars(sa.select(Person).where(Person.email.like(f"%@{DEMO_DOMAIN}")))
    }
    # One published password for every demo login: hashed once (a scrypt hash takes ~0.1 s).
    hashed = password_hash(DEMO_PASSWORD)
    for person in people.values():
        person.set_password_hash(hashed)
    db.session.flush()
    seed_mentoring(coordinator, term, people)
    seed_coffee(coordinator, program, people)
    seed_directory(
        coordinator, program, DEMO_DOMAIN, utc_now(), asker=people[email_for("trainee1")]
    )
    for spec in SPECS:
        seed_program(admin, spec, DEMO_DOMAIN, hashed, today or utc_now().date())
    # The closed terms' outcomes, brought in by the dean.
    closed = term_dates(today or utc_now().date())[:-1]
    seed_outcomes(staff["dean"], [slugify(t[0]) for t in closed], DEFAULT_SUPPRESSION_THRESHOLD)
    snooze_ghosts(utc_now())
    return True


def seed_mentoring(coordinator: Person, term: Term, people: dict[str, Person]) -> None:
    """The formal track eight weeks in: availability asked and answered (one mentor declined),
    matches proposed and published 56 days ago, two months of check-ins. Most pairs met; a few
    have gone quiet and show as silent on the coordinator's pairs page. The demo trainee's
    latest check-in is left open so a visitor can answer it from the demo inbox."""
    now = utc_now()
    published = now - timedelta(days=56)
    with mail_dated(published - timedelta(days=10)):
        request_availability(coordinator, term)
    for key, *_, capacity in MENTORS:
        mentor = people[email_for(key)]
        availability = db.session.scalar(
            sa.select(Availability).where(
                Availability.person_id == mentor.id, Availability.term_id == term.id
            )
        )
        answer_availability(mentor, availability, capacity is not None, capacity or 0)
    # The demo mentor and trainee are paired by hand first, as a coordinator can; the matching
    # then fills the remaining places.
    mentor, trainee = people[email_for("mentor")], people[email_for("trainee1")]
    with mail_dated(published):
        publish_pair(coordinator, term, mentor, trainee, started_at=published)
        propose_matches(coordinator, term, seed=2026)
        publish_matches(coordinator, term, started_at=published)
    for days_ago in (25, 0):  # last month's check-ins, then this month's
        with mail_dated(now - timedelta(days=days_ago)):
            schedule_due(now - timedelta(days=days_ago))
    quiet = {people[email_for(key)].id for key in QUIET_TRAINEES}
    check_ins = db.session.scalars(
        sa.select(CheckIn).join(Assignment, Assignment.id == CheckIn.assignment_id)
    ).all()
    demo_trainee = people[email_for("trainee1")]
    for check_in in check_ins:
        assignment = check_in.assignment
        this_month = check_in.period_start.month == now.month
        if assignment.trainee_id in quiet or (this_month and check_in.person_id == demo_trainee.id):
            continue
        person = check_in.person
        if this_month and person.id == assignment.trainee_id:
            continue  # trainees answer later in the month
        met_on = min(now.date(), check_in.period_start + timedelta(days=9))
        rating = 3 + person.id % 3
        record_check_in(person, check_in, CheckInStatus.MET, met_on=met_on, rating=rating)
    seed_meetings(now, mentor, trainee, quiet)


def seed_meetings(now: datetime, mentor: Person, trainee: Person, quiet: set[int]) -> None:
    """The demo pair's next meeting, agreed (both have the calendar invitation in the inbox);
    and another pair's times proposed, waiting for the mentor's choice."""
    day = (now + timedelta(days=4)).replace(hour=15, minute=0, second=0, microsecond=0)
    demo_pair = pairing(
        "assignment",
        db.session.scalar(sa.select(Assignment.id).where(Assignment.trainee_id == trainee.id)),
    )
    meeting = propose(trainee, demo_pair, [day, day + timedelta(days=1, hours=-1)], "Café, level 2")
    accept(mentor, meeting, 0)
    other = db.session.scalar(
        sa.select(Assignment.id)
        .where(Assignment.trainee_id.not_in([trainee.id, *quiet]))
        .order_by(Assignment.id)
    )
    waiting = pairing("assignment", other)
    propose(waiting.members[0], waiting, [day + timedelta(days=2), day + timedelta(days=3)])


# Coffee chats: who opted out, and who stops answering (and is paused by the ghost rule).
COFFEE_OPTED_OUT = {"scohen"}
COFFEE_GHOST = "kosei"
COFFEE_ROUNDS_DAYS_AGO = (95, 65, 35, 5)


def seed_coffee(coordinator: Person, program: Program, people: dict[str, Person]) -> None:
    """Four monthly coffee rounds: everyone opted in by the coordinator at orientation (one
    mentor opted out again), check-ins for the first three (most met, a few did not), one
    person paused after three unanswered intros, and this month's round just published."""
    now = utc_now()
    first = now - timedelta(days=max(COFFEE_ROUNDS_DAYS_AGO) + 1)
    with mail_dated(first):
        bulk_enroll(coordinator, program, "orientation consent form 2026")
    for enrollment in db.session.scalars(sa.select(Enrollment)):
        enrollment.enrolled_at = first  # they were opted in at orientation, before round 1
    for key in COFFEE_OPTED_OUT:
        withdraw(people[email_for(key)], program)
    ghost = people[email_for(COFFEE_GHOST)]
    for number, days_ago in enumerate(COFFEE_ROUNDS_DAYS_AGO, start=1):
        published = now - timedelta(days=days_ago)
        with mail_dated(published):
            round_ = publish_round(coordinator, program, now=published)
        if days_ago < 7:
            continue  # this round's check-ins are not due yet
        asked = published + timedelta(days=7)
        for member in db.session.scalars(
            sa.select(ChatMember).where(ChatMember.round_id == round_.id)
        ):
            check_in, _ = ensure_check_in(
                member.person_id, round_.scheduled_for, chat_id=member.chat_id, now=asked
            )
            person = db.session.get(Person, member.person_id)
            if person.id == ghost.id or (member.person_id + number) % 5 == 0:
                continue  # no answer
            if (member.person_id + number) % 7 == 0:
                record_check_in(person, check_in, CheckInStatus.WONT_HAPPEN)
                continue
            record_check_in(
                person,
                check_in,
                CheckInStatus.MET,
                met_on=round_.scheduled_for + timedelta(days=10),
                rating=2 + (member.person_id + number) % 4,
            )
    snooze_ghosts(now)


def import_roster(actor: Person, program: Program, term: Term, data: bytes) -> None:
    parsed = parse_roster(data, "demo-roster.csv")
    if parsed.errors:
        raise ValueError(f"the demo roster has problems: {parsed.errors}")
    apply_import(actor, program, term, parsed)
