"""A program's overview, for its coordinators: who coordinates it, its people, its terms."""

from __future__ import annotations

from flask import Blueprint, render_template

from program.permissions import Action, requires
from program.programs.models import Program, Role
from program.programs.services import coordinators, role_counts

bp = Blueprint("programs", __name__, url_prefix="/programs")


@bp.route("/<slug>/")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def overview(program: Program) -> str:
    return render_template(
        "programs/overview.html",
        program=program,
        coordinators=coordinators(program),
        counts=role_counts(program),
        Role=Role,
    )
