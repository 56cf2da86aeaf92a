"""Helpers shared by the views: the request transaction, safe redirects, external links."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, abort, flash, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter

from program.db import CONTROL_CHARACTERS, DomainError
from program.extensions import db
from program.links import LinkRefused
from program.messages.services import counting_recipients
from program.people.models import Person
from program.programs.models import Program, Term
from program.programs.terms import is_member

T = TypeVar("T")

# Every id is a 32-bit integer column; a bigger number in a URL or form is nothing's id (and
# PostgreSQL would answer "integer out of range" with an error rather than "not found").
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits up to MAX_ID, else the route does not match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


@dataclass(frozen=True)
class ListPage(Generic[T]):
    """One page of a list already in memory, shaped like a query's pagination (for `pager`)."""

    items: list[T]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def pages_for(total: int, per_page: int) -> int:
    """How many pages `total` rows make (an empty list is one empty page)."""
    return max(1, -(-total // per_page))


def page_or_404(items: list[T], page: int, total: int, per_page: int) -> ListPage[T]:
    """A page of `total` rows that the database has already cut to `items` (a page past the
    last is a 404)."""
    pages = pages_for(total, per_page)
    if page > pages:
        abort(404)
    return ListPage(items, page, pages, total)


def page_of(items: Sequence[T], per_page: int) -> ListPage[T]:
    """The requested page of `items` (a page that does not exist is a 404)."""
    page = page_number()
    start = (page - 1) * per_page
    return page_or_404(list(items[start : start + per_page]), page, len(items), per_page)


def is_loopback(host: str) -> bool:
    """An address on this machine only: localhost, 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_id(value: str | None) -> int | None:
    """An id from a form or query value: ASCII digits up to MAX_ID, else None."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def page_number() -> int:
    """The `page` query value, 1 when absent or not a page number; 404 past any real page."""
    value = request.args.get("page", "1")
    if not value.isascii() or not value.isdigit():
        return 1
    if len(value) > 6 or int(value) > MAX_PAGE:
        abort(404)
    return max(1, int(value))


def refuse_control_characters(app: Flask) -> None:
    """Refuse any request whose address, query or form values hold control characters: a 404
    for an address (nothing lives there), a 400 with a plain message for what was sent.

    One check for every route, before any view runs, so nothing is written. Uploaded files are
    not form values; the roster reader judges their content itself.
    """

    @app.before_request
    def check_input() -> Any:
        if CONTROL_CHARACTERS.search(request.path):
            abort(404)
        values = [*request.args.keys(), *request.args.values()]
        if request.method == "POST" and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            if request.mimetype == "application/x-www-form-urlencoded":
                # Kept as sent: a signed request (Slack's) is checked against its raw body,
                # which parsing the form alone would use up.
                request.get_data(cache=True)
            values += [*request.form.keys(), *request.form.values()]
        if any(CONTROL_CHARACTERS.search(v) for v in values):
            return render_template(
                "errors/error.html",
                code=400,
                title="Invisible characters",
                text="What you sent contains an invisible control character (such as a NUL "
                "byte), which Hallway does not accept. Nothing was saved. Remove it (retyping "
                "the text usually does) and send it again.",
            ), 400
        return None


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


@dataclass(frozen=True)
class Rehearsal:
    """What an action would do, found by doing it and undoing it."""

    messages: int
    people: int


def rehearse(service: Callable[..., Any], *args: Any, **kwargs: Any) -> Rehearsal | None:
    """Run a service inside a savepoint, count the e-mails it queues, and undo all of it.
    None when the service refuses (the real call then shows why)."""
    savepoint = db.session.begin_nested()
    try:
        with counting_recipients() as recipients:
            service(*args, **kwargs)
            db.session.flush()
    except DomainError:
        return None
    finally:
        savepoint.rollback()
    return Rehearsal(len(recipients), len(set(recipients)))


def ask_before_mailing(
    form: FlaskForm,
    action: str,
    service: Callable[..., Any],
    *args: Any,
    back: str,
    notes: Sequence[str] = (),
    later: str | None = None,
    **kwargs: Any,
) -> str | None:
    """Before an action that e-mails people: the page that says how many it e-mails (and any
    `notes`, such as a round before its cadence) and asks once, with `back` to cancel; None
    when the form comes back confirmed, or when the action would e-mail nobody and there is
    nothing to warn of.

    The count is exact: the service runs and is undone (see `rehearse`). `later` words a
    scheduled action ("on 5 December 2026"): the e-mails go then, not now."""
    if form.confirmed.data == "yes":
        return None
    found = rehearse(service, *args, **kwargs)
    if found is None or (found.messages == 0 and not notes):
        return None
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", "confirmed", "submit")
    ]
    return render_template(
        "confirm_mailing.html",
        form=form,
        action=action,
        found=found,
        notes=notes,
        later=later,
        fields=fields,
        back=back,
    )


def mail_after_asking(
    form: FlaskForm,
    action: str,
    service: Callable[..., T],
    *args: Any,
    back: str,
    **kwargs: Any,
) -> tuple[str | None, T | None]:
    """An action that e-mails people, as one step of a view: (the page that asks, None) the
    first time; once confirmed, (None, what the service returned, or None if it refused)."""
    page = ask_before_mailing(form, action, service, *args, back=back, **kwargs)
    if page is not None:
        return page, None
    return None, run_service(form, service, *args, **kwargs)


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


def plural(count: int, noun: str) -> str:
    """ "1 pair", "3 pairs" (for English nouns with a plain plural)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def open_link(
    read: Callable[[str], T],
    token: str,
    person_id_of: Callable[[T], int],
    problem_page: str = "checkins/link_problem.html",
) -> tuple[T | None, tuple[str, int] | None]:
    """What a one-click e-mail link stands for, or the page explaining why it does not work
    (`problem_page`, in the words of what the link answers).

    Refused when the token is forged, expired or used (400), or when someone other than its
    person is signed in on this browser (403)."""
    try:
        found = read(token)
    except LinkRefused as exc:
        return None, (render_template(problem_page, problem=exc.problem), 400)
    if current_user.is_authenticated and current_user.id != person_id_of(found):
        return None, (render_template(problem_page, problem="someone_else"), 403)
    return found, None


def own_or_404(model: type[T], record_id: int) -> T:
    """The signed-in person's own record of `model` (its `person_id` theirs): anyone else's is
    "not found", since that it exists is nobody else's business."""
    found = db.session.get(model, record_id)
    if found is None or getattr(found, "person_id", None) != current_user.id:
        abort(404)
    return found


def term_or_404(program: Program, term_slug: str) -> Term:
    """The program's term with this slug; 404 for any other, including another program's."""
    term = db.session.scalar(
        sa.select(Term).where(Term.program_id == program.id, Term.slug == term_slug)
    )
    if term is None:
        abort(404)
    return term


def member_or_404(program: Program, person_id: int) -> Person:
    """A person of this program; anyone else is 404 here, so ids reveal nothing."""
    person = db.session.get(Person, person_id)
    if person is None or not is_member(program, person_id):
        abort(404)
    return person
