"""Signed one-click links in e-mails: answers to check-ins and availability, invitations, resets.

A link carries its payload signed with the app's secret and a purpose, and expires.
Invitation and password-reset links use the person's security stamp as their version. A payload
includes a version of the record it answers, so a link stops working once the record has been
answered: that is how "reused" is told apart from "genuine".
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkRefused(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem  # "expired", "invalid" or "used"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], purpose)


@functools.lru_cache(maxsize=16)
def _serializer_for(secret: str, purpose: str) -> URLSafeTimedSerializer:
    # Cached: a roster import signs thousands of invitation links with the same key.
    return URLSafeTimedSerializer(secret, salt=f"hallway-{purpose}")


def version(record_id: int, changed_at: datetime | None) -> str:
    """Changes whenever the record's answer changes."""
    stamp = changed_at.isoformat() if changed_at else "unanswered"
    return hashlib.sha256(f"{record_id}:{stamp}".encode()).hexdigest()[:16]


def sign(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, max_age: timedelta) -> dict[str, Any]:
    """The payload of a genuine, unexpired link; LinkRefused otherwise."""
    try:
        data = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise LinkRefused("expired") from exc
    except BadSignature as exc:
        raise LinkRefused("invalid") from exc
    if not isinstance(data, dict):
        raise LinkRefused("invalid")
    return data
