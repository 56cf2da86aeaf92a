"""Links that leave the app: absolute URLs for e-mails, and the signed one-click links they carry
(answers to check-ins and availability, invitations, resets, unsubscribes).

This is the ground floor: services build and read links here, never through the web layer.

A link carries its payload signed with the app's secret and a purpose, and expires.
Invitation and password-reset links use the person's security stamp as their version. A payload
includes a version of the record it answers, so a link stops working once the record has been
answered: that is how "reused" is told apart from "genuine".
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from program.extensions import db

R = TypeVar("R")


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under BASE_URL, for e-mails, which are written outside any request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


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


def record(model: type[R], data: dict[str, Any], key: str, *options: Any) -> R:
    """The `model` row whose id the link's `data[key]` names; refused as "invalid" when the id
    is missing, not a whole number, or names nothing (deleted since)."""
    record_id = data.get(key)
    found = (
        db.session.get(model, record_id, options=options or None)
        if isinstance(record_id, int) and not isinstance(record_id, bool)
        else None
    )
    if found is None:
        raise LinkRefused("invalid")
    return found


def read_record(
    purpose: str,
    token: str,
    max_age: timedelta,
    model: type[R],
    key: str,
    *,
    owner: str | None = None,
    valid: Callable[[R, dict[str, Any]], bool] | None = None,
    version: Callable[[R], str] | None = None,
    version_key: str = "v",
    options: tuple[Any, ...] = (),
) -> tuple[R, dict[str, Any]]:
    """What a one-click link stands for, checked whole: genuine and fresh for its `purpose`
    (`read`), its record loaded (`record`), owned by the person it was sent to (the record's
    `person_id` equals the link's "p", when `owner` names that attribute), whatever else the
    reader requires of it (`valid`: an active person, an answer it knows), and not yet used
    (its `version` of the record unchanged since the link was made: "used" otherwise).
    Returns the record and the link's payload, for what else it carries (an answer, an option).
    """
    data = read(purpose, token, max_age)
    found = record(model, data, key, *options)
    if owner is not None and getattr(found, owner) != data.get("p"):
        raise LinkRefused("invalid")
    if valid is not None and not valid(found, data):
        raise LinkRefused("invalid")
    if version is not None and data.get(version_key) != version(found):
        raise LinkRefused("used")
    return found, data
