"""Factories with sensible defaults, e.g. `make.trainee(program)`.

Each call opens its own application context, writes through the database and commits, then
returns a small plain record, so tests never hold a session open across requests.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember, Round, RoundStatus
from program.db import utc_now
from program.extensions import db
from program.formal.matches import make_pair, publish_pair
from program.formal.models import Availability
from program.people.models import CareerStage, Person
from program.people.services import find_or_create_department
from program.programs.models import Cohort, Membership, Program, Role, Term
from program.programs.terms import record_term_roster
from program.roster.models import RosterUpload
from program.surveys.instrument import INSTRUMENT
from program.surveys.models import Survey, SurveyResponse

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass(frozen=True)
class PersonRef:
    id: int
    email: str
    name: str


@dataclass(frozen=True)
class TermRef:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class ProgramRef:
    id: int
    slug: str
    name: str


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def person(
        self,
        name: str | None = None,
        *,
        email: str | None = None,
        password: str | None = PASSWORD,
        stage: CareerStage | None = CareerStage.PGY1,
        active: bool = True,
        is_admin: bool = False,
        is_dean: bool = False,
        **fields: Any,
    ) -> PersonRef:
        n = next(_counter)
        name = name or f"Person {n}"
        email = email or f"person{n}@example.edu"
        with self.app.app_context():
            if isinstance(fields.get("department"), str):
                fields["department"] = find_or_create_department(fields["department"])
            person = Person(
                email=email.lower(),
                name=name,
                stage=stage,
                active=active,
                is_admin=is_admin,
                is_dean=is_dean,
                **fields,
            )
            if password:
                person.set_password(password)
            db.session.add(person)
            db.session.commit()
            return PersonRef(person.id, person.email, person.name)

    def admin(self, **kwargs: Any) -> PersonRef:
        return self.person(kwargs.pop("name", "Ada Admin"), is_admin=True, **kwargs)

    def dean(self, **kwargs: Any) -> PersonRef:
        return self.person(kwargs.pop("name", "Dean Dorsey"), is_dean=True, **kwargs)

    def program(self, name: str | None = None, *, slug: str | None = None) -> ProgramRef:
        n = next(_counter)
        name = name or f"Program {n}"
        slug = slug or f"program-{n}"
        with self.app.app_context():
            program = Program(name=name, slug=slug)
            db.session.add(program)
            db.session.commit()
            return ProgramRef(program.id, program.slug, program.name)

    def member(
        self, program: ProgramRef, role: Role, person: PersonRef | None = None, **kwargs: Any
    ) -> PersonRef:
        person = person or self.person(**kwargs)
        with self.app.app_context():
            db.session.add(Membership(person_id=person.id, program_id=program.id, role=role))
            db.session.flush()
            # As if each open term's roster had listed them: record them in it.
            for term in db.session.scalars(
                sa.select(Term).where(Term.program_id == program.id, Term.closed_at.is_(None))
            ):
                record_term_roster(term, {person.id})
            db.session.commit()
        return person

    def coordinator(
        self, program: ProgramRef, person: PersonRef | None = None, **kwargs: Any
    ) -> PersonRef:
        return self.member(
            program,
            Role.COORDINATOR,
            person,
            stage=kwargs.pop("stage", CareerStage.STAFF),
            **kwargs,
        )

    def mentor(
        self, program: ProgramRef, person: PersonRef | None = None, **kwargs: Any
    ) -> PersonRef:
        return self.member(
            program,
            Role.MENTOR,
            person,
            stage=kwargs.pop("stage", CareerStage.JUNIOR_FACULTY),
            **kwargs,
        )

    def trainee(
        self, program: ProgramRef, person: PersonRef | None = None, **kwargs: Any
    ) -> PersonRef:
        return self.member(program, Role.TRAINEE, person, **kwargs)

    def term(
        self,
        program: ProgramRef,
        name: str = "Fall 2026",
        *,
        slug: str = "fall-2026",
        starts_on: date = date(2026, 8, 1),
        ends_on: date = date(2026, 12, 31),
        cohorts: tuple[str, ...] = (),
    ) -> TermRef:
        with self.app.app_context():
            term = Term(
                program_id=program.id, name=name, slug=slug, starts_on=starts_on, ends_on=ends_on
            )
            db.session.add(term)
            db.session.flush()
            db.session.add_all(Cohort(term_id=term.id, name=c) for c in cohorts)
            db.session.flush()
            record_term_roster(term)  # the program's people, as an import would
            db.session.commit()
            return TermRef(term.id, term.slug, term.name)

    def roster_upload(
        self,
        program: ProgramRef,
        term: TermRef,
        by: PersonRef,
        content: bytes = b"email,name,role\nnew@example.edu,New Person,trainee\n",
        filename: str = "roster.csv",
    ) -> int:
        with self.app.app_context():
            upload = RosterUpload(
                program_id=program.id,
                term_id=term.id,
                uploaded_by_id=by.id,
                filename=filename,
                size=len(content),
                sha256="0" * 64,
                content=content,
            )
            db.session.add(upload)
            db.session.commit()
            return upload.id

    def assignment(
        self,
        term: TermRef,
        mentor: PersonRef,
        trainee: PersonRef,
        started_at: datetime | None = None,
        *,
        introduced: bool = False,
    ) -> int:
        """A formal pair, made by the service (its rules checked, audited); `introduced`
        publishes it as a coordinator does, its introductions in the outbox."""
        with self.app.test_request_context():
            assignment = (publish_pair if introduced else make_pair)(
                None,
                db.session.get(Term, term.id),
                db.session.get(Person, mentor.id),
                db.session.get(Person, trainee.id),
                started_at=started_at,
            )
            db.session.commit()
            return assignment.id

    def check_in(
        self, person: PersonRef, assignment_id: int, period_start: date = date(2026, 10, 1)
    ) -> int:
        with self.app.app_context():
            check_in = CheckIn(
                person_id=person.id, assignment_id=assignment_id, period_start=period_start
            )
            db.session.add(check_in)
            db.session.commit()
            return check_in.id

    def coffee_round(self, program: ProgramRef, published_at: datetime, number: int = 1) -> int:
        """A published coffee round with no chats yet (see `chat`)."""
        with self.app.app_context():
            round_ = Round(
                program_id=program.id,
                number=number,
                scheduled_for=published_at.date(),
                seed=1,
                status=RoundStatus.PUBLISHED,
                published_at=published_at,
            )
            db.session.add(round_)
            db.session.commit()
            return round_.id

    def chat(self, round_id: int, *people: PersonRef) -> int:
        """A chat of `people` in the round."""
        with self.app.app_context():
            program_id = db.session.get(Round, round_id).program_id
            chat = Chat(round_id=round_id, program_id=program_id)
            db.session.add(chat)
            db.session.flush()
            for k, person in enumerate(people):
                db.session.add(
                    ChatMember(chat_id=chat.id, round_id=round_id, person_id=person.id, position=k)
                )
            db.session.commit()
            return chat.id

    def survey_response(self, term: TermRef, person: PersonRef) -> int:
        """The term's survey (made if need be, open from the term's start to its end) and
        `person`'s unanswered response to it."""
        with self.app.app_context():
            found = db.session.get(Term, term.id)
            survey = db.session.scalar(sa.select(Survey).where(Survey.term_id == term.id))
            if survey is None:
                survey = Survey(
                    term_id=found.id,
                    program_id=found.program_id,
                    instrument=INSTRUMENT,
                    opens_on=found.starts_on,
                    closes_on=found.ends_on,
                    target_percent=70,
                )
                db.session.add(survey)
                db.session.flush()
            response = SurveyResponse(
                survey_id=survey.id,
                person_id=person.id,
                class_year="PGY1",
                in_formal=True,
                in_coffee=True,
                invited_at=utc_now(),
            )
            db.session.add(response)
            db.session.commit()
            return response.id

    def availability(self, term: TermRef, mentor: PersonRef, capacity: int | None = None) -> int:
        """Asked and unanswered; with `capacity`, answered yes with that many places."""
        with self.app.app_context():
            availability = Availability(term_id=term.id, person_id=mentor.id)
            if capacity is not None:
                availability.accepting = True
                availability.capacity = capacity
                availability.answered_at = utc_now()
            db.session.add(availability)
            db.session.commit()
            return availability.id
