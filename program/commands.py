"""What every command shares: one transaction per command (like a request), a service's refusal
shown as the command's error, and the program and term named on the command line."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
import sqlalchemy as sa

from program.db import DomainError
from program.extensions import db
from program.programs.models import Program, Term


def one_transaction(command: Callable[..., Any]) -> Callable[..., Any]:
    """Commit once when the command succeeds; roll everything back if it fails. A service's
    refusal (DomainError) is the command's error message, as a form shows it on a page."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return wrapper


def program_named(program_slug: str) -> Program:
    """The program named on the command line, or a clear error."""
    program = db.session.scalar(sa.select(Program).where(Program.slug == program_slug))
    if program is None:
        raise click.ClickException(f"No program “{program_slug}”.")
    return program


def program_and_term(program_slug: str, term_slug: str) -> tuple[Program, Term]:
    """The program and term named on the command line, or a clear error."""
    program = program_named(program_slug)
    term = db.session.scalar(
        sa.select(Term).where(Term.program_id == program.id, Term.slug == term_slug)
    )
    if term is None:
        raise click.ClickException(f"{program.name} has no term “{term_slug}”.")
    return program, term
