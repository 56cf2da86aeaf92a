"""Answering a check-in: from an e-mail link (no sign-in needed, nothing written by opening it),
or from the home page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.checkins.forms import CheckInForm, QuickAnswerForm
from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.checkins.services import is_editable, read_answer_token, record_check_in
from program.meetings.services import time_zone
from program.pairings import about
from program.permissions import public, signed_in
from program.web import flash_errors, open_link, own_or_404, run_service

bp = Blueprint("checkins", __name__)


def _extras(form: CheckInForm) -> dict[str, Any]:
    met = form.answer() is CheckInStatus.MET
    at = form.scheduled_for.data
    return {
        # A time entered is in the institution's zone, like every time people see; with any
        # answer but "It's scheduled" the service refuses it with a message.
        "scheduled_for": at.replace(tzinfo=time_zone()) if at else None,
        "met_on": form.met_on.data if met else None,
        "rating": int(form.rating.data) if met and form.rating.data else None,
        "led_to": LedTo(form.led_to.data) if met and form.led_to.data else None,
        "note": form.note.data,
        "suggested_email": form.suggest.data or None,
    }


@bp.route("/checkin/<token>", methods=["GET", "POST"])
@public
def answer_link(token: str) -> str | Response | tuple[str, int]:
    """The page behind a one-click link. A GET only shows the answer, pre-selected: mail
    scanners open every link, so only the confirming POST records anything."""
    found, problem = open_link(read_answer_token, token, lambda f: f[0].person_id)
    if problem is not None:
        return problem
    check_in, status = found
    # Read once, before an answer is saved: the pairing does not change with it.
    about_it = about(check_in)
    form = CheckInForm()
    if not form.is_submitted():
        form.status.data = status.value
    if form.validate_on_submit():
        saved = run_service(
            form, record_check_in, check_in.person, check_in, form.answer(), **_extras(form)
        )
        if saved is not None:
            return render_template("checkins/thanks.html", check_in=saved, about=about_it)
    return render_template("checkins/answer.html", form=form, check_in=check_in, about=about_it)


@bp.route("/check-ins/<int:check_in_id>", methods=["GET", "POST"])
@signed_in
def edit(check_in_id: int) -> str | Response:
    check_in = own_or_404(CheckIn, check_in_id)
    form = CheckInForm(obj=None)
    if not form.is_submitted() and check_in.status is not None:
        form.status.data = check_in.status.value
        form.met_on.data = check_in.met_on
        form.rating.data = str(check_in.rating) if check_in.rating else None
        form.led_to.data = check_in.led_to.value if check_in.led_to else None
        form.note.data = check_in.private_note
    if form.validate_on_submit() and run_service(
        form, record_check_in, current_user, check_in, form.answer(), **_extras(form)
    ):
        flash("Your answer is saved.", "success")
        return redirect(url_for("home.index"))
    return render_template(
        "checkins/answer.html",
        form=form,
        check_in=check_in,
        about=about(check_in),
        editable=is_editable(check_in),
    )


@bp.route("/check-ins/<int:check_in_id>/quick", methods=["POST"])
@signed_in
def quick_answer(check_in_id: int) -> Response:
    """The home page's one-click answers."""
    check_in = own_or_404(CheckIn, check_in_id)
    form = QuickAnswerForm()
    if form.validate_on_submit():
        status = CheckInStatus(form.status.data)
        if run_service(form, record_check_in, current_user, check_in, status):
            flash(
                "Thanks, noted. To add a rating or what it led to, use “Change” under your "
                "recent answers."
                if status is CheckInStatus.MET
                else "Thanks, noted.",
                "success",
            )
        flash_errors(form)
    return redirect(url_for("home.index"))
