"""Choosing and building a report: which programs and terms a person may report on, and the
report itself (built by `reports/` from a read-only connection), with an audit event per
download."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from program.audit.services import record
from program.changes import REPORTS, generation
from program.db import DomainError, utc_now
from program.extensions import db
from program.institution import get_settings
from program.kept import kept
from program.people.models import Person
from program.people.names import fold
from program.permissions import Action, may, may_in
from program.programs.models import Program, Term
from program.reporting.models import ActionItem, ActionStatus
from program.version import __version__
from reports.audit import Audit
from reports.build import Report, TermTables, build_report, term_tables
from reports.bundle import build_bundle
from reports.data import Scope, data_state, find_scope
from reports.html import build_html
from reports.pdf import build_pdf
from reports.record import mentor_record, record_csv, record_pdf
from reports.suppress import MINIMUM_THRESHOLD

ALL = "all"
FORMATS = {
    "html": ("text/html; charset=utf-8", "html", build_html),
    "pdf": ("application/pdf", "pdf", build_pdf),
    "zip": ("application/zip", "zip", build_bundle),
}


@dataclass
class Choices:
    programs: list[Program]
    may_see_all: bool
    terms: list[tuple[str, str]]  # (slug, name), newest first, of the programs one may see
    # The reports that exist, to choose from: (label, [(scope/term value, term name), ...]).
    reports: list[tuple[str, list[tuple[str, str]]]]
    # The report the page opens on: the first choice's current term, or its latest started
    # one; never a term that has not started (there is nothing to report in it yet).
    default: str | None = None


def choices(person: Person, today: date | None = None) -> Choices:
    """What a person may choose: only program-and-term pairs that exist, so no choice is a 404."""
    today = today or utc_now().date()
    every = list(db.session.scalars(sa.select(Program).order_by(Program.name)))
    programs = may_in(person, Action.VIEW_REPORTS, every)
    may_see_all = may_report_on_all(person)
    terms: list[tuple[str, str]] = []
    started: list[str] = []  # slugs of terms that have begun, newest first
    by_program: dict[int, list[tuple[str, str]]] = {p.id: [] for p in programs}
    begun: dict[int, list[str]] = {p.id: [] for p in programs}
    if programs:
        for program_id, slug, name, starts_on in db.session.execute(
            sa.select(Term.program_id, Term.slug, Term.name, Term.starts_on)
            .where(Term.program_id.in_([p.id for p in programs]))
            .order_by(Term.starts_on.desc(), Term.id)
        ):
            if starts_on > today:
                name = f"{name} (starts {starts_on:%d %b %Y})"
            else:
                begun[program_id].append(slug)
                if slug not in started:
                    started.append(slug)
            by_program[program_id].append((slug, name))
            if (slug, name) not in terms:
                terms.append((slug, name))
    reports = [
        (p.name, [(f"{p.slug}/{slug}", name) for slug, name in by_program[p.id]])
        for p in programs
        if by_program[p.id]
    ]
    default = next((f"{p.slug}/{begun[p.id][0]}" for p in programs if begun[p.id]), None)
    if may_see_all and terms:
        reports.insert(0, ("All programs", [(f"{ALL}/{slug}", name) for slug, name in terms]))
        default = f"{ALL}/{started[0]}" if started else None
    return Choices(programs, may_see_all, terms, reports, default)


def starts_later(program: Program | None, term_slug: str, today: date | None = None) -> date | None:
    """The day a term (a program's, or for all programs the earliest of that name) starts, if
    that is after today: its report has nothing to say yet."""
    today = today or utc_now().date()
    query = sa.select(sa.func.min(Term.starts_on)).where(Term.slug == term_slug)
    if program is not None:
        query = query.where(Term.program_id == program.id)
    starts_on = db.session.scalar(query)
    return starts_on if starts_on is not None and starts_on > today else None


def may_report_on_all(person: Person) -> bool:
    """All programs together: deans and admins (`may` without a program says just that)."""
    return may(person, Action.VIEW_REPORTS)


def allowed(person: Person, scope: str) -> Program | bool | None:
    """The program a person may report on (None for all programs), or False."""
    if scope == ALL:
        return None if may_report_on_all(person) else False
    program = db.session.scalar(sa.select(Program).where(Program.slug == scope))
    if program is None or not may(person, Action.VIEW_REPORTS, program):
        return False
    return program


def make_report(program: Program | None, term_slug: str) -> Report | None:
    """The report for a program's term (or every program's term with that short name).

    Kept (see `program.kept`) under everything that decides it: the scope as found now (names
    and dates), the institution's name and threshold, the version, and the state of the data
    it reads (`data_state`: the latest change, and how many rows of each kind). The same data
    gives the same report, to the byte, so one built once is served again until the data
    moves: building one for a 10,000-person program takes over a second, finding the state
    of its data about 50 ms."""
    settings = get_settings()
    with db.engine.connect() as conn:
        scope = find_scope(conn, term_slug, program.slug if program else None)
        if scope is None:
            return None
        # Every program's report of a term is protected together with the others, so each is
        # as of the latest change to any of them.
        whole = find_scope(conn, term_slug, None)
        as_of, sizes = _state(conn, whole)
        key = (
            repr(scope),
            repr(whole),
            program.slug if program else None,
            settings.name,
            settings.suppression_threshold,
            as_of,
            sizes,
            __version__,
        )
        found = kept("reports").get(key)
        if found is None:
            found = build_report(
                conn,
                scope,
                institution=settings.name,
                threshold=settings.suppression_threshold,
                as_of=as_of,
                version=__version__,
                program_slug=program.slug if program else None,
                tables_of=lambda slug: _protected_term(
                    conn,
                    slug,
                    settings.suppression_threshold,
                    # This term's state is known: read once, not again for its tables.
                    (whole, (as_of, sizes)) if slug == term_slug else None,
                ),
            )
            kept("reports").put(key, found)
        return found


def _state(conn: Connection, whole: Scope) -> tuple[datetime, tuple[int, ...]]:
    """The state of a term's data (`data_state`), found again only when a write to what it
    reads has been committed since this process last found it (`program.changes`): finding it
    reads every check-in of the term and those before, about 0.2 s at 50,000 people, where the
    generation is one row."""
    # The generation first: a write committed between the two readings leaves a newer state
    # under an older generation, found again at the next, never an older one kept for good.
    key = (repr(whole), generation(conn, REPORTS))
    store = kept("data-state", shared=False, size=TERM_TABLES_KEPT)
    found = store.get(key)
    if found is None:
        found = data_state(conn, whole)
        store.put(key, found)
    return found


TERM_TABLES_KEPT = 12


def _protected_term(
    conn: Connection,
    term_slug: str,
    threshold: int,
    known: tuple[Scope, tuple[datetime, tuple[int, ...]]] | None = None,
) -> TermTables | None:
    """Every program's tables of a term, protected together: worked out once per state of
    the term's data and kept in this process (every program's report of the term reads the
    same, and protecting forty programs takes the longest part of any one's report).
    `known`: the term's scope and data state, where the caller has just read them."""
    if known is None:
        whole = find_scope(conn, term_slug, None)
        if whole is None:
            return None
        known = (whole, _state(conn, whole))
    whole, state = known
    key = (term_slug, repr(whole), threshold, state, __version__)
    # A term and the terms of its trend, all read by each report: enough for six years of two
    # terms (fewer, and forty reports in a row would each protect them all again); each about
    # 20 MB in memory at forty programs and 50,000 people.
    store = kept("term-tables", shared=False, size=TERM_TABLES_KEPT)
    found = store.get(key)
    if found is None:
        found = term_tables(conn, term_slug, threshold)
        store.put(key, found)
    return found


def audit_term(term_slug: str) -> tuple[TermTables, Audit] | None:
    """Protect and audit every report of a term, as they would be published now."""
    with db.engine.connect() as conn:
        tables = term_tables(conn, term_slug, get_settings().suppression_threshold)
    if tables is None:
        return None
    return tables, tables.audit()


def download(actor: Person | None, report: Report, fmt: str, program: Program | None) -> bytes:
    """The file's bytes, with an audit event saying who took which report."""
    # A report's file is decided by the report (its data by the digest).
    key = (fmt, repr(report.scope), report.institution, report.threshold, report.as_of)
    key += (report.version, report.digest)
    data = kept("files").get(key)
    if data is None:
        data = FORMATS[fmt][2](report)
        kept("files").put(key, data)
    record(
        actor,
        "report.downloaded",
        program if program is not None else actor,
        program_id=program.id if program else None,
        details={"term": report.scope.term_name, "format": fmt, "data_sha256": report.digest},
        summary=f"{fmt.upper()} report for {report.scope.label}, {report.scope.term_name}",
    )
    return data


def filename(report: Report, fmt: str) -> str:
    label = "all-programs" if report.scope.label == "All programs" else report.scope.label
    safe = "".join(c if c.isalnum() else "-" for c in f"{label}-{report.scope.term_name}").lower()
    return f"hallway-report-{safe}.{FORMATS[fmt][1]}"


# --- a mentor's own record ------------------------------------------------------------------

RECORD_FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
MAX_RECORD_YEARS = 10


def record_period(starts: date | None, ends: date | None, today: date) -> tuple[date, date]:
    """The period a record covers: the last twelve months unless said otherwise; refused when
    it ends before it starts or spans more than ten years."""
    ends = ends or today
    starts = starts or ends.replace(year=ends.year - 1) + timedelta(days=1)
    if starts > ends:
        raise DomainError("The period must start before it ends.", field="starts")
    if (ends - starts).days > 366 * MAX_RECORD_YEARS:
        raise DomainError(f"A record covers at most {MAX_RECORD_YEARS} years.", field="starts")
    return starts, ends


def mentoring_record_file(
    actor: Person,
    person: Person,
    starts: date,
    ends: date,
    fmt: str,
    program: Program | None = None,
) -> tuple[bytes, str]:
    """A mentor's record as a PDF or CSV, and its file name: everywhere (their own), or in one
    program (a coordinator's copy). Audited like a report download."""
    settings = get_settings()
    with db.engine.connect() as conn:
        found = mentor_record(
            conn,
            person.id,
            starts,
            ends,
            max(settings.suppression_threshold, MINIMUM_THRESHOLD),
            utc_now(),
            program_ids=[program.id] if program is not None else None,
        )
    data = record_pdf(found, settings.name or "Hallway") if fmt == "pdf" else record_csv(found)
    record(
        actor,
        "report.mentoring_record",
        person,
        program_id=program.id if program is not None else None,
        summary=f"Mentoring record of {person.name}, {starts} to {ends} ({fmt})",
    )
    slug = re.sub(r"[^a-z0-9]+", "-", fold(person.name)).strip("-") or "mentor"
    return data, f"mentoring-record-{slug}-{starts}-{ends}.{fmt}"


# --- action plans ---------------------------------------------------------------------------

ACTION_TEXT_MAX = 1000
OWNER_MAX = ActionItem.owner.type.length  # the column's own limit


def _clean(
    text: str | None, field: str, *, required: bool = True, most: int = ACTION_TEXT_MAX
) -> str:
    """The field's text with its spaces folded, refused when missing or too long (never cut)."""
    cleaned = " ".join((text or "").split())
    if required and not cleaned:
        raise DomainError(f"Say what the {field} is.", field=field)
    if len(cleaned) > most:
        raise DomainError(f"Keep the {field} under {most} characters.", field=field)
    return cleaned


def term_of(program: Program, term_slug: str) -> Term | None:
    return db.session.scalar(
        sa.select(Term).where(Term.program_id == program.id, Term.slug == term_slug)
    )


def actions_of(program: Program, term: Term) -> list[ActionItem]:
    return list(
        db.session.scalars(
            sa.select(ActionItem)
            .where(ActionItem.program_id == program.id, ActionItem.term_id == term.id)
            .order_by(ActionItem.id)
        )
    )


def add_action(
    actor: Person,
    program: Program,
    term: Term,
    *,
    finding: str,
    action: str,
    owner: str = "",
    due_on: date | None = None,
) -> ActionItem:
    """Record a finding of the term's report and the action taken on it."""
    if term.program_id != program.id:
        raise DomainError("That term is not this program's.")
    item = ActionItem(
        program_id=program.id,
        term_id=term.id,
        finding=_clean(finding, "finding"),
        action=_clean(action, "action"),
        owner=_clean(owner, "owner", required=False, most=OWNER_MAX),
        due_on=due_on,
        created_by_id=actor.id,
    )
    db.session.add(item)
    db.session.flush()
    record(
        actor,
        "report.action_added",
        item,
        program_id=program.id,
        summary=f"Action for {term.name}: {item.action[:80]}",
    )
    return item


def update_action(
    actor: Person, program: Program, item_id: int, *, status: ActionStatus, outcome: str
) -> ActionItem:
    """Follow an action up: its status and what came of it."""
    item = db.session.get(ActionItem, item_id)
    if item is None or item.program_id != program.id:
        raise DomainError("No such action in this program.")
    before = item.status
    item.status = status
    item.outcome = _clean(outcome, "outcome", required=False)
    item.updated_at = utc_now()
    record(
        actor,
        "report.action_updated",
        item,
        program_id=program.id,
        details={"from": before.value, "to": status.value},
        summary=f"Action {status.label.lower()}: {item.action[:80]}",
    )
    return item
