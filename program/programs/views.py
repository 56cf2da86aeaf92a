"""A program's pages for its coordinators: overview, terms and cohorts, and its people."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from program.extensions import db
from program.formal.availability import mentor_places
from program.formal.forms import CapacityForm
from program.forms import ConfirmForm
from program.home.dashboard import FIGURES, dashboard, first_run, next_term
from program.people.blocks import assessors_of, record_assessor, remove_assessor
from program.people.models import CareerStage
from program.permissions import Action, requires
from program.programs.forms import (
    AssessesForm,
    CohortForm,
    EndMembershipForm,
    MoveCohortForm,
    PeopleFilterForm,
    PersonDetailsForm,
    TermForm,
)
from program.programs.models import Cohort, CohortMember, Membership, Program, Role, Term
from program.programs.services import (
    PeopleFilters,
    coordinators,
    end_membership,
    in_other_programs,
    people_in_program,
    program_departments,
    role_counts,
    update_details,
)
from program.programs.terms import (
    cohort_sizes,
    create_cohort,
    create_term,
    current_term,
    move_to_cohort,
    set_term_closed,
    update_term,
)
from program.reporting.pages import record_page
from program.surveys.services import response_counts, survey_of, window
from program.web import (
    flash_errors,
    member_or_404,
    page_number,
    parse_id,
    run_service,
    term_or_404,
)

bp = Blueprint("programs", __name__, url_prefix="/programs")


@bp.route("/<slug>/")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def overview(program: Program) -> str:
    current = current_term(program)
    survey = survey_of(current) if current else None
    return render_template(
        "programs/overview.html",
        program=program,
        coordinators=coordinators(program),
        counts=role_counts(program),
        current=current,
        board=dashboard(program, current) if current else None,
        upcoming=next_term(program, current),
        steps=first_run(program),
        setup_term=current or (program.terms[-1] if program.terms else None),
        figures=FIGURES,
        Role=Role,
        survey_counts=response_counts(survey) if survey else None,
        survey_opens=window(current)[0] if current else None,
    )


@bp.route("/<slug>/terms/new", methods=["GET", "POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def new_term(program: Program) -> str | Response:
    form = TermForm()
    if form.validate_on_submit():
        term = run_service(
            form,
            create_term,
            current_user,
            program,
            form.name.data,
            form.starts_on.data,
            form.ends_on.data,
        )
        if term is not None:
            flash(f"{term.name} created. Add its cohorts, or import its roster.", "success")
            return redirect(url_for("programs.term", slug=program.slug, term_slug=term.slug))
    return render_template("programs/term_form.html", program=program, form=form, term=None)


@bp.route("/<slug>/terms/<term_slug>/")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def term(program: Program, term_slug: str) -> str:
    term = term_or_404(program, term_slug)
    return render_template(
        "programs/term.html",
        program=program,
        term=term,
        sizes=cohort_sizes(term),
        cohort_form=CohortForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/<slug>/terms/<term_slug>/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def edit_term(program: Program, term_slug: str) -> str | Response:
    term = term_or_404(program, term_slug)
    form = TermForm(obj=term)
    if form.validate_on_submit() and run_service(
        form,
        update_term,
        current_user,
        term,
        form.name.data,
        form.starts_on.data,
        form.ends_on.data,
    ):
        flash(f"{term.name} saved.", "success")
        return redirect(url_for("programs.term", slug=program.slug, term_slug=term.slug))
    return render_template("programs/term_form.html", program=program, form=form, term=term)


@bp.route("/<slug>/terms/<term_slug>/closed", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def close_term(program: Program, term_slug: str) -> Response:
    term = term_or_404(program, term_slug)
    if ConfirmForm().validate_on_submit():
        closing = request.form.get("closed") == "1"
        set_term_closed(current_user, term, closing)
        flash(f"{term.name} is {'closed' if closing else 'open again'}.", "info")
    return redirect(url_for("programs.term", slug=program.slug, term_slug=term.slug))


@bp.route("/<slug>/terms/<term_slug>/cohorts", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def add_cohort(program: Program, term_slug: str) -> str | Response:
    term = term_or_404(program, term_slug)
    form = CohortForm()
    if form.validate_on_submit():
        cohort = run_service(form, create_cohort, current_user, term, form.name.data)
        if cohort is not None:
            flash(f"Cohort {cohort.name} added.", "success")
            return redirect(url_for("programs.term", slug=program.slug, term_slug=term.slug))
    return render_template(
        "programs/term.html",
        program=program,
        term=term,
        sizes=cohort_sizes(term),
        cohort_form=form,
        confirm_form=ConfirmForm(),
    )


def _filter_choices(form: PeopleFilterForm, program: Program, term: Term | None) -> None:
    form.role.choices = [SelectChoice("", "Any")] + [
        SelectChoice(r.value, r.label) for r in (Role.TRAINEE, Role.MENTOR)
    ]
    form.cohort.choices = [SelectChoice("", "Any")] + [
        SelectChoice(str(c.id), c.name) for c in (term.cohorts if term else [])
    ]
    form.department.choices = [SelectChoice("", "Any")] + [
        SelectChoice(str(d.id), d.name) for d in program_departments(program)
    ]
    form.stage.choices = [SelectChoice("", "Any")] + [
        SelectChoice(s.value, s.label) for s in CareerStage
    ]


@bp.route("/<slug>/people")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def people(program: Program) -> str:
    terms = list(program.terms)
    selected = request.args.get("term")
    term = next((t for t in terms if t.slug == selected), None) or current_term(program)
    form = PeopleFilterForm(request.args)
    _filter_choices(form, program, term)
    form.validate()
    filters = PeopleFilters(
        q=(form.q.data or "").strip()[:200],
        role=Role(form.role.data) if form.role.data in ("trainee", "mentor") else None,
        cohort_id=parse_id(form.cohort.data) if not form.cohort.errors else None,
        department_id=parse_id(form.department.data) if not form.department.errors else None,
        stage=CareerStage(form.stage.data) if form.stage.data and not form.stage.errors else None,
        track=form.track.data if form.track.data in ("formal", "coffee") else "",
    )
    page = page_number()
    pagination, rows = people_in_program(program, term, filters, page)
    # Only the filters carry over to the next page: any other name in the query (a "slug", say)
    # would collide with the route's own arguments.
    query_args = {k: v for k in (*PeopleFilterForm.FILTERS, "term") if (v := request.args.get(k))}
    return render_template(
        "programs/people.html",
        program=program,
        term=term,
        terms=terms,
        form=form,
        page=pagination,
        rows=rows,
        query_args=query_args,
        filtered=any(v for k, v in query_args.items() if k != "term"),
    )


@bp.route("/<slug>/people/<int:person_id>")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def person(program: Program, person_id: int) -> str:
    subject = member_or_404(program, person_id)
    memberships = db.session.scalars(
        sa.select(Membership)
        .where(Membership.program_id == program.id, Membership.person_id == subject.id)
        .order_by(Membership.ended_at.is_not(None), Membership.role)
    ).all()
    placements = {
        cm.term_id: cm.cohort
        for cm in db.session.scalars(
            sa.select(CohortMember)
            .options(joinedload(CohortMember.cohort))
            .join(Term, Term.id == CohortMember.term_id)
            .where(CohortMember.person_id == subject.id, Term.program_id == program.id)
        )
    }
    move_forms = {}
    for t in program.terms:
        form = MoveCohortForm(formdata=None)
        form.cohort.choices = [SelectChoice("", "No cohort")] + [
            SelectChoice(str(c.id), c.name) for c in t.cohorts
        ]
        form.cohort.data = str(placements[t.id].id) if t.id in placements else ""
        move_forms[t.id] = form
    details_form = PersonDetailsForm(
        formdata=None,
        name=subject.name,
        department=subject.department_name,
        stage=subject.stage.value if subject.stage else "",
        interests="; ".join(subject.interests or []),
    )
    places = mentor_places(program, subject)
    capacity_form = CapacityForm(formdata=None, capacity=places.capacity if places else None)
    return render_template(
        "programs/person.html",
        program=program,
        subject=subject,
        memberships=memberships,
        placements=placements,
        move_forms=move_forms,
        end_form=EndMembershipForm(),
        assessor_records=assessors_of(program, subject),
        assesses_form=AssessesForm(),
        details_form=details_form,
        shared=bool(in_other_programs(program.id, [subject.id])),
        places=places,
        capacity_form=capacity_form,
    )


@bp.route("/<slug>/people/<int:person_id>/mentoring-record")
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def mentoring_record(program: Program, person_id: int) -> Response | tuple[str, int]:
    """A coordinator's copy of a mentor's record, for this program only."""
    subject = member_or_404(program, person_id)
    return record_page(
        subject, program, url_for("programs.person", slug=program.slug, person_id=subject.id)
    )


@bp.route("/<slug>/people/<int:person_id>/details", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def edit_person_details(program: Program, person_id: int) -> Response:
    subject = member_or_404(program, person_id)
    form = PersonDetailsForm()
    if form.validate_on_submit():
        changed = run_service(
            form,
            update_details,
            current_user,
            program,
            subject,
            name=form.name.data,
            department=form.department.data or "",
            stage=CareerStage(form.stage.data) if form.stage.data else None,
            interests=form.interests.data or "",
        )
        if changed is not None:
            flash(
                f"Saved: {', '.join(changed)} of {subject.name}." if changed else "No changes.",
                "success" if changed else "info",
            )
    flash_errors(form)
    return redirect(url_for("programs.person", slug=program.slug, person_id=subject.id))


@bp.route("/<slug>/people/<int:person_id>/assesses", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def record_assesses(program: Program, person_id: int) -> Response:
    """Record that this faculty member assesses or grades a trainee: never their mentor."""
    subject = member_or_404(program, person_id)
    form = AssessesForm()
    if form.validate_on_submit():
        entry = run_service(
            form, record_assessor, current_user, program, subject, form.trainee_email.data
        )
        if entry is not None:
            flash(
                f"Recorded: {subject.name} assesses {entry.trainee.name}. Formal matching will "
                "never pair them.",
                "success",
            )
    flash_errors(form)
    return redirect(url_for("programs.person", slug=program.slug, person_id=subject.id))


@bp.route("/<slug>/people/<int:person_id>/assesses/<int:entry_id>/remove", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def remove_assesses(program: Program, person_id: int, entry_id: int) -> Response:
    subject = member_or_404(program, person_id)
    form = ConfirmForm()
    if form.validate_on_submit() and run_service(
        form, remove_assessor, current_user, program, entry_id
    ):
        flash("Record removed.", "info")
    flash_errors(form)
    return redirect(url_for("programs.person", slug=program.slug, person_id=subject.id))


@bp.route("/<slug>/people/<int:person_id>/cohort/<term_slug>", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def move_person(program: Program, person_id: int, term_slug: str) -> Response:
    subject = member_or_404(program, person_id)
    term = term_or_404(program, term_slug)
    form = MoveCohortForm()
    form.cohort.choices = [SelectChoice("", "No cohort")] + [
        SelectChoice(str(c.id), c.name) for c in term.cohorts
    ]
    if form.validate_on_submit():
        cohort_id = parse_id(form.cohort.data)
        cohort = db.session.get(Cohort, cohort_id) if cohort_id else None
        if run_service(form, move_to_cohort, current_user, term, subject, cohort) is not None:
            flash(
                f"{subject.name} is now in {cohort.name if cohort else 'no cohort'} "
                f"for {term.name}.",
                "success",
            )
        flash_errors(form)
    else:
        flash("Choose one of the term's cohorts.", "danger")
    return redirect(url_for("programs.person", slug=program.slug, person_id=subject.id))


@bp.route("/<slug>/people/<int:person_id>/memberships/<int:membership_id>/end", methods=["POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def end_person_membership(program: Program, person_id: int, membership_id: int) -> Response:
    subject = member_or_404(program, person_id)
    membership = db.session.get(Membership, membership_id)
    if (
        membership is None
        or membership.program_id != program.id
        or membership.person_id != subject.id
        or membership.role is Role.COORDINATOR
    ):
        abort(404)
    form = EndMembershipForm()
    if form.validate_on_submit():
        end_membership(current_user, membership, form.reason.data)
        flash(f"{subject.name} is no longer a {membership.role.value} of {program.name}.", "info")
    else:
        flash("Say why the membership ends (for example “Left the program”).", "danger")
    return redirect(url_for("programs.person", slug=program.slug, person_id=subject.id))
