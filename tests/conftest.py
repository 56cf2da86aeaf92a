"""Test fixtures: a fresh app per test on a real database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), a client that carries CSRF tokens like a browser, and a login helper.

Tests never keep an application context open while they make requests, so each request gets its
own database session exactly as in production; they read the database inside `app.app_context()`.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from itsdangerous import URLSafeTimedSerializer

import program.models  # noqa: F401  (registers every table on the metadata)
from program import create_app
from program.changes import DataGeneration, first_rows
from program.extensions import db
from tests.factories import Factory

TEST_SECRET = "test-secret-key-not-for-production"
IN_CI = os.environ.get("CI", "").lower() == "true"

# In CI, property tests replay the same examples each run so a result is reproducible; locally
# they explore new ones every run (and keep any failure in .hypothesis/ to replay it).
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The fast lane, `pytest -m "not slow"`, runs on every core (pytest-xdist's `-n`), each
    process on its own SQLite file; on PostgreSQL (one shared test database), with `-n` given,
    or from a worker, the run is as asked."""
    if (
        config.option.markexpr == "not slow"
        and config.pluginmanager.hasplugin("xdist")
        and not config.option.numprocesses
        and "-n" not in config.invocation_params.args
        and not os.environ.get("TEST_DATABASE_URL")
        and not os.environ.get("PYTEST_XDIST_WORKER")
        and not config.option.collectonly
    ):
        config.option.numprocesses = os.cpu_count() or 1


# The suite must pass next month and next year as it does today: CI runs the fast tests again
# with the clock moved this many days ahead (HALLWAY_TEST_DAYS_AHEAD=30, 180, 400). A test that
# needs a particular day sets it with the `time_machine` fixture, which travels from there.
DAYS_AHEAD = int(os.environ.get("HALLWAY_TEST_DAYS_AHEAD") or 0)


@pytest.fixture(scope="session", autouse=True)
def days_ahead() -> Iterator[int]:
    """Moves this process's clock (datetime, date, time) DAYS_AHEAD days into the future for
    the whole run, ticking on from there."""
    if not DAYS_AHEAD:
        yield 0
        return
    with time_machine.travel(datetime.now(UTC) + timedelta(days=DAYS_AHEAD), tick=True):
        yield DAYS_AHEAD


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hallway-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, emptied and given the models' schema once per test session."""
    url = _database_url(tmp_path_factory)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.metadata.drop_all(engine)
        db.metadata.create_all(engine)
    except sa.exc.OperationalError as exc:
        if IN_CI:
            raise
        pytest.skip(f"test database unreachable: {exc}")
    finally:
        engine.dispose()
    return url


def make_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Tests sign in far more often than a person could; the limit has its own test.
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


def empty_all_tables(app: Flask) -> None:
    with app.app_context():
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
        # The change counts' rows are part of the schema, as their migration makes them.
        db.session.execute(DataGeneration.__table__.insert(), first_rows())
        db.session.commit()
        db.engine.dispose()


def new_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    """An app on the test database with the tests' settings (and `overrides`), its instance
    folder `instance`, its test clients carrying CSRF tokens like a browser."""
    application = create_app(make_config(database_url, **overrides))
    application.instance_path = str(instance)
    application.test_client_class = CsrfClient
    return application


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = new_app(database_url, tmp_path)
    yield application
    empty_all_tables(application)


class CsrfClient(FlaskClient):
    """A test client that adds a valid CSRF token to every form it posts, as a browser would
    after loading the page. Pass `csrf=False` to post without one."""

    def open(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:
        method = kwargs.get("method", "GET").upper()
        data = kwargs.get("data")
        if csrf and method == "POST" and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """The token Flask-WTF would have put in a form for this client's session."""
        import secrets

        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        secret = self.application.config["SECRET_KEY"]
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def client(app: Flask) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory(app)


from tests.factories import PASSWORD  # noqa: E402


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def do_login(person: Any) -> FlaskClient:
        response = login(client, person.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_login


def outbox(*where: Any) -> list[Any]:
    """The outbox's messages (those matching `where`, by id), each written as the sender writes
    it just before sending (bulk mail is queued unwritten), so a test reads what it will say.
    Inside an app context."""
    from program.messages.composing import write_now
    from program.messages.models import Message

    write_now(db.session.scalars(sa.select(Message).where(Message.body_text.is_(None))).all())
    return list(db.session.scalars(sa.select(Message).where(*where).order_by(Message.id)))


def leaves_for(response: Any) -> str:
    """Where a page that leaves by itself (signing out at the institution) sends the browser."""
    found = re.search(
        r'<meta http-equiv="refresh" content="0; url=([^"]+)">', response.get_data(as_text=True)
    )
    assert response.status_code == 200 and found, response.status_code
    return unescape(found.group(1))


def text_of(response: Any) -> str:
    """The visible text of an HTML response, tags stripped and spaces folded, for assertions."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def empty_database_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    """A brand-new empty database on the same server as the test database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"hallway_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class QueryCounter:
    """Counts the SQL statements an app's engine runs while active (for "does not grow" tests)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.count = 0

    def _count(self, *args: Any) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        with self.app.app_context():
            self.engine = db.engine
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


def queries_for(client: FlaskClient, url: str) -> int:
    with QueryCounter(client.application) as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count
