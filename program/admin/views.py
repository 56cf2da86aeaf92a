"""Admin pages: programs and their coordinators, people, institution settings, the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from program.accounts.services import institution_sign_in_configured, send_invitation
from program.accounts.sso import set_sign_in_mode, sign_in_methods
from program.admin.forms import EmailAddressForm, InstitutionRolesForm, SettingsForm, SignInForm
from program.admin.models import InstitutionSettings
from program.admin.services import (
    active_admins,
    audit_log,
    mail_problems,
    search_people,
    send_again,
    update_settings,
)
from program.extensions import db
from program.forms import ConfirmForm
from program.institution import get_settings
from program.people.models import Person
from program.people.services import change_email, set_active, set_institution_roles
from program.permissions import Action, requires
from program.programs.forms import AddCoordinatorForm, ProgramForm
from program.programs.models import Membership, Program, Role
from program.programs.services import (
    PROGRAM_FIELDS,
    add_coordinator,
    coordinators,
    create_program,
    end_membership,
    update_program,
)
from program.web import flash_errors, page_number, run_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _program_data(form: ProgramForm) -> dict[str, object]:
    return {name: getattr(form, name).data for name in PROGRAM_FIELDS}


@bp.route("/")
@requires(Action.ADMINISTER)
def programs() -> str:
    all_programs = db.session.scalars(sa.select(Program).order_by(Program.name)).all()
    counts = dict(
        db.session.execute(
            sa.select(Membership.program_id, sa.func.count())
            .where(Membership.is_current)
            .group_by(Membership.program_id)
        ).all()
    )
    return render_template("admin/programs.html", programs=all_programs, counts=counts)


@bp.route("/programs/new", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def new_program() -> str | Response:
    form = ProgramForm()
    if form.validate_on_submit():
        program = run_service(form, create_program, current_user, _program_data(form))
        if program is not None:
            flash(f"Program “{program.name}” created. Now name its coordinators.", "success")
            return redirect(url_for("admin.program_coordinators", slug=program.slug))
    return render_template("admin/program_form.html", form=form, program=None)


@bp.route("/programs/<slug>/edit", methods=["GET", "POST"])
@requires(Action.ADMINISTER, program_from="slug")
def edit_program(program: Program) -> str | Response:
    form = ProgramForm(obj=program)
    if request.method == "GET":
        form.formal_department_preference.data = program.formal_department_preference.value
        form.coffee_department_preference.data = program.coffee_department_preference.value
    if form.validate_on_submit() and run_service(
        form, update_program, current_user, program, _program_data(form)
    ):
        flash(f"Program “{program.name}” saved.", "success")
        return redirect(url_for("admin.programs"))
    return render_template("admin/program_form.html", form=form, program=program)


@bp.route("/programs/<slug>/coordinators", methods=["GET", "POST"])
@requires(Action.ADMINISTER, program_from="slug")
def program_coordinators(program: Program) -> str | Response:
    form = AddCoordinatorForm()
    if form.validate_on_submit():
        membership = run_service(
            form, add_coordinator, current_user, program, form.email.data, form.name.data or ""
        )
        if membership is not None:
            flash(f"{membership.person.name} is a coordinator of {program.name}.", "success")
            return redirect(url_for("admin.program_coordinators", slug=program.slug))
    return render_template(
        "admin/coordinators.html",
        program=program,
        form=form,
        coordinators=coordinators(program),
        end_form=ConfirmForm(),
    )


@bp.route("/programs/<slug>/coordinators/<int:membership_id>/end", methods=["POST"])
@requires(Action.ADMINISTER, program_from="slug")
def end_coordinator(program: Program, membership_id: int) -> Response:
    membership = db.session.get(Membership, membership_id)
    if (
        membership is None
        or membership.program_id != program.id
        or membership.role is not Role.COORDINATOR
    ):
        abort(404)
    if ConfirmForm().validate_on_submit():
        end_membership(current_user, membership, "Removed as coordinator by an admin")
        flash(f"{membership.person.name} is no longer a coordinator of {program.name}.", "info")
    return redirect(url_for("admin.program_coordinators", slug=program.slug))


@bp.route("/people")
@requires(Action.ADMINISTER)
def people() -> str:
    query = request.args.get("q", "").strip()[:200]
    page = page_number()
    found = search_people(query, page)
    return render_template(
        "admin/people.html",
        page=found,
        query=query,
        sign_ins=sign_in_methods(p.id for p in found.items),
    )


def _person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    return person


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def person(person_id: int) -> str | Response:
    subject = _person_or_404(person_id)
    form = InstitutionRolesForm(obj=subject)
    if form.validate_on_submit():
        done = run_service(
            form,
            set_institution_roles,
            current_user,
            subject,
            is_admin=form.is_admin.data,
            is_dean=form.is_dean.data,
        )
        if done is not None:
            flash(f"Institution roles of {subject.name} saved.", "success")
            return redirect(url_for("admin.person", person_id=subject.id))
    memberships = db.session.scalars(
        sa.select(Membership)
        .options(joinedload(Membership.program))
        .where(Membership.person_id == subject.id)
        .order_by(Membership.ended_at.is_not(None), Membership.created_at)
    ).all()
    return render_template(
        "admin/person.html",
        subject=subject,
        memberships=memberships,
        form=form,
        confirm_form=ConfirmForm(),
        email_form=EmailAddressForm(email=subject.email),
    )


@bp.route("/people/<int:person_id>/email", methods=["POST"])
@requires(Action.ADMINISTER)
def change_person_email(person_id: int) -> Response:
    subject = _person_or_404(person_id)
    form = EmailAddressForm()
    if form.validate_on_submit() and run_service(
        form, change_email, current_user, subject, form.email.data
    ):
        flash(f"{subject.name}'s address is {subject.email}; mail goes to it again.", "success")
    flash_errors(form)
    return redirect(url_for("admin.person", person_id=subject.id))


@bp.route("/mail")
@requires(Action.ADMINISTER)
def mail() -> str:
    """What did not reach people: addresses that bounce, and messages that failed, with why."""
    return render_template("admin/mail.html", form=ConfirmForm(), **mail_problems())


@bp.route("/mail/<int:message_id>/again", methods=["POST"])
@requires(Action.ADMINISTER)
def send_message_again(message_id: int) -> Response:
    """Put one failed message back in the outbox."""
    form = ConfirmForm()
    if form.validate_on_submit():
        message = run_service(form, send_again, current_user, message_id)
        if message is not None:
            flash(f"The message to {message.to_address} is back in the outbox.", "success")
    flash_errors(form)
    return redirect(url_for("admin.mail"))


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@requires(Action.ADMINISTER)
def set_person_active(person_id: int) -> Response:
    subject = _person_or_404(person_id)
    form = ConfirmForm()
    make_active = request.form.get("active") == "1"
    if form.validate_on_submit() and run_service(
        form, set_active, current_user, subject, make_active
    ):
        flash(f"{subject.name} is {'active' if make_active else 'deactivated'}.", "info")
    flash_errors(form)
    return redirect(url_for("admin.person", person_id=subject.id))


@bp.route("/people/<int:person_id>/invite", methods=["POST"])
@requires(Action.ADMINISTER)
def invite_person(person_id: int) -> Response:
    subject = _person_or_404(person_id)
    if ConfirmForm().validate_on_submit():
        if not subject.active:
            flash("Reactivate the account before inviting this person.", "danger")
        else:
            send_invitation(subject, current_user)
            flash(f"A new invitation to {subject.email} is in the outbox.", "success")
    return redirect(url_for("admin.person", person_id=subject.id))


def _sign_in_form(current: InstitutionSettings) -> SignInForm:
    form = SignInForm(
        mode="sso_only" if current.sso_only else "both",
        break_glass_id=current.break_glass_id,
        self_registration=current.sso_self_registration,
    )
    form.break_glass_id.choices = [SelectChoice(0, "Choose an administrator")] + [
        SelectChoice(p.id, f"{p.name} ({p.email})") for p in active_admins()
    ]
    return form


def _settings_page(form: SettingsForm, sign_in: SignInForm) -> str:
    return render_template(
        "admin/settings.html",
        form=form,
        sign_in=sign_in,
        sso_configured=institution_sign_in_configured(),
    )


@bp.route("/settings", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def settings() -> str | Response:
    current = get_settings()
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        saved = run_service(
            form,
            update_settings,
            current_user,
            name=form.name.data,
            suppression_threshold=form.suppression_threshold.data,
            mail_sender=form.mail_sender.data or "",
            time_zone=form.time_zone.data,
            chat_tool=form.chat_tool.data or "",
        )
        if saved is not None:
            flash("Institution settings saved.", "success")
            return redirect(url_for("admin.settings"))
    return _settings_page(form, _sign_in_form(current))


@bp.route("/settings/sign-in", methods=["POST"])
@requires(Action.ADMINISTER)
def sign_in_mode() -> str | Response:
    """Passwords beside the institution's sign-in, or the institution's sign-in only."""
    current = get_settings()
    form = _sign_in_form(current)
    if form.validate_on_submit():
        sso_only = form.mode.data == "sso_only"
        done = run_service(
            form,
            set_sign_in_mode,
            current_user,
            sso_only=sso_only,
            break_glass_id=form.break_glass_id.data or None,
            self_registration=form.self_registration.data,
        )
        if done is not None:
            flash(
                "People now sign in with their institution's account only."
                if sso_only
                else "People may sign in with their institution's account or a password.",
                "success",
            )
            return redirect(url_for("admin.settings"))
    return _settings_page(SettingsForm(obj=current), form)


@bp.route("/audit")
@requires(Action.ADMINISTER)
def audit() -> str:
    action = request.args.get("action", "").strip()[:60]
    page = page_number()
    return render_template("admin/audit.html", page=audit_log(page, action), action=action)
