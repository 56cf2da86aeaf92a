"""Coffee-chat forms: a person's enrollment, a coordinator's bulk opt-in and round schedule."""

from __future__ import annotations

from wtforms import DateField, HiddenField, IntegerField, StringField, SubmitField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from program.forms import Form, MailingForm


class EnrollmentForm(Form):
    action = HiddenField(validators=[AnyOf(["join", "snooze", "leave"])])
    until = DateField("Snooze until", validators=[Optional()])
    submit = SubmitField("Confirm")


class BulkEnrollForm(MailingForm):
    reason = StringField(
        "Why are they opted in?",
        description="Recorded with each enrollment and told to each person, e.g. "
        "“orientation consent form 2026”. Everyone can opt out with one click.",
        validators=[InputRequired(message="Say why these people are opted in."), Length(max=300)],
    )
    submit = SubmitField("Opt them in")


class RoundForm(MailingForm):
    seed = IntegerField(
        "Seed (optional)",
        description="The same seed and the same people give the same round.",
        validators=[Optional(), NumberRange(min=0, max=2**31 - 1)],
    )
    on = DateField("Publish on", validators=[Optional()])
    submit = SubmitField("Publish now")
