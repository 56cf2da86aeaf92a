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


def _check_in_figures(conn: Connection, pair_column: sa.Column, pairs: sa.Select) -> sa.Row:
    """Asked, answered, rated, rated 4 or 5, and pairs with a "we met", over the check-ins of
    `pairs` (a select of pair ids), in one query."""
    return conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(CheckIn.status),
            sa.func.count(CheckIn.rating),
            sa.func.count(sa.case((CheckIn.rating >= 4, 1))),
            sa.func.count(sa.distinct(sa.case((CheckIn.status == "met", pair_column)))),
        ).where(pair_column.in_(pairs))
    ).one()


def glance(conn: Connection, scope: Scope) -> Computed:
    """The five headline figures of each track (see the module's docstring), as report rows."""
    out = Computed()
    start_dt = datetime.combine(scope.starts, time.min, UTC)
    end_dt = datetime.combine(scope.ends, time.max, UTC)

    formal = sa.select(Assignment.id, Assignment.mentor_id, Assignment.trainee_id).where(
        Assignment.term_id.in_(scope.term_ids), Assignment.started_at.is_not(None)
    )
    pairs = formal.subquery()
    n_pairs = conn.scalar(sa.select(sa.func.count()).select_from(pairs))
    people = sa.union(sa.select(pairs.c.mentor_id), sa.select(pairs.c.trainee_id)).subquery()
    taking = conn.scalar(sa.select(sa.func.count()).select_from(people))
    asked, answered, rated, useful, met = _check_in_figures(
        conn, CheckIn.assignment_id, sa.select(pairs.c.id)
    )
    _track(out, "formal", taking, n_pairs, met, asked, answered, rated, useful)

    members = (
        sa.select(ChatMember.chat_id, ChatMember.person_id, Person.is_guest)
        .join(Person, Person.id == ChatMember.person_id)
        .where(ChatMember.chat_id.in_(chats_between(scope.program_ids, scope.starts, scope.ends)))
        .subquery()
    )
    n_chats = conn.scalar(sa.select(sa.func.count(sa.distinct(members.c.chat_id))))
    enrolled = sa.select(Enrollment.person_id).where(
        Enrollment.program_id.in_(scope.program_ids),
        Enrollment.enrolled_at <= end_dt,
        sa.or_(Enrollment.withdrawn_at.is_(None), Enrollment.withdrawn_at >= start_dt),
    )
    # Guests are in the chats, never among the people of the track.
    people = sa.union(
        enrolled, sa.select(members.c.person_id).where(members.c.is_guest.is_(False))
    ).subquery()
    taking = conn.scalar(sa.select(sa.func.count()).select_from(people))
    asked, answered, rated, useful, met = _check_in_figures(
        conn, CheckIn.chat_id, sa.select(members.c.chat_id)
    )
    _track(out, "coffee", taking, n_chats, met, asked, answered, rated, useful)
    return out


def _track(
    out: Computed,
    track: str,
    taking: int,
    n_pairs: int,
    met: int,
    asked: int,
    answered: int,
    rated: int,
    useful: int,
) -> None:
    out.rows += [
        count_row(track, "all", "All", "taking_part", taking),
        count_row(track, "all", "All", "pairs_formed", n_pairs),
        proportion_row(track, "all", "All", "pairs_met", met, n_pairs),
        proportion_row(track, "all", "All", "response_rate", answered, asked),
        proportion_row(track, "all", "All", "useful", useful, rated),
    ]
