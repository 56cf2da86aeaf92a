"""Database foundations shared by every domain: naming convention, UTC time, common columns.

Constraint names come from one convention so that Alembic migrations name them the same way on
SQLite and PostgreSQL, and so that a later migration can drop a constraint by name.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


T = TypeVar("T")
CHUNK = 500  # rows per IN (...) query: well under every database's parameter limit


def chunks(items: list[T]) -> Iterator[list[T]]:
    """`items` in slices of CHUNK, for IN (...) lists that thousands of ids would overflow."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def by_id(session: Any, model: Any, ids: Iterable[int], *options: Any) -> dict[int, Any]:
    """The rows of `model` with these ids, by id, loaded a chunk at a time with `options`."""
    return {
        row.id: row
        for chunk in chunks(sorted(set(ids)))
        for row in session.scalars(sa.select(model).where(model.id.in_(chunk)).options(*options))
    }


# C0 control characters and DEL, less tab, line feed and carriage return: no name, note or
# address has them, PostgreSQL cannot store NUL in text, and they hide text in pages and files.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _RowContext:
    """What a column default that reads its row (`context.get_current_parameters()`) sees."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.current_parameters = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


WRITTEN = "hallway.written"  # a session's info key: the tables its transaction wrote around it


def insert_rows(
    session: Any, model: Any, rows: list[dict[str, Any]], *, ids: bool = False
) -> list[int]:
    """Insert many rows at once, in the session's transaction, with the columns' defaults;
    with `ids`, return the new rows' ids in the order given (else an empty list).

    On PostgreSQL the rows go through COPY: a row inserted by an executemany costs a statement
    each (about 0.2 ms here, so 2 s for a round's 10,000 introductions), COPY a tenth of that;
    the ids are drawn from the table's sequence first. Always COPY there, whatever the number
    of rows, so that one path is the tested one. Elsewhere one bulk INSERT.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        if not ids:
            session.execute(sa.insert(model), rows)
            return []
        stmt = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
        return [found for chunk in chunks(rows) for found in session.scalars(stmt, chunk)]
    # As the ORM's INSERT would: pending objects the rows may refer to are written first.
    session.flush()
    table = model.__table__
    new_ids: list[int] = []
    if ids:
        new_ids = list(
            session.scalars(
                sa.select(
                    sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id"))
                ).select_from(sa.func.generate_series(1, len(rows)))
            )
        )
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, new_ids, strict=True)]
    given = {key for row in rows for key in row}
    columns = [c for c in table.columns if c.key in given or c.default is not None]
    # Each value as an INSERT would bind it: defaults filled in, enums and JSON converted.
    steps = [(c.key, c.default, c.type._cached_bind_processor(dialect)) for c in columns]

    def values(row: dict[str, Any]) -> list[Any]:
        out = []
        for key, default, process in steps:
            if key in row:
                found = row[key]
            elif default is None:
                found = None
            else:
                found = default.arg(_RowContext(row)) if default.is_callable else default.arg
            out.append(found if process is None or found is None else process(found))
        return out

    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    # The session sees no statement of a COPY: it is told (see program/changes.py).
    session.info.setdefault(WRITTEN, set()).add(table.name)
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(values(row))
    return new_ids


def insert_new(
    session: Any, model: Any, rows: list[dict[str, Any]], key: str, returning: Any
) -> list[Any]:
    """Insert the rows whose unique `key` no row holds yet, in one statement, and return the
    `returning` column of those inserted: the rest are skipped (a concurrent request's too)
    rather than refusing the transaction. For the few rows of a hot path, where a SELECT of
    the keys, then an INSERT, costs a round trip more."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:  # pragma: no cover  (Hallway runs on these two)
        raise NotImplementedError(dialect)
    # On the table, not the mapped class: a Core statement skips the ORM's bulk-insert
    # machinery, most of the cost of so small a write.
    stmt = (
        insert(model.__table__)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(returning.property.columns[0])
    )
    return list(session.scalars(stmt, rows))


def name_key(name: str) -> str:
    """What makes two names the same name: case and spacing aside, in every alphabet.

    Computed here rather than with the database's lower(), which is ASCII-only on SQLite.
    """
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC. Used as a callable column default."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always stored and returned as an aware UTC datetime.

    SQLite keeps no time zone, so values come back naive; this puts UTC back on them and refuses
    naive values on the way in, so a local time can never be stored by mistake.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use program.db.utc_now() or an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(sa.types.TypeDecorator):
    """JSON kept as text: for a column of a table that queries select DISTINCT rows of
    (PostgreSQL's json type has no equality, so such a query would fail once it has one)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class utc_date(sa.sql.functions.GenericFunction[date]):
    """The UTC calendar day of a stored UTCDateTime, in SQL: what `value.date()` gives in
    Python, on both databases (PostgreSQL's session time zone plays no part)."""

    type = sa.Date()
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    # SQLite keeps the UTC time as text ("2026-11-23 14:55:12.000000"); date() reads it.
    return f"date({compiler.process(element.clauses, **kw)})"


TEXT_DIGEST_BITS = 28


class text_digest(sa.sql.functions.GenericFunction[int]):
    """A number from every character of a text (the first 28 bits of its SHA-256), in SQL, for
    checksums that must change when a text does and not only when its length does. Summed
    over many rows it stays far inside 64 bits. (SHA-256 rather than MD5: PostgreSQL refuses
    md5() on a server in FIPS mode, as hospitals' servers may be.)"""

    type = sa.Integer()
    inherit_cache = True


@compiles(text_digest, "postgresql")
def _text_digest_postgresql(element: text_digest, compiler: Any, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    hex_digits = TEXT_DIGEST_BITS // 4
    digest = f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
    return f"('x' || substr({digest}, 1, {hex_digits}))::bit({TEXT_DIGEST_BITS})::integer"


@compiles(text_digest, "sqlite")
def _text_digest_sqlite(element: text_digest, compiler: Any, **kw: Any) -> str:
    # SQLite has no hash function: Hallway gives each connection this one (below).
    return f"hallway_text_digest({compiler.process(element.clauses, **kw)})"


def _text_digest(text: str | None) -> int | None:
    if text is None:
        return None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return int(digest[: TEXT_DIGEST_BITS // 4], 16)


def str_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: stored as its string values, guarded by a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, nullable=False)


class DomainError(Exception):
    """A rule of the domain was broken by the input; the message is safe to show to the user.

    `field` names the form field the message belongs next to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite checks foreign keys only when asked to, per connection; Hallway always asks."""
    # journal_mode=WAL is a property of the file; in-memory databases simply keep "memory".
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # Write-ahead logging: readers (the web pages) and one writer (the mail worker) at once,
        # and a commit per sent message costs no full disk sync.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("hallway_text_digest", 1, _text_digest, deterministic=True)


def partial_unique_index(name: str, *columns: str, where: str) -> sa.Index:
    """A unique index over the rows matching `where`, on SQLite and PostgreSQL alike."""
    return sa.Index(
        name,
        *columns,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def escape_like(text: str) -> str:
    """Text for a LIKE pattern (with ESCAPE '\\'), so % and _ typed by a user match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
