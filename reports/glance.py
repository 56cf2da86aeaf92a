"""The coordinator's dashboard figures for one term at a glance, worked out by aggregate queries
in the database: taking part, pairs (and chats) formed, pairs that met, the check-in response
rate and "rated useful", for each track.

The semester report reads every row of the term to compute its full set of metrics; the
dashboard, opened many times a day, needs only these five, and reading 60,000 check-ins into
Python for them took seconds at the size of a medical school. The definitions are the report's
own (`reports/metrics.py`, scoped like `reports/data.load`), and a test checks that both give
the same numbers on the same data.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from program.checkins.models import CheckIn
from program.coffee.models import ChatMember, Enrollment
from program.formal.models import Assignment
from program.people.models import Person
from reports.data import Scope, chats_between
from reports.metrics import Computed, count_row, proportion_row


def _figures(conn: Connection, pairs: sa.CTE, pair_column: sa.Column, people: sa.Select) -> sa.Row:
    """Taking part, pairs, asked, answered, rated, rated 4 or 5, and pairs with a "we met", in
    one statement: `pairs` (a CTE of pair ids as `id`) is read once, however many figures
    read it. (Three queries each worked it out again: the glance took 170-240 ms at 10,000
    people, and 95-125 ms so.)"""
    taking = sa.select(sa.func.count()).select_from(people.subquery()).scalar_subquery()
    n_pairs = sa.select(sa.func.count()).select_from(pairs).scalar_subquery()
    check_ins = (
        sa.select(
            sa.func.count(),
            sa.func.count(CheckIn.status),
            sa.func.count(CheckIn.rating),
            sa.func.count(sa.case((CheckIn.rating >= 4, 1))),
            sa.func.count(sa.distinct(sa.case((CheckIn.status == "met", pair_column)))),
        )
        # A join, not IN: the planner then knows how many pairs there are (a hash join, not
        # one index probe per pair). The ids are unique, so it counts each check-in once.
        .join(pairs, pairs.c.id == pair_column)
        .subquery()
    )
    return conn.execute(sa.select(taking, n_pairs, *check_ins.c)).one()


def glance(conn: Connection, scope: Scope) -> Computed:
    """The five headline figures of each track (see the module's docstring), as report rows."""
    out = Computed()
    start_dt = datetime.combine(scope.starts, time.min, UTC)
    end_dt = datetime.combine(scope.ends, time.max, UTC)

    pairs = (
        sa.select(Assignment.id, Assignment.mentor_id, Assignment.trainee_id)
        .where(Assignment.term_id.in_(scope.term_ids), Assignment.started_at.is_not(None))
        .cte("formal_pairs")
    )
    people = sa.union(sa.select(pairs.c.mentor_id), sa.select(pairs.c.trainee_id))
    _track(out, "formal", *_figures(conn, pairs, CheckIn.assignment_id, people))

    chats = chats_between(scope.program_ids, scope.starts, scope.ends).cte("chats")
    members = sa.select(ChatMember.person_id).join(chats, chats.c.id == ChatMember.chat_id)
    enrolled = sa.select(Enrollment.person_id).where(
        Enrollment.program_id.in_(scope.program_ids),
        Enrollment.enrolled_at <= end_dt,
        sa.or_(Enrollment.withdrawn_at.is_(None), Enrollment.withdrawn_at >= start_dt),
    )
    # Guests are in the chats, never among the people of the track.
    guests = sa.select(Person.id).where(Person.is_guest.is_(True))
    people = sa.union(enrolled, members.where(ChatMember.person_id.not_in(guests)))
    _track(out, "coffee", *_figures(conn, chats, CheckIn.chat_id, people))
    return out


def _track(
    out: Computed,
    track: str,
    taking: int,
    n_pairs: int,
    asked: int,
    answered: int,
    rated: int,
    useful: int,
    met: int,
) -> None:
    out.rows += [
        count_row(track, "all", "All", "taking_part", taking),
        count_row(track, "all", "All", "pairs_formed", n_pairs),
        proportion_row(track, "all", "All", "pairs_met", met, n_pairs),
        proportion_row(track, "all", "All", "response_rate", answered, asked),
        proportion_row(track, "all", "All", "useful", useful, rated),
    ]
