"""The report pages: choose a program (or all, for deans) and a term, read the report, and
download it as PDF, CSV bundle or standalone HTML."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.permissions import signed_in
from program.reporting.services import (
    FORMATS,
    allowed,
    choices,
    download,
    filename,
    make_report,
)
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
    report = None
    if scope and term:
        program = allowed(current_user, scope)
        if program is False:
            abort(403)
        report = make_report(program, term)
        if report is None:
            abort(404)
    return render_template(
        "reporting/index.html",
        options=options,
        scope=scope,
        term=term,
        **(context(report) if report else {"report": None}),
    )


@bp.route("/reports/<scope>/<term>.<fmt>")
@signed_in
def file(scope: str, term: str, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    program = allowed(current_user, scope)
    if program is False:
        abort(403)
    report = make_report(program, term)
    if report is None:
        abort(404)
    data = download(current_user, report, fmt, program)
    response = Response(data, mimetype=FORMATS[fmt][0])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
    response.headers["X-Data-SHA256"] = report.digest
    return response
