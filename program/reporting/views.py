"""The report pages: choose a program (or all, for deans) and a term, read the report, and
download it as PDF, CSV bundle or standalone HTML."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from program.db import DomainError, utc_now
from program.people.models import Person
from program.permissions import signed_in
from program.programs.models import Program
from program.reporting.services import (
    FORMATS,
    RECORD_FORMATS,
    allowed,
    choices,
    download,
    filename,
    make_report,
    mentoring_record_file,
    record_period,
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


class RecordForm(FlaskForm):
    """The period of a mentoring record (a GET form: downloading changes nothing)."""

    class Meta:
        csrf = False

    starts = DateField("From", validators=[Optional()])
    ends = DateField("To", validators=[Optional()])
    fmt = SelectField("Format", choices=[("pdf", "PDF"), ("csv", "CSV")], default="pdf")


def record_page(person: Person, program: Program | None, back: str) -> Response | tuple[str, int]:
    """The page that downloads a mentor's record for a period; the file once asked for."""
    form = RecordForm(request.args)
    asked = "fmt" in request.args
    if asked and form.validate():
        try:
            starts, ends = record_period(form.starts.data, form.ends.data, utc_now().date())
        except DomainError as exc:
            form.starts.errors = [*form.starts.errors, exc.message]
        else:
            data, name = mentoring_record_file(
                current_user, person, starts, ends, form.fmt.data, program
            )
            response = Response(data, mimetype=RECORD_FORMATS[form.fmt.data])
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    if not asked:
        form.starts.data, form.ends.data = record_period(None, None, utc_now().date())
    return render_template(
        "reporting/record.html", form=form, person=person, program=program, back=back
    ), (400 if asked else 200)
