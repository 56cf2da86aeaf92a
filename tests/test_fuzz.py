"""Hostile input on every route: no server error, and a refusal writes nothing.

Hypothesis drives every POST route (signed in with a role that may use it, with a valid CSRF
token) with hostile values in every form field any Hallway form has, and every GET route with
hostile query values, and every route's path parameters with hostile values: NUL and other
control characters, huge numbers, long and mixed-script text, malformed dates. A 500 anywhere
fails the test, and so does any write by a request that was refused (4xx).

Derandomised in CI (the "ci" profile); a fixed number of examples per route keeps it near a
minute on each database.
"""

from __future__ import annotations

import inspect
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from program.extensions import db
from tests.conftest import login
from tests.test_permissions import ROLES, STATIC_ENDPOINTS, matrix, world  # noqa: F401

# Left out of the fast lane (`-m "not slow"`): hypothesis posts to every route.
pytestmark = pytest.mark.slow

HOSTILE_WORDS = [
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\x7f",
    "9" * 400,
    "-" + "9" * 30,
    "2147483648",
    "99999999999999999999999999999",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Ärzte",
    "ÄRZTE",
    "ΟΔΟΣ",
    "İstanbul",
    "Łódź 北京 Nguyễn Thị Minh Khai",
    "\u202eevil",
    "x" * 5000,
    "0000-00-00",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "'; DROP TABLE person;--",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "josé@exämple.edu",
    "a@b",
    "",
    " ",
]
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_WORDS),
    st.text(max_size=200),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.dates().map(str),
)

QUERY_KEYS = ["page", "q", "action", "term", "program", "to", "do", "next", "format", "token"]


def form_field_names() -> list[str]:
    """Every field name of every form class in Hallway."""
    names: set[str] = set()
    modules = [
        m for name, m in list(__import__("sys").modules.items()) if name.startswith("program")
    ]
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls.__module__.startswith("program"):
                for attribute, value in vars(cls).items():
                    if isinstance(value, UnboundField):
                        names.add(attribute)
    return sorted(names)


def allowed_role(expected: dict) -> str | None:
    for role in ROLES:
        if expected.get(role) in (200, 302):
            return role
    return None


def signed_in(app, world, role):  # noqa: F811
    client = app.test_client()
    if role and role != "anonymous":
        assert login(client, world["people"][role].email).status_code == 302
    return client


REQUESTS = {"count": 0}


@pytest.fixture(scope="module", autouse=True)
def count_requests():
    """How many hostile requests this file sent, in the log (pytest -s), for the closing note."""
    yield
    print(f"\nfuzz: {REQUESTS['count']} hostile requests sent")


class Writes:
    """Whether a request committed a write: a statement that changes rows, then a commit, on
    the app's engine; and each table's rows, counted in one statement, for what bypasses the
    statement events (COPY). Cheaper than reading every row of every table before and after
    each request (`snapshot`), which ran a query per table each time."""

    CHANGES = ("INSERT", "UPDATE", "DELETE", "MERGE")

    def __init__(self, app) -> None:
        with app.app_context():
            self.engine = db.engine
        self.counts = sa.select(
            *(
                sa.select(sa.func.count()).select_from(table).scalar_subquery()
                for table in db.metadata.sorted_tables
            )
        )
        self.changed = self.committed = False

    def count(self) -> tuple:
        with self.engine.connect() as conn:
            return tuple(conn.execute(self.counts).one())

    def _statement(self, conn, cursor, statement: str, *args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in self.CHANGES:
            self.changed = True

    def _commit(self, conn) -> None:
        self.committed = self.committed or self.changed
        self.changed = False

    def _rollback(self, conn) -> None:
        self.changed = False

    def __enter__(self) -> Writes:
        self.changed = self.committed = False
        for name, fn in self.EVENTS:
            sa.event.listen(self.engine, name, getattr(self, fn))
        return self

    def __exit__(self, *exc) -> None:
        for name, fn in self.EVENTS:
            sa.event.remove(self.engine, name, getattr(self, fn))

    EVENTS = (
        ("before_cursor_execute", "_statement"),
        ("commit", "_commit"),
        ("rollback", "_rollback"),
    )


def check(app, client, method: str, url: str, **kwargs) -> None:
    REQUESTS["count"] += 1
    writes = app.extensions.setdefault("tests.writes", Writes(app))
    before = writes.count()
    with writes:
        response = client.open(url, method=method, **kwargs)
    assert response.status_code != 500, f"{method} {url} {kwargs}"
    if 400 <= response.status_code < 500:
        assert not writes.committed, f"a refused {method} {url} wrote something"
        assert writes.count() == before, f"a refused {method} {url} wrote something"


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def routes(app, world):  # noqa: F811
    return [
        (endpoint, method, url, data, allowed_role(expected))
        for endpoint, method, url, data, expected in matrix(world)
    ]


@SETTINGS
@given(values=st.lists(HOSTILE, min_size=40, max_size=40))
def test_every_post_route_with_hostile_form_values(app, world, routes, values):  # noqa: F811
    fields = form_field_names()
    assert len(fields) > 20, "the form fields were not found"
    clients: dict = {}
    for _endpoint, method, url, _data, role in routes:
        if method != "POST":
            continue
        client = clients.get(role) or clients.setdefault(role, signed_in(app, world, role))
        data = {name: values[i % len(values)] for i, name in enumerate(fields)}
        check(app, client, "POST", url, data=data)
        if _endpoint == "accounts.logout":
            clients.pop(role)  # signed out everywhere: the routes after it sign in again


@SETTINGS
@given(values=st.lists(HOSTILE, min_size=len(QUERY_KEYS), max_size=len(QUERY_KEYS)))
def test_every_get_route_with_hostile_query_values(app, world, routes, values):  # noqa: F811
    clients: dict = {}
    fields = form_field_names()
    for _endpoint, method, url, _data, role in routes:
        if method != "GET":
            continue
        client = clients.get(role) or clients.setdefault(role, signed_in(app, world, role))
        query = {key: values[i] for i, key in enumerate(QUERY_KEYS)}
        query.update({name: values[i % len(values)] for i, name in enumerate(fields)})
        check(app, client, "GET", url, query_string=query)


@pytest.mark.parametrize("value", [" ", "\t \n", "9" * 309, "-" + "9" * 400])
def test_every_field_and_query_value_of_every_route_takes_blanks_and_huge_numbers(
    app,
    world,  # noqa: F811
    routes,
    value,
):
    """Not left to chance: every form field and query value of every route at once, as spaces
    alone (a stage filter of one space was a server error) and as a number too long for any
    field (309 digits overflowed a float in a range check)."""
    fields = form_field_names()
    clients: dict = {}
    for _endpoint, method, url, _data, role in routes:
        client = clients.get(role) or clients.setdefault(role, signed_in(app, world, role))
        values = dict.fromkeys([*fields, *QUERY_KEYS, "stage", "role", "track", "cohort"], value)
        if method == "POST":
            check(app, client, "POST", url, data=values)
            if _endpoint == "accounts.logout":
                clients.pop(role)  # signed out everywhere: the routes after it sign in again
        else:
            check(app, client, "GET", url, query_string=values)


@SETTINGS
@given(value=HOSTILE)
def test_every_route_with_hostile_path_values(app, world, value):  # noqa: F811
    client = signed_in(app, world, "admin")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in STATIC_ENDPOINTS or not rule.arguments:
            continue
        url = re.sub(r"<[^>]+>", quote(value, safe="") or "x", rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            check(app, client, method, url)


@pytest.mark.parametrize("how", ["statement", "copy"])
def test_the_check_finds_a_refused_request_that_wrote(app, client, how):
    """The oracle itself: a route that commits a row and then answers 400 fails `check`,
    whether it wrote by a statement or by what bypasses the statement events."""
    from program.audit.models import AuditEvent
    from program.db import insert_rows

    def writes_then_refuses():
        row = {"action": "fuzz.oracle", "object_type": "test", "summary": "a refused request"}
        if how == "statement":
            db.session.add(AuditEvent(**row))
        else:
            insert_rows(db.session, AuditEvent, [row])
        db.session.commit()
        return "refused", 400

    app.add_url_rule("/oracle", "oracle", writes_then_refuses)
    with pytest.raises(AssertionError, match="wrote something"):
        check(app, client, "GET", "/oracle")


def test_every_form_refuses_a_number_too_long_in_words_and_strips_all_but_passwords(app):
    from program.accounts.forms import LoginForm
    from program.coffee.forms import RoundForm

    with app.test_request_context(method="POST", data={"seed": "9" * 309}):
        form = RoundForm(meta={"csrf": False})
        assert not form.validate()
        assert form.seed.errors == ["Enter a whole number of at most 15 digits."]
    with app.test_request_context(method="POST", data={"seed": " 42 "}):
        form = RoundForm(meta={"csrf": False})
        form.validate()
        assert form.seed.data == 42 and not form.seed.errors
    with app.test_request_context(
        method="POST", data={"email": "  ada@example.edu ", "password": " pass phrase "}
    ):
        form = LoginForm(meta={"csrf": False})
        assert form.email.data == "ada@example.edu"
        assert form.password.data == " pass phrase "  # a password is taken as typed
