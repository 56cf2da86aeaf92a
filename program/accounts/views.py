"""Sign in and out; accept an invitation; reset a forgotten password."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from program.accounts import oidc, saml
from program.accounts.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from program.accounts.services import (
    LinkPurpose,
    authenticate,
    end_sessions,
    passwords_allowed_for,
    passwords_off,
    person_for_token,
    send_password_reset,
    set_password_with_token,
)
from program.db import DomainError
from program.extensions import csrf, limiter
from program.links import LinkRefused
from program.permissions import public, signed_in
from program.web import run_service, safe_next_url

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        person = run_service(form, authenticate, form.email.data, form.password.data)
        if person is not None:
            session.clear()
            login_user(person)
            return redirect(safe_next_url(request.args.get("next")) or url_for("home.index"))
    return _sign_in_page(form)


def _sign_in_page(
    form: LoginForm, problem: str | None = None, status: int = 403
) -> str | tuple[str, int]:
    next_url = safe_next_url(request.args.get("next"))
    institutions = [
        (p.label, url_for("accounts.sso_start", name=p.name, next=next_url))
        for p in oidc.providers()
    ]
    if (found := saml.settings()) is not None:
        institutions.append((found.label, url_for("accounts.saml_login", next=next_url)))
    page = render_template(
        "accounts/login.html",
        form=form,
        institutions=institutions,
        problem=problem,
        passwords_off=passwords_off(),
    )
    return (page, status) if problem else page


@bp.route("/login/sso/<name>")
@public
@limiter.limit(_login_limit)
def sso_start(name: str) -> Response | str | tuple[str, int]:
    """Off to the institution's sign-in page (OpenID Connect)."""
    provider = oidc.provider(name) or abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        return oidc.begin(provider, safe_next_url(request.args.get("next")))
    except DomainError as exc:
        return _sign_in_page(LoginForm(), exc.message, status=503)


@bp.route("/login/sso/<name>/callback")
@public
@limiter.limit(_login_limit)
def sso_callback(name: str) -> str | Response | tuple[str, int]:
    """Back from the institution's sign-in page: signed in, or told why not."""
    provider = oidc.provider(name) or abort(404)
    try:
        person = oidc.finish(provider)
    except DomainError as exc:
        return _sign_in_page(LoginForm(), exc.message)
    destination = oidc.next_url()
    id_token = oidc.last_id_token()
    session.clear()
    login_user(person)
    session["oidc_provider"] = provider.name
    if id_token:
        session["oidc_id_token"] = id_token  # for the provider's sign-out (id_token_hint)
    return redirect(destination or url_for("home.index"))


def _saml_settings() -> saml.Settings:
    return saml.settings() or abort(404)


@bp.route("/saml/metadata")
@public
def saml_metadata() -> Response:
    """Hallway's SAML service provider metadata: its entity id, ACS, certificate and the
    attributes it asks for (the address to give the IdP or the federation)."""
    _saml_settings()
    return Response(saml.metadata(), mimetype="application/samlmetadata+xml")


@bp.route("/login/saml")
@public
@limiter.limit(_login_limit)
def saml_login() -> Response | str | tuple[str, int]:
    """Off to the institution's SAML sign-in page."""
    _saml_settings()
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        return redirect(saml.begin(safe_next_url(request.args.get("next"))))
    except DomainError as exc:
        return _sign_in_page(LoginForm(), exc.message, status=503)


@bp.route("/saml/acs", methods=["POST"])
@public
@csrf.exempt  # the IdP posts here; the assertion's signature is what is checked
@limiter.limit(_login_limit)
def saml_acs() -> str | Response | tuple[str, int]:
    """The assertion consumer service: the IdP's signed answer, posted by the browser."""
    _saml_settings()
    try:
        signed_in = saml.finish(request.form.get("SAMLResponse", ""))
    except DomainError as exc:
        return _sign_in_page(LoginForm(), exc.message)
    session.clear()
    login_user(signed_in.person)
    session["saml_logout"] = signed_in.logout
    return redirect(safe_next_url(signed_in.next_url) or url_for("home.index"))


@bp.route("/saml/sls")
@public
def saml_sls() -> str | Response | tuple[str, int]:
    """Single logout: the IdP's answer to Hallway's sign-out, or its request to sign someone
    out who signed out elsewhere."""
    found = _saml_settings()
    if "SAMLResponse" in request.args:
        confirmed = saml.logout_confirmed(
            request.args["SAMLResponse"], session.pop("saml_logout_request", None)
        )
        flash(
            f"You are signed out of Hallway and of {found.label}."
            if confirmed
            else f"You are signed out of Hallway. {found.label} did not confirm its own "
            "sign-out: close the browser to be sure.",
            "info",
        )
        return redirect(url_for("accounts.login"))
    try:
        answer, ended = saml.idp_logout(request.args.to_dict())
    except DomainError as exc:
        return _sign_in_page(LoginForm(), exc.message, status=400)
    if current_user.is_authenticated and current_user.id in ended:
        logout_user()
        session.clear()
    return redirect(answer)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    facts = session.get("saml_logout")
    openid = session.get("oidc_provider")
    id_token = session.get("oidc_id_token")
    end_sessions(current_user)
    logout_user()
    session.clear()
    # Signed in through the institution: sign out there too, where it offers it. The page
    # goes there by itself (see the template: not a redirect, which the browser would block).
    found = saml.logout_request(facts) if facts and saml.settings() else None
    if found is not None:
        session["saml_logout_request"], idp = found
        return render_template("accounts/signing_out.html", url=idp, label=saml.settings().label)
    if openid and (elsewhere := oidc.logout_url(openid, id_token)):
        # (logout_url found the provider: it is configured.)
        label = oidc.provider(openid).label
        return render_template("accounts/signing_out.html", url=elsewhere, label=label)
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


def _set_password_page(token: str, purpose: LinkPurpose, template: str) -> str | Response:
    """The page behind an invitation or reset link: showing it writes nothing; posting it does."""
    try:
        person = person_for_token(token, purpose)
    except LinkRefused as exc:
        return render_template("accounts/link_problem.html", problem=exc.problem), 400
    if not passwords_allowed_for(person):
        # Institution sign-in only: the link still welcomes them, to the way in that works.
        flash("Welcome to Hallway. Sign in with your institution's account.", "info")
        return redirect(url_for("accounts.login"))
    form = SetPasswordForm(email=person.email)
    if form.validate_on_submit():
        person = run_service(form, set_password_with_token, token, purpose, form.password.data)
        if person is not None:
            logout_user()
            session.clear()
            login_user(person)
            flash("Your password is set. Welcome to Hallway.", "success")
            return redirect(url_for("home.index"))
    return render_template(template, form=form, person=person)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> str | Response:
    return _set_password_page(token, LinkPurpose.INVITATION, "accounts/accept_invitation.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> str | Response:
    return _set_password_page(token, LinkPurpose.PASSWORD_RESET, "accounts/reset_password.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        send_password_reset(form.email.data)
        # The same answer whether or not the address has an account, so nobody can probe for one.
        flash(
            "If that address has a Hallway account, a link to set a new password is on its way.",
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)
