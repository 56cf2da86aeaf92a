"""Hallway: the Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from program.config import build_config
from program.extensions import bootstrap, csrf, db, limiter, login_manager, migrate
from program.version import __version__

__all__ = ["__version__", "create_app", "resource_dir"]

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def resource_dir(name: str) -> Path:
    """`templates` or `migrations`: inside the package when installed from a wheel, at the
    repository's top in a checkout (and an editable install)."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else ROOT / name


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PUBLIC_FILE_ENDPOINTS = frozenset({"static", "bootstrap.static"})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides the environment's settings (tests pass theirs here)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder="static",
    )
    app.config.from_mapping(build_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    # Requests a little over the roster limit still arrive, so the form can say the file is too
    # large; anything bigger is cut off by Werkzeug with a 413.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg"):
        # psycopg prepares a statement after five runs, and PostgreSQL may then plan it once for
        # any values: for the importer's "email IN (500 values)" that generic plan is a
        # sequential scan, ten times slower. Hallway's queries are cheap to plan each time.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["ROSTER_MAX_BYTES"] + 1024 * 1024
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from program.web import IdConverter, install_request_transaction, refuse_control_characters

    app.url_map.converters["int"] = IdConverter
    _init_extensions(app)
    from program.wiring import register_notifications, watch_report_data

    register_notifications()
    watch_report_data()
    refuse_control_characters(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_security_headers(app)
    _register_template_helpers(app)
    _register_commands(app)

    install_request_transaction(app)
    return app


def _init_extensions(app: Flask) -> None:
    import program.models  # noqa: F401  (every table registered before migrations look)
    from program.accounts import oidc

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    oidc.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    from program.people.models import Person

    @login_manager.user_loader
    def load_person(session_id: str) -> Person | None:
        person_id, _, stamp = session_id.partition(":")
        if not person_id.isdigit():
            return None
        person = db.session.get(Person, int(person_id))
        # A changed stamp (password set, account deactivated) ends older sessions.
        if person is None or not person.active or person.security_stamp != stamp:
            return None
        return person


def _register_blueprints(app: Flask) -> None:
    from program.accounts.views import bp as accounts_bp
    from program.admin.views import bp as admin_bp
    from program.asks.views import bp as asks_bp
    from program.chat.views import bp as chat_bp
    from program.checkins.views import bp as checkins_bp
    from program.coffee.views import bp as coffee_bp
    from program.formal.views import bp as formal_bp
    from program.home.views import bp as home_bp
    from program.meetings.views import bp as meetings_bp
    from program.messages.views import bp as demo_bp
    from program.outcomes.views import bp as outcomes_bp
    from program.programs.views import bp as programs_bp
    from program.reporting.views import bp as reporting_bp
    from program.roster.views import bp as roster_bp
    from program.surveys.views import bp as surveys_bp

    for blueprint in (
        accounts_bp,
        admin_bp,
        asks_bp,
        chat_bp,
        checkins_bp,
        coffee_bp,
        demo_bp,
        formal_bp,
        home_bp,
        meetings_bp,
        programs_bp,
        reporting_bp,
        roster_bp,
        surveys_bp,
        outcomes_bp,
    ):
        app.register_blueprint(blueprint)


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: ("Bad request", "The request could not be understood."),
        403: ("Not allowed", "Your account does not give access to this page."),
        404: ("Not found", "There is nothing at this address."),
        405: ("Not allowed", "This page cannot be used that way."),
        413: ("File too large", "The file is too large to upload. Split it and try again."),
        429: ("Too many attempts", "Too many attempts in a short time. Wait a minute and retry."),
        500: ("Something went wrong", "Nothing was saved. Please try again in a moment."),
    }

    def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
        title, text = messages.get(code, ("Error", "Something went wrong."))
        return render_template(
            "errors/error.html", code=code, title=title, text=detail or text
        ), code

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            "This form had expired or was sent from elsewhere. Go back, reload the page "
            "and send it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        return render_error(500)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        # Pages, report downloads and roster exports carry personal data: no cache may keep
        # them. Only the app's public files (CSS, JavaScript, icons) may be cached.
        if request.endpoint not in PUBLIC_FILE_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure and app.config["HSTS_SECONDS"]:
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}"
            )
        return response


def _register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from program.institution import get_settings
    from program.permissions import Action, coordinated_programs, may

    @app.context_processor
    def globals_for_templates() -> dict[str, Any]:
        return {
            "institution": get_settings(),
            "may": may,
            "coordinated_programs": lambda: coordinated_programs(current_user),
            "Action": Action,
            "current_user": current_user,
            "app_version": __version__,
            "demo_mode": app.config.get("DEMO", False),
        }

    @app.template_filter("datetime")
    def format_datetime(value: Any) -> str:
        if value is None:
            return ""
        return value.strftime("%Y-%m-%d %H:%M UTC")


def _register_commands(app: Flask) -> None:
    from program.cli import register_commands

    register_commands(app)
