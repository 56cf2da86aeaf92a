"""Forms shared by every domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class MailingForm(FlaskForm):
    """A form whose action e-mails people: the first submit shows how many and asks (see
    `program.web.ask_before_mailing`); the confirmation page posts it again with `confirmed`."""

    confirmed = HiddenField()


class ConfirmForm(MailingForm):
    """A bare form for one-button actions, so they carry a CSRF token like every other POST."""

    submit = SubmitField("Confirm")
