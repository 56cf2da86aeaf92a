"""Counts of the committed changes to what the reports read and what pairs are judged from, so
that a page can tell in one query that nothing it depends on has moved since it last looked.

Knowing the state of a term's data exactly (`reports.data.data_state`: the latest change, how
many rows of each kind) reads every check-in of the term and the terms before it, about 0.1 s
at 50,000 people; judging a term's pairs reads every check-in of the term, about 0.1 s for
5,000 pairs. Both were paid on every request of the pages that show them. Instead, every
transaction that writes what a topic counts adds one to the topic's row of `data_generation`
as it commits; a process keeps what it found under the generation it found it at, and works
it out again only when the generation has moved.

What each topic counts is declared by who reads it (`watch`, called as the app is put together:
`program/wiring.py`). Every write goes through the session: the ORM's flush, a statement run
with `Session.execute`, and the bulk inserts of `program.db` (a COPY, which notes its table in
the session's `WRITTEN`). A write made around the session (by hand, in SQL) is not counted: the
next counted write, or a restart, brings it in.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from program.db import WRITTEN
from program.extensions import db
from program.kept import Kept, kept

# What is counted, each apart: a write to a pair's check-ins moves both, a sign-in neither.
REPORTS = "reports"  # what a report's data state reads (reports/data.py)
PAIRS = "pairs"  # what a term's pairs are judged from (program/formal/pairs.py)
POOL = "pool"  # what a coffee round's preview is made from (program/coffee/pool.py)
TOPICS = (REPORTS, PAIRS, POOL)

# Per topic, the tables it counts, each with the columns whose change counts (None: any).
T = TypeVar("T")

_WATCHED: dict[str, dict[str, frozenset[str] | None]] = {topic: {} for topic in TOPICS}
_CHANGED = "hallway.changed_topics"  # the session's info key: topics its transaction moved


class DataGeneration(db.Model):
    """A row per topic, there from the table's creation: how many committed transactions have
    written what the topic counts, and a token drawn when the row was made (a database emptied
    and made again counts from 0 again: its token tells its generations from the old one's)."""

    __tablename__ = "data_generation"

    topic: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    epoch: Mapped[str] = mapped_column(sa.String(32))


def first_rows() -> list[dict[str, Any]]:
    return [{"topic": t, "generation": 0, "epoch": secrets.token_hex(16)} for t in TOPICS]


@event.listens_for(DataGeneration.__table__, "after_create")
def _made(table: sa.Table, connection: Connection, **_: Any) -> None:
    # The rows are made with the table (here for create_all, in the migration for a
    # deployment), so that the first writers of a new database never race to insert them.
    connection.execute(table.insert(), first_rows())


def watch(topic: str, tables: Iterable[str | tuple[str, Iterable[str]]]) -> None:
    """Count, under `topic`, writes to these tables (by name), or only to some of a table's
    columns: ("person", ("name",)) counts a rename, not a sign-in's time. A statement run
    through the session counts whatever columns it sets."""
    for table in tables:
        name, columns = (table, None) if isinstance(table, str) else table
        _WATCHED[topic][name] = None if columns is None else frozenset(columns)


def generation(conn: Connection, topic: str) -> tuple[str, int]:
    """The topic's committed generation as `conn` sees it, with its row's token."""
    found = conn.execute(
        sa.select(DataGeneration.epoch, DataGeneration.generation).where(
            DataGeneration.topic == topic
        )
    ).one_or_none()
    # No row (removed by hand): nothing can be kept under it, every reading is new.
    return (found[0], found[1]) if found else (secrets.token_hex(16), 0)


def unsettled(session: Session, topic: str) -> bool:
    """Whether the session's transaction has written (and flushed) what `topic` counts: what
    was kept under the committed generation does not show its own writes."""
    return topic in session.info.get(_CHANGED, set()) or bool(
        session.info.get(WRITTEN, set()) & set(_WATCHED[topic])
    )


def current_key(key: Hashable, topic: str) -> tuple[Hashable, tuple[str, int]] | None:
    """`key` with `topic`'s committed generation: what to keep a result of the request's
    session under. None while the session's own transaction has written what the topic counts
    (whatever was kept under the committed generation would not show those writes)."""
    session = db.session
    session.flush()
    if unsettled(session, topic):
        return None
    return key, generation(session.connection(), topic)


def kept_until_changed(
    topic: str, kind: str, key: Hashable, make: Callable[[], T], *, size: int = Kept.SIZE
) -> T:
    """`make()`, kept in this process (`kind`, its latest `size`) under `key` and the topic's
    committed generation, so made again only once a write to what it reads is committed; made
    fresh, and not kept, while the session's own transaction has written it."""
    full = current_key(key, topic)
    if full is None:
        return make()
    store = kept(kind, shared=False, size=size)
    found = store.get(full)
    if found is None:
        found = make()
        store.put(full, found)
    return found


def _note(session: Session, table: str | None, changed: Any = None) -> None:
    """Note the topics a write to `table` moves; `changed(columns)` tells whether any of those
    columns changed (None: count the write whatever it set)."""
    for topic, tables in _WATCHED.items():
        if table in tables:
            columns = tables[table]
            if columns is None or changed is None or changed(columns):
                session.info.setdefault(_CHANGED, set()).add(topic)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    for instance in (*session.new, *session.deleted):
        _note(session, getattr(type(instance), "__tablename__", None))
    for instance in session.dirty:
        state = sa.inspect(instance)

        def changed(columns: frozenset[str], state: Any = state) -> bool:
            return any(state.attrs[c].history.has_changes() for c in columns if c in state.attrs)

        _note(session, getattr(type(instance), "__tablename__", None), changed)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: Any) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    changed = None  # an insert, a delete, or values given at execution: any column
    given = getattr(state.statement, "_values", None) if state.is_update else None
    if given:
        names = {k if isinstance(k, str) else getattr(k, "name", str(k)) for k in given}

        def changed(columns: frozenset[str]) -> bool:
            return bool(names & columns)

    _note(state.session, table, changed)


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    # What is still pending is flushed after this hook: flush it now, so that it counts.
    session.flush()
    for table in session.info.pop(WRITTEN, set()):
        _note(session, table)
    topics = session.info.pop(_CHANGED, set())
    if topics:
        session.execute(
            sa.update(DataGeneration)
            .where(DataGeneration.topic.in_(sorted(topics)))
            .values(generation=DataGeneration.generation + 1)
        )


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(WRITTEN, None)
