"""How active pairs are doing (their health, the nudges to quiet pairs), no-fault rematches
and ending a pair, and a person's own pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from program.audit.services import record
from program.changes import PAIRS, kept_until_changed
from program.checkins.models import CheckIn, CheckInStatus
from program.db import DomainError, utc_date, utc_now
from program.extensions import db
from program.formal.availability import holds
from program.formal.health import UNANSWERED_AFTER_DAYS, Health, judge
from program.formal.matches import Named, propose_matches
from program.formal.models import Assessor, Assignment, AssignmentStatus, EndReason
from program.links import external_url
from program.matching import formal as matching
from program.meetings.services import propose_link
from program.messages.intros import formal_ask, mailto
from program.messages.models import Message
from program.messages.services import (
    queue_messages,
    render_message,
)
from program.people.models import MailPreference, Person
from program.programs.models import Program, Role, Term
from program.programs.services import coordinators


def _active_pairs(where: sa.ColumnElement[bool]) -> list[Assignment]:
    """Active pairs matching `where`, both people loaded, the newest first."""
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .options(joinedload(Assignment.mentor), joinedload(Assignment.trainee))
            .where(Assignment.status == AssignmentStatus.ACTIVE, where)
            .order_by(Assignment.started_at.desc(), Assignment.id)
        )
    )


@dataclass(frozen=True)
class PairSummary:
    """What the pairs page and the dashboard show of an active pair, read as plain columns
    (loading thousands of pairs with both people as ORM objects took seconds)."""

    id: int
    trainee: Named
    mentor: Named
    started_at: datetime
    rematch_requested_at: datetime | None
    rematch_requested_by_id: int | None
    sort_key: str

    @property
    def trainee_id(self) -> int:
        return self.trainee.id

    @property
    def mentor_id(self) -> int:
        return self.mentor.id


@dataclass
class PairRow:
    assignment: PairSummary
    health: Health
    nudged_on: date | None = None  # this quiet spell's gentle nudge, if one went

    @property
    def may_nudge(self) -> bool:
        return self.health.quiet and self.nudged_on is None


def _nudge_key(assignment_id: int, quiet_since: date, person_id: int) -> str:
    return f"pair_nudge:assignment:{assignment_id}:{quiet_since.isoformat()}:{person_id}"


def _nudged(rows: list[PairRow], program_id: int) -> None:
    """Fill in the nudge of each quiet row's current quiet spell, in one query: the program's
    nudges since the oldest spell began (a few), not thousands of keys looked up."""
    keys = {
        _nudge_key(r.assignment.id, r.health.quiet_since, person_id): r
        for r in rows
        if r.health.flags
        for person_id in (r.assignment.trainee_id, r.assignment.mentor_id)
    }
    if not keys:
        return
    oldest = min(r.health.quiet_since for r in keys.values())
    for key, created in db.session.execute(
        sa.select(Message.dedupe_key, Message.created_at).where(
            Message.kind == "pair_nudge",
            Message.program_id == program_id,
            Message.created_at >= datetime.combine(oldest, time(0), tzinfo=UTC),
        )
    ):
        if key in keys:
            keys[key].nudged_on = created.date()


def _later(a: sa.ColumnElement[date], b: sa.ColumnElement[date]) -> sa.ColumnElement[date]:
    """The later of two days in SQL, `a` when `b` is NULL."""
    return sa.case((b > a, b), else_=a)


def _judged(term: Term, now: datetime, assignment_id: int | None = None) -> sa.Subquery:
    """Every active pair of the term (or just `assignment_id`), one row each, with what
    `health.judge` decides of it worked out in SQL, so that thousands of pairs are counted,
    sorted and cut to a page by the database: the last meeting's parts, whether the latest
    period asked about UNANSWERED_AFTER_DAYS ago was answered, the day the quiet spell began,
    the flags and their urgency. The randomized test in tests/test_pairs.py holds each row
    to `judge` in Python.

    One pass: the pairs left-joined to their check-ins, grouped by period, with window
    functions across each pair's periods; no aggregate is joined to another, so a planner
    misled by stale statistics (right after a bulk import) still reads each row once."""
    trainee, mentor = aliased(Person), aliased(Person)
    met = CheckIn.status == CheckInStatus.MET
    per_pair = {"partition_by": Assignment.id}
    today = now.date()
    due = utc_date(sa.func.min(CheckIn.asked_at)) <= today - timedelta(days=UNANSWERED_AFTER_DAYS)
    periods = (
        sa.select(
            Assignment.id,
            Assignment.started_at,
            Assignment.rematch_requested_at,
            Assignment.rematch_requested_by_id,
            Assignment.trainee_id,
            Assignment.mentor_id,
            sa.func.count(CheckIn.answered_at).label("answers"),
            sa.case((due, True), else_=False).label("due"),
            sa.func.max(sa.func.max(sa.case((met, CheckIn.met_on))))
            .over(**per_pair)
            .label("met_on"),
            # A "we met" without a date counts on the day it was answered.
            sa.func.max(
                sa.func.max(sa.case((sa.and_(met, CheckIn.met_on.is_(None)), CheckIn.answered_at)))
            )
            .over(**per_pair)
            .label("met_answered_at"),
            # The pair's latest due period first (with none due, any: it carries the rest).
            sa.func.row_number()
            .over(**per_pair, order_by=(sa.case((due, 0), else_=1), CheckIn.period_start.desc()))
            .label("n"),
        )
        .outerjoin(CheckIn, CheckIn.assignment_id == Assignment.id)
        .where(
            Assignment.term_id == term.id,
            Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.id == assignment_id if assignment_id is not None else sa.true(),
        )
        # Narrow groups (names are joined to the one row per pair after, not sorted through).
        .group_by(Assignment.id, CheckIn.period_start)
        .subquery()
    )
    p = periods.c
    started = utc_date(p.started_at)
    quiet_since = _later(_later(started, p.met_on), utc_date(p.met_answered_at))
    silent = quiet_since <= today - timedelta(days=term.program.silent_after_days)
    no_answers = sa.and_(p.due, p.answers == 0)
    rematch = p.rematch_requested_at.is_not(None)
    assessed = (
        sa.select(Assessor.id)
        .where(
            Assessor.program_id == term.program_id,
            Assessor.assessor_id == p.mentor_id,
            Assessor.trainee_id == p.trainee_id,
        )
        .exists()
    )
    return (
        sa.select(
            *(c for c in p if c.key != "n"),
            assessed.label("assessed"),
            trainee.name.label("trainee_name"),
            trainee.sort_name.label("sort_key"),
            mentor.name.label("mentor_name"),
            sa.or_(silent, no_answers).label("quiet"),
            sa.case((assessed, -1), (rematch, 0), (silent, 1), (no_answers, 2), else_=3).label(
                "urgency"
            ),
            # Longest quiet first (days quiet stop at 0: a meeting dated ahead is today's).
            sa.case((quiet_since > today, today), else_=quiet_since).label("quiet_order"),
        )
        .join(trainee, trainee.id == p.trainee_id)
        .join(mentor, mentor.id == p.mentor_id)
        .where(p.n == 1)
        .subquery()
    )


@dataclass(frozen=True)
class PairCounts:
    total: int
    flagged: int  # needing a look: a rematch asked, silent or not answering
    quiet: int  # silent or not answering: a gentle nudge's pairs


def _urgency_order(c: Any) -> tuple[Any, ...]:
    """Most urgent first, then the longest quiet, then by the trainee's family name."""
    return (c.urgency, c.quiet_order, c.sort_key, c.id)


# What a term's pairs are judged from: a committed write to any moves `program.changes`'
# PAIRS generation, under which each process keeps the day's judgement of a term.
JUDGED_FROM = (
    Assignment.__tablename__,
    CheckIn.__tablename__,
    Assessor.__tablename__,
    Term.__tablename__,
    (Program.__tablename__, ("silent_after_days",)),
    (Person.__tablename__, ("name", "sort_name")),
)


@dataclass(frozen=True)
class Judged:
    """Every active pair of a term as `_judged` gives them, most urgent first, and counted."""

    rows: list[Any]
    counts: PairCounts


def _judged_term(term: Term, now: datetime) -> Judged:
    """The term's pairs judged on `now`'s day: worked out once per day and per PAIRS generation
    in each process (5,000 pairs take about 0.1 s, on every overview and pairs page before),
    and afresh while the request's own transaction has written what they are judged from."""

    def judged() -> Judged:
        j = _judged(term, now)
        rows = list(db.session.connection().execute(sa.select(j).order_by(*_urgency_order(j.c))))
        counts = PairCounts(
            total=len(rows),
            flagged=sum(1 for r in rows if r.urgency < 3),
            quiet=sum(1 for r in rows if r.quiet),
        )
        return Judged(rows, counts)

    return kept_until_changed(
        PAIRS, "judged-pairs", (term.id, now.date()), judged, size=JUDGED_KEPT
    )


JUDGED_KEPT = 16  # terms: a coordinator of several programs, a term and the next


def _health_of(rows: list[Any], term: Term, now: datetime) -> list[PairRow]:
    """PairRows of `_judged` rows, their health from `judge` (the SQL's flags are its mirror)."""
    silent_after = term.program.silent_after_days
    found = []
    for row in rows:
        answered_day = row.met_answered_at.date() if row.met_answered_at else None
        met_days = [d for d in (row.met_on, answered_day) if d is not None]
        summary = PairSummary(
            row.id,
            Named(row.trainee_id, row.trainee_name),
            Named(row.mentor_id, row.mentor_name),
            row.started_at,
            row.rematch_requested_at,
            row.rematch_requested_by_id,
            row.sort_key,
        )
        health = judge(
            row.started_at,
            max(met_days) if met_days else None,
            (row.answers > 0) if row.due else None,
            now,
            silent_after,
            rematch_requested=row.rematch_requested_at is not None,
            assessed=bool(row.assessed),
        )
        found.append(PairRow(summary, health))
    _nudged(found, term.program_id)
    return found


def pair_health(
    term: Term, now: datetime | None = None, assignment_id: int | None = None
) -> list[PairRow]:
    """Every active pair of the term (or just `assignment_id`) with its last meeting and flags,
    most urgent first, then the longest quiet, then by the trainee's family name."""
    now = now or utc_now()
    if assignment_id is None:
        return _health_of(_judged_term(term, now).rows, term, now)
    j = _judged(term, now, assignment_id)
    return _health_of(list(db.session.connection().execute(sa.select(j)).all()), term, now)


def pair_page(
    term: Term, page: int, per_page: int, now: datetime | None = None
) -> tuple[list[PairRow], PairCounts]:
    """One page of the term's active pairs in `pair_health`'s order, and how many there are
    and need a look."""
    now = now or utc_now()
    judged = _judged_term(term, now)
    rows = judged.rows[(page - 1) * per_page : page * per_page]
    return _health_of(rows, term, now), judged.counts


@dataclass
class Attention:
    """What the overview says of the term's pairs."""

    quiet: list[PairRow]  # the most urgent few silent or unanswering pairs
    quiet_count: int  # all of them
    rematch: list[PairRow]  # every pair with a rematch asked
    must_end: list[PairRow]  # every pair whose mentor assesses the trainee


def pairs_needing_attention(term: Term, named: int, now: datetime | None = None) -> Attention:
    """The `named` most urgent quiet pairs, how many are quiet, every rematch asked and every
    pair that must end."""
    now = now or utc_now()
    judged = _judged_term(term, now)
    quiet = [row for row in judged.rows if row.quiet][:named]
    rematch = [row for row in judged.rows if row.rematch_requested_at is not None]
    must_end = [row for row in judged.rows if row.assessed]
    shown = {row.id: row for row in (*quiet, *rematch, *must_end)}
    health = dict(zip(shown, _health_of(list(shown.values()), term, now), strict=True))
    return Attention(
        quiet=[health[row.id] for row in quiet],
        quiet_count=judged.counts.quiet,
        rematch=[health[row.id] for row in rematch],
        must_end=[health[row.id] for row in must_end],
    )


def nudge_pair(actor: Person | None, assignment: Assignment, now: datetime | None = None) -> int:
    """One short, kind e-mail to each side of a quiet pair (never a second one in the same
    quiet spell); returns how many went. Someone who turned optional e-mail off is skipped."""
    if assignment.status is not AssignmentStatus.ACTIVE:
        raise DomainError("This pair has ended.")
    row = next(iter(pair_health(assignment.term, now, assignment.id)), None)
    if row is None or not row.health.quiet:
        raise DomainError("This pair is not quiet: there is nothing to nudge.")
    if row.nudged_on is not None:
        raise DomainError(
            f"This pair was nudged on {row.nudged_on:%d %B %Y}; one nudge per quiet spell."
        )
    program = assignment.term.program
    sides = ((assignment.trainee, assignment.mentor), (assignment.mentor, assignment.trainee))
    rows = [
        render_message(
            person,
            "pair_nudge",
            template="pair_nudge",
            context={
                "person": person,
                "partner": partner,
                "program_name": program.name,
                "health": row.health,
                "propose_link": propose_link("assignment", assignment.id, person),
                "home_link": external_url("home.index"),
            },
            program_id=program.id,
            dedupe_key=_nudge_key(assignment.id, row.health.quiet_since, person.id),
            reply_to=[partner.email],
        )
        for person, partner in sides
        if person.active and person.mail_preference is MailPreference.ALL
    ]
    queue_messages(rows)
    record(
        actor,
        "pair.nudged",
        assignment,
        program_id=program.id,
        details={"sent": len(rows), "quiet_since": row.health.quiet_since.isoformat()},
        summary=f"{assignment.trainee.name} and {assignment.mentor.name} nudged",
    )
    return len(rows)


def _own_active_pair(person: Person, assignment: Assignment) -> None:
    if person.id not in (assignment.mentor_id, assignment.trainee_id):
        raise DomainError("This is not your mentoring pair.")
    if assignment.status is not AssignmentStatus.ACTIVE:
        raise DomainError("This mentoring pair has already ended.")


def request_rematch(person: Person, assignment: Assignment) -> Assignment:
    """A private, no-fault request by either side; the coordinators alone are told."""
    _own_active_pair(person, assignment)
    if assignment.rematch_requested_at is not None:
        return assignment
    assignment.rematch_requested_at = utc_now()
    assignment.rematch_requested_by_id = person.id
    term = assignment.term
    queue_messages(
        [
            render_message(
                membership.person,
                "rematch_request",
                template="rematch_request",
                context={
                    "person": membership.person,
                    "program_name": term.program.name,
                    "term_name": term.name,
                    "assignment": assignment,
                    "asked_by": person,
                    "pairs_link": external_url(
                        "formal.pairs", slug=term.program.slug, term_slug=term.slug
                    ),
                },
                program_id=term.program_id,
                dedupe_key=f"rematch_request:{assignment.id}:{membership.person_id}",
            )
            for membership in coordinators(term.program)
        ]
    )
    record(
        person,
        "assignment.rematch_requested",
        assignment,
        program_id=term.program_id,
        summary="No-fault rematch requested",
    )
    return assignment


def end_assignment(
    actor: Person, assignment: Assignment, reason: EndReason, *, propose_new: bool = False
) -> matching.Proposal | None:
    """End an active pair with its reason; for a no-fault rematch, optionally propose the
    trainee a new mentor at once (never the same one again: the matching forbids it)."""
    if assignment.status is not AssignmentStatus.ACTIVE:
        raise DomainError("This pair is not active.")
    term = assignment.term
    assignment.status = AssignmentStatus.ENDED
    assignment.end_reason = reason
    assignment.ended_at = utc_now()
    db.session.flush()
    record(
        actor,
        "assignment.ended",
        assignment,
        program_id=term.program_id,
        details={"reason": reason.value},
        summary=f"{assignment.mentor.name} and {assignment.trainee.name}: ended "
        f"({END_REASON_LABELS[reason].lower()})",
    )
    proposal = None
    if propose_new and reason is EndReason.NO_FAULT_REMATCH:
        proposal = propose_matches(actor, term, only=frozenset({assignment.trainee_id}))
    _tell_trainee_what_next(assignment, reason, proposal)
    return proposal


def _tell_trainee_what_next(
    assignment: Assignment, reason: EndReason, proposal: matching.Proposal | None
) -> None:
    """The trainee learns the pair ended and what happens next (a trainee who left the
    program is not written to; the mentor learns it from the coordinator, as before)."""
    trainee, term = assignment.trainee, assignment.term
    if not trainee.active or (
        reason is EndReason.LEFT_PROGRAM and not holds(trainee, term, Role.TRAINEE)
    ):
        return
    queue_messages(
        [
            render_message(
                trainee,
                "pair_ended",
                template="pair_ended",
                context={
                    "person": trainee,
                    "mentor": assignment.mentor,
                    "program_name": term.program.name,
                    "term_name": term.name,
                    "reason": reason.value,
                    "proposed": bool(proposal and proposal.pairs),
                    "home_link": external_url("home.index"),
                },
                program_id=term.program_id,
                dedupe_key=f"pair_ended:assignment:{assignment.id}",
            )
        ]
    )


END_REASON_LABELS = {
    EndReason.NO_FAULT_REMATCH: "No-fault rematch",
    EndReason.TERM_OVER: "Term over",
    EndReason.LEFT_PROGRAM: "Left the program",
}


@dataclass
class MyPair:
    """A published pair as one of its two people sees it on their home page."""

    assignment: Assignment
    other: Person
    last_meeting: date | None
    this_month: CheckIn | None  # the person's own check-in for the current month, if asked
    # Opens a note to the other (the mentee's with the ready first approach: they write first).
    write_link: str = ""
    starts_on: date | None = None  # a scheduled pair's first day (its term has not begun)


def my_pairs(person: Person, now: datetime | None = None) -> list[MyPair]:
    """The person's active formal pairs, each with its last meeting and this month's check-in."""
    now = now or utc_now()
    active = _active_pairs(
        sa.or_(Assignment.mentor_id == person.id, Assignment.trainee_id == person.id)
    )
    if not active:
        return []
    ids = [a.id for a in active]
    last = dict(
        db.session.execute(
            sa.select(CheckIn.assignment_id, sa.func.max(CheckIn.met_on))
            .where(CheckIn.assignment_id.in_(ids), CheckIn.status == CheckInStatus.MET)
            .group_by(CheckIn.assignment_id)
        ).all()
    )
    month = date(now.year, now.month, 1)
    mine = {
        c.assignment_id: c
        for c in db.session.scalars(
            sa.select(CheckIn).where(
                CheckIn.assignment_id.in_(ids),
                CheckIn.person_id == person.id,
                CheckIn.period_start == month,
            )
        )
    }
    out = []
    for a in active:
        other = a.trainee if a.mentor_id == person.id else a.mentor
        ask = formal_ask(person, other, a.term.program.name) if a.trainee_id == person.id else None
        starts_on = a.started_at.date() if a.started_at > now else None
        out.append(
            MyPair(a, other, last.get(a.id), mine.get(a.id), mailto([other.email], ask), starts_on)
        )
    # Today's pairs first, then those still to begin.
    return sorted(out, key=lambda p: p.starts_on is not None)
