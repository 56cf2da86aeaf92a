"""Browser tests: the demo institution served on a free port, driven by Playwright in Debian's
Chromium (never a downloaded browser). Screenshots go to test-artifacts/screenshots/, and a
failing test's last page to test-artifacts/failures/ (CI keeps both)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from program import create_app
from program.commands import one_transaction
from program.extensions import db
from seed.demo import seed_demo
from tests.conftest import IN_CI, make_config
from tests.smtp import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
FAILURES = ARTIFACTS / "failures"
PASSWORD = "hallway-demo"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo, seeded once, served for the whole browser session."""
    from flask_migrate import upgrade

    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("CI must run the browser tests: install chromium (.ci/run does)")
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    path = tmp_path_factory.mktemp("e2e") / "demo.db"
    app = create_app(
        make_config(
            f"sqlite:///{path}",
            TESTING=False,
            DEMO=True,
            BASE_URL=base,
            MAIL_TRANSPORT="file",
            SESSION_COOKIE_SECURE=False,
            REMEMBER_COOKIE_SECURE=False,
        )
    )
    with app.app_context():
        upgrade()
        one_transaction(seed_demo)()
    with served(port, app):
        yield base
    with app.app_context():
        db.engine.dispose()


@contextmanager
def served(port: int, wsgi_app: Any) -> Iterator[None]:
    """A WSGI app served on 127.0.0.1:`port` in a thread, stopped afterwards."""
    httpd = make_server("127.0.0.1", port, wsgi_app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        httpd.shutdown()


@contextmanager
def hallway_served(folder: Path, port: int, people: list[Any], **settings: Any) -> Iterator[Any]:
    """Hallway on 127.0.0.1:`port` as a browser meets it (plain http cookies, not TESTING), on
    a SQLite database of its own in `folder`, with `settings` (an SSO provider) and `people`
    (Person objects, added once migrated); yields the app, stopped and disposed afterwards."""
    from flask_migrate import upgrade

    app = create_app(
        make_config(
            f"sqlite:///{folder / 'hallway.db'}",
            TESTING=False,
            BASE_URL=f"http://127.0.0.1:{port}",
            SESSION_COOKIE_SECURE=False,
            REMEMBER_COOKIE_SECURE=False,
            **settings,
        )
    )
    with app.app_context():
        upgrade()
        db.session.add_all(people)
        db.session.commit()
    try:
        with served(port, app):
            yield app
    finally:
        with app.app_context():
            db.engine.dispose()


@contextmanager
def opened(browser: Any, width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A page in a browser context of its own (its own cookies), closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    if getattr(request.node, "failed", False):
        FAILURES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURES / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed = True  # type: ignore[attr-defined]


def sign_in(page: Any, server: str, who: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#email", f"{who}@demo.example.edu")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Any, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def check_accessibility(page: Any) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: " + "; ".join(bad)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is slow: the fast lane (`-m "not slow"`) leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.slow)
