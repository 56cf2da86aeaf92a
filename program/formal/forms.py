"""The availability answer form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from program.formal.services import MAX_CAPACITY


class AvailabilityForm(FlaskForm):
    accepting = RadioField(
        "Can you mentor this term?",
        choices=[SelectChoice("yes", "Yes, I can mentor"), SelectChoice("no", "Not this term")],
        validators=[InputRequired(message="Choose yes or no.")],
    )
    capacity = IntegerField(
        "How many mentees can you take?",
        default=2,
        validators=[Optional(), NumberRange(min=1, max=MAX_CAPACITY)],
    )
    topics = TextAreaField(
        "Topics you are glad to talk about (optional)",
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField("Send my answer")
