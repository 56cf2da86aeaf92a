"""Creating and editing programs, and giving people roles in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from program.accounts.services import send_invitation
from program.audit.services import record
from program.db import DomainError, chunks, name_key, utc_now
from program.extensions import db
from program.people.models import CareerStage, Department, Person
from program.people.services import (
    create_person,
    find_or_create_department,
    matches_name_or_email,
    validate_email_address,
)
from program.programs.models import (
    Cohort,
    CohortMember,
    DepartmentPreference,
    Membership,
    Program,
    Role,
    Term,
)
from program.programs.terms import record_open_terms
from program.roster.parsing import parse_interests

PROGRAM_FIELDS = (
    "name",
    "slug",
    "description",
    "active",
    "silent_after_days",
    "formal_department_preference",
    "coffee_cadence_days",
    "coffee_repeat_window",
    "coffee_department_preference",
)


def _clean_program_data(data: dict[str, Any], program: Program | None) -> dict[str, Any]:
    cleaned = {key: data[key] for key in PROGRAM_FIELDS if key in data}
    cleaned["name"] = " ".join(str(cleaned.get("name", "")).split())
    cleaned["slug"] = str(cleaned.get("slug", "")).strip().lower()
    if not cleaned["name"]:
        raise DomainError("A program needs a name.", field="name")
    if not cleaned["slug"]:
        raise DomainError("A program needs a short name for links.", field="slug")
    for key in ("formal_department_preference", "coffee_department_preference"):
        if key in cleaned:
            cleaned[key] = DepartmentPreference(cleaned[key])
    own_id = program.id if program is not None else -1
    taken = db.session.execute(
        sa.select(Program.slug, Program.name).where(
            Program.id != own_id,
            sa.or_(
                Program.slug == cleaned["slug"],
                Program.name_key == name_key(cleaned["name"]),
            ),
        )
    ).first()
    if taken is not None:
        if taken.slug == cleaned["slug"]:
            raise DomainError(f"Another program already uses “{cleaned['slug']}”.", field="slug")
        raise DomainError(f"Another program is already called “{cleaned['name']}”.", field="name")
    return cleaned


def create_program(actor: Person, data: dict[str, Any]) -> Program:
    cleaned = _clean_program_data(data, None)
    program = Program(**cleaned)
    db.session.add(program)
    db.session.flush()
    record(
        actor,
        "program.created",
        program,
        program_id=program.id,
        summary=f"Program {program.name} created",
    )
    return program


def update_program(actor: Person, program: Program, data: dict[str, Any]) -> Program:
    cleaned = _clean_program_data(data, program)
    changes: dict[str, list[Any]] = {}
    for key, value in cleaned.items():
        old = getattr(program, key)
        if old != value:
            changes[key] = [_plain(old), _plain(value)]
            setattr(program, key, value)
    if changes:
        db.session.flush()
        record(
            actor,
            "program.updated",
            program,
            program_id=program.id,
            details=changes,
            summary=f"Program {program.name} edited",
        )
    return program


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def grant_role(actor: Person, program: Program, person: Person, role: Role) -> Membership:
    """Give `person` a role in `program`, reopening an ended membership rather than adding one."""
    membership = db.session.scalar(
        sa.select(Membership).where(
            Membership.person_id == person.id,
            Membership.program_id == program.id,
            Membership.role == role,
        )
    )
    if membership is not None and membership.ended_at is None:
        return membership
    if membership is None:
        membership = Membership(person=person, program=program, role=role)
        db.session.add(membership)
    else:
        membership.ended_at = None
        membership.end_reason = None
    db.session.flush()
    record_open_terms(program.id, {person.id})
    record(
        actor,
        "membership.granted",
        membership,
        program_id=program.id,
        summary=f"{person.email} is now {role.value} of {program.name}",
    )
    return membership


def in_other_programs(program_id: int, person_ids: list[int]) -> set[int]:
    """Who among `person_ids` currently holds a role in another program: their name and
    details belong to that program's people too, so this program only fills what is blank."""
    shared: set[int] = set()
    for chunk in chunks(person_ids):
        shared.update(
            db.session.scalars(
                sa.select(Membership.person_id)
                .where(
                    Membership.person_id.in_(chunk),
                    Membership.program_id != program_id,
                    Membership.is_current,
                )
                .distinct()
            )
        )
    return shared


def _details(person: Person) -> dict[str, str]:
    return {
        "name": person.name,
        "department": person.department_name or "",
        "stage": person.stage.label if person.stage else "",
        "interests": "; ".join(person.interests or []),
    }


def update_details(
    actor: Person,
    program: Program,
    person: Person,
    *,
    name: str,
    department: str,
    stage: CareerStage | None,
    interests: str,
) -> list[str]:
    """A coordinator corrects a member's name, department, stage and interests; returns what
    changed. Someone another program shares is changed only by an administrator, as a roster
    import would not change them either."""
    if person.id in in_other_programs(program.id, [person.id]) and not actor.is_admin:
        raise DomainError(
            f"{person.name} also belongs to another program, so their details are shared; "
            "an administrator can change them."
        )
    cleaned = " ".join(name.split())[:200]
    if not cleaned:
        raise DomainError("A name is required.", field="name")
    topics, problem = parse_interests(interests)
    if problem:
        raise DomainError(
            f"The interests field {problem} Separate them with semicolons.", field="interests"
        )
    before = _details(person)
    person.name = cleaned
    person.department = find_or_create_department(department)
    person.stage = stage
    person.interests = list(topics)
    db.session.flush()
    after = _details(person)
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        record_open_terms(program.id, {person.id})
        record(
            actor,
            "person.details_changed",
            person,
            program_id=program.id,
            summary=f"{person.email}: {', '.join(changed)} changed",
            details={key: [before[key], after[key]] for key in changed},
        )
    return changed


def end_membership(actor: Person, membership: Membership, reason: str) -> None:
    """End a role; the row stays, so history (and past reports) still know who held it."""
    if membership.ended_at is not None:
        return
    reason = " ".join(reason.split())
    if len(reason) > 200:
        raise DomainError(f"Keep the reason to 200 characters (it has {len(reason):,}).")
    membership.ended_at = utc_now()
    membership.end_reason = reason
    db.session.flush()
    record(
        actor,
        "membership.ended",
        membership,
        program_id=membership.program_id,
        summary=f"{membership.person.email} is no longer {membership.role.value}",
        details={"reason": reason},
    )


def add_coordinator(actor: Person, program: Program, email: str, name: str = "") -> Membership:
    """Make someone coordinator, creating and inviting them if they have no account yet."""
    address = validate_email_address(email)
    person = db.session.scalar(sa.select(Person).where(Person.email == address))
    if person is None:
        if not name.strip():
            raise DomainError(
                f"{address} has no Hallway account yet: give their name to invite them.",
                field="name",
            )
        person = create_person(actor, email=address, name=name)
        membership = grant_role(actor, program, person, Role.COORDINATOR)
        send_invitation(person, actor, program.name)
        return membership
    if not person.active:
        raise DomainError(f"{address} is deactivated; reactivate the account first.", field="email")
    return grant_role(actor, program, person, Role.COORDINATOR)


def coordinators(program: Program) -> list[Membership]:
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(Membership.person)
            .where(
                Membership.program_id == program.id,
                Membership.role == Role.COORDINATOR,
                Membership.is_current,
            )
            .order_by(Person.sort_name)
        )
    )


def role_counts(program: Program) -> dict[Role, int]:
    """How many people hold each role in the program now, in one aggregate query."""
    rows = db.session.execute(
        sa.select(Membership.role, sa.func.count())
        .where(Membership.program_id == program.id, Membership.is_current)
        .group_by(Membership.role)
    ).all()
    counts = dict.fromkeys(Role, 0)
    counts.update({role: count for role, count in rows})
    return counts


@dataclass
class PersonInProgram:
    person: Person
    roles: list[Role]
    cohort: str
    formal: bool
    coffee: bool


@dataclass
class PeopleFilters:
    q: str = ""
    role: Role | None = None
    cohort_id: int | None = None
    department_id: int | None = None
    stage: CareerStage | None = None
    track: str = ""


def people_in_program(
    program: Program, term: Term | None, filters: PeopleFilters, page: int, per_page: int = 50
) -> tuple[Pagination, list[PersonInProgram]]:
    """A page of the program's current people, filtered; three queries whatever the page size."""
    members = sa.select(Membership.person_id).where(
        Membership.program_id == program.id,
        Membership.is_current,
        Membership.role != Role.COORDINATOR,
    )
    if filters.role is not None:
        members = members.where(Membership.role == filters.role)
    if filters.track == "formal":
        members = members.where(Membership.formal_track.is_(True))
    elif filters.track == "coffee":
        members = members.where(Membership.coffee_track.is_(True))
    stmt = sa.select(Person).where(Person.id.in_(members)).order_by(Person.sort_name, Person.id)
    if filters.department_id is not None:
        stmt = stmt.where(Person.department_id == filters.department_id)
    if filters.stage is not None:
        stmt = stmt.where(Person.stage == filters.stage)
    if filters.cohort_id is not None:
        stmt = stmt.where(
            Person.id.in_(
                sa.select(CohortMember.person_id).where(CohortMember.cohort_id == filters.cohort_id)
            )
        )
    stmt = stmt.where(*matches_name_or_email(filters.q))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    ids = [p.id for p in pagination.items]
    roles: dict[int, list[Membership]] = {}
    for m in db.session.scalars(
        sa.select(Membership).where(
            Membership.program_id == program.id,
            Membership.person_id.in_(ids),
            Membership.is_current,
            Membership.role != Role.COORDINATOR,
        )
    ):
        roles.setdefault(m.person_id, []).append(m)
    cohorts: dict[int, str] = {}
    if term is not None:
        cohorts = dict(
            db.session.execute(
                sa.select(CohortMember.person_id, Cohort.name)
                .join(Cohort, Cohort.id == CohortMember.cohort_id)
                .where(CohortMember.term_id == term.id, CohortMember.person_id.in_(ids))
            ).all()
        )
    rows = [
        PersonInProgram(
            person=p,
            roles=sorted(
                (m.role for m in roles.get(p.id, [])), key=lambda r: r.value, reverse=True
            ),
            cohort=cohorts.get(p.id, ""),
            formal=any(m.formal_track for m in roles.get(p.id, [])),
            coffee=any(m.coffee_track for m in roles.get(p.id, [])),
        )
        for p in pagination.items
    ]
    return pagination, rows


def program_departments(program: Program) -> list[Department]:
    """Departments of the program's current people, for the people list's filter."""
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(
                Department.id.in_(
                    sa.select(Person.department_id)
                    .join(Membership, Membership.person_id == Person.id)
                    .where(Membership.program_id == program.id, Membership.is_current)
                )
            )
            .order_by(Department.name)
        )
    )
