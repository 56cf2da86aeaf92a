"""Outcomes: the measures, a term's file uploaded, previewed and applied. Deans and admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.extensions import db
from program.forms import Form
from program.institution import get_settings
from program.outcomes.forms import MeasureForm, OutcomesUploadForm
from program.outcomes.models import Better, MeasureKind, OutcomeUpload
from program.outcomes.services import (
    apply_outcomes,
    define_measure,
    measures,
    preview,
    recent_uploads,
    term_slugs,
    upload_outcomes,
)
from program.permissions import Action, requires
from program.web import run_service

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def _upload_form() -> OutcomesUploadForm:
    form = OutcomesUploadForm()
    form.term.choices = term_slugs()
    return form


def _page(measure_form: MeasureForm, upload_form: OutcomesUploadForm) -> str:
    return render_template(
        "outcomes/index.html",
        measures=measures(),
        uploads=recent_uploads(),
        measure_form=measure_form,
        upload_form=upload_form,
    )


@bp.route("/", methods=["GET", "POST"])
@requires(Action.IMPORT_OUTCOMES)
def index() -> str | Response:
    """The measures defined, the files imported, and the forms to add either."""
    form = MeasureForm()
    if not form.is_submitted():
        form.minimum_group.data = max(10, get_settings().suppression_threshold)
    if form.validate_on_submit() and run_service(
        form,
        define_measure,
        current_user,
        name=form.name.data,
        kind=MeasureKind(form.kind.data),
        definition=form.definition.data,
        source=form.source.data,
        better=Better(form.better.data),
        favourable=form.favourable.data,
        minimum_group=form.minimum_group.data,
        threshold=get_settings().suppression_threshold,
    ):
        flash(f"The measure “{form.name.data}” is defined.", "success")
        return redirect(url_for("outcomes.index"))
    return _page(form, _upload_form())


@bp.route("/upload", methods=["POST"])
@requires(Action.IMPORT_OUTCOMES)
def upload() -> str | Response:
    form = _upload_form()
    if form.validate_on_submit():
        data = form.file.data.read()
        kept = run_service(
            form, upload_outcomes, current_user, form.term.data, data, form.file.data.filename or ""
        )
        if kept is not None:
            return redirect(url_for("outcomes.upload_preview", upload_id=kept.id))
    return _page(MeasureForm(formdata=None), form)


@bp.route("/uploads/<int:upload_id>", methods=["GET", "POST"])
@requires(Action.IMPORT_OUTCOMES)
def upload_preview(upload_id: int) -> str | Response:
    """What the file would do; its button applies it, whole or not at all."""
    found = db.session.get(OutcomeUpload, upload_id)
    if found is None:
        abort(404)
    form = Form()
    if form.validate_on_submit() and run_service(form, apply_outcomes, current_user, found):
        flash("The outcomes are imported.", "success")
        return redirect(url_for("outcomes.upload_preview", upload_id=upload_id))
    if form.form_errors:
        found = db.session.get(OutcomeUpload, upload_id)
    return render_template("outcomes/preview.html", preview=preview(found), form=form)
