"""A person's own pages: their home (programs, pairings, check-ins) and their e-mail settings."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import IntegerField, RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from program.asks.asks import my_asks
from program.checkins.services import ANSWER_LABELS, is_editable, open_check_ins, recent_answers
from program.coffee.enrollment import SNOOZE_REASONS
from program.coffee.rounds import my_coffee
from program.db import utc_now
from program.extensions import csrf, db
from program.formal.availability import pending_availability
from program.formal.pairs import my_pairs
from program.forms import Form
from program.meetings.services import meetings_of, when
from program.messages.chat import TOOL_NAMES, chat_account_of, chat_tool
from program.messages.services import person_for_unsubscribe_token
from program.pairings import about
from program.people.blocks import block, my_blocks, people_to_block, unblock
from program.people.models import Delivery, MailPreference, Person
from program.people.services import programs_and_roles, set_mail_preference
from program.permissions import Action, may, public, signed_in
from program.programs.models import Role
from program.reporting.pages import record_page
from program.surveys.services import open_surveys_of
from program.web import flash_errors, open_link, run_service

bp = Blueprint("home", __name__)


@bp.route("/")
@signed_in
def index() -> str:
    memberships = programs_and_roles(current_user)
    return render_template(
        "people/home.html",
        memberships=memberships,
        pairs=my_pairs(current_user),
        meetings=meetings_of(current_user),
        when=when,
        option_time=datetime.fromisoformat,
        coffee=my_coffee(current_user),
        asks=my_asks(current_user),
        snooze_reasons=SNOOZE_REASONS,
        today=utc_now().date(),
        open_check_ins=open_check_ins(current_user),
        pending_availability=pending_availability(current_user),
        surveys=open_surveys_of(current_user),
        recent=recent_answers(current_user),
        answer_choices=[(s.value, label) for s, label in ANSWER_LABELS.items()],
        answer_labels=ANSWER_LABELS,
        about=about,
        is_editable=is_editable,
        is_admin=may(current_user, Action.ADMINISTER),
        is_mentor=any(Role.MENTOR in item.roles for item in memberships),
        # Only trainees and mentors have mentoring to show; a coordinator, dean or admin who
        # takes no part sees their own work instead of "No formal mentoring pair yet".
        takes_part=any({Role.TRAINEE, Role.MENTOR} & set(item.roles) for item in memberships),
        Role=Role,
    )


@bp.route("/account/mentoring-record")
@signed_in
def mentoring_record() -> Response | tuple[str, int]:
    """A mentor's own record, for a promotion portfolio."""
    return record_page(current_user, None, url_for("home.index"))


@bp.route("/how-hallway-works")
@public
def how() -> str:
    return render_template("people/how.html")


class NotificationsForm(Form):
    preference = RadioField(
        "Which e-mails do you want?",
        choices=[
            SelectChoice(
                MailPreference.ALL.value,
                "Everything: introductions, check-ins, one reminder, and the follow-up nudges",
            ),
            SelectChoice(
                MailPreference.ESSENTIAL.value,
                "Only what I must act on: introductions and check-ins, no reminders or nudges",
            ),
        ],
        validators=[InputRequired()],
    )
    delivery = RadioField(
        "Where should introductions and check-ins reach you?",
        choices=[
            SelectChoice(Delivery.CHAT.value, "chat"),
            SelectChoice(Delivery.EMAIL.value, "E-mail"),
        ],
        validators=[Optional()],
    )
    submit = SubmitField("Save")


@bp.route("/account/notifications", methods=["GET", "POST"])
@signed_in
def notifications() -> str | Response:
    form = NotificationsForm()
    tool = chat_tool()
    # The chat tool's name in its choice: "Slack (where Hallway can reach you; else e-mail)".
    form.delivery.choices = [
        SelectChoice(
            Delivery.CHAT.value, f"{TOOL_NAMES.get(tool, '')}, where Hallway can reach you there"
        ),
        SelectChoice(Delivery.EMAIL.value, "E-mail, always"),
    ]
    if not form.is_submitted():
        form.preference.data = current_user.mail_preference.value
        form.delivery.data = current_user.delivery.value
    if form.validate_on_submit() and run_service(
        form,
        set_mail_preference,
        current_user,
        MailPreference(form.preference.data),
        Delivery(form.delivery.data) if tool and form.delivery.data else None,
    ):
        flash("Your settings are saved.", "success")
        return redirect(url_for("home.notifications"))
    return render_template(
        "people/notifications.html",
        form=form,
        tool=TOOL_NAMES.get(tool),
        account=chat_account_of(current_user.id),
    )


@bp.route("/account/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click", with no form
def unsubscribe(token: str) -> tuple[str, int] | str:
    """One click turns off optional e-mail (reminders and nudges), no sign-in needed.

    The signed link is the proof; opening it writes nothing (mail scanners open links), a POST
    does, from the page's button or from the mail program's own unsubscribe button.
    """
    person, problem = open_link(person_for_unsubscribe_token, token, lambda p: p.id)
    if problem is not None:
        return problem
    done = request.method == "POST"
    if done:
        set_mail_preference(person, MailPreference.ESSENTIAL)
    return render_template("people/unsubscribe.html", person=person, done=done)


class PairingListForm(Form):
    """Add (person) or take off (entry) one name; the button says which."""

    person = IntegerField(validators=[Optional()])
    entry = IntegerField(validators=[Optional()])


@bp.route("/account/pairing", methods=["GET", "POST"])
@signed_in
def pairing_list() -> str | Response:
    """A person's private "please don't pair me with" list: whom they would rather never be
    paired with, in any program or track. Only they see it."""
    form = PairingListForm()
    if form.validate_on_submit():
        if form.person.data:
            other = db.session.get(Person, form.person.data)
            if other is not None and run_service(form, block, current_user, other):
                flash(
                    f"You will not be paired with {other.name}. Nobody else sees this.", "success"
                )
        elif form.entry.data and run_service(form, unblock, current_user, form.entry.data):
            flash("Taken off your list.", "success")
        flash_errors(form)
        return redirect(url_for("home.pairing_list"))
    query = request.args.get("q", "").strip()[:100]
    return render_template(
        "people/pairing_list.html",
        form=form,
        entries=my_blocks(current_user),
        query=query,
        found=people_to_block(current_user, query) if query else [],
    )
