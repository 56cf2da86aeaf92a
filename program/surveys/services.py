"""The term survey's life: opened near each term's end for everyone taking part (an e-mail and a
line on their home page), answered and changed until it closes, at most two reminders to those
who have not answered in the class years still under the program's target, and the live
response counts a coordinator sees. Nobody reads one person's answers anywhere: the report
counts them (reports/survey.py), protected like every other figure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from program import links
from program.audit.services import record
from program.db import DomainError, utc_now
from program.extensions import db
from program.messages.services import queue_messages, unwritten_message
from program.people.models import Person
from program.people.stages import CareerStage
from program.programs.models import Program, Term, TermRosterEntry
from program.surveys.instrument import (
    INSTRUMENT,
    LED_TO,
    LOAD,
    MAX_OWN_QUESTIONS,
    OUTSIDE,
    OWN_KINDS,
    SATISFACTION,
    YES_NO,
    OwnQuestion,
    own_questions,
)
from program.surveys.models import Survey, SurveyResponse

CLOSES_DAYS_AFTER_END = 7  # late answers still count: the last week is often the busiest
REMIND_AFTER_DAYS = (5, 10)  # after opening: the first reminder, then the second
LINK_MAX_AGE = timedelta(days=120)  # the link works for as long as the survey is open
MENTORS = "Mentors"  # the line mentors are counted on (trainees: their class year)
NOT_RECORDED = "Class year not recorded"


def class_year(stage: str | None, is_trainee: bool) -> str:
    """The line a person is counted on: a trainee's class year (their stage), or "Mentors"."""
    if not is_trainee:
        return MENTORS
    if not stage:
        return NOT_RECORDED
    try:
        return CareerStage(stage).label
    except ValueError:
        return stage


def window(term: Term) -> tuple[date, date]:
    """The days a term's survey takes answers: from the program's days before its last day,
    to a week after it."""
    days = term.program.survey_days_before_end
    opens = max(term.starts_on, term.ends_on - timedelta(days=days))
    return opens, term.ends_on + timedelta(days=CLOSES_DAYS_AFTER_END)


def is_open(survey: Survey, today: date) -> bool:
    return survey.opens_on <= today <= survey.closes_on


# --- opening and reminding (the tick) -----------------------------------------------------------


def open_due_surveys(now: datetime) -> int:
    """Open the survey of every term whose window has begun and has none yet, and invite its
    people; returns how many were invited. A term whose window has passed is never opened."""
    today = now.date()
    terms = db.session.scalars(
        sa.select(Term)
        .join(Program, Program.id == Term.program_id)
        .outerjoin(Survey, Survey.term_id == Term.id)
        .where(
            Program.active.is_(True),
            Survey.id.is_(None),
            Term.ends_on >= today - timedelta(days=CLOSES_DAYS_AFTER_END),
            Term.starts_on <= today,
        )
        .order_by(Term.id)
    ).all()
    invited = 0
    for term in terms:
        opens, closes = window(term)
        if opens <= today <= closes:
            # Opened late (the worker was down, the roster came in late): it opens today, so
            # its reminders come their days after the invitation, never with it.
            invited += _open(term, today, closes, now)
    return invited


def _open(term: Term, opens: date, closes: date, now: datetime) -> int:
    program = term.program
    survey = Survey(
        term_id=term.id,
        program_id=program.id,
        instrument=INSTRUMENT,
        opens_on=opens,
        closes_on=closes,
        target_percent=program.survey_target_percent,
        questions=[q.as_dict() for q in own_questions(program.survey_questions)],
    )
    db.session.add(survey)
    db.session.flush()
    entries = db.session.execute(
        sa.select(TermRosterEntry, Person)
        .join(Person, Person.id == TermRosterEntry.person_id)
        .where(
            TermRosterEntry.term_id == term.id,
            sa.or_(TermRosterEntry.is_trainee, TermRosterEntry.is_mentor),
            sa.or_(TermRosterEntry.formal_track, TermRosterEntry.coffee_track),
            Person.active.is_(True),
            Person.is_guest.is_(False),
        )
        .order_by(Person.id)
    ).all()
    responses = [
        SurveyResponse(
            survey_id=survey.id,
            person_id=person.id,
            class_year=class_year(entry.stage, entry.is_trainee),
            in_formal=entry.formal_track,
            in_coffee=entry.coffee_track,
            is_mentor=entry.is_mentor and not entry.is_trainee,
            invited_at=now,
        )
        for entry, person in entries
    ]
    db.session.add_all(responses)
    db.session.flush()
    by_id = {person.id: person for _, person in entries}
    queue_messages(
        [
            unwritten_message(
                by_id[r.person_id],
                "survey_invitation",
                template="survey_invitation",
                program_id=program.id,
                dedupe_key=f"survey:{survey.id}:{r.person_id}:invitation",
                details={"response_id": r.id},
            )
            for r in responses
        ]
    )
    return len(responses)


def remind_due(now: datetime) -> int:
    """Send each open survey's next reminder when it is due, to those who have not answered in
    the class years still under the target; none once every class year has reached it."""
    today = now.date()
    reminded = 0
    surveys = db.session.scalars(
        sa.select(Survey)
        .where(
            Survey.opens_on <= today,
            Survey.closes_on >= today,
            Survey.reminders_sent < len(REMIND_AFTER_DAYS),
        )
        .order_by(Survey.id)
    ).all()
    for survey in surveys:
        if today < survey.opens_on + timedelta(days=REMIND_AFTER_DAYS[survey.reminders_sent]):
            continue
        under = {line.group for line in response_lines(survey) if not line.reached}
        waiting = db.session.execute(
            sa.select(SurveyResponse, Person)
            .join(Person, Person.id == SurveyResponse.person_id)
            .where(
                SurveyResponse.survey_id == survey.id,
                SurveyResponse.answered_at.is_(None),
                SurveyResponse.class_year.in_(sorted(under)),
                Person.active.is_(True),
            )
            .order_by(Person.id)
        ).all()
        number = survey.reminders_sent + 1
        queue_messages(
            [
                unwritten_message(
                    person,
                    "survey_reminder",
                    template="survey_invitation",
                    program_id=survey.program_id,
                    dedupe_key=f"survey:{survey.id}:{person.id}:reminder-{number}",
                    details={"response_id": response.id, "reminder": number},
                )
                for response, person in waiting
            ]
        )
        survey.reminders_sent = number
        survey.last_reminded_at = now
        reminded += len(waiting)
    return reminded


# --- answering ---------------------------------------------------------------------------------


def response_token(response: SurveyResponse) -> str:
    """The signed link's token: it stands for the person's response until the survey closes
    (opening it shows the form; only the form's button records)."""
    return links.sign("survey", {"r": response.id, "p": response.person_id})


def read_response_token(token: str) -> SurveyResponse:
    response, _ = links.read_record(
        "survey", token, LINK_MAX_AGE, SurveyResponse, "r", owner="person_id"
    )
    return response


@dataclass(frozen=True)
class Answers:
    """What a person answers, as the form gives it (codes and numbers, not labels)."""

    formal_satisfaction: int | None
    coffee_satisfaction: int | None
    career_person: str | None  # "yes" / "no"
    outside_people: str | None
    led_to: tuple[str, ...] = ()
    mentor_load: str | None = None
    own: tuple[str | None, ...] = ()


def _one_of(value: Any, choices: Iterable[tuple[Any, str]], what: str, field: str) -> Any:
    if value not in {code for code, _ in choices}:
        raise DomainError(f"Choose {what}.", field=field)
    return value


def record_answers(
    person: Person, response: SurveyResponse, answers: Answers, now: datetime | None = None
) -> SurveyResponse:
    """Record (or change, until the survey closes) `person`'s answers."""
    now = now or utc_now()
    if response.person_id != person.id:
        raise DomainError("This survey belongs to someone else.")
    survey = response.survey
    if not is_open(survey, now.date()):
        raise DomainError(
            f"This survey closed on {survey.closes_on:%d %B %Y}."
            if now.date() > survey.closes_on
            else f"This survey opens on {survey.opens_on:%d %B %Y}."
        )
    values: dict[str, Any] = {}
    for track, asked in (("formal", response.in_formal), ("coffee", response.in_coffee)):
        given = getattr(answers, f"{track}_satisfaction")
        if asked:
            what = "how satisfied you are with the " + (
                "formal mentoring" if track == "formal" else "coffee chats"
            )
            values[f"{track}_satisfaction"] = _one_of(
                given, SATISFACTION, what, f"{track}_satisfaction"
            )
        elif given is not None:
            raise DomainError("You were not in this track this term.")
    values["career_person"] = (
        _one_of(answers.career_person, YES_NO, "yes or no", "career_person") == "yes"
    )
    values["outside_people"] = _one_of(
        answers.outside_people, OUTSIDE, "how many people outside your department", "outside"
    )
    led_to = tuple(dict.fromkeys(answers.led_to))
    if any(code not in {c for c, _ in LED_TO} for code in led_to):
        raise DomainError("Choose what the conversations led to from the list.", field="led_to")
    if "none" in led_to and len(led_to) > 1:
        raise DomainError("“None of these” cannot go with another answer.", field="led_to")
    values["led_to"] = list(led_to) or None
    if answers.mentor_load is not None:
        if not response.is_mentor:
            raise DomainError("Only mentors are asked about their load.")
        values["mentor_load"] = _one_of(answers.mentor_load, LOAD, "your load", "mentor_load")
    else:
        values["mentor_load"] = None
    values["own_answers"] = _own(own_questions(survey.questions), answers.own)
    # Two answers at once (the e-mail's form and the home page's): the row is locked, and the
    # later one is what the person last said.
    locked = db.session.get(
        SurveyResponse, response.id, with_for_update=True, populate_existing=True
    )
    if locked is None:
        raise DomainError("This survey response no longer exists.")
    for column, value in values.items():
        setattr(locked, column, value)
    if locked.answered_at is None:
        locked.answered_at = now
    locked.updated_at = now
    db.session.flush()
    return locked


def _own(questions: list[OwnQuestion], given: tuple[str | None, ...]) -> list[str | None] | None:
    if not questions:
        return None
    out: list[str | None] = []
    for k, question in enumerate(questions):
        value = given[k] if k < len(given) else None
        if value in (None, ""):
            out.append(None)  # a program's own questions may be left blank
            continue
        choices = YES_NO if question.kind == "yes_no" else [(str(c), t) for c, t in SATISFACTION]
        out.append(_one_of(value, choices, "an answer from the list", f"own_{k}"))
    return out


def open_surveys_of(person: Person, now: datetime | None = None) -> list[SurveyResponse]:
    """The person's surveys taking answers today, unanswered first (the home page's line)."""
    today = (now or utc_now()).date()
    return list(
        db.session.scalars(
            sa.select(SurveyResponse)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(
                SurveyResponse.person_id == person.id,
                Survey.opens_on <= today,
                Survey.closes_on >= today,
            )
            .order_by(SurveyResponse.answered_at.is_not(None), Survey.closes_on)
            .options(joinedload(SurveyResponse.survey).joinedload(Survey.term))
        )
    )


# --- what a coordinator sees: counts only -------------------------------------------------------


@dataclass(frozen=True)
class ResponseLine:
    """How many of a class year (or the mentors) were invited and have answered."""

    group: str
    eligible: int
    answered: int
    target_percent: int

    @property
    def percent(self) -> float:
        return 100 * self.answered / self.eligible if self.eligible else 0.0

    @property
    def reached(self) -> bool:
        return self.eligible == 0 or self.answered * 100 >= self.target_percent * self.eligible


def _lines(survey: Survey, where: Any = None) -> list[ResponseLine]:
    rows = db.session.execute(
        sa.select(
            SurveyResponse.class_year,
            sa.func.count(),
            sa.func.count(SurveyResponse.answered_at),
        )
        .where(SurveyResponse.survey_id == survey.id, sa.true() if where is None else where)
        .group_by(SurveyResponse.class_year)
    ).all()
    return sorted(
        (ResponseLine(g, n, a, survey.target_percent) for g, n, a in rows),
        key=lambda line: (line.group == MENTORS, line.group == NOT_RECORDED, _year_order(line)),
    )


def _year_order(line: ResponseLine) -> tuple[int, str]:
    ranks = {stage.label: stage.rank for stage in CareerStage}
    return ranks.get(line.group, 99), line.group


def response_lines(survey: Survey) -> list[ResponseLine]:
    """Each class year's (and the mentors') invited and answered, against the target."""
    return _lines(survey)


@dataclass(frozen=True)
class ResponseCounts:
    """The coordinator's live view: by class year, and by track (all and each class year)."""

    survey: Survey
    by_year: list[ResponseLine]
    by_track: dict[str, list[ResponseLine]]

    @property
    def total(self) -> ResponseLine:
        return ResponseLine(
            "All",
            sum(line.eligible for line in self.by_year),
            sum(line.answered for line in self.by_year),
            self.survey.target_percent,
        )


def response_counts(survey: Survey) -> ResponseCounts:
    return ResponseCounts(
        survey,
        _lines(survey),
        {
            "formal": _lines(survey, SurveyResponse.in_formal.is_(True)),
            "coffee": _lines(survey, SurveyResponse.in_coffee.is_(True)),
        },
    )


def survey_of(term: Term) -> Survey | None:
    return db.session.scalar(sa.select(Survey).where(Survey.term_id == term.id))


# --- the program's settings ---------------------------------------------------------------------


def update_survey_settings(
    actor: Person,
    program: Program,
    *,
    days_before_end: int,
    target_percent: int,
    questions: list[tuple[str, str]],
) -> Program:
    """When the survey opens, its response target and the program's own questions (at most
    three; they apply from the next survey opened)."""
    if not 1 <= days_before_end <= 60:
        raise DomainError(
            "Open the survey between 1 and 60 days before the term's last day.",
            field="days_before_end",
        )
    if not 1 <= target_percent <= 100:
        raise DomainError(
            "The response target is a percentage from 1 to 100.", field="target_percent"
        )
    kept = [(" ".join(text.split()), kind) for text, kind in questions if text and text.strip()]
    if len(kept) > MAX_OWN_QUESTIONS:
        raise DomainError(f"At most {MAX_OWN_QUESTIONS} questions of your own.", field="questions")
    kinds = {k for k, _ in OWN_KINDS}
    for text, kind in kept:
        if kind not in kinds:
            raise DomainError("Choose how each question is answered.", field="questions")
        if len(text) > 300:
            raise DomainError("Keep each question under 300 characters.", field="questions")
    program.survey_days_before_end = days_before_end
    program.survey_target_percent = target_percent
    program.survey_questions = [OwnQuestion(text, kind).as_dict() for text, kind in kept]
    record(
        actor,
        "survey.settings_changed",
        program,
        program_id=program.id,
        details={
            "days_before_end": days_before_end,
            "target_percent": target_percent,
            "questions": len(kept),
        },
        summary=f"Survey settings of {program.name} changed",
    )
    db.session.flush()
    return program
