"""The institution's settings (its name, sender address, time zone, privacy threshold, sign-in
rules): read by every floor, from pages to e-mails to reports, so they live on the ground floor."""

from __future__ import annotations

from flask import g

from program.admin.models import DEFAULT_SUPPRESSION_THRESHOLD, InstitutionSettings
from program.extensions import db


def get_settings() -> InstitutionSettings:
    """The institution's settings; the defaults (unsaved) until an admin first saves them.

    Read once per request or command (every page and e-mail asks), and never written by reading,
    so a GET stays free of side effects.
    """
    cached = g.get("institution_settings")
    if cached is not None:
        return cached
    settings = db.session.get(InstitutionSettings, 1)
    if settings is None:
        settings = InstitutionSettings(
            id=1,
            name="Hallway",
            suppression_threshold=DEFAULT_SUPPRESSION_THRESHOLD,
            mail_sender="",
            time_zone="UTC",
            sso_only=False,
            sso_self_registration=False,
            chat_tool="",
        )
    g.institution_settings = settings
    return settings


def stored_settings() -> InstitutionSettings:
    """The settings row, to change: until an admin first saves, the defaults become the row."""
    settings = db.session.get(InstitutionSettings, 1)
    if settings is None:
        settings = get_settings()
        db.session.add(settings)
    g.institution_settings = settings
    return settings
