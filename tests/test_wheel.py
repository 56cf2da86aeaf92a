"""The README's "Running it for real", run as it stands: build the wheel, install it in a fresh
virtual environment, and from an unrelated folder upgrade an empty PostgreSQL database, create
the admin, tick, send, start the worker and serve pages with gunicorn.

The only changes to the README's block are where this machine is not a server: the virtual
environment's folder, the database's address, and gunicorn's port. SMTP is the test's server,
set in the environment as an institution sets its own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.smtp import SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent
TEST_URL = os.environ.get("TEST_DATABASE_URL", "")

on_postgres = pytest.mark.skipif(
    not TEST_URL.startswith("postgresql"), reason="the production commands run on PostgreSQL"
)

# Left out of the fast lane (`-m "not slow"`): it builds and installs the wheel.
pytestmark = pytest.mark.slow


def readme_production_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    marker = readme.index("<!-- production-commands")
    block = re.search(r"```sh\n(.*?)```", readme[marker:], flags=re.S)
    assert block, "the README's production block is missing"
    return block.group(1)


@pytest.fixture
def empty_database():
    import psycopg

    name = f"hallway_wheel_{uuid.uuid4().hex[:8]}"
    admin_url = TEST_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@on_postgres
def test_the_readme_production_commands_from_a_wheel(tmp_path, empty_database):
    dist = tmp_path / "elsewhere" / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheels = list(dist.glob("hallway-*.whl"))
    assert len(wheels) == 1
    block = readme_production_block()
    assert wheels[0].name in block, "the README names the wheel that the build makes"
    port = free_port()
    script = (
        block.replace("/opt/hallway", str(tmp_path / "venv"))
        .replace("postgresql://hallway@db.example.edu/hallway", empty_database)
        .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    )
    with SmtpServer() as smtp:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "HALLWAY_SMTP_HOST": "127.0.0.1",
            "HALLWAY_SMTP_PORT": str(smtp.port),
        }
        log = tmp_path / "production.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["bash", "-e", "-c", script],
                cwd=dist.parent,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + 420
                status = 0
                while time.monotonic() < deadline and process.poll() is None:
                    try:
                        status, page = get(f"http://127.0.0.1:{port}/login")
                    except OSError:
                        status = 0
                    if status:
                        break
                    time.sleep(0.5)
                output = log.read_text()
                assert status == 200, output[-4000:]
                assert "Sign in" in page
                assert get(f"http://127.0.0.1:{port}/static/hallway.css")[0] == 200
                assert get(f"http://127.0.0.1:{port}/how-hallway-works")[0] == 200
                assert "Administrator you@example.edu created" in output
                assert "https://mentoring.example.edu/invitation/" in output
                assert "0 prompts and 0 reminders queued" in output  # tick ran
                assert "0 sent, 0 to retry later, 0 failed." in output  # send ran
                # The worker runs in the background; its output reaches the log when it does.
                wait_until = time.monotonic() + 30
                while "Hallway worker:" not in output and time.monotonic() < wait_until:
                    time.sleep(0.2)
                    output = log.read_text()
                assert "Hallway worker: tick every 60 s" in output
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
        assert "Worker stopped: 1 ticks" in log.read_text()  # SIGTERM ended it cleanly
    installed = next((tmp_path / "venv").glob("lib/python*/site-packages/program"))
    assert (installed / "templates" / "base.html").is_file()
    assert (installed / "migrations" / "versions").is_dir()


def test_the_package_list_covers_every_sub_package():
    """pyproject.toml lists the packages by hand (templates and migrations are mapped in)."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("program", "reports", "seed")
        for path in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to pyproject.toml: {sorted(found - listed)}"
