"""Settings, read from the environment, with safe defaults for a local install.

Every setting can be given as an environment variable of the same name prefixed with
``HALLWAY_`` (``HALLWAY_SECRET_KEY``), except the few that libraries already name
(``DATABASE_URL``, ``RATELIMIT_STORAGE_URI``).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path) -> str:
    """A per-install secret kept in the instance folder, so sessions survive restarts.

    Production installs should set HALLWAY_SECRET_KEY instead; this keeps a fresh demo or a
    single-server install safe without asking anything of the person installing it.
    """
    key_file = instance_path / "secret_key"
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive create: when several workers start at once, exactly one writes the key.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = key_file.read_text().strip()
            if key:
                return key
            time.sleep(0.01)  # the winner is still writing it
        raise RuntimeError(f"{key_file} is empty; delete it or set HALLWAY_SECRET_KEY") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def oidc_providers(environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """OpenID Connect providers from the environment: `HALLWAY_OIDC_PROVIDERS=entra,okta`, then
    for each `HALLWAY_OIDC_ENTRA_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET`, and optionally
    `_LABEL` (the button says "Sign in with <label>") and `_TRUST_EMAIL` (1 for the institution's
    own directory, whose addresses people cannot set themselves)."""
    found = []
    for name in (n.strip().lower() for n in environ.get("HALLWAY_OIDC_PROVIDERS", "").split(",")):
        if not name:
            continue
        if not name.isidentifier():
            raise RuntimeError(
                f"HALLWAY_OIDC_PROVIDERS: {name!r} is not a short name (a-z, 0-9, _)"
            )
        prefix = f"HALLWAY_OIDC_{name.upper()}_"
        missing = [
            k for k in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET") if not environ.get(prefix + k)
        ]
        if missing:
            raise RuntimeError(
                f"OpenID provider {name!r} needs {', '.join(prefix + k for k in missing)}"
            )
        found.append(
            {
                "name": name,
                "label": environ.get(prefix + "LABEL") or "your institution",
                "issuer": environ[prefix + "ISSUER"],
                "client_id": environ[prefix + "CLIENT_ID"],
                "client_secret": environ[prefix + "CLIENT_SECRET"],
                "trust_email": environ.get(prefix + "TRUST_EMAIL", "").lower()
                in {"1", "true", "yes"},
            }
        )
    return found


def saml_settings(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """A SAML identity provider from the environment (`HALLWAY_SAML_IDP_ENTITY_ID` turns SAML
    on): its metadata as a file or an https URL (a URL needs `_METADATA_CERT`, the PEM file its
    signature is checked with), Hallway's own key pair, and optionally the button's label, the
    attributes that identify a person and give their address and name (by their friendly
    names), and whether the IdP may start a sign-in."""
    idp = environ.get("HALLWAY_SAML_IDP_ENTITY_ID", "").strip()
    if not idp:
        return None
    found = {
        "idp_entity_id": idp,
        "idp_metadata": environ.get("HALLWAY_SAML_IDP_METADATA", ""),
        "sp_key": environ.get("HALLWAY_SAML_SP_KEY", ""),
        "sp_cert": environ.get("HALLWAY_SAML_SP_CERT", ""),
    }
    missing = [f"HALLWAY_SAML_{k.upper()}" for k, v in found.items() if not v]
    if missing:
        raise RuntimeError(f"SAML needs {', '.join(missing)}")
    cert = environ.get("HALLWAY_SAML_IDP_METADATA_CERT") or None
    if found["idp_metadata"].startswith(("https://", "http://")) and not cert:
        raise RuntimeError(
            "HALLWAY_SAML_IDP_METADATA is a URL: give HALLWAY_SAML_IDP_METADATA_CERT, the "
            "certificate its signature is checked with"
        )
    return {
        **found,
        "idp_metadata_cert": cert,
        "label": environ.get("HALLWAY_SAML_LABEL") or "your institution",
        "id_attribute": environ.get("HALLWAY_SAML_ID_ATTRIBUTE") or "eduPersonPrincipalName",
        "email_attribute": environ.get("HALLWAY_SAML_EMAIL_ATTRIBUTE") or "mail",
        "name_attribute": environ.get("HALLWAY_SAML_NAME_ATTRIBUTE") or "displayName",
        "idp_initiated": environ.get("HALLWAY_SAML_IDP_INITIATED", "1").lower()
        in {"1", "true", "yes"},
        # Who runs this service, for the metadata a federation registers (InCommon, eduGAIN).
        "organization": environ.get("HALLWAY_SAML_ORGANIZATION", ""),
        "organization_url": environ.get("HALLWAY_SAML_ORGANIZATION_URL", ""),
        "technical_contact": environ.get("HALLWAY_SAML_TECHNICAL_CONTACT", ""),
        "support_contact": environ.get("HALLWAY_SAML_SUPPORT_CONTACT", ""),
        "privacy_url": environ.get("HALLWAY_SAML_PRIVACY_URL", ""),
    }


def build_config(instance_path: Path) -> dict[str, Any]:
    """The configuration of a normal run, before any test or caller overrides."""
    debug = _env_bool("HALLWAY_DEBUG")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'hallway.db'}"
    return {
        "SECRET_KEY": os.environ.get("HALLWAY_SECRET_KEY") or _instance_secret(instance_path),
        "DEBUG": debug,
        # Only `flask demo` turns demo mode on (never the environment): it serves plain http on
        # a loopback address and shows the demo inbox, which no real install may have.
        "DEMO": False,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not debug,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not debug,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        "WTF_CSRF_TIME_LIMIT": 60 * 60 * 12,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("HALLWAY_LOGIN_RATE_LIMIT", "10 per minute"),
        "BOOTSTRAP_SERVE_LOCAL": True,
        "INVITATION_MAX_AGE_DAYS": int(os.environ.get("HALLWAY_INVITATION_MAX_AGE_DAYS", "14")),
        "PASSWORD_RESET_MAX_AGE_HOURS": int(
            os.environ.get("HALLWAY_PASSWORD_RESET_MAX_AGE_HOURS", "2")
        ),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "HALLWAY_MAIL_DEFAULT_SENDER", "Hallway <hallway@localhost>"
        ),
        # Roster uploads larger than this are refused with a message (bytes).
        "ROSTER_MAX_BYTES": int(os.environ.get("HALLWAY_ROSTER_MAX_BYTES", str(5 * 1024 * 1024))),
        # Check-ins: when the "did you meet?" prompt goes out after an intro, the one reminder
        # after that, how long a link in it works, how long an answer stays editable, and when
        # the "send them a brief update" nudge follows a meeting.
        "CHECKIN_PROMPT_AFTER_DAYS": int(os.environ.get("HALLWAY_CHECKIN_PROMPT_AFTER_DAYS", "7")),
        "CHECKIN_REMINDER_AFTER_DAYS": int(
            os.environ.get("HALLWAY_CHECKIN_REMINDER_AFTER_DAYS", "5")
        ),
        "CHECKIN_LINK_MAX_AGE_DAYS": int(os.environ.get("HALLWAY_CHECKIN_LINK_MAX_AGE_DAYS", "30")),
        "CHECKIN_EDIT_DAYS": int(os.environ.get("HALLWAY_CHECKIN_EDIT_DAYS", "14")),
        "UPDATE_NUDGE_AFTER_DAYS": int(os.environ.get("HALLWAY_UPDATE_NUDGE_AFTER_DAYS", "75")),
        # Outgoing mail. MAIL_TRANSPORT "smtp" sends; "file" writes .eml files to MAIL_FILE_DIR
        # (the demo's inbox), never leaving the machine.
        "MAIL_TRANSPORT": os.environ.get("HALLWAY_MAIL_TRANSPORT", "smtp"),
        "MAIL_FILE_DIR": os.environ.get("HALLWAY_MAIL_FILE_DIR", str(instance_path / "outbox")),
        "SMTP_HOST": os.environ.get("HALLWAY_SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(os.environ.get("HALLWAY_SMTP_PORT", "25")),
        "SMTP_SECURITY": os.environ.get("HALLWAY_SMTP_SECURITY", "none"),  # none|starttls|ssl
        "SMTP_USER": os.environ.get("HALLWAY_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("HALLWAY_SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": float(os.environ.get("HALLWAY_SMTP_TIMEOUT", "30")),
        # What the institution's mail server allows this sender, for all workers together
        # (0 = no limit): Exchange Online 30 a minute and 10,000 a day per mailbox.
        "MAIL_RATE_PER_MINUTE": int(os.environ.get("HALLWAY_MAIL_RATE_PER_MINUTE", "0")),
        "MAIL_RATE_PER_DAY": int(os.environ.get("HALLWAY_MAIL_RATE_PER_DAY", "0")),
        "MAIL_CONNECTIONS": int(os.environ.get("HALLWAY_MAIL_CONNECTIONS", "0")),
        "MESSAGE_MAX_ATTEMPTS": int(os.environ.get("HALLWAY_MESSAGE_MAX_ATTEMPTS", "6")),
        # Slack, when the institution turns it on (Admin > Institution): the bot token
        # (xoxb-...) the outbox posts with, the signing secret that proves a button press came
        # from Slack (HTTP mode), and the app-level token (xapp-...) of Socket Mode, which
        # needs no inbound port. From the environment only, never the database.
        "SLACK_BOT_TOKEN": os.environ.get("HALLWAY_SLACK_BOT_TOKEN", ""),
        "SLACK_SIGNING_SECRET": os.environ.get("HALLWAY_SLACK_SIGNING_SECRET", ""),
        "SLACK_APP_TOKEN": os.environ.get("HALLWAY_SLACK_APP_TOKEN", ""),
        "SLACK_API_URL": os.environ.get("HALLWAY_SLACK_API_URL", "https://slack.com/api/"),
        # Microsoft Teams, when the institution turns it on: the Azure bot's Microsoft App ID
        # and client secret, and its tenant for a single-tenant bot (Azure's default).
        "TEAMS_APP_ID": os.environ.get("HALLWAY_TEAMS_APP_ID", ""),
        "TEAMS_APP_PASSWORD": os.environ.get("HALLWAY_TEAMS_APP_PASSWORD", ""),
        "TEAMS_TENANT_ID": os.environ.get("HALLWAY_TEAMS_TENANT_ID", "botframework.com"),
        # Microsoft's sign-in and the Bot Framework's keys (other clouds, and the tests'
        # stand-in, set their own).
        "TEAMS_LOGIN_URL": os.environ.get(
            "HALLWAY_TEAMS_LOGIN_URL", "https://login.microsoftonline.com"
        ),
        "TEAMS_OPENID_URL": os.environ.get(
            "HALLWAY_TEAMS_OPENID_URL",
            "https://login.botframework.com/v1/.well-known/openidconfiguration",
        ),
        "TEAMS_ISSUER": os.environ.get("HALLWAY_TEAMS_ISSUER", "https://api.botframework.com"),
        # How many reverse proxies sit in front of the app; their X-Forwarded-For is trusted so
        # that rate limits apply per client rather than to the proxy's single address.
        "TRUSTED_PROXIES": int(os.environ.get("HALLWAY_TRUSTED_PROXIES", "0")),
        # Strict-Transport-Security on responses served over HTTPS (0 turns it off): browsers
        # then refuse plain http to this host for that many seconds.
        "HSTS_SECONDS": int(os.environ.get("HALLWAY_HSTS_SECONDS", str(365 * 24 * 3600))),
        # Used to build absolute links in e-mails, which are written outside any request.
        "BASE_URL": os.environ.get("HALLWAY_BASE_URL", "http://127.0.0.1:5000"),
        # Single sign-on: OpenID Connect providers (see `oidc_providers`).
        "OIDC_PROVIDERS": oidc_providers(os.environ),
        # Single sign-on: a SAML 2.0 identity provider (see `saml_settings`).
        "SAML": saml_settings(os.environ),
    }
