"""Roster import: compare a parsed file with the program's people, then apply it all or nothing.

`plan_import` only reads: it says, row by row, who would be added, who changes (old and new
values) and who is unchanged, and lists current members missing from the file. `apply_import`
re-plans inside the caller's transaction and writes everything with a handful of bulk queries;
the request or command around it commits once. Importing the same file twice writes nothing.

Privacy: a person with an account who is not (yet) in this program joins it, but the preview
never shows their stored details and the import never overwrites them, so one program's
coordinator learns nothing of another program's people.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app

from program.accounts.services import invitation, what_you_will_do
from program.audit.services import record
from program.db import DomainError, chunks, insert_rows, utc_now
from program.extensions import db
from program.formal.models import Assessor
from program.messages.services import queue_messages
from program.people.models import CareerStage, Department, Person
from program.people.names import sort_name
from program.programs.models import Cohort, CohortMember, Membership, Program, Role, Term
from program.programs.services import in_other_programs
from program.programs.terms import record_open_terms, record_term_roster
from program.roster.models import RosterUpload
from program.roster.parsing import (
    COLUMN_LABELS,
    TRACKS,
    ParsedRoster,
    Problem,
    RosterFileError,
    RosterRow,
    parse_roster,
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str

    @property
    def label(self) -> str:
        return COLUMN_LABELS.get(self.field, self.field)


@dataclass
class RowPlan:
    row: RosterRow
    person_id: int | None = None
    changes: list[FieldChange] = field(default_factory=list)
    # Also a current member of another program: their name and details belong to that
    # program's roster too, so this import only fills what is blank.
    shared: bool = False
    # Joining without ever having set a password: invited like someone new.
    invite: bool = False


@dataclass(frozen=True)
class Missing:
    person_id: int
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass
class ImportPlan:
    parsed: ParsedRoster
    to_add: list[RowPlan] = field(default_factory=list)  # new accounts
    to_join: list[RowPlan] = field(default_factory=list)  # existing accounts new to this program
    to_change: list[RowPlan] = field(default_factory=list)
    unchanged: list[RowPlan] = field(default_factory=list)
    not_in_file: list[Missing] = field(default_factory=list)
    new_departments: list[str] = field(default_factory=list)
    new_cohorts: list[str] = field(default_factory=list)
    # (assessor e-mail, trainee e-mail) not yet recorded in this program.
    new_assessors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def invitations(self) -> int:
        """How many invitations applying the plan e-mails."""
        return len(self.to_add) + sum(i.invite for i in self.to_join)

    @property
    def errors(self) -> list[Problem]:
        return self.parsed.errors

    @property
    def warnings(self) -> list[Problem]:
        notes = [
            Problem(None, "department", f"“{name}” is a new department; it will be created.", False)
            for name in self.new_departments
        ]
        notes += [
            Problem(
                None, "cohort", f"“{name}” is a new cohort of this term; it will be created.", False
            )
            for name in self.new_cohorts
        ]
        if self.new_assessors:
            notes.append(
                Problem(
                    None,
                    "assesses",
                    f"{len(self.new_assessors)} new record(s) of faculty assessing a trainee: "
                    "formal matching will never pair them.",
                    False,
                )
            )
        return self.parsed.warnings + notes

    @property
    def has_changes(self) -> bool:
        return bool(self.to_add or self.to_join or self.to_change or self.new_assessors)

    @property
    def can_apply(self) -> bool:
        return not self.errors and self.has_changes

    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.parsed.rows) + len({p.row for p in self.errors if p.row}),
            "added": len(self.to_add),
            "joined": len(self.to_join),
            "changed": len(self.to_change),
            "unchanged": len(self.unchanged),
            "not_in_file": len(self.not_in_file),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "blank_rows": self.parsed.blank_rows,
        }


@dataclass(frozen=True)
class StoredPerson:
    """What the import compares against, read as plain columns (loading thousands of full
    ORM objects only to compare them costs seconds on PostgreSQL)."""

    id: int
    email: str
    name: str
    department_key: str | None
    department_name: str
    stage: CareerStage | None
    interests: list[str]
    has_password: bool
    active: bool


def _by_email(emails: list[str]) -> dict[str, StoredPerson]:
    found: dict[str, StoredPerson] = {}
    columns = (
        Person.id,
        Person.email,
        Person.name,
        Department.name_key,
        Department.name,
        Person.stage,
        Person.interests,
        Person.password_hash.is_not(None),
        Person.active,
    )
    for chunk in chunks(emails):
        rows = db.session.execute(
            sa.select(*columns)
            .outerjoin(Department, Department.id == Person.department_id)
            .where(Person.email.in_(chunk))
        )
        for r in rows:
            found[r[1]] = StoredPerson(
                r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6] or [], bool(r[7]), bool(r[8])
            )
    return found


def _tracks_text(tracks: Iterable[str]) -> str:
    tracks = set(tracks)
    if tracks >= set(TRACKS):
        return "both"
    return ", ".join(sorted(tracks)) or "none"


@dataclass
class _ProgramState:
    """What the database holds for this program and term, loaded in a few aggregate queries."""

    memberships: dict[int, dict[Role, Membership]]
    cohort_of: dict[int, str]
    cohorts: dict[str, Cohort]
    departments: dict[str, Department]


def _load_state(program: Program, term: Term) -> _ProgramState:
    memberships: dict[int, dict[Role, Membership]] = {}
    for membership in db.session.scalars(
        sa.select(Membership).where(Membership.program_id == program.id)
    ):
        memberships.setdefault(membership.person_id, {})[membership.role] = membership
    cohorts = {
        c.name.casefold(): c
        for c in db.session.scalars(sa.select(Cohort).where(Cohort.term_id == term.id))
    }
    cohort_of = {
        person_id: name
        for person_id, name in db.session.execute(
            sa.select(CohortMember.person_id, Cohort.name)
            .join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(CohortMember.term_id == term.id)
        )
    }
    departments = {d.name_key: d for d in db.session.scalars(sa.select(Department))}
    return _ProgramState(memberships, cohort_of, cohorts, departments)


def _file_roles(row: RosterRow) -> set[Role]:
    return {Role(r) for r in row.roles}


def _diff(
    row: RosterRow, person: StoredPerson, state: _ProgramState, shared: bool
) -> list[FieldChange]:
    """What importing `row` would change for a person already in this program. For a person
    shared with another program only blanks are filled (as when they joined), so importing
    the same file twice changes nothing and never renames them in the other program."""
    changes: list[FieldChange] = []
    if row.name != person.name and not shared:
        changes.append(FieldChange("name", person.name, row.name))
    if (
        row.department
        and Department.key_for(row.department) != person.department_key
        and not (shared and person.department_key)
    ):
        changes.append(FieldChange("department", person.department_name, row.department))
    if row.stage is not None and row.stage != person.stage and not (shared and person.stage):
        old = person.stage.label if person.stage else ""
        changes.append(FieldChange("stage", old, row.stage.label))
    if (
        row.interests
        and list(row.interests) != list(person.interests or [])
        and not (shared and person.interests)
    ):
        changes.append(
            FieldChange("interests", "; ".join(person.interests or []), "; ".join(row.interests))
        )
    held = state.memberships.get(person.id, {})
    current = {role for role, m in held.items() if m.ended_at is None}
    added_roles = _file_roles(row) - current
    if added_roles:
        changes.append(
            FieldChange(
                "role",
                ", ".join(sorted(r.value for r in current)) or "none",
                ", ".join(sorted(r.value for r in current | added_roles)),
            )
        )
    if row.tracks is not None:
        for role in _file_roles(row) & current:
            now = held[role].tracks
            if now != set(row.tracks):
                changes.append(FieldChange("tracks", _tracks_text(now), _tracks_text(row.tracks)))
                break
    old_cohort = state.cohort_of.get(person.id, "")
    if row.cohort and row.cohort.casefold() != old_cohort.casefold():
        changes.append(FieldChange("cohort", old_cohort, row.cohort))
    return changes


def plan_import(program: Program, term: Term, parsed: ParsedRoster) -> ImportPlan:
    """Compare the parsed file with the database; reads only."""
    plan = ImportPlan(parsed=parsed)
    state = _load_state(program, term)
    people = _by_email([row.email for row in parsed.rows])
    shared = in_other_programs(program.id, [p.id for p in people.values()])
    for row in parsed.rows:
        person = people.get(row.email)
        if person is None:
            plan.to_add.append(RowPlan(row))
            continue
        in_program = any(
            role in (Role.TRAINEE, Role.MENTOR) or m.ended_at is None
            for role, m in state.memberships.get(person.id, {}).items()
        )
        if not in_program:
            invite = not person.has_password and person.active
            plan.to_join.append(RowPlan(row, person.id, invite=invite))
            continue
        is_shared = person.id in shared
        changes = _diff(row, person, state, is_shared)
        (plan.to_change if changes else plan.unchanged).append(
            RowPlan(row, person.id, changes, is_shared)
        )

    in_file = {p.id for p in people.values()}
    missing_ids = [
        person_id
        for person_id, roles in state.memberships.items()
        if person_id not in in_file
        and any(
            role in (Role.TRAINEE, Role.MENTOR) and m.ended_at is None for role, m in roles.items()
        )
    ]
    for chunk in chunks(missing_ids):
        for person in db.session.scalars(
            sa.select(Person).where(Person.id.in_(chunk)).order_by(Person.sort_name)
        ):
            roles = tuple(
                sorted(
                    role.value
                    for role, m in state.memberships[person.id].items()
                    if m.ended_at is None and role is not Role.COORDINATOR
                )
            )
            plan.not_in_file.append(Missing(person.id, person.name, person.email, roles))
    plan.not_in_file.sort(key=lambda m: (sort_name(m.name), m.email))

    new_departments: dict[str, str] = {}
    new_cohorts: dict[str, str] = {}
    for row in parsed.rows:
        if row.department and Department.key_for(row.department) not in state.departments:
            new_departments.setdefault(Department.key_for(row.department), row.department)
        if row.cohort and row.cohort.casefold() not in state.cohorts:
            new_cohorts.setdefault(row.cohort.casefold(), row.cohort)
    plan.new_departments = sorted(new_departments.values(), key=str.casefold)
    plan.new_cohorts = sorted(new_cohorts.values(), key=str.casefold)
    _plan_assessors(plan, program, parsed, state, people)
    return plan


def _plan_assessors(
    plan: ImportPlan,
    program: Program,
    parsed: ParsedRoster,
    state: _ProgramState,
    people: dict[str, Person],
) -> None:
    """The file's "assesses" column: each address a trainee of the file or the program."""
    wanted = [(row, email) for row in parsed.rows for email in row.assesses]
    if not wanted:
        return
    trainees_in_file = {row.email for row in parsed.rows if "trainee" in row.roles}
    others = _by_email([email for _, email in wanted if email not in people])
    known = {**people, **others}
    trainee_ids = {
        person_id
        for person_id, roles in state.memberships.items()
        if Role.TRAINEE in roles and roles[Role.TRAINEE].ended_at is None
    }
    recorded = set(
        db.session.execute(
            sa.select(Person.email, Assessor.trainee_id)
            .join(Assessor, Assessor.assessor_id == Person.id)
            .where(Assessor.program_id == program.id)
        ).all()
    )
    for row, email in wanted:
        trainee = known.get(email)
        if email not in trainees_in_file and (trainee is None or trainee.id not in trainee_ids):
            parsed.problems.append(
                Problem(row.row, "assesses", f"{email} is not a trainee of this file or program.")
            )
        elif trainee is None or (row.email, trainee.id) not in recorded:
            plan.new_assessors.append((row.email, email))


def read_roster(data: bytes, filename: str) -> ParsedRoster:
    """Parse an uploaded roster, refusing a file over the configured size first."""
    limit = current_app.config["ROSTER_MAX_BYTES"]
    if len(data) > limit:
        raise RosterFileError(
            f"The file is {len(data) / 1_000_000:.1f} MB; the limit is {limit / 1_000_000:.0f} MB."
        )
    if not data:
        raise RosterFileError("The file is empty.")
    return parse_roster(data, filename)


def store_upload(
    actor: Person, program: Program, term: Term, filename: str, data: bytes
) -> RosterUpload:
    """Keep an uploaded file for its preview and import; refuse it now if it cannot be read."""
    _require_open(term)
    try:
        read_roster(data, filename)  # a file that cannot be read is refused before it is kept
    except RosterFileError as exc:
        raise DomainError(str(exc), field="file") from exc
    upload = RosterUpload(
        program_id=program.id,
        term_id=term.id,
        uploaded_by_id=actor.id,
        filename=filename[-255:] or "roster",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def _require_open(term: Term) -> None:
    if term.closed_at is not None:
        raise DomainError(f"{term.name} is closed; reopen it to import a roster.")


@dataclass
class ImportResult:
    plan: ImportPlan
    counts: dict[str, int]


def apply_import(
    actor: Person | None,
    program: Program,
    term: Term,
    parsed: ParsedRoster,
    *,
    upload: RosterUpload | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Apply a whole roster in the caller's transaction. Refuses (writing nothing) if any row has
    an error; writes nothing at all when nothing would change."""
    _require_open(term)
    plan = plan_import(program, term, parsed)
    if plan.errors:
        raise DomainError(
            f"The file has {len(plan.errors)} problem(s) to fix first; nothing was imported."
        )
    counts = plan.counts()
    if not plan.has_changes:
        # The people are as the file says; the term's roster is recorded if it was not yet.
        record_term_roster(term)
        return ImportResult(plan, counts)

    state = _load_state(program, term)
    departments = _ensure_departments(plan, state)
    cohorts = _ensure_cohorts(plan, term, state)
    step = _progress_counter(progress)

    # New people, memberships, cohort places and invitations go in as bulk inserts: an import of
    # thousands of rows is a handful of statements rather than thousands of ORM flushes.
    new_people = _insert_people(plan.to_add, departments)
    for item, invitee in zip(plan.to_add, new_people, strict=True):
        item.person_id = invitee.id

    people: dict[int, Person] = {}
    existing_ids = [i.person_id for i in plan.to_join + plan.to_change if i.person_id]
    for chunk in chunks(existing_ids):
        people.update(
            {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(chunk)))}
        )
    for item in plan.to_join:
        _fill_blanks(people[item.person_id], item.row, departments)
    for item in plan.to_change:
        if item.shared:
            _fill_blanks(people[item.person_id], item.row, departments)
        else:
            _update_person(people[item.person_id], item.row, departments)

    new_memberships: list[dict[str, Any]] = []
    moves: list[tuple[int, Cohort]] = []
    for item in plan.to_add + plan.to_join + plan.to_change:
        new_memberships += _apply_memberships(program, item.person_id, item.row, state)
        if item.row.cohort:
            cohort = cohorts[item.row.cohort.casefold()]
            current = state.cohort_of.get(item.person_id)
            if current is None or current.casefold() != cohort.name.casefold():
                moves.append((item.person_id, cohort))
        step()
    if new_memberships:
        insert_rows(db.session, Membership, new_memberships)
    _place_in_cohorts(term, moves, set(state.cohort_of))
    db.session.flush()
    if plan.new_assessors:
        ids = {
            p.email: p.id
            for p in _by_email([e for pair in plan.new_assessors for e in pair]).values()
        }
        insert_rows(
            db.session,
            Assessor,
            [
                {
                    "program_id": program.id,
                    "assessor_id": ids[a],
                    "trainee_id": ids[t],
                    "recorded_by_id": actor.id if actor else None,
                    "created_at": utc_now(),
                }
                for a, t in dict.fromkeys(plan.new_assessors)
            ],
        )
    # The term's roster as the file leaves it, and the people it changed in the program's
    # other open terms.
    record_term_roster(term)
    touched = {i.person_id for i in plan.to_add + plan.to_join + plan.to_change if i.person_id}
    record_open_terms(program.id, touched, recorded=term)

    # Everyone new gets an invitation, and so does anyone joining who never set a password.
    to_invite: list[Person | Invitee] = [people[i.person_id] for i in plan.to_join if i.invite]
    to_invite += new_people
    rows = {i.person_id: i.row for i in plan.to_add + plan.to_join}
    queue_messages(
        [
            invitation(
                person,
                actor,
                program.name,
                what_you_will_do(
                    rows[person.id].roles,
                    TRACKS if rows[person.id].tracks is None else rows[person.id].tracks,
                    program.name,
                ),
            )
            for person in to_invite
        ]
    )

    if upload is not None:
        upload.applied_at = utc_now()
        upload.summary = counts
    record(
        actor,
        "roster.imported",
        upload if upload is not None else term,
        program_id=program.id,
        summary=(
            f"Roster imported into {term.name}: {counts['added']} added, {counts['joined']} "
            f"joined, {counts['changed']} changed, {counts['unchanged']} unchanged"
        ),
        details={**counts, "term_id": term.id, "file_sha256": upload.sha256 if upload else None},
    )
    return ImportResult(plan, counts)


def _progress_counter(progress: Callable[[int], None] | None) -> Callable[[], None]:
    def step() -> None:
        if progress is not None:
            progress(1)

    return step


def _ensure_departments(plan: ImportPlan, state: _ProgramState) -> dict[str, Department]:
    for name in plan.new_departments:
        department = Department(name=name, name_key=Department.key_for(name))
        db.session.add(department)
        state.departments[department.name_key] = department
    db.session.flush()
    return state.departments


def _ensure_cohorts(plan: ImportPlan, term: Term, state: _ProgramState) -> dict[str, Cohort]:
    for name in plan.new_cohorts:
        cohort = Cohort(term_id=term.id, name=name)
        db.session.add(cohort)
        state.cohorts[name.casefold()] = cohort
    db.session.flush()
    return state.cohorts


def _department_id(row: RosterRow, departments: dict[str, Department]) -> int | None:
    return departments[Department.key_for(row.department)].id if row.department else None


def _fill_blanks(person: Person, row: RosterRow, departments: dict[str, Department]) -> None:
    """An account from elsewhere: complete what it lacks, never overwrite what it has."""
    if person.department_id is None and row.department:
        person.department_id = _department_id(row, departments)
    if person.stage is None and row.stage is not None:
        person.stage = row.stage
    if not person.interests and row.interests:
        person.interests = list(row.interests)


def _update_person(person: Person, row: RosterRow, departments: dict[str, Department]) -> None:
    person.name = row.name
    if row.department:
        person.department_id = _department_id(row, departments)
    if row.stage is not None:
        person.stage = row.stage
    if row.interests:
        person.interests = list(row.interests)


@dataclass(frozen=True)
class Invitee:
    """Just what an invitation needs of a person inserted in bulk."""

    id: int
    email: str
    name: str
    security_stamp: str


def _insert_people(items: list[RowPlan], departments: dict[str, Department]) -> list[Invitee]:
    """Insert new accounts in bulk, in the order given."""
    rows = [
        {
            "email": item.row.email,
            "name": item.row.name,
            "department_id": _department_id(item.row, departments),
            "stage": item.row.stage,
            "interests": list(item.row.interests),
            "security_stamp": secrets.token_hex(16),
        }
        for item in items
    ]
    ids = insert_rows(db.session, Person, rows, ids=True)
    return [
        Invitee(person_id, row["email"], row["name"], row["security_stamp"])
        for person_id, row in zip(ids, rows, strict=True)
    ]


def _apply_memberships(
    program: Program, person_id: int, row: RosterRow, state: _ProgramState
) -> list[dict[str, Any]]:
    """Reopen or update held roles in place; return the rows of roles to insert."""
    held = state.memberships.setdefault(person_id, {})
    new_rows = []
    tracks = row.tracks if row.tracks is not None else frozenset(TRACKS)
    for role in _file_roles(row):
        membership = held.get(role)
        if membership is None:
            new_rows.append(
                {
                    "person_id": person_id,
                    "program_id": program.id,
                    "role": role,
                    "formal_track": "formal" in tracks,
                    "coffee_track": "coffee" in tracks,
                }
            )
            continue
        if membership.ended_at is not None:
            membership.ended_at = None
            membership.end_reason = None
        if row.tracks is not None:
            membership.formal_track = "formal" in row.tracks
            membership.coffee_track = "coffee" in row.tracks
    return new_rows


def _place_in_cohorts(term: Term, moves: list[tuple[int, Cohort]], placed: set[int]) -> None:
    """Put each person in their cohort of the term, leaving any other cohort of that term
    (those `placed` in one already)."""
    if not moves:
        return
    for chunk in chunks([person_id for person_id, _ in moves if person_id in placed]):
        db.session.execute(
            sa.delete(CohortMember).where(
                CohortMember.term_id == term.id, CohortMember.person_id.in_(chunk)
            )
        )
    insert_rows(
        db.session,
        CohortMember,
        [{"cohort_id": c.id, "term_id": term.id, "person_id": p} for p, c in moves],
    )
