"""The report pages: choose a program (or all, for deans) and a term, read the report, and
download it as PDF, CSV bundle or standalone HTML."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.extensions import db
from program.permissions import Action, may, requires, signed_in
from program.programs.models import Program, Term
from program.reporting.forms import ActionForm, FollowUpForm
from program.reporting.models import ActionItem, ActionStatus
from program.reporting.services import (
    FORMATS,
    actions_of,
    add_action,
    allowed,
    choices,
    download,
    filename,
    make_report,
    starts_later,
    term_of,
    update_action,
)
from program.web import flash_errors, run_service
from reports.html import context

bp = Blueprint("reporting", __name__)


@bp.route("/reports")
@signed_in
def index() -> str | Response:
    """Deans (every program), admins, and coordinators (their programs) choose a report."""
    options = choices(current_user)
    if not options.programs and not options.may_see_all:
        abort(403)
    chosen = request.args.get("report", "")
    if chosen:
        # One choice, "program/term", among the reports that exist; the page's own address
        # keeps the two parts, so a link to a report stays readable.
        scope, _, term = chosen.partition("/")
        return redirect(url_for("reporting.index", program=scope, term=term))
    scope = request.args.get("program", "")
    term = request.args.get("term", "")
    if not (scope and term) and options.default:
        scope, _, term = options.default.partition("/")
    report = None
    not_started = None
    plans: dict[str, object] = {}
    if scope and term:
        program = allowed(current_user, scope)
        if program is False:
            abort(403)
        not_started = starts_later(program, term)
    if scope and term and not_started is None:
        report = make_report(program, term)
        if report is None:
            abort(404)
        plans = _action_plans(program, term)
    return render_template(
        "reporting/index.html",
        options=options,
        scope=scope,
        term=term,
        not_started=not_started,
        **plans,
        **(context(report) if report else {"report": None}),
    )


def _action_plans(program: Program | None, term_slug: str) -> dict[str, object]:
    """The term's findings and actions, for its coordinators to record and follow up."""
    if program is None or not may(current_user, Action.MANAGE_PROGRAM, program):
        return {}
    the_term = term_of(program, term_slug)
    if the_term is None:
        return {}
    return {
        "plan_term": the_term,
        "actions": actions_of(program, the_term),
        "action_form": ActionForm(formdata=None),
        "follow_form": FollowUpForm(formdata=None),
    }


def _back_to(program: Program, term_slug: str) -> Response:
    return redirect(
        url_for("reporting.index", program=program.slug, term=term_slug, _anchor="actions")
    )


@bp.route("/programs/<slug>/terms/<term_slug>/actions", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def add_action_view(program: Program, term_slug: str) -> Response:
    the_term = term_of(program, term_slug)
    if the_term is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit() and run_service(
        form,
        add_action,
        current_user,
        program,
        the_term,
        finding=form.finding.data,
        action=form.action.data,
        owner=form.owner.data or "",
        due_on=form.due_on.data,
    ):
        flash("Action recorded. The next term's report opens with it.", "success")
    flash_errors(form)
    return _back_to(program, term_slug)


@bp.route("/programs/<slug>/actions/<int:item_id>", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def follow_up_action(program: Program, item_id: int) -> Response:
    item = db.session.get(ActionItem, item_id)
    if item is None or item.program_id != program.id:
        abort(404)  # another program's action does not exist here
    term_slug = db.session.get(Term, item.term_id).slug
    form = FollowUpForm()
    if form.validate_on_submit() and run_service(
        form,
        update_action,
        current_user,
        program,
        item_id,
        status=ActionStatus(form.status.data),
        outcome=form.outcome.data or "",
    ):
        flash("Follow-up saved.", "success")
    flash_errors(form)
    return _back_to(program, term_slug)


@bp.route("/reports/<scope>/<term>.<fmt>")
@signed_in
def file(scope: str, term: str, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    program = allowed(current_user, scope)
    if program is False:
        abort(403)
    if (starts_on := starts_later(program, term)) is not None:
        abort(404, description=f"This term starts on {starts_on:%d %B %Y}: nothing to report yet.")
    report = make_report(program, term)
    if report is None:
        abort(404)
    data = download(current_user, report, fmt, program)
    response = Response(data, mimetype=FORMATS[fmt][0])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
    response.headers["X-Data-SHA256"] = report.digest
    return response
