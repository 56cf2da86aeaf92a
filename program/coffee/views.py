"""The coffee chats' pages: a person's enrollment (home page or e-mail link), and the
coordinator's page to opt people in, preview, publish and schedule rounds."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.coffee.enrollment import (
    ENROLLMENT_ACTIONS,
    SNOOZE_REASONS,
    bulk_enroll,
    enroll,
    enrollment_counts,
    left_on,
    open_enrollment,
    read_enrollment_token,
    snooze,
    withdraw,
)
from program.coffee.forms import BulkEnrollForm, EnrollmentForm, RoundForm
from program.coffee.models import RoundStatus
from program.coffee.rounds import (
    CHAT_OUTCOMES,
    preview_round,
    publish_as_planned,
    publish_or_schedule,
    round_detail,
    rounds,
    too_soon,
)
from program.db import utc_now
from program.people.models import Person
from program.permissions import Action, public, requires
from program.programs.models import Program
from program.web import (
    ask_before_mailing,
    flash_errors,
    mail_after_asking,
    open_link,
    page_of,
    plural,
    run_service,
)

bp = Blueprint("coffee", __name__)

CHATS_PER_PAGE = 100  # of the next round's proposed chats

DONE = {
    "join": "You are in: your next coffee chat comes with the next round.",
    "snooze": "Snoozed: no coffee chats until {until:%d %B %Y}.",
    "leave": "You have left the coffee chats. You can rejoin from your Hallway page any time.",
}


def _apply(form: EnrollmentForm, person: Person, program: Program) -> str | None:
    """Carry out a person's enrollment choice; the message to show, or None if refused."""
    action = form.action.data
    if action == "join":
        done = run_service(form, enroll, person, program)
    elif action == "snooze":
        until = form.until.data or (utc_now().date() + timedelta(days=30))
        done = run_service(form, snooze, person, program, until)
    else:
        run_service(form, withdraw, person, program)
        done = True
    if done is None:
        return None
    enrollment = open_enrollment(person.id, program.id)
    return DONE[action].format(until=enrollment.snoozed_until if enrollment else None)


@bp.route("/coffee/<token>", methods=["GET", "POST"])
@public
def enrollment_link(token: str) -> str | Response | tuple[str, int]:
    """Join, snooze or leave from an e-mail: a GET only shows the choice (scanner-safe)."""
    link, problem = open_link(read_enrollment_token, token, lambda f: f[0].id)
    if problem is not None:
        return problem
    person, program = link
    form = EnrollmentForm()
    left = left_on(person.id, program.id)
    if not form.is_submitted():
        action = request.args.get("do", "join")
        form.action.data = action if action in ENROLLMENT_ACTIONS else "join"
        if left is not None:
            # An old "leave" or "snooze" link opened after leaving: say so, offer to rejoin.
            form.action.data = "join"
        form.until.data = utc_now().date() + timedelta(days=30)
    if form.validate_on_submit():
        message = _apply(form, person, program)
        if message is not None:
            return render_template("coffee/done.html", message=message, program=program)
    return render_template(
        "coffee/confirm.html",
        form=form,
        program=program,
        person=person,
        action=form.action.data,
        left_on=left,
    )


@bp.route("/coffee/mine/<slug>", methods=["POST"])
@requires(Action.PARTICIPATE, program_from="slug")
def mine(program: Program) -> Response:
    """Join, snooze or leave from the home page (members of the program only)."""
    form = EnrollmentForm()
    if form.validate_on_submit():
        message = _apply(form, current_user, program)
        if message is not None:
            flash(message, "success")
    flash_errors(form)
    return redirect(url_for("home.index"))


@bp.route("/programs/<slug>/coffee")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def overview(program: Program) -> str:
    preview = preview_round(program, keep=True)
    return render_template(
        "coffee/overview.html",
        program=program,
        preview=preview,
        chats=page_of(preview.plan.chats, CHATS_PER_PAGE),
        counts=enrollment_counts(program),
        rounds=rounds(program),
        bulk_form=BulkEnrollForm(),
        round_form=RoundForm(),
        snooze_reasons=SNOOZE_REASONS,
        today=utc_now().date(),
    )


@bp.route("/programs/<slug>/coffee/rounds/<int:number>")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def round_page(program: Program, number: int) -> str:
    """A past round: its chats, and how they went as counts."""
    detail = round_detail(program, number)
    if detail is None:
        abort(404)
    return render_template(
        "coffee/round.html", program=program, detail=detail, outcomes=CHAT_OUTCOMES
    )


@bp.route("/programs/<slug>/coffee/enroll", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def bulk(program: Program) -> str | Response:
    form = BulkEnrollForm()
    if form.validate_on_submit():
        ask, done = mail_after_asking(
            form,
            "Opt everyone in to the coffee chats",
            bulk_enroll,
            current_user,
            program,
            form.reason.data,
            back=url_for("coffee.overview", slug=program.slug),
        )
        if ask is not None:
            return ask
        if done is not None:
            flash(
                f"{done.enrolled} {'person' if done.enrolled == 1 else 'people'} opted in; "
                "each has been told and can opt out with one click.",
                "success",
            )
            if done.skipped:
                names = "; ".join(
                    f"{name} (opted out {day:%-d %b %Y})" for name, day in done.skipped
                )
                flash(
                    f"Not opted in, because they opted out themselves and only they can rejoin: "
                    f"{names[:1500]}.",
                    "info",
                )
    flash_errors(form)
    return redirect(url_for("coffee.overview", slug=program.slug))


@bp.route("/programs/<slug>/coffee/rounds", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def publish(program: Program) -> str | Response:
    """Publish the next round now, or schedule it for a date (`flask tick` publishes it)."""
    form = RoundForm()
    if form.validate_on_submit():
        today = utc_now().date()
        on = form.on.data if form.on.data and form.on.data > today else None
        # A date in the past is refused by the service below, before anything is asked.
        past = form.on.data is not None and form.on.data < today
        ask = not past and ask_before_mailing(
            form,
            "Publish the next coffee round" + (f" on {on:%d %B %Y}" if on else " now"),
            publish_as_planned,
            current_user,
            program,
            on,
            form.seed.data,
            back=url_for("coffee.overview", slug=program.slug),
            notes=[n for n in [too_soon(program, on)] if n],
            later=f"on {on:%d %B %Y}" if on else None,
        )
        if ask:
            return ask
        round_ = run_service(
            form, publish_or_schedule, current_user, program, form.on.data, form.seed.data
        )
        if round_ is not None and round_.status is RoundStatus.DRAFT:
            flash(
                f"Round {round_.number} is scheduled for {round_.scheduled_for:%d %B %Y}.",
                "success",
            )
        elif round_ is not None:
            flash(
                f"Round {round_.number} published: {plural(len(round_.chats), 'chat')}; "
                "each person has an introduction in the outbox.",
                "success",
            )
    flash_errors(form)
    return redirect(url_for("coffee.overview", slug=program.slug))
