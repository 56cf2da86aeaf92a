"""Forms shared by every domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConfirmForm(FlaskForm):
    """A bare form for one-button actions, so they carry a CSRF token like every other POST."""

    submit = SubmitField("Confirm")
