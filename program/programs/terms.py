"""Terms and cohorts: creating, editing and closing terms; cohorts and who is in them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import sqlalchemy as sa

from program.audit.services import record
from program.db import DomainError, insert_rows, name_key, utc_now
from program.extensions import db
from program.people.models import Department, Person
from program.programs.models import (
    Cohort,
    CohortMember,
    Membership,
    Program,
    Role,
    Term,
    TermRosterEntry,
)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "term"


def _check_dates(program: Program, starts_on: date, ends_on: date, term: Term | None) -> None:
    if ends_on <= starts_on:
        raise DomainError("A term must end after it starts.", field="ends_on")
    overlapping = db.session.scalar(
        sa.select(Term).where(
            Term.program_id == program.id,
            Term.id != (term.id if term is not None else -1),
            Term.starts_on <= ends_on,
            Term.ends_on >= starts_on,
        )
    )
    if overlapping is not None:
        raise DomainError(
            f"These dates overlap {overlapping.name} ({overlapping.starts_on:%d %b %Y} to "
            f"{overlapping.ends_on:%d %b %Y}); terms of a program cannot overlap.",
            field="starts_on",
        )


def _unique_slug(program: Program, name: str, term: Term | None) -> str:
    base = slugify(name)
    slug, n = base, 2
    while db.session.scalar(
        sa.select(Term.id).where(
            Term.program_id == program.id,
            Term.slug == slug,
            Term.id != (term.id if term is not None else -1),
        )
    ):
        slug, n = f"{base[:55]}-{n}", n + 1
    return slug


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DomainError("A term needs a name, e.g. “Fall 2026”.", field="name")
    return cleaned[:120]


def create_term(actor: Person, program: Program, name: str, starts_on: date, ends_on: date) -> Term:
    name = _clean_name(name)
    _check_dates(program, starts_on, ends_on, None)
    term = Term(
        program_id=program.id,
        name=name,
        slug=_unique_slug(program, name, None),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(term)
    db.session.flush()
    record(
        actor,
        "term.created",
        term,
        program_id=program.id,
        summary=f"Term {name} created ({starts_on} to {ends_on})",
    )
    return term


def update_term(actor: Person, term: Term, name: str, starts_on: date, ends_on: date) -> Term:
    name = _clean_name(name)
    _check_dates(term.program, starts_on, ends_on, term)
    before = {"name": term.name, "starts_on": str(term.starts_on), "ends_on": str(term.ends_on)}
    term.name, term.starts_on, term.ends_on = name, starts_on, ends_on
    after = {"name": name, "starts_on": str(starts_on), "ends_on": str(ends_on)}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        db.session.flush()
        record(
            actor,
            "term.updated",
            term,
            program_id=term.program_id,
            details=changes,
            summary=f"Term {name} edited",
        )
    return term


def set_term_closed(actor: Person, term: Term, closed: bool) -> Term:
    """Close a term (no more imports or cohort changes) or reopen it.

    Closing records the term's roster one last time: from then on its reports describe people
    as they were, whatever changes later.
    """
    if (term.closed_at is not None) == closed:
        return term
    if closed:
        record_term_roster(term)
    term.closed_at = utc_now() if closed else None
    db.session.flush()
    record(
        actor,
        "term.closed" if closed else "term.reopened",
        term,
        program_id=term.program_id,
        summary=f"Term {term.name} {'closed' if closed else 'reopened'}",
    )
    return term


def record_term_roster(term: Term, person_ids: set[int] | None = None) -> int:
    """Record (or bring up to date) how the program's current trainees and mentors are in an
    open term: roles, tracks, department, stage and cohort. Returns the rows written.

    A closed term is never touched, nor is anyone whose membership has ended (their entry
    stays as it was). `person_ids` limits it to those people.
    """
    if term.closed_at is not None:
        return 0
    stmt = (
        sa.select(
            Membership.person_id,
            Membership.role,
            Membership.formal_track,
            Membership.coffee_track,
            Department.name,
            Person.stage,
            Cohort.name,
        )
        .join(Person, Person.id == Membership.person_id)
        .outerjoin(Department, Department.id == Person.department_id)
        .outerjoin(
            CohortMember,
            sa.and_(CohortMember.person_id == Person.id, CohortMember.term_id == term.id),
        )
        .outerjoin(Cohort, Cohort.id == CohortMember.cohort_id)
        .where(
            Membership.program_id == term.program_id,
            Membership.is_current,
            Membership.role.in_([Role.TRAINEE, Role.MENTOR]),
        )
    )
    if person_ids is not None:
        if not person_ids:
            return 0
        stmt = stmt.where(Membership.person_id.in_(person_ids))
    people: dict[int, dict[str, object]] = {}
    for person_id, role, formal, coffee, department, stage, cohort in db.session.execute(stmt):
        entry = people.setdefault(
            person_id,
            {
                "is_trainee": False,
                "is_mentor": False,
                "formal_track": False,
                "coffee_track": False,
                "department": department,
                "stage": stage.value if stage is not None else None,
                "cohort": cohort,
            },
        )
        entry["is_trainee" if role is Role.TRAINEE else "is_mentor"] = True
        entry["formal_track"] = entry["formal_track"] or formal
        entry["coffee_track"] = entry["coffee_track"] or coffee
    if not people:
        return 0
    entries = sa.select(TermRosterEntry).where(TermRosterEntry.term_id == term.id)
    if person_ids is not None:  # else the whole term's: no need to bind thousands of ids
        entries = entries.where(TermRosterEntry.person_id.in_(list(people)))
    existing = {
        entry.person_id: entry for entry in db.session.scalars(entries) if entry.person_id in people
    }
    now = utc_now()
    new_rows = []
    for person_id, values in people.items():
        entry = existing.get(person_id)
        if entry is None:
            new_rows.append(
                {"term_id": term.id, "person_id": person_id, "recorded_at": now, **values}
            )
        elif any(getattr(entry, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(entry, key, value)
            entry.recorded_at = now
    if new_rows:
        insert_rows(db.session, TermRosterEntry, new_rows)
    db.session.flush()
    return len(people)


def record_open_terms(
    program_id: int, person_ids: set[int] | None = None, recorded: Term | None = None
) -> None:
    """Record the roster of every open term of a program that has not ended yet (but for
    `recorded`, whose roster the caller has just recorded whole)."""
    today = utc_now().date()
    for term in db.session.scalars(
        sa.select(Term).where(
            Term.program_id == program_id, Term.closed_at.is_(None), Term.ends_on >= today
        )
    ):
        if recorded is None or term.id != recorded.id:
            record_term_roster(term, person_ids)


def _require_open(term: Term) -> None:
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed; reopen it to change its cohorts.")


def create_cohort(actor: Person, term: Term, name: str) -> Cohort:
    _require_open(term)
    cleaned = " ".join(name.split())[:120]
    if not cleaned:
        raise DomainError("A cohort needs a name, e.g. “PGY-1”.", field="name")
    exists = db.session.scalar(
        sa.select(Cohort.id).where(Cohort.term_id == term.id, Cohort.name_key == name_key(cleaned))
    )
    if exists:
        raise DomainError(f"{term.name} already has a cohort called “{cleaned}”.", field="name")
    cohort = Cohort(term_id=term.id, name=cleaned)
    db.session.add(cohort)
    db.session.flush()
    record(
        actor,
        "cohort.created",
        cohort,
        program_id=term.program_id,
        summary=f"Cohort {cleaned} created in {term.name}",
    )
    return cohort


def move_to_cohort(actor: Person, term: Term, person: Person, cohort: Cohort | None) -> Person:
    """Put a person in a cohort of the term (leaving any other of that term), or in none."""
    _require_open(term)
    if cohort is not None and cohort.term_id != term.id:
        raise DomainError("That cohort belongs to another term.", field="cohort")
    current = db.session.scalar(
        sa.select(CohortMember).where(
            CohortMember.term_id == term.id, CohortMember.person_id == person.id
        )
    )
    old_name = current.cohort.name if current is not None else None
    if (current.cohort_id if current else None) == (cohort.id if cohort else None):
        return person
    if current is not None:
        db.session.delete(current)
        db.session.flush()
    if cohort is not None:
        db.session.add(CohortMember(cohort_id=cohort.id, term_id=term.id, person_id=person.id))
        db.session.flush()
    record_term_roster(term, {person.id})
    record(
        actor,
        "cohort.member_moved",
        person,
        program_id=term.program_id,
        details={"term_id": term.id, "from": old_name, "to": cohort.name if cohort else None},
        summary=f"{person.name} moved from {old_name or 'no cohort'} to "
        f"{cohort.name if cohort else 'no cohort'} in {term.name}",
    )
    return person


def current_term(program: Program, today: date | None = None) -> Term | None:
    """The term running today, else the next one to start, else the latest one."""
    today = today or utc_now().date()
    terms = list(db.session.scalars(sa.select(Term).where(Term.program_id == program.id)))
    running = [t for t in terms if t.starts_on <= today <= t.ends_on]
    if running:
        return running[0]
    upcoming = sorted((t for t in terms if t.starts_on > today), key=lambda t: t.starts_on)
    if upcoming:
        return upcoming[0]
    return max(terms, key=lambda t: t.ends_on, default=None)


def cohort_sizes(term: Term) -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(CohortMember.cohort_id, sa.func.count())
            .where(CohortMember.term_id == term.id)
            .group_by(CohortMember.cohort_id)
        ).all()
    )


def is_member(program: Program, person_id: int) -> bool:
    """Whether the person has ever held a role in the program (what lets its coordinators see
    them)."""
    return (
        db.session.scalar(
            sa.select(Membership.id)
            .where(Membership.program_id == program.id, Membership.person_id == person_id)
            .limit(1)
        )
        is not None
    )
