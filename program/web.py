"""Helpers shared by the views: the request transaction, safe redirects, external links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash
from flask_wtf import FlaskForm

from program.db import DomainError
from program.extensions import db

T = TypeVar("T")


def run_service(form: FlaskForm, service: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call a service for a submitted form; on a DomainError, undo its writes and show why.

    The request commits once at the end (see `install_request_transaction`), so a service that
    flushed some rows before refusing must be rolled back here, or the refusal would be saved.
    """
    try:
        return service(*args, **kwargs)
    except DomainError as exc:
        db.session.rollback()
        field = getattr(form, exc.field, None) if exc.field else None
        if field is not None:
            field.errors = [*field.errors, exc.message]
        else:
            form.form_errors.append(exc.message)
        return None


def flash_errors(form: FlaskForm) -> None:
    """Show a form's errors as messages, for one-button forms that redirect back."""
    for message in form.form_errors:
        flash(message, "danger")
    for field in form:
        for message in field.errors:
            flash(message, "danger")


def install_request_transaction(app: Flask) -> None:
    """One commit per request, at the boundary: commit a successful response, else roll back."""

    @app.after_request
    def commit_or_roll_back(response: Any) -> Any:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def roll_back_on_error(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


def safe_next_url(target: str | None) -> str | None:
    """A `next` URL only if it stays on this site (a relative path), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under BASE_URL, for e-mails, which are written outside any request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def plural(count: int, noun: str) -> str:
    """ "1 pair", "3 pairs" (for English nouns with a plain plural)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def open_link(
    read: Callable[[str], T], token: str, person_id_of: Callable[[T], int]
) -> tuple[T | None, tuple[str, int] | None]:
    """What a one-click e-mail link stands for, or the page explaining why it does not work.

    Refused when the token is forged, expired or used (400), or when someone other than its
    person is signed in on this browser (403)."""
    from flask import render_template
    from flask_login import current_user

    from program.links import LinkRefused

    try:
        found = read(token)
    except LinkRefused as exc:
        return None, (render_template("checkins/link_problem.html", problem=exc.problem), 400)
    if current_user.is_authenticated and current_user.id != person_id_of(found):
        return None, (render_template("checkins/link_problem.html", problem="someone_else"), 403)
    return found, None
