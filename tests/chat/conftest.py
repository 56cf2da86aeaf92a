"""The chat tools' tests: a real SMTP server for what goes by e-mail, and a tool turned on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from program.extensions import db
from program.institution import stored_settings
from tests.smtp import SmtpServer


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        app.config.update(server.config())
        yield server


def turned_on(app: Flask, stand_in: Any, tool: str) -> Any:
    """The app pointed at the stand-in of `tool`, and the institution's chat tool set to it."""
    app.config.update(stand_in.config())
    with app.app_context():
        stored_settings().chat_tool = tool
        db.session.commit()
    return stand_in
