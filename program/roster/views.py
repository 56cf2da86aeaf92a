"""Roster pages: upload a file, preview exactly what it would do, confirm; export the roster."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.audit.services import record
from program.extensions import db
from program.forms import ConfirmForm
from program.permissions import Action, requires
from program.programs.models import Program, Term
from program.roster.export import roster_csv, roster_rows, roster_xlsx
from program.roster.forms import RosterUploadForm
from program.roster.models import RosterUpload
from program.roster.parsing import RosterFileError
from program.roster.services import apply_import, plan_import, read_roster, store_upload
from program.web import plural, run_service, term_or_404

bp = Blueprint("roster", __name__, url_prefix="/programs/<slug>/terms/<term_slug>")

PREVIEW_LIMIT = 200  # rows shown per section; the counts always cover the whole file
PROBLEM_LIMIT = 500


def _upload_or_404(program: Program, term: Term, upload_id: int) -> RosterUpload:
    upload = db.session.get(RosterUpload, upload_id)
    if upload is None or upload.program_id != program.id or upload.term_id != term.id:
        abort(404)
    return upload


def _limit_text() -> str:
    return f"{current_app.config['ROSTER_MAX_BYTES'] / 1_000_000:.0f} MB"


@bp.route("/import", methods=["GET", "POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def upload(program: Program, term_slug: str) -> str | Response:
    term = term_or_404(program, term_slug)
    form = RosterUploadForm()
    form.file.description = form.file.description.format(limit=_limit_text())
    if form.validate_on_submit():
        file = form.file.data
        data = file.read(current_app.config["ROSTER_MAX_BYTES"] + 1)
        stored = run_service(
            form, store_upload, current_user, program, term, file.filename or "roster", data
        )
        if stored is not None:
            return redirect(
                url_for(
                    "roster.preview", slug=program.slug, term_slug=term.slug, upload_id=stored.id
                )
            )
    return render_template("roster/upload.html", program=program, term=term, form=form)


@bp.route("/import/<int:upload_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def preview(program: Program, term_slug: str, upload_id: int) -> str | Response:
    term = term_or_404(program, term_slug)
    stored = _upload_or_404(program, term, upload_id)
    form = ConfirmForm()
    try:
        parsed = read_roster(stored.content, stored.filename)
    except RosterFileError as exc:  # only if the limits changed since the upload
        flash(str(exc), "danger")
        return redirect(url_for("roster.upload", slug=program.slug, term_slug=term.slug))
    if form.validate_on_submit() and stored.applied_at is None:
        result = run_service(form, apply_import, current_user, program, term, parsed, upload=stored)
        if result is not None:
            c = result.counts
            if not result.plan.has_changes:
                flash(
                    "No changes: everyone in the file is already in the program as listed.", "info"
                )
            else:
                flash(
                    f"Roster imported: {c['added']} added, {c['joined']} joined from other "
                    f"programs, {c['changed']} changed, {c['unchanged']} unchanged; "
                    f"{plural(result.plan.invitations, 'invitation')} in the outbox.",
                    "success",
                )
            return redirect(url_for("programs.term", slug=program.slug, term_slug=term.slug))
    plan = plan_import(program, term, parsed)
    return render_template(
        "roster/preview.html",
        program=program,
        term=term,
        upload=stored,
        plan=plan,
        counts=plan.counts(),
        form=form,
        limit=PREVIEW_LIMIT,
        problem_limit=PROBLEM_LIMIT,
    )


def _export(program: Program, term: Term, fmt: str) -> Response:
    rows = roster_rows(program, term)
    record(
        current_user,
        "roster.exported",
        term,
        program_id=program.id,
        summary=f"Roster of {term.name} exported as {fmt.upper()} ({len(rows)} people)",
    )
    filename = f"{program.slug}-{term.slug}-roster.{fmt}"
    if fmt == "csv":
        body, mimetype = roster_csv(rows), "text/csv; charset=utf-8"
    else:
        body = roster_xlsx(rows, term.name)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/roster.csv")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def export_csv(program: Program, term_slug: str) -> Response:
    return _export(program, term_or_404(program, term_slug), "csv")


@bp.route("/roster.xlsx")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def export_xlsx(program: Program, term_slug: str) -> Response:
    return _export(program, term_or_404(program, term_slug), "xlsx")
