"""Who may do what: one function decides, and every route declares its rule with a decorator.

`may(user, action, program)` is the only place a permission is decided (`may_in` asks it of
many programs at once, with their roles read together). The decorators below
build on it and also label the view with the rule they enforce, so a test can walk the URL map
and fail on any route that declares none.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g
from flask_login import current_user

from program.extensions import db, login_manager
from program.people.models import Person
from program.programs.models import Membership, Program, Role

F = TypeVar("F", bound=Callable[..., Any])


class Action(enum.Enum):
    ADMINISTER = "administer"  # institution-wide administration
    MANAGE_PROGRAM = "manage_program"  # a coordinator's work on one program's data
    VIEW_REPORTS = "view_reports"  # aggregate reports; deans everywhere, read-only
    PARTICIPATE = "participate"  # a member's own view of a program (their pairings)
    IMPORT_OUTCOMES = "import_outcomes"  # outcome measures and their values: deans and admins


def current_roles(user: Person, program: Program) -> set[Role]:
    """The roles `user` holds now in `program` (ended memberships do not count)."""
    rows = db.session.scalars(
        sa.select(Membership.role).where(
            Membership.person_id == user.id,
            Membership.program_id == program.id,
            Membership.is_current,
        )
    )
    return set(rows)


def coordinated_programs(user: Any) -> list[Program]:
    """The programs `user` coordinates now, by name, read once per request (every page's
    navigation asks)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if "coordinated_programs" not in g:
        g.coordinated_programs = list(
            db.session.scalars(
                sa.select(Program)
                .join(Membership, Membership.program_id == Program.id)
                .where(
                    Membership.person_id == user.id,
                    Membership.role == Role.COORDINATOR,
                    Membership.is_current,
                )
                .order_by(Program.name)
            )
        )
    return g.coordinated_programs


def may(user: Any, action: Action, program: Program | None = None) -> bool:
    """Whether `user` may perform `action`, on `program`'s data when one is given."""
    return _decide(user, action, program, lambda: current_roles(user, program))  # type: ignore[arg-type]


def may_in(user: Any, action: Action, programs: list[Program]) -> list[Program]:
    """Those of `programs` on whose data `user` may perform `action`: `may` for each, the
    roles read in one query (a dean's or coordinator's list of forty programs)."""
    held: dict[int, set[Role]] = {}
    if programs and getattr(user, "is_authenticated", False):
        for program_id, role in db.session.execute(
            sa.select(Membership.program_id, Membership.role).where(
                Membership.person_id == user.id,
                Membership.program_id.in_([p.id for p in programs]),
                Membership.is_current,
            )
        ):
            held.setdefault(program_id, set()).add(role)
    return [p for p in programs if _decide(user, action, p, lambda p=p: held.get(p.id, set()))]


def _decide(
    user: Any, action: Action, program: Program | None, roles: Callable[[], set[Role]]
) -> bool:
    """The rule itself; `roles()` gives the user's current roles in `program` when needed."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_admin:
        return True
    if action is Action.ADMINISTER:
        return False
    if action in (Action.VIEW_REPORTS, Action.IMPORT_OUTCOMES) and user.is_dean:
        return True
    if program is None:
        return False
    held = roles()
    if action in (Action.MANAGE_PROGRAM, Action.VIEW_REPORTS):
        return Role.COORDINATOR in held
    if action is Action.PARTICIPATE:
        return bool(held)
    return False


def _label(view: Callable[..., Any], rule: str) -> None:
    view.permission = rule  # type: ignore[attr-defined]


def public(view: F) -> F:
    """Anyone may use this route, signed in or not (login, invitation links)."""
    _label(view, "public")
    return view


def signed_in(view: F) -> F:
    """Any active, signed-in person."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    _label(wrapper, "signed in")
    return wrapper  # type: ignore[return-value]


def requires(action: Action, *, program_from: str | None = None) -> Callable[[F], F]:
    """Guard a route with `may(current_user, action, program)`.

    With `program_from="slug"`, the view argument of that name is looked up as a program slug
    (404 if unknown) and the view receives the Program as `program` instead, so the object check
    happens before the view runs and the view cannot forget it.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            program = None
            if program_from is not None:
                slug = kwargs.pop(program_from)
                program = db.session.scalar(sa.select(Program).where(Program.slug == slug))
                if program is None:
                    abort(404)
                kwargs["program"] = program
            if not may(current_user, action, program):
                abort(403)
            return view(*args, **kwargs)

        scope = " of the program" if program_from else ""
        _label(wrapper, f"{action.value}{scope}")
        return wrapper  # type: ignore[return-value]

    return decorator
