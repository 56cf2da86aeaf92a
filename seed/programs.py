"""Two more demo programs with history: a surgery residency and an MD program, each with two past
terms and the current one, a published formal matching per term, monthly coffee rounds, and
check-ins answered with plausible, varied behaviour (some people answer everything, some rarely;
some pairs never meet; formal meetings are rated a little higher than coffee chats).

Everything goes through the services, as a coordinator and the people would; the only liberty
taken is the clock, which each step is given explicitly. Deterministic: a fixed random seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.checkins.schedule import schedule_due
from program.checkins.services import record_check_in, with_its_person
from program.coffee.enrollment import bulk_enroll
from program.coffee.models import Chat, Enrollment, Round
from program.coffee.rounds import publish_round
from program.db import utc_now
from program.extensions import db
from program.formal.availability import answer_availability, request_availability
from program.formal.matches import propose_matches, publish_matches
from program.formal.models import Assignment, AssignmentStatus, Availability, EndReason
from program.formal.pairs import end_assignment
from program.messages.models import Message, MessageStatus
from program.outcomes.models import Better, MeasureKind
from program.outcomes.services import apply_outcomes, define_measure, upload_outcomes
from program.pairings import abouts
from program.people.models import Person
from program.people.services import create_person
from program.programs.models import Program, Role, Term, TermRosterEntry
from program.programs.services import create_program, grant_role
from program.programs.terms import create_term, set_term_closed
from program.reporting.models import ActionStatus
from program.reporting.services import add_action, update_action
from program.roster.parsing import parse_roster
from program.roster.services import apply_import
from program.surveys.models import Survey, SurveyResponse
from program.surveys.services import (
    REMIND_AFTER_DAYS,
    Answers,
    open_due_surveys,
    record_answers,
    remind_due,
    window,
)


@dataclass(frozen=True)
class Spec:
    name: str
    slug: str
    description: str
    coordinator: tuple[str, str]  # (key, name)
    mentor_departments: tuple[str, ...]
    trainee_departments: tuple[str, ...]
    trainee_stages: tuple[str, ...]
    mentors: int
    trainees: int
    capacity: int
    seed: int


SPECS = (
    Spec(
        name="General Surgery Residency",
        slug="surgery-residency",
        description="Five-year general surgery residency; mentors from across the department of "
        "surgery, coffee chats with residents and faculty of every service.",
        coordinator=("surgery-coordinator", "Samir Patel"),
        mentor_departments=(
            "General Surgery",
            "Trauma Surgery",
            "Vascular Surgery",
            "Surgical Oncology",
            "Pediatric Surgery",
            "Transplant Surgery",
        ),
        trainee_departments=("General Surgery",),
        trainee_stages=("PGY-1", "PGY-2", "PGY-3", "PGY-4", "PGY-5"),
        mentors=16,
        trainees=44,
        capacity=3,
        seed=11,
    ),
    Spec(
        name="MD Program",
        slug="md-program",
        description="Four-year MD program: a faculty advisor for every student and coffee chats "
        "between students, residents and faculty across the school.",
        coordinator=("md-coordinator", "Helena Brooks"),
        mentor_departments=(
            "Pediatrics",
            "Psychiatry",
            "Family Medicine",
            "Neurology",
            "Obstetrics and Gynecology",
            "Radiology",
            "Emergency Medicine",
            "Internal Medicine",
        ),
        trainee_departments=("Medical Education",),
        trainee_stages=("MS1", "MS2", "MS3", "MS4"),
        mentors=24,
        trainees=120,
        capacity=4,
        seed=23,
    ),
)
FIRST = (
    "Ada Bea Cal Dev Eli Fay Gus Hal Ivy Jo Kai Lea Mo Ned Ola Pia Quin Rae Sol Tess Uri "
    "Val Wes Xan Yuki Zoe Amir Bo Cleo Dara Emeka Flo Gia Hana Ines Jude Kofi Lina Milo Nia"
)
LAST = (
    "Adams Baptiste Chen Diaz Evans Fischer Garcia Hughes Iyer Jones Kim Lopez Mensah Novak "
    "Ortiz Park Quirke Reyes Singh Torres Usman Varga Wright Xu Young Zhou"
)
INTERESTS = (
    "research careers",
    "medical education",
    "wellness",
    "global health",
    "leadership",
    "quality improvement",
    "advocacy",
    "teaching",
    "work-life balance",
    "innovation",
)
MENTOR_STAGES = ("Junior faculty", "Mid-career faculty", "Senior faculty")


def term_dates(today: date) -> list[tuple[str, date, date]]:
    """The two terms before the current one, and the current one (Fall and Spring terms)."""
    if today.month >= 7:
        return [
            (f"Fall {today.year - 1}", date(today.year - 1, 8, 1), date(today.year - 1, 12, 31)),
            (f"Spring {today.year}", date(today.year, 1, 1), date(today.year, 6, 30)),
            (f"Fall {today.year}", date(today.year, 8, 1), date(today.year, 12, 31)),
        ]
    return [
        (f"Spring {today.year - 1}", date(today.year - 1, 1, 1), date(today.year - 1, 6, 30)),
        (f"Fall {today.year - 1}", date(today.year - 1, 8, 1), date(today.year - 1, 12, 31)),
        (f"Spring {today.year}", date(today.year, 1, 1), date(today.year, 6, 30)),
    ]


@contextmanager
def mail_dated(when: datetime) -> Iterator[None]:
    """Date the e-mails written inside the block as of `when`: the simulated history's mail
    sits in the demo inbox on the days it was written, not all at the moment of seeding."""
    before = db.session.scalar(sa.select(sa.func.max(Message.id))) or 0
    yield
    db.session.flush()
    db.session.execute(sa.update(Message).where(Message.id > before).values(created_at=when))


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def roster(spec: Spec, domain: str, years_back: int = 0) -> str:
    """The program's roster; `years_back` years before the current term, each trainee was that
    many stages earlier (never before the first)."""
    words_first, words_last = FIRST.split(), LAST.split()
    lines = ["Email Address,Full name,Role,Department,Stage,Cohort,Interests"]
    for n in range(spec.mentors):
        name = (
            f"Dr. {words_first[(n * 5 + spec.seed) % len(words_first)]} "
            + words_last[(n * 3 + spec.seed) % len(words_last)]
        )
        lines.append(
            f"{spec.slug}-mentor{n}@{domain},{name},mentor,"
            f"{spec.mentor_departments[n % len(spec.mentor_departments)]},"
            f"{MENTOR_STAGES[n % 3]},,{INTERESTS[n % 10]}; {INTERESTS[(n + 4) % 10]}"
        )
    for n in range(spec.trainees):
        name = (
            f"{words_first[(n * 7 + spec.seed) % len(words_first)]} "
            + words_last[(n * 11 + spec.seed) % len(words_last)]
        )
        stage = spec.trainee_stages[max(0, n % len(spec.trainee_stages) - years_back)]
        lines.append(
            f"{spec.slug}-student{n}@{domain},{name},trainee,"
            f"{spec.trainee_departments[n % len(spec.trainee_departments)]},{stage},{stage},"
            f"{INTERESTS[(n + 2) % 10]}; {INTERESTS[(n + 7) % 10]}"
        )
    return "\n".join(lines) + "\n"


def seed_program(
    admin: Person, spec: Spec, domain: str, password_hash: str, today: date
) -> Program:
    rng = random.Random(spec.seed)  # noqa: S311  (demo data, not security)
    program = create_program(
        admin, {"name": spec.name, "slug": spec.slug, "description": spec.description}
    )
    key, name = spec.coordinator
    coordinator = create_person(admin, email=f"{key}@{domain}", name=name)
    coordinator.set_password_hash(password_hash)
    grant_role(admin, program, coordinator, Role.COORDINATOR)
    dates = term_dates(today)
    current_start = dates[-1][1]
    answers: dict[int, float] = {}
    now = utc_now()
    # Term by term, as it happened: each term's roster goes in through the importer (trainees a
    # stage earlier a year back), the term runs, and a past term is closed before the next
    # import moves anyone on, so its reports keep the people as they were.
    terms = []
    for index, (term_name, starts, ends) in enumerate(dates):
        term = create_term(coordinator, program, term_name, starts, ends)
        terms.append(term)
        years_back = (current_start - starts).days // 330
        data = roster(spec, domain, years_back).encode()
        with mail_dated(_at(starts - timedelta(days=7))):
            apply_import(coordinator, program, term, parse_roster(data, f"{spec.slug}.csv"))
        if index == 0:
            # In a fixed order (each draws from the seeded generator): a query without one
            # comes back in another order on PostgreSQL, and the demo was another demo there.
            people = db.session.scalars(
                sa.select(Person).where(Person.email.like(f"{spec.slug}-%")).order_by(Person.id)
            ).all()
            # How reliably each person answers: most often, some rarely, a few never.
            answers = {p.id: rng.choice((0.95, 0.9, 0.8, 0.6, 0.35, 0.1)) for p in people}
            with mail_dated(_at(starts, 8)):
                bulk_enroll(coordinator, program, "orientation consent form")
            for enrollment in db.session.scalars(
                sa.select(Enrollment).where(Enrollment.program_id == program.id)
            ):
                enrollment.enrolled_at = _at(starts, 8)
        _run_term(coordinator, program, term, rng, answers, now)
    from seed.directory import seed_directory

    seed_directory(coordinator, program, domain, now)
    seed_actions(coordinator, program, terms[-2])
    # The simulated history's mail went out long ago: it is in the inbox as sent, not queued.
    db.session.execute(
        sa.update(Message)
        .where(Message.program_id == program.id, Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.SENT, sent_at=Message.created_at)
    )
    return program


ACTIONS = [
    (
        "Fewer than half of the coffee chats met within 30 days of the introduction.",
        "Prompt the first mover after one week with a ready follow-up note, and offer video.",
        "Program coordinator",
        ActionStatus.DONE,
        "The one-week prompt went live in week 3; see this term's “met within 30 days”.",
    ),
    (
        "Check-ins from junior faculty mentors were answered less often than others'.",
        "Ask each department's faculty lead to mention the one-click check-in at a meeting.",
        "Associate program director",
        ActionStatus.IN_PROGRESS,
        "Three of six departments done so far.",
    ),
]


def seed_actions(coordinator: Person, program: Program, term: Term) -> None:
    """The findings of a past term's report and what was done about them: the current term's
    report opens with them."""
    for finding, action, owner, status, outcome in ACTIONS:
        item = add_action(
            coordinator,
            program,
            term,
            finding=finding,
            action=action,
            owner=owner,
            due_on=term.ends_on + timedelta(days=60),
        )
        update_action(coordinator, program, item.id, status=status, outcome=outcome)


def _run_term(
    coordinator: Person,
    program: Program,
    term: Term,
    rng: random.Random,
    answers: dict[int, float],
    now: datetime,
) -> None:
    started = _at(term.starts_on + timedelta(days=10))
    with mail_dated(_at(term.starts_on)):
        request_availability(coordinator, term)
    for availability in db.session.scalars(
        sa.select(Availability).where(Availability.term_id == term.id).order_by(Availability.id)
    ):
        accepting = rng.random() > 0.1
        answer_availability(availability.person, availability, accepting, 3 if accepting else 0)
    with mail_dated(started):
        propose_matches(coordinator, term, seed=rng.randrange(10**6))
        publish_matches(coordinator, term, started_at=started)
    # Some pairs simply never meet.
    silent = {
        a.id
        for a in db.session.scalars(
            sa.select(Assignment).where(Assignment.term_id == term.id).order_by(Assignment.id)
        )
        if rng.random() < 0.2
    }
    cursor = _at(term.starts_on + timedelta(days=14))
    last = min(_at(term.ends_on), now - timedelta(days=3))
    while cursor <= last:
        with mail_dated(cursor):
            schedule_due(cursor)
            publish_round(coordinator, program, now=cursor)
            _answer(program, term, cursor, rng, answers, silent)
        cursor += timedelta(days=30)
    if term.ends_on < now.date():
        _run_survey(term, rng, answers)
        with mail_dated(_at(term.ends_on, 17)):
            for assignment in db.session.scalars(
                sa.select(Assignment).where(
                    Assignment.term_id == term.id, Assignment.status == AssignmentStatus.ACTIVE
                )
            ):
                end_assignment(coordinator, assignment, EndReason.TERM_OVER)
        set_term_closed(coordinator, term, True)


# How readily each class year answers the term survey: the first years most, the last least (a
# demo with some classes under the 70% target, as real ones have).
SURVEY_READINESS = {"MS1": 1.15, "MS2": 1.0, "MS3": 0.8, "MS4": 0.55, "Mentors": 0.9}


def _run_survey(term: Term, rng: random.Random, answers: dict[int, float]) -> None:
    """The term survey as it happened: opened by the tick in its window, answered over the
    following days by each person as readily as they answer check-ins (by class year), with
    the reminders going out on their days."""
    opens, _ = window(term)
    with mail_dated(_at(opens, 6)):
        open_due_surveys(_at(opens, 6))
    responses = db.session.scalars(
        sa.select(SurveyResponse)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.term_id == term.id)
        .order_by(SurveyResponse.id)
    ).all()
    for day, reminder in ((2, False), (REMIND_AFTER_DAYS[0], True), (REMIND_AFTER_DAYS[1], True)):
        at = _at(opens + timedelta(days=day), 12)
        if reminder:
            with mail_dated(at):
                remind_due(at)
        for response in responses:
            ready = answers.get(response.person_id, 0.5) * SURVEY_READINESS.get(
                response.class_year, 0.9
            )
            if response.answered_at is not None or rng.random() > ready * 0.55:
                continue
            record_answers(response.person, response, _survey_answers(response, rng), at)


def _survey_answers(response: SurveyResponse, rng: random.Random) -> Answers:
    """What one person answers: mostly satisfied with their mentor, a little less with the
    coffee chats, someone for career advice more often with a mentor."""

    def satisfaction(weights: tuple[int, ...]) -> int:
        return rng.choices((0, 1, 2, 3, 4, 5), weights=weights)[0]

    led = rng.random() < 0.35
    return Answers(
        formal_satisfaction=satisfaction((1, 1, 2, 4, 10, 8)) if response.in_formal else None,
        coffee_satisfaction=satisfaction((3, 1, 2, 6, 9, 5)) if response.in_coffee else None,
        career_person="yes" if rng.random() < (0.85 if response.in_formal else 0.6) else "no",
        outside_people=rng.choices(("0", "1-2", "3-5", "6+"), weights=(2, 5, 3, 1))[0],
        led_to=(rng.choice(("collaboration", "referral", "opportunity", "advice_acted_on")),)
        if led
        else ("none",),
        mentor_load=rng.choices(("about_right", "too_much", "could_take_more"), (6, 2, 3))[0]
        if response.is_mentor
        else None,
    )


def _answer(
    program: Program,
    term: Term,
    cursor: datetime,
    rng: random.Random,
    answers: dict[int, float],
    silent: set[int],
) -> None:
    """Answer this program's open check-ins asked by `cursor`, each as its person would."""
    open_ones = db.session.scalars(
        sa.select(CheckIn)
        .outerjoin(Assignment, Assignment.id == CheckIn.assignment_id)
        .outerjoin(Chat, Chat.id == CheckIn.chat_id)
        .outerjoin(Round, Round.id == Chat.round_id)
        .where(
            CheckIn.answered_at.is_(None),
            CheckIn.asked_at <= cursor,
            sa.or_(Assignment.term_id == term.id, Round.program_id == program.id),
        )
        .order_by(CheckIn.id)
        .options(*with_its_person())
    ).all()
    abouts(open_ones)  # what answering reads, worked out up front
    for check_in in open_ones:
        person = check_in.person
        if rng.random() > answers.get(person.id, 0.5):
            continue  # no answer
        formal = check_in.assignment_id is not None
        met_chance = 0.0 if check_in.assignment_id in silent else (0.75 if formal else 0.6)
        if rng.random() < met_chance:
            met_on = min(check_in.period_start + timedelta(days=rng.randint(3, 20)), cursor.date())
            rating = rng.choices((2, 3, 4, 5), weights=(1, 2, 5, 4) if formal else (2, 4, 5, 2))[0]
            led_to = rng.choice(list(LedTo)) if rng.random() < (0.25 if formal else 0.12) else None
            record_check_in(
                person,
                check_in,
                CheckInStatus.MET,
                met_on=met_on,
                rating=rating,
                led_to=led_to,
                today=cursor.date(),
            )
        else:
            status = rng.choice(
                (CheckInStatus.SCHEDULED, CheckInStatus.NOT_YET, CheckInStatus.WONT_HAPPEN)
            )
            record_check_in(person, check_in, status, today=cursor.date())


def seed_outcomes(dean: Person, term_slugs: list[str], threshold: int) -> None:
    """What the office of institutional research brings in for each closed term, oldest
    first: a well-being index for everyone on its rosters (lower is better; a little lower
    among those with a mentor, and a little lower each term) and, for trainees, whether they
    matched their first-choice specialty, imported the way a dean would (a CSV, its preview,
    then applied)."""
    define_measure(
        dean,
        name="Well-being index",
        kind=MeasureKind.NUMERIC,
        definition="The Mayo Well-Being Index (0 to 9; 5 or more marks distress), taken in the "
        "term's last month.",
        source="The institution's annual well-being survey",
        better=Better.LOWER,
        favourable=None,
        minimum_group=10,
        threshold=threshold,
    )
    define_measure(
        dean,
        name="First-choice specialty",
        kind=MeasureKind.CATEGORICAL,
        definition="Whether the trainee's next step (match, fellowship, post) was in their "
        "first-choice specialty, as they reported it.",
        source="The office of institutional research's exit records",
        better=Better.HIGHER,
        favourable="yes",
        minimum_group=max(5, threshold),
        threshold=threshold,
    )
    for drift, term_slug in enumerate(term_slugs):
        _import_outcomes(dean, term_slug, random.Random(2027 + drift), drift * 0.3)  # noqa: S311


def _import_outcomes(dean: Person, term_slug: str, rng: random.Random, better_by: float) -> None:
    people = db.session.execute(
        sa.select(Person.email, TermRosterEntry.is_trainee, TermRosterEntry.formal_track)
        .join(TermRosterEntry, TermRosterEntry.person_id == Person.id)
        .join(Term, Term.id == TermRosterEntry.term_id)
        .where(Term.slug == term_slug)
        .distinct()
        .order_by(Person.email)
    ).all()
    lines = ["email,Well-being index,First-choice specialty"]
    for email, is_trainee, formal in people:
        if rng.random() < 0.15:
            continue  # no value recorded
        mean = (3.6 if formal else 4.3) - better_by
        index = min(9, max(0, round(rng.gauss(mean, 1.8))))
        match = ""
        if is_trainee:
            match = "yes" if rng.random() < (0.78 if formal else 0.66) else "no"
        lines.append(f"{email},{index},{match}")
    upload = upload_outcomes(dean, term_slug, "\n".join(lines).encode(), "ir-outcomes.csv")
    apply_outcomes(dean, upload)
