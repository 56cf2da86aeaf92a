"""A mentor's own record of their mentoring over a period, for a promotion portfolio: per
program, the terms, mentees and coffee partners (counted, never named), meetings recorded and
availability offered; and how useful the people they met found it, only as an aggregate over
at least the institution's threshold of respondents, otherwise not at all.

Reads, never writes. Plain SQLAlchemy Core on a connection, like the rest of `reports/`.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember, Round
from program.db import utc_date
from program.formal.models import Assignment, Availability
from program.people.models import Department, Person
from program.programs.models import Program, Term
from reports.typeset import typeset


@dataclass
class ProgramRecord:
    program: str
    terms: list[str] = field(default_factory=list)
    mentees: int = 0  # distinct trainees in their formal pairs of the period
    formal_meetings: int = 0  # pair-months with a "we met" from either side
    coffee_partners: int = 0  # distinct people in their coffee chats of the period
    coffee_met: int = 0  # chats with a "we met" from either side
    availability: list[str] = field(default_factory=list)  # "Fall 2026: 3 places"


@dataclass
class Ratings:
    respondents: int
    ratings: int
    median: float | None  # None: no term could be counted, nothing shown
    useful_share: float | None
    terms: int = 0  # the program terms counted
    left_out: int = 0  # ended terms with ratings, not counted (too few people, or one's most)


@dataclass
class MentorRecord:
    name: str
    department: str
    stage: str
    starts: date
    ends: date
    programs: list[ProgramRecord]
    ratings: Ratings
    threshold: int
    as_of: datetime

    @property
    def totals(self) -> ProgramRecord:
        total = ProgramRecord("All programs")
        for p in self.programs:
            total.mentees += p.mentees
            total.formal_meetings += p.formal_meetings
            total.coffee_partners += p.coffee_partners
            total.coffee_met += p.coffee_met
        return total


# A chat's day: its round's, or (a chat begun by an ask) the day it was made.
CHAT_DAY = sa.func.coalesce(Round.scheduled_for, utc_date(Chat.created_at))


def _in_their_chats(stmt: sa.Select, person_id: int) -> sa.Select:
    """`stmt` (with Chat joined) kept to the chats `person_id` was in that people were told
    of: a round's once it was published, an ask's at once."""
    mine = sa.orm.aliased(ChatMember)
    return (
        stmt.join(mine, sa.and_(mine.chat_id == Chat.id, mine.person_id == person_id))
        .outerjoin(Round, Round.id == Chat.round_id)
        .where(sa.or_(Chat.round_id.is_(None), Round.published_at.is_not(None)))
    )


def mentor_record(
    conn: Connection,
    person_id: int,
    starts: date,
    ends: date,
    threshold: int,
    as_of: datetime,
    program_ids: list[int] | None = None,
) -> MentorRecord:
    """The record of `person_id` from `starts` to `ends`, in every program (or these ones)."""
    start_dt = datetime.combine(starts, time.min, UTC)
    end_dt = datetime.combine(ends, time.max, UTC)
    person = conn.execute(
        sa.select(Person.name, Person.stage, Department.name)
        .outerjoin(Department, Department.id == Person.department_id)
        .where(Person.id == person_id)
    ).one()
    in_programs = (lambda column: column.in_(program_ids)) if program_ids is not None else None

    pairs = (
        sa.select(Assignment.id, Assignment.trainee_id, Term.program_id, Term.name)
        .join(Term, Term.id == Assignment.term_id)
        .where(
            Assignment.mentor_id == person_id,
            Assignment.started_at.is_not(None),
            Assignment.started_at <= end_dt,
            sa.or_(Assignment.ended_at.is_(None), Assignment.ended_at >= start_dt),
        )
    )
    if in_programs:
        pairs = pairs.where(in_programs(Term.program_id))
    pair_rows = conn.execute(pairs).all()
    chats = _in_their_chats(
        sa.select(ChatMember.chat_id, ChatMember.person_id, Chat.program_id).join(
            Chat, Chat.id == ChatMember.chat_id
        ),
        person_id,
    ).where(ChatMember.person_id != person_id, CHAT_DAY.between(starts, ends))
    if in_programs:
        chats = chats.where(in_programs(Chat.program_id))
    chat_rows = conn.execute(chats).all()
    pair_ids = [r.id for r in pair_rows]
    chat_ids = sorted({r.chat_id for r in chat_rows})
    checks = conn.execute(
        sa.select(
            CheckIn.person_id,
            CheckIn.assignment_id,
            CheckIn.chat_id,
            CheckIn.period_start,
            sa.type_coerce(CheckIn.status, sa.String),
        ).where(
            sa.or_(CheckIn.assignment_id.in_(pair_ids), CheckIn.chat_id.in_(chat_ids)),
            CheckIn.period_start <= ends,
        )
    ).all()
    offered = sa.select(Term.program_id, Term.name, Availability.accepting, Availability.capacity)
    offered = offered.join(Term, Term.id == Availability.term_id).where(
        Availability.person_id == person_id,
        Term.starts_on <= ends,
        Term.ends_on >= starts,
        Availability.accepting.is_not(None),
    )
    if in_programs:
        offered = offered.where(in_programs(Term.program_id))
    offered_rows = conn.execute(offered.order_by(Term.starts_on)).all()
    names = dict(conn.execute(sa.select(Program.id, Program.name)).all())

    by_program: dict[int, ProgramRecord] = {}

    def of(program_id: int) -> ProgramRecord:
        return by_program.setdefault(program_id, ProgramRecord(names[program_id]))

    program_of_pair = {r.id: r.program_id for r in pair_rows}
    program_of_chat = {r.chat_id: r.program_id for r in chat_rows}
    for r in pair_rows:
        if r.name not in of(r.program_id).terms:
            of(r.program_id).terms.append(r.name)
    for program_id in {r.program_id for r in pair_rows}:
        of(program_id).mentees = len(
            {r.trainee_id for r in pair_rows if r.program_id == program_id}
        )
    for program_id in {r.program_id for r in chat_rows}:
        of(program_id).coffee_partners = len(
            {r.person_id for r in chat_rows if r.program_id == program_id}
        )
    met_pairs = {
        (c.assignment_id, c.period_start) for c in checks if c.assignment_id and c[4] == "met"
    }
    met_chats = {c.chat_id for c in checks if c.chat_id and c[4] == "met"}
    for assignment_id, _ in met_pairs:
        of(program_of_pair[assignment_id]).formal_meetings += 1
    for chat_id in met_chats:
        of(program_of_chat[chat_id]).coffee_met += 1
    for r in offered_rows:
        places = (
            f"{r.capacity} place{'s' if r.capacity != 1 else ''}"
            if r.accepting
            else "not this term"
        )
        of(r.program_id).availability.append(f"{r.name}: {places}")

    ratings = _ratings(conn, person_id, starts, ends, threshold, as_of, program_ids)
    stage = person[1]
    return MentorRecord(
        name=person[0],
        department=person[2] or "",
        stage=stage.label if stage is not None else "",
        starts=starts,
        ends=ends,
        programs=sorted(by_program.values(), key=lambda p: p.program),
        ratings=ratings,
        threshold=threshold,
        as_of=as_of,
    )


def _ratings(
    conn: Connection,
    person_id: int,
    starts: date,
    ends: date,
    threshold: int,
    as_of: datetime,
    program_ids: list[int] | None,
) -> Ratings:
    """How useful the people they met found it: the others' ratings, by whole program term.

    A record's period is any two dates, and it can be downloaded again tomorrow: ratings taken
    by the check-in would let two downloads differ by one person's rating. So ratings are
    counted a whole term at a time (a term of the period that has ended, whatever its days in
    the period), and a term in which fewer than the threshold's people rated, or one person
    gave more than half of the ratings, is not counted at all. Any two records then differ by
    whole terms, each of them resting on enough people: nobody's rating shows through."""
    ended = sa.and_(Term.ends_on < as_of.date(), Term.starts_on <= ends, Term.ends_on >= starts)
    formal = (
        sa.select(Term.id, CheckIn.person_id, CheckIn.rating)
        .join(Assignment, Assignment.id == CheckIn.assignment_id)
        .join(Term, Term.id == Assignment.term_id)
        .where(Assignment.mentor_id == person_id, ended)
    )
    coffee = _in_their_chats(
        sa.select(Term.id, CheckIn.person_id, CheckIn.rating).join(
            Chat, Chat.id == CheckIn.chat_id
        ),
        person_id,
    )
    coffee = coffee.join(
        Term,
        sa.and_(
            Term.program_id == Chat.program_id, Term.starts_on <= CHAT_DAY, Term.ends_on >= CHAT_DAY
        ),
    ).where(ended)
    if program_ids is not None:
        formal = formal.where(Term.program_id.in_(program_ids))
        coffee = coffee.where(Term.program_id.in_(program_ids))
    by_term: dict[int, list[tuple[int, int]]] = {}
    for stmt in (formal, coffee):
        for term_id, rater, rating in conn.execute(
            stmt.where(CheckIn.person_id != person_id, CheckIn.rating.is_not(None))
        ):
            by_term.setdefault(term_id, []).append((rater, rating))
    counted: list[tuple[int, int]] = []
    left_out = 0
    for given in by_term.values():
        per_person = Counter(rater for rater, _ in given)
        if len(per_person) >= threshold and 2 * max(per_person.values()) <= len(given):
            counted += given
        else:
            left_out += 1
    if not counted:
        return Ratings(0, 0, None, None, 0, left_out)
    values = [rating for _, rating in counted]
    return Ratings(
        respondents=len({rater for rater, _ in counted}),
        ratings=len(values),
        median=statistics.median(values),
        useful_share=sum(v >= 4 for v in values) / len(values),
        terms=len(by_term) - left_out,
        left_out=left_out,
    )


def _ratings_line(record: MentorRecord) -> str:
    r = record.ratings
    rule = (
        f"Ratings are counted a whole term at a time, for terms that have ended, and only "
        f"where at least {record.threshold} people rated and no one gave most of the ratings, "
        "so that no one's rating can be told from the rest."
    )
    if r.median is None:
        return f"Not shown: no term of the period can be counted. {rule}"
    terms = f"{r.terms} term{'s' if r.terms != 1 else ''}"
    left = f" {r.left_out} more not counted." if r.left_out else ""
    return (
        f"Median {r.median:g} of 5 from {r.ratings} ratings by {r.respondents} people over "
        f"{terms}; {r.useful_share:.0%} rated 4 or 5.{left} {rule}"
    )


def record_csv(record: MentorRecord) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["program", "item", "value"])
    for p in [*record.programs, record.totals]:
        writer.writerow([p.program, "formal mentees", p.mentees])
        writer.writerow([p.program, "formal meetings recorded", p.formal_meetings])
        writer.writerow([p.program, "coffee-chat partners", p.coffee_partners])
        writer.writerow([p.program, "coffee chats that met", p.coffee_met])
        for term in p.terms:
            writer.writerow([p.program, "term mentored", term])
        for line in p.availability:
            writer.writerow([p.program, "availability offered", line])
    writer.writerow(["All programs", "usefulness rating", _ratings_line(record)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def record_pdf(record: MentorRecord, institution: str) -> bytes:
    """The record as a tagged PDF (PDF/UA-1, PDF/A-2a; see `reports.typeset`)."""
    who = ", ".join(x for x in (record.stage, record.department) if x)
    data = {
        "title": f"Mentoring record: {record.name}",
        "institution": institution,
        "subject": "Mentoring record for a promotion portfolio",
        "who": f"{who}{' · ' if who else ''}{institution}",
        "period": f"{record.starts:%d %B %Y} to {record.ends:%d %B %Y}",
        "header": [
            "Program",
            "Formal mentees",
            "Meetings recorded",
            "Coffee partners",
            "Chats met",
        ],
        "rows": [
            [
                p.program,
                str(p.mentees),
                str(p.formal_meetings),
                str(p.coffee_partners),
                str(p.coffee_met),
            ]
            for p in [*record.programs, record.totals]
        ],
        "terms": [
            f"{p.program}: mentored in {', '.join(p.terms) or 'no formal pair in the period'}. "
            f"Availability: {'; '.join(p.availability) or 'not asked in the period'}."
            for p in record.programs
        ],
        "ratings": _ratings_line(record),
        "method": (
            "Counts come from Hallway's records: formal pairs published by the program, coffee "
            "chats from rounds or from asks answered yes, and meetings recorded in check-ins "
            "(“we met”, by either person; a formal pair counts once a month). Mentees and "
            "partners are counted, never named. Ratings are private to those who gave them and "
            f"appear only as an aggregate of at least {record.threshold} people."
        ),
        "generated": f"Generated by Hallway from data as of {record.as_of:%Y-%m-%d %H:%M} UTC.",
        "footer": f"{institution} · data as of {record.as_of:%Y-%m-%d %H:%M} UTC",
    }
    return typeset("record", data, record.as_of)
