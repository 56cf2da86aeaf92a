"""Reading and changing people: what a person sees of themselves, and account state changes."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from program.audit.services import record
from program.db import DomainError, escape_like
from program.extensions import db
from program.people.models import CareerStage, Delivery, Department, MailPreference, Person
from program.programs.models import Membership, Program, Role


@dataclass
class ProgramRoles:
    program: Program
    roles: list[Role] = field(default_factory=list)


def programs_and_roles(person: Person) -> list[ProgramRoles]:
    """The programs a person is in now, each with the roles they hold there, in one query."""
    rows = db.session.execute(
        sa.select(Program, Membership.role)
        .join(Membership, Membership.program_id == Program.id)
        .where(Membership.person_id == person.id, Membership.is_current)
        .order_by(Program.name, Membership.role)
    ).all()
    grouped: dict[int, ProgramRoles] = {}
    for program, role in rows:
        grouped.setdefault(program.id, ProgramRoles(program)).roles.append(role)
    return list(grouped.values())


def find_or_create_department(name: str) -> Department | None:
    """The department with this name, matched case- and space-insensitively; created if new."""
    cleaned = " ".join(name.split())
    if not cleaned:
        return None
    key = Department.key_for(cleaned)
    department = db.session.scalar(sa.select(Department).where(Department.name_key == key))
    if department is None:
        department = Department(name=cleaned, name_key=key)
        db.session.add(department)
        db.session.flush()
    return department


def set_active(actor: Person, person: Person, active: bool) -> Person:
    """Deactivate (ending every session and link at once) or reactivate an account."""
    if person.id == actor.id and not active:
        raise DomainError("You cannot deactivate your own account.")
    if person.active == active:
        return person
    person.active = active
    person.rotate_security_stamp()
    db.session.flush()
    record(
        actor,
        "person.activated" if active else "person.deactivated",
        person,
        summary=f"{person.email} {'reactivated' if active else 'deactivated'}",
    )
    return person


def set_institution_roles(
    actor: Person, person: Person, *, is_admin: bool, is_dean: bool
) -> Person:
    """Grant or remove the institution-wide admin and dean flags."""
    if person.id == actor.id and person.is_admin and not is_admin:
        raise DomainError("You cannot remove your own admin rights; ask another admin.")
    changes = {}
    if person.is_admin != is_admin:
        changes["is_admin"] = [person.is_admin, is_admin]
        person.is_admin = is_admin
    if person.is_dean != is_dean:
        changes["is_dean"] = [person.is_dean, is_dean]
        person.is_dean = is_dean
    if changes:
        db.session.flush()
        record(
            actor,
            "person.institution_roles_changed",
            person,
            details=changes,
            summary=f"Institution roles of {person.email} changed",
        )
    return person


def validate_email_address(email: str) -> str:
    """The normalised (lower-case) address, or a DomainError saying what is wrong with it."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(
            f"{email.strip() or 'An empty address'} is not a valid e-mail address: {exc}",
            field="email",
        ) from exc
    return Person.normalise_email(result.normalized)


def change_email(actor: Person, person: Person, email: str) -> Person:
    """Give a person a new address (or confirm the one they have), which ends any bounce: the
    mail server refused the old one, so Hallway had stopped mailing it."""
    address = validate_email_address(email)
    if address != person.email:
        taken = db.session.scalar(sa.select(Person.id).where(Person.email == address))
        if taken is not None:
            raise DomainError(f"{address} already belongs to another account.", field="email")
    old = person.email
    was_bouncing = person.email_bouncing_at is not None
    if address == old and not was_bouncing:
        return person
    person.email = address
    person.email_bouncing_at = None
    person.email_bounce_reason = None
    db.session.flush()
    record(
        actor,
        "person.email_changed",
        person,
        details={"from": old, "to": address, "was_bouncing": was_bouncing},
        summary=f"Address {old} changed to {address}"
        if address != old
        else f"Address {address} marked as working again",
    )
    return person


def create_person(
    actor: Person | None,
    *,
    email: str,
    name: str,
    department: str = "",
    stage: CareerStage | None = None,
    interests: list[str] | None = None,
) -> Person:
    """A new account (without a password: they set one from their invitation)."""
    address = validate_email_address(email)
    if db.session.scalar(sa.select(Person.id).where(Person.email == address)) is not None:
        raise DomainError(f"{address} already has an account.", field="email")
    cleaned_name = " ".join(name.split())
    if not cleaned_name:
        raise DomainError("A name is required.", field="name")
    person = Person(
        email=address,
        name=cleaned_name[:200],
        department=find_or_create_department(department),
        stage=stage,
        interests=interests or [],
    )
    db.session.add(person)
    db.session.flush()
    record(actor, "person.created", person, summary=f"Account created for {address}")
    return person


def matches_name_or_email(query: str) -> list[sa.ColumnElement[bool]]:
    """Conditions for people whose name or e-mail contains every word of `query`."""
    conditions = []
    for word in query.split():
        pattern = f"%{escape_like(word.lower())}%"
        conditions.append(
            sa.or_(
                sa.func.lower(Person.name).like(pattern, escape="\\"),
                Person.email.like(pattern, escape="\\"),
            )
        )
    return conditions


def set_mail_preference(
    person: Person, preference: MailPreference, delivery: Delivery | None = None
) -> Person:
    """How much a person is sent, and (where the institution has a chat tool) where."""
    if person.mail_preference is not preference:
        person.mail_preference = preference
        db.session.flush()
        record(person, "person.mail_preference_changed", person, details={"to": preference.value})
    if delivery is not None and person.delivery is not delivery:
        person.delivery = delivery
        db.session.flush()
        record(person, "person.delivery_changed", person, details={"to": delivery.value})
    return person
