"""The actions recorded on each program's previous term, for the report of the next one: "actions
from last term and what came of them" (LCME 1.1; ACGME's Annual Program Evaluation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from program.programs.models import Program, Term
from program.reporting.models import ActionItem
from reports.data import Scope


@dataclass(frozen=True)
class Carried:
    program: str
    term: str
    finding: str
    action: str
    owner: str
    due_on: date | None
    status: str
    outcome: str


def carried_actions(conn: Connection, scope: Scope) -> list[Carried]:
    """For each program of the scope, the actions of its term just before this one."""
    earlier = (
        sa.select(Term.program_id, sa.func.max(Term.starts_on).label("starts_on"))
        .where(Term.program_id.in_(scope.program_ids), Term.starts_on < scope.starts)
        .group_by(Term.program_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            Program.name,
            Term.name,
            ActionItem.finding,
            ActionItem.action,
            ActionItem.owner,
            ActionItem.due_on,
            ActionItem.status,
            ActionItem.outcome,
        )
        .join(Term, Term.id == ActionItem.term_id)
        .join(Program, Program.id == ActionItem.program_id)
        .join(
            earlier,
            sa.and_(earlier.c.program_id == Term.program_id, earlier.c.starts_on == Term.starts_on),
        )
        .order_by(Program.name, ActionItem.id)
    ).all()
    return [
        Carried(
            program=program,
            term=term,
            finding=finding,
            action=action,
            owner=owner,
            due_on=due_on,
            status=status.label,
            outcome=outcome,
        )
        for program, term, finding, action, owner, due_on, status, outcome in rows
    ]
