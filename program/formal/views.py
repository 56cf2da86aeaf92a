"""The formal track's pages: availability, matches, the pairs dashboard and rematches."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.extensions import db
from program.formal.availability import (
    answer_availability,
    availability_counts,
    availability_rows,
    read_availability_token,
    remind_availability,
    request_availability,
    set_capacity,
)
from program.formal.forms import AvailabilityForm, CapacityForm, EndPairForm
from program.formal.matches import (
    PUBLISHED_PER_PAGE,
    pair_reasons,
    propose_matches,
    publish_matches,
    review,
    set_proposed_mentor,
)
from program.formal.models import Assignment, AssignmentStatus, Availability, EndReason
from program.formal.pairs import (
    END_REASON_LABELS,
    end_assignment,
    nudge_pair,
    pair_page,
    request_rematch,
)
from program.forms import ConfirmForm
from program.people.blocks import assesses
from program.permissions import Action, public, requires, signed_in
from program.programs.models import Program
from program.web import (
    flash_errors,
    mail_after_asking,
    member_or_404,
    open_link,
    own_or_404,
    page_number,
    page_or_404,
    parse_id,
    plural,
    run_service,
    term_or_404,
)

bp = Blueprint("formal", __name__)

PAIRS_PER_PAGE = 100  # the most urgent first, so page 1 holds every pair that needs a look
AVAILABILITY_PER_PAGE = 100  # those waiting for an answer first


@bp.route("/programs/<slug>/terms/<term_slug>/availability")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def availability(program: Program, term_slug: str) -> str:
    term = term_or_404(program, term_slug)
    counts = availability_counts(term)
    page = page_number()
    rows = availability_rows(term, page, AVAILABILITY_PER_PAGE)
    return render_template(
        "formal/availability.html",
        program=program,
        term=term,
        rows=page_or_404(rows, page, counts.mentors, AVAILABILITY_PER_PAGE),
        counts=counts,
        confirm_form=ConfirmForm(),
    )


@bp.route("/programs/<slug>/terms/<term_slug>/availability/request", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def ask_availability(program: Program, term_slug: str) -> str | Response:
    term = term_or_404(program, term_slug)
    form = ConfirmForm()
    back = url_for("formal.availability", slug=program.slug, term_slug=term.slug)
    if form.validate_on_submit():
        ask, counts = mail_after_asking(
            form,
            "Ask mentors for their availability",
            request_availability,
            current_user,
            term,
            back=back,
        )
        if ask is not None:
            return ask
        if counts is not None:
            flash(
                f"Availability asked of {counts['asked']} mentors"
                + (
                    f" ({counts['already_asked']} had been asked before)."
                    if counts["already_asked"]
                    else "."
                ),
                "success",
            )
        flash_errors(form)
    return redirect(url_for("formal.availability", slug=program.slug, term_slug=term.slug))


@bp.route("/programs/<slug>/terms/<term_slug>/availability/remind", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def remind_availability_view(program: Program, term_slug: str) -> str | Response:
    term = term_or_404(program, term_slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        ask, sent = mail_after_asking(
            form,
            "Remind the mentors who have not answered",
            remind_availability,
            current_user,
            term,
            back=url_for("formal.availability", slug=program.slug, term_slug=term.slug),
        )
        if ask is not None:
            return ask
        if sent is not None:
            flash(
                f"A reminder went to {sent} mentors who had not answered."
                if sent
                else "Nobody is waiting for a first reminder.",
                "info",
            )
        flash_errors(form)
    return redirect(url_for("formal.availability", slug=program.slug, term_slug=term.slug))


@bp.route("/programs/<slug>/terms/<term_slug>/people/<int:person_id>/capacity", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def set_capacity_view(program: Program, term_slug: str, person_id: int) -> Response:
    """A coordinator records a mentor's places for the term, from the mentor's page."""
    term = term_or_404(program, term_slug)
    mentor = member_or_404(program, person_id)
    form = CapacityForm()
    if form.validate_on_submit():
        done = run_service(form, set_capacity, current_user, term, mentor, form.capacity.data)
        if done is not None:
            flash(
                f"Saved: {mentor.name} takes {plural(done.capacity, 'mentee')} in {term.name}."
                if done.capacity
                else f"Saved: {mentor.name} is not mentoring in {term.name}.",
                "success",
            )
    flash_errors(form)
    return redirect(url_for("programs.person", slug=program.slug, person_id=mentor.id))


def _answer_page(availability: Availability, preselect: bool | None) -> str | Response:
    form = AvailabilityForm()
    if not form.is_submitted():
        if preselect is not None:
            form.accepting.data = "yes" if preselect else "no"
        if availability.answered_at is not None:
            form.capacity.data = availability.capacity or 2
            form.topics.data = availability.topics
    if form.validate_on_submit():
        accepting = form.accepting.data == "yes"
        saved = run_service(
            form,
            answer_availability,
            availability.person,
            availability,
            accepting,
            form.capacity.data or 0,
            form.topics.data or "",
        )
        if saved is not None:
            return render_template("formal/availability_thanks.html", availability=saved)
    return render_template("formal/availability_answer.html", form=form, availability=availability)


@bp.route("/availability/<token>", methods=["GET", "POST"])
@public
def availability_link(token: str) -> str | Response | tuple[str, int]:
    """The page behind an availability e-mail's link: a GET only shows the choice."""
    link, problem = open_link(read_availability_token, token, lambda f: f[0].person_id)
    if problem is not None:
        return problem
    found, accepting = link
    return _answer_page(found, accepting)


@bp.route("/availability/mine/<int:availability_id>", methods=["GET", "POST"])
@signed_in
def my_availability(availability_id: int) -> str | Response:
    return _answer_page(own_or_404(Availability, availability_id), None)


@bp.route("/programs/<slug>/terms/<term_slug>/matches")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def matches(program: Program, term_slug: str) -> str:
    term = term_or_404(program, term_slug)
    page = page_number()
    found = review(term, page)
    return render_template(
        "formal/matches.html",
        program=program,
        term=term,
        review=found,
        published=page_or_404(found.published, page, found.published_total, PUBLISHED_PER_PAGE),
        reasons=lambda assignment: pair_reasons(assignment, term),
        confirm_form=ConfirmForm(),
    )


@bp.route("/programs/<slug>/terms/<term_slug>/matches/propose", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def propose_view(program: Program, term_slug: str) -> Response:
    term = term_or_404(program, term_slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        proposal = run_service(form, propose_matches, current_user, term)
        if proposal is not None:
            flash(
                f"{plural(len(proposal.pairs), 'pair')} proposed; "
                f"{plural(len(proposal.unmatched), 'trainee')} "
                "without a mentor. Review, edit, then publish.",
                "success",
            )
        flash_errors(form)
    return redirect(url_for("formal.matches", slug=program.slug, term_slug=term.slug))


@bp.route("/programs/<slug>/terms/<term_slug>/matches/<int:trainee_id>", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def edit_match(program: Program, term_slug: str, trainee_id: int) -> Response:
    term = term_or_404(program, term_slug)
    trainee = member_or_404(program, trainee_id)
    form = ConfirmForm()
    given = request.form.get("mentor", "")
    mentor_id = parse_id(given)
    if given and mentor_id is None:
        abort(404)
    mentor = member_or_404(program, mentor_id) if mentor_id else None
    if form.validate_on_submit() and run_service(
        form, set_proposed_mentor, current_user, term, trainee, mentor
    ):
        flash(
            f"{trainee.name}: "
            + (f"proposed mentor {mentor.name}." if mentor else "proposal removed."),
            "success",
        )
    flash_errors(form)
    return redirect(url_for("formal.matches", slug=program.slug, term_slug=term.slug))


@bp.route("/programs/<slug>/terms/<term_slug>/matches/publish", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def publish_view(program: Program, term_slug: str) -> str | Response:
    term = term_or_404(program, term_slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        ask, count = mail_after_asking(
            form,
            "Publish the proposed pairs and introduce them",
            publish_matches,
            current_user,
            term,
            back=url_for("formal.matches", slug=program.slug, term_slug=term.slug),
        )
        if ask is not None:
            return ask
        if count is not None:
            flash(
                f"{plural(count, 'pair')} published; each side has an introduction in the outbox.",
                "success",
            )
        flash_errors(form)
    return redirect(url_for("formal.matches", slug=program.slug, term_slug=term.slug))


def _pair_or_404(term_id: int, assignment_id: int) -> Assignment:
    found = db.session.get(Assignment, assignment_id)
    if found is None or found.term_id != term_id:
        abort(404)
    return found


@bp.route("/programs/<slug>/terms/<term_slug>/pairs")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def pairs(program: Program, term_slug: str) -> str:
    term = term_or_404(program, term_slug)
    page = page_number()
    rows, counts = pair_page(term, page, PAIRS_PER_PAGE)
    return render_template(
        "formal/pairs.html",
        program=program,
        term=term,
        rows=page_or_404(rows, page, counts.total, PAIRS_PER_PAGE),
        flagged=counts.flagged,
        end_form=EndPairForm(),
        nudge_form=ConfirmForm(),
    )


@bp.route("/programs/<slug>/terms/<term_slug>/pairs/<int:assignment_id>/nudge", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def nudge(program: Program, term_slug: str, assignment_id: int) -> str | Response:
    """A gentle nudge to both sides of a quiet pair, once per quiet spell."""
    term = term_or_404(program, term_slug)
    assignment = _pair_or_404(term.id, assignment_id)
    form = ConfirmForm()
    back = url_for("formal.pairs", slug=program.slug, term_slug=term.slug)
    if form.validate_on_submit():
        ask, sent = mail_after_asking(
            form,
            f"Nudge {assignment.trainee.name} and {assignment.mentor.name}",
            nudge_pair,
            current_user,
            assignment,
            back=back,
        )
        if ask is not None:
            return ask
        if sent is not None:
            flash(
                f"Nudge sent to {sent} {'person' if sent == 1 else 'people'}."
                if sent
                else "Nobody to nudge: both have turned optional e-mail off.",
                "success" if sent else "info",
            )
        flash_errors(form)
    return redirect(back)


@bp.route(
    "/programs/<slug>/terms/<term_slug>/pairs/<int:assignment_id>/end", methods=["GET", "POST"]
)
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def end_pair(program: Program, term_slug: str, assignment_id: int) -> str | Response:
    term = term_or_404(program, term_slug)
    assignment = _pair_or_404(term.id, assignment_id)
    form = EndPairForm()
    must_end = assesses(assignment.mentor, assignment.trainee, program.id)
    if not form.is_submitted() and (assignment.rematch_requested_at is not None or must_end):
        form.reason.data = EndReason.NO_FAULT_REMATCH.value
    if form.validate_on_submit():
        reason = EndReason(form.reason.data)
        proposal = run_service(
            form,
            end_assignment,
            current_user,
            assignment,
            reason,
            propose_new=bool(form.propose_new.data),
        )
        if not form.form_errors:
            message = f"The pair has ended ({END_REASON_LABELS[reason].lower()})."
            if proposal is not None and proposal.pairs:
                flash(message + " A new mentor is proposed: review it, then publish.", "success")
                return redirect(url_for("formal.matches", slug=program.slug, term_slug=term.slug))
            if proposal is not None:
                why = next(
                    iter(proposal.unmatched.values()),
                    "the trainee is no longer in the formal track",
                )
                message += f" No new mentor proposed: {why.rstrip('.')}."
            flash(message, "success")
            return redirect(url_for("formal.pairs", slug=program.slug, term_slug=term.slug))
    return render_template(
        "formal/end_pair.html",
        program=program,
        term=term,
        assignment=assignment,
        form=form,
        must_end=must_end,
    )


def _my_pair_or_404(assignment_id: int) -> Assignment:
    found = db.session.get(Assignment, assignment_id)
    if (
        found is None
        or found.status is not AssignmentStatus.ACTIVE
        or current_user.id not in (found.mentor_id, found.trainee_id)
    ):
        abort(404)
    return found


@bp.route("/mentoring/<int:assignment_id>/rematch", methods=["GET", "POST"])
@signed_in
def rematch(assignment_id: int) -> str | Response:
    """A trainee's or mentor's private, no-fault request for a different pairing."""
    assignment = _my_pair_or_404(assignment_id)
    form = ConfirmForm()
    if form.validate_on_submit() and run_service(form, request_rematch, current_user, assignment):
        flash(
            "Your request is with your program coordinator, and no one else. "
            "They will be in touch about a new pairing.",
            "success",
        )
        return redirect(url_for("home.index"))
    flash_errors(form)
    other = assignment.trainee if assignment.mentor_id == current_user.id else assignment.mentor
    return render_template("formal/rematch.html", assignment=assignment, other=other, form=form)
