"""The coordinator's dashboard: both tracks side by side for the current term, and the lists
that need action. The figures come from the same metric definitions as the semester report (not
suppressed: coordinators see their own program's people), in a fixed number of queries."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from program.audit.models import AuditEvent
from program.changes import REPORTS, current_key
from program.coffee.models import Enrollment, Round, RoundStatus
from program.db import utc_now
from program.extensions import db
from program.formal.availability import AvailabilityCounts, availability_counts
from program.formal.matches import TraineeRef, Unmatched, unmatched_trainees
from program.formal.models import Assignment, AssignmentStatus, Availability
from program.formal.pairs import Attention, PairRow, pairs_needing_attention
from program.kept import kept
from program.people.models import Person
from program.programs.models import Membership, Program, Role, Term
from reports.data import find_scope
from reports.glance import glance
from reports.metrics import Computed

FIGURES = (
    ("taking_part", "Taking part"),
    ("pairs_formed", "Pairs and chats"),
    ("pairs_met", "Met at least once"),
    ("response_rate", "Check-in response rate"),
    ("useful", "Rated useful (4 or 5 of 5)"),
)


NAMED = 8  # people or pairs named in each of the overview's lists; their pages have all


@dataclass(frozen=True)
class Few:
    """The first few names of a list the overview points to, and how many it has in all."""

    names: list[str] = field(default_factory=list)
    count: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.names)


def _first_few(names: sa.Select[Any]) -> Few:
    """The first NAMED of `names` (a query of names, in order), and how many there are in
    all: one query, however many."""
    rows = db.session.execute(names.add_columns(sa.func.count().over()).limit(NAMED)).all()
    return Few([row[0] for row in rows], rows[0][1] if rows else 0)


@dataclass
class Dashboard:
    term: Term
    figures: Computed
    waiting_mentors: Few = field(default_factory=Few)
    silent: list[PairRow] = field(default_factory=list)  # the first few, most urgent first
    quiet_count: int = 0  # all silent or unanswering pairs
    rematch: list[PairRow] = field(default_factory=list)
    must_end: list[PairRow] = field(default_factory=list)  # the mentor assesses the trainee
    ghosts: Few = field(default_factory=Few)
    last_round: Round | None = None
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def unmatched_by_reason(self) -> list[tuple[str, str, list[TraineeRef]]]:
        """(reason's name, reason, trainees) for each reason that has any, worst first."""
        groups: dict[str, tuple[str, str, list[TraineeRef]]] = {}
        for u in self.unmatched:
            groups.setdefault(u.why.name, (u.why.name, u.why.value, []))[2].append(u.trainee)
        return list(groups.values())


def _glance(engine: sa.Engine, term_slug: str, program_slug: str) -> Computed:
    with engine.connect() as conn:
        scope = find_scope(conn, term_slug, program_slug)
        return glance(conn, scope)


@dataclass
class NextTerm:
    """What is pending for the program's next term while the current one runs."""

    term: Term
    availability: AvailabilityCounts
    proposed: int  # drafts not yet published
    scheduled: int  # published, starting on the term's first day
    attention: Attention  # rematch requests and pairs that must end, before they begin


def next_term(program: Program, current: Term | None) -> NextTerm | None:
    """The next term to begin after today, unless it is the one the dashboard already shows."""
    term = db.session.scalar(
        sa.select(Term)
        .where(Term.program_id == program.id, Term.starts_on > utc_now().date())
        .order_by(Term.starts_on, Term.id)
        .limit(1)
    )
    if term is None or (current is not None and term.id == current.id):
        return None
    proposed, scheduled = db.session.execute(
        sa.select(
            sa.func.count().filter(Assignment.status == AssignmentStatus.PROPOSED),
            sa.func.count().filter(Assignment.status == AssignmentStatus.ACTIVE),
        ).where(Assignment.term_id == term.id)
    ).one()
    return NextTerm(
        term, availability_counts(term), proposed, scheduled, pairs_needing_attention(term, 0)
    )


def dashboard(program: Program, term: Term) -> Dashboard:
    # The figures read every check-in of the term (about 60 ms at 10,000 people): kept in this
    # process under the REPORTS generation (`program.changes`), which counts every write to
    # what they read. When they must be worked out, they run on a connection of their own in a
    # thread while this one makes the lists, so the page waits for the longer only.
    key = current_key((program.id, term.id), REPORTS)
    if key is not None:
        found = kept("glance", shared=False).get(key)
        if found is not None:
            ready: Future[Computed] = Future()
            ready.set_result(found)
            return _with_lists(program, term, ready)
    with ThreadPoolExecutor(max_workers=1) as pool:
        figures = pool.submit(_glance, db.engine, term.slug, program.slug)
        made = _with_lists(program, term, figures)
    if key is not None:
        kept("glance", shared=False).put(key, made.figures)
    return made


def _with_lists(program: Program, term: Term, figures: Future[Computed]) -> Dashboard:
    """The dashboard: its lists worked out here, its figures when `figures` has them."""
    attention = pairs_needing_attention(term, NAMED)
    waiting = _first_few(
        sa.select(Person.name)
        .join(Availability, Availability.person_id == Person.id)
        .where(Availability.term_id == term.id, Availability.answered_at.is_(None))
        .order_by(Person.sort_name, Person.id)
    )
    ghosts = _first_few(
        sa.select(Person.name)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.program_id == program.id,
            Enrollment.withdrawn_at.is_(None),
            Enrollment.snooze_reason == "unanswered",
            Enrollment.snoozed_until > utc_now().date(),
        )
        .order_by(Person.sort_name, Person.id)
    )
    last_round = db.session.scalar(
        sa.select(Round)
        .where(Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED)
        .order_by(Round.number.desc())
        .limit(1)
    )
    return Dashboard(
        term=term,
        figures=figures.result(),
        waiting_mentors=waiting,
        silent=attention.quiet,
        quiet_count=attention.quiet_count,
        rematch=attention.rematch,
        must_end=attention.must_end,
        ghosts=ghosts,
        last_round=last_round,
        unmatched=unmatched_trainees(term),
    )


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    why: str
    done: bool


def first_run(program: Program) -> list[Step]:
    """A new program's setup, each step ticked by what the database already holds (one query):
    a term, a roster, mentors' availability, published matches, a coffee round, a report."""
    terms = sa.select(Term.id).where(Term.program_id == program.id)
    checks = {
        "term": sa.exists().where(Term.program_id == program.id),
        "roster": sa.exists().where(
            Membership.program_id == program.id,
            Membership.role.in_([Role.TRAINEE, Role.MENTOR]),
        ),
        "availability": sa.exists().where(Availability.term_id.in_(terms)),
        "matches": sa.exists().where(
            Assignment.term_id.in_(terms), Assignment.status != AssignmentStatus.PROPOSED
        ),
        "round": sa.exists().where(
            Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED
        ),
        "report": sa.exists().where(
            AuditEvent.program_id == program.id, AuditEvent.action == "report.downloaded"
        ),
    }
    done = db.session.execute(sa.select(*(c.label(k) for k, c in checks.items()))).one()
    labels = {
        "term": (
            "Create the first term",
            "A semester: its cohorts, roster and reports hang off it.",
        ),
        "roster": (
            "Import the roster",
            "A CSV or Excel file of trainees and mentors; each gets an invitation.",
        ),
        "availability": (
            "Ask mentors for their availability",
            "Each says in one click how many mentees they can take this term.",
        ),
        "matches": (
            "Propose and publish the formal matches",
            "Review the proposal, then publish: both sides are introduced.",
        ),
        "round": (
            "Publish the first coffee round",
            "Opt the coffee track in, then pair them across departments.",
        ),
        "report": (
            "Download a semester report",
            "The PDF for accreditors and the CSV for analysts compare the two tracks.",
        ),
    }
    return [Step(k, *labels[k], bool(getattr(done, k))) for k in checks]
