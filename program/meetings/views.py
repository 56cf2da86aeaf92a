"""Proposing times, accepting one, and the calendar file: thin views over the services."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import DateTimeLocalField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from program.db import utc_now
from program.extensions import db
from program.forms import ConfirmForm, Form
from program.meetings.models import Meeting, MeetingStatus
from program.meetings.services import (
    accept,
    ask_other_times,
    calendar_file,
    cancel,
    may_see,
    propose,
    read_link,
    read_propose_link,
    time_zone,
    when,
)
from program.pairings import Pairing, pairing
from program.people.models import Person
from program.permissions import public, signed_in
from program.web import flash_errors, open_link, run_service

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


class ProposeForm(Form):
    first = DateTimeLocalField("A time", format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    second = DateTimeLocalField(
        "Another time (recommended)", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    third = DateTimeLocalField("A third time", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    place = StringField(
        "Where (a café, a room, or a video link)", validators=[Optional(), Length(max=200)]
    )
    submit = SubmitField("Send these times")


def _propose_page(found: Pairing, person: Person) -> str | Response:
    form = ProposeForm()
    if form.validate_on_submit():
        zone = time_zone()
        options = [
            f.data.replace(tzinfo=zone) for f in (form.first, form.second, form.third) if f.data
        ]
        meeting = run_service(form, propose, person, found, options, form.place.data or "")
        if meeting is not None:
            others = [p for p in found.members if p.id != person.id]
            return render_template("meetings/sent.html", meeting=meeting, others=others)
    return render_template(
        "meetings/propose.html", form=form, found=found, person=person, zone=time_zone().key
    )


@bp.route("/new/<any(assignment, chat):kind>/<int:pairing_id>", methods=["GET", "POST"])
@signed_in
def new(kind: str, pairing_id: int) -> str | Response:
    found = pairing(kind, pairing_id)
    # Someone else's pairing is "not found": its existence is nobody else's business.
    if found is None or current_user.id not in {p.id for p in found.members}:
        abort(404)
    return _propose_page(found, current_user)


@bp.route("/propose/<token>", methods=["GET", "POST"])
@public
def propose_from_link(token: str) -> str | Response | tuple[str, int]:
    """From the intro: the first mover proposes times without signing in."""
    found, problem = open_link(read_propose_link, token, lambda f: f[1].id)
    if problem is not None:
        return problem
    return _propose_page(*found)


@bp.route("/accept/<token>", methods=["GET", "POST"])
@public
def accept_link(token: str) -> str | tuple[str, int]:
    """One time chosen from the e-mail: the GET shows it, the button accepts."""
    found, problem = open_link(lambda t: read_link("meeting-accept", t), token, lambda f: f[1].id)
    if problem is not None:
        return problem
    meeting, person, option = found
    form = ConfirmForm()
    label = when(meeting_option(meeting, option)) if 0 <= option < len(meeting.options) else ""
    if form.validate_on_submit() and run_service(form, accept, person, meeting, option):
        return render_template("meetings/agreed.html", meeting=meeting, label=label)
    return render_template(
        "meetings/accept.html", form=form, meeting=meeting, person=person, label=label
    )


@bp.route("/other-times/<token>", methods=["GET", "POST"])
@public
def other_times(token: str) -> str | tuple[str, int]:
    found, problem = open_link(lambda t: read_link("meeting-other", t), token, lambda f: f[1].id)
    if problem is not None:
        return problem
    meeting, person, _ = found
    form = ConfirmForm()
    if form.validate_on_submit() and run_service(form, ask_other_times, person, meeting):
        return render_template("meetings/asked.html", meeting=meeting)
    return render_template("meetings/other_times.html", form=form, meeting=meeting)


@bp.route("/<int:meeting_id>/cancel", methods=["POST"])
@signed_in
def cancel_view(meeting_id: int) -> Response:
    meeting = _own(meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit() and run_service(form, cancel, current_user, meeting):
        flash("Cancelled; everyone's calendar gets the cancellation.", "info")
    flash_errors(form)
    return redirect(url_for("home.index"))


@bp.route("/<int:meeting_id>/invitation.ics")
@signed_in
def calendar(meeting_id: int) -> Response:
    meeting = _own(meeting_id)
    if meeting.status is not MeetingStatus.AGREED:
        abort(404)
    return Response(
        calendar_file(meeting, utc_now()),
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="hallway-meeting.ics"'},
    )


def _own(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not may_see(current_user, meeting):
        abort(404)
    return meeting


def meeting_option(meeting: Meeting, option: int) -> datetime:
    return datetime.fromisoformat(meeting.options[option])


@bp.route("/<int:meeting_id>/accept/<int:option>", methods=["POST"])
@signed_in
def accept_here(meeting_id: int, option: int) -> Response:
    """The same choice from the home page."""
    meeting = _own(meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit() and run_service(form, accept, current_user, meeting, option):
        flash("Agreed: you both get a calendar invitation by e-mail.", "success")
    flash_errors(form)
    return redirect(url_for("home.index"))
