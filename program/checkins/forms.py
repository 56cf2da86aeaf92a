"""The check-in answer form: the answer, and for a meeting the optional extras."""

from __future__ import annotations

from wtforms import (
    DateField,
    DateTimeLocalField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from program.checkins.models import CheckInStatus
from program.checkins.services import ANSWER_LABELS, LED_TO_LABELS, MAX_NOTE_LENGTH
from program.forms import Form


class CheckInForm(Form):
    status = RadioField(
        "Did you meet?",
        choices=[SelectChoice(s.value, label) for s, label in ANSWER_LABELS.items()],
        validators=[InputRequired(message="Choose an answer.")],
    )
    met_on = DateField("When did you meet? (optional)", validators=[Optional()])
    scheduled_for = DateTimeLocalField(
        "When is it? (optional: it goes on both your calendars)",
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    rating = RadioField(
        "How useful was it? (optional; only you see this)",
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validators=[Optional()],
    )
    led_to = RadioField(
        "Did it lead to something concrete? (optional)",
        choices=[SelectChoice(v.value, label) for v, label in LED_TO_LABELS.items()],
        validators=[Optional()],
    )
    note = TextAreaField(
        "Private note (optional; only you ever see it)",
        validators=[Optional(), Length(max=MAX_NOTE_LENGTH)],
    )
    suggest = StringField(
        "Who else should you meet? (optional: their name or e-mail)",
        description="Someone your partner suggested. In this program: a future round will try "
        "to pair you, and your directory shows them first. Outside the institution: their name "
        "and address (Dr. Kim <kim@example.org>), kept in your directory for you to write to.",
        validators=[Optional(), Length(max=400)],
    )
    submit = SubmitField("Save my answer")

    def answer(self) -> CheckInStatus:
        return CheckInStatus(self.status.data)


class QuickAnswerForm(Form):
    """The one-click buttons on the home page: the answer is the button pressed."""

    status = RadioField(
        "Answer",
        choices=[SelectChoice(s.value, label) for s, label in ANSWER_LABELS.items()],
        validators=[InputRequired()],
    )
