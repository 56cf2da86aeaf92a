"""A person's home page: their programs and roles, and the people they are paired with."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from program.people.services import active_assignments, programs_and_roles
from program.permissions import Action, may, signed_in
from program.programs.models import Role

bp = Blueprint("home", __name__)


@bp.route("/")
@signed_in
def index() -> str:
    memberships = programs_and_roles(current_user)
    return render_template(
        "people/home.html",
        memberships=memberships,
        assignments=active_assignments(current_user),
        is_admin=may(current_user, Action.ADMINISTER),
        is_mentor=any(Role.MENTOR in item.roles for item in memberships),
        Role=Role,
    )
