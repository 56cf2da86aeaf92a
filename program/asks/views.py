"""The directory of people open to a coffee, one's own listing, the guided ask, one-click
answers (e-mail link or home page), and a coordinator's guests."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.asks.asks import (
    answer_ask,
    askable_listing,
    outside_ask,
    read_answer_token,
    ready_ask,
    referrer_for,
    send_ask,
    withdraw_ask,
    word_guide,
)
from program.asks.directory import (
    ASK_WORDS,
    Filters,
    add_guest,
    directory,
    guests,
    listing_of,
    open_to_asks,
    remove_guest,
    set_listing_state,
)
from program.asks.forms import AnswerForm, AskForm, GuestForm, ListingForm, StateForm
from program.asks.models import Ask, Meets
from program.coffee.enrollment import may_join
from program.extensions import db
from program.forms import ConfirmForm
from program.people.stages import CareerStage
from program.permissions import Action, public, requires, signed_in
from program.programs.models import Program, Role
from program.programs.services import program_departments
from program.web import flash_errors, open_link, page_number, parse_id, plural, run_service

bp = Blueprint("asks", __name__)
ROLES = {"trainee", "mentor", "coordinator", "guest"}

STATE_DONE = {
    "pause": "Paused: you are out of the directory until you resume. Asks already sent to you "
    "stay answerable.",
    "resume": "You are back in the directory.",
    "stop": "You have left the directory. Your note is kept if you come back.",
}


def _filters() -> Filters:
    args = request.args
    stage = args.get("stage", "")
    return Filters(
        name=args.get("name", "")[:200],
        topic=args.get("topic", "")[:100],
        department_id=parse_id(args.get("department")),
        stage=CareerStage(stage) if stage in {s.value for s in CareerStage} else None,
        role=args.get("role", "") if args.get("role") in ROLES else "",
        ahead=args.get("ahead") == "1",
        other_department=args.get("other") == "1",
    )


@bp.route("/programs/<slug>/directory", endpoint="directory")
@requires(Action.PARTICIPATE, program_from="slug")
def directory_page(program: Program) -> str:
    filters = _filters()
    found = directory(current_user, program, filters, page_number())
    return render_template(
        "asks/directory.html",
        program=program,
        found=found,
        filters=filters,
        departments=program_departments(program),
        stages=list(CareerStage),
        roles=[(r.value, r.label) for r in Role] + [("guest", "Guest")],
        mine=listing_of(current_user, program),
        may_list=may_join(current_user, program),
        outside_ask=outside_ask,
        plural=plural,
        # The search as it stands, for the toggles and pages to keep (the route's own
        # arguments are not the search's).
        query={k: v for k, v in request.args.items() if k not in ("slug", "page")},
    )


@bp.route("/programs/<slug>/directory/me", methods=["GET", "POST"])
@requires(Action.PARTICIPATE, program_from="slug")
def my_listing(program: Program) -> str | Response:
    if not may_join(current_user, program):
        abort(403)
    mine = listing_of(current_user, program)
    form = ListingForm()
    if not form.is_submitted():
        topics = mine.topics if mine is not None else (current_user.interests or [])
        form.topics.data = ", ".join(topics)
        if mine is not None:
            form.note.data = mine.note
            form.asks_per_month.data = mine.asks_per_month
            form.meets.data = mine.meets.value
    saved = form.validate_on_submit() and run_service(
        form,
        open_to_asks,
        current_user,
        program,
        note=form.note.data or "",
        topics=form.topics.data or "",
        asks_per_month=form.asks_per_month.data,
        meets=Meets(form.meets.data),
    )
    if saved:
        flash(
            "Saved. You are paused: resume to be found again."
            if saved.paused
            else "Saved: you are open to asks in the directory.",
            "success",
        )
        return redirect(url_for("asks.directory", slug=program.slug))
    return render_template(
        "asks/listing.html", program=program, form=form, mine=mine, state_form=StateForm()
    )


@bp.route("/programs/<slug>/directory/me/state", methods=["POST"])
@requires(Action.PARTICIPATE, program_from="slug")
def listing_state(program: Program) -> Response:
    form = StateForm()
    if form.validate_on_submit() and run_service(
        form, set_listing_state, current_user, program, form.action.data
    ):
        flash(STATE_DONE[form.action.data], "success")
    flash_errors(form)
    return redirect(url_for("asks.my_listing", slug=program.slug))


@bp.route("/programs/<slug>/directory/<int:person_id>/ask", methods=["GET", "POST"])
@requires(Action.PARTICIPATE, program_from="slug")
def ask(program: Program, person_id: int) -> str | Response:
    try:
        listing = askable_listing(current_user, program, person_id)
    except LookupError:
        abort(404)  # hidden, not open, or not here: the same answer for all three
    recipient = listing.person
    referrer = referrer_for(current_user, program, recipient.id)
    form = AskForm()
    if not form.is_submitted():
        subject, body = ready_ask(
            current_user, recipient, program, referrer.name if referrer else None
        )
        form.subject.data, form.body.data = subject, body
        form.referred_by.data = str(referrer.id) if referrer else ""
    if form.validate_on_submit():
        sent = run_service(
            form,
            send_ask,
            current_user,
            program,
            recipient.id,
            subject=form.subject.data,
            body=form.body.data,
            referred_by_id=parse_id(form.referred_by.data),
        )
        if sent is not None:
            flash(
                f"Your ask is on its way to {recipient.name}. You will hear when they answer; "
                "if there is no answer in a week, we will suggest one short follow-up.",
                "success",
            )
            return redirect(url_for("asks.directory", slug=program.slug))
    return render_template(
        "asks/ask.html",
        program=program,
        form=form,
        listing=listing,
        recipient=recipient,
        referrer=referrer,
        guide=word_guide(current_user, recipient),
        limits=ASK_WORDS,
    )


def _answered(ask: Ask, answer: str) -> str:
    if answer == "yes":
        return (
            f"You said yes. {ask.asker.name} is introduced to you by e-mail and will offer "
            "two or three times."
        )
    return f"Noted: not now. {ask.asker.name} is told kindly, without a reason."


@bp.route("/ask/<token>", methods=["GET", "POST"])
@public
def answer_link(token: str) -> str | Response | tuple[str, int]:
    """The page behind an ask's one-click links. A GET only shows the answer to confirm (mail
    scanners open every link); the confirming POST records it."""
    found, problem = open_link(
        read_answer_token, token, lambda f: f[0].recipient_id, "asks/link_problem.html"
    )
    if problem is not None:
        return problem
    ask_, answer = found
    form = AnswerForm()
    if not form.is_submitted():
        form.answer.data = answer
    done = None
    if form.validate_on_submit():
        saved = run_service(form, answer_ask, ask_.recipient, ask_, form.answer.data)
        if saved is not None:
            done = _answered(saved, form.answer.data)
    return render_template("asks/answer.html", ask=ask_, form=form, answer=answer, done=done)


def _own_ask(ask_id: int, side: str) -> Ask:
    found = db.session.get(Ask, ask_id)
    if found is None or getattr(found, f"{side}_id") != current_user.id:
        abort(404)
    return found


@bp.route("/asks/<int:ask_id>/answer", methods=["POST"])
@signed_in
def answer_here(ask_id: int) -> Response:
    """The home page's yes / not now."""
    found = _own_ask(ask_id, "recipient")
    form = AnswerForm()
    if form.validate_on_submit() and run_service(
        form, answer_ask, current_user, found, form.answer.data
    ):
        flash(_answered(found, form.answer.data), "success")
    flash_errors(form)
    return redirect(url_for("home.index"))


@bp.route("/asks/<int:ask_id>/withdraw", methods=["POST"])
@signed_in
def withdraw(ask_id: int) -> Response:
    found = _own_ask(ask_id, "asker")
    form = ConfirmForm()
    if form.validate_on_submit() and run_service(form, withdraw_ask, current_user, found):
        flash(f"Withdrawn: your ask to {found.recipient.name}.", "success")
    flash_errors(form)
    return redirect(url_for("home.index"))


@bp.route("/programs/<slug>/guests", methods=["GET", "POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def guest_list(program: Program) -> str | Response:
    form = GuestForm()
    if form.validate_on_submit() and run_service(
        form,
        add_guest,
        current_user,
        program,
        name=form.name.data,
        email=form.email.data,
        note=form.note.data or "",
        topics=form.topics.data or "",
        asks_per_month=form.asks_per_month.data,
        meets=Meets(form.meets.data),
    ):
        flash(f"{form.name.data} is in the directory as a guest.", "success")
        return redirect(url_for("asks.guest_list", slug=program.slug))
    return render_template(
        "asks/guests.html",
        program=program,
        form=form,
        guests=guests(program),
        remove_form=ConfirmForm(),
    )


@bp.route("/programs/<slug>/guests/<int:listing_id>/remove", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def guest_remove(program: Program, listing_id: int) -> Response:
    form = ConfirmForm()
    if form.validate_on_submit():
        removed = run_service(form, remove_guest, current_user, program, listing_id)
        if removed is not None:
            flash(f"{removed.person.name} is no longer in the directory.", "success")
    flash_errors(form)
    return redirect(url_for("asks.guest_list", slug=program.slug))
