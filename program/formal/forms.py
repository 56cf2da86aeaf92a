"""The availability answer and ending a pair."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from program.formal.availability import MAX_CAPACITY
from program.formal.pairs import END_REASON_LABELS
from program.forms import Form


class AvailabilityForm(Form):
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


class EndPairForm(Form):
    reason = RadioField(
        "Why does this pair end?",
        choices=[SelectChoice(r.value, label) for r, label in END_REASON_LABELS.items()],
        validators=[InputRequired(message="Choose a reason.")],
    )
    propose_new = BooleanField(
        "Propose a new mentor for the trainee now (never the same one again)", default=True
    )
    submit = SubmitField("End the pair")


class CapacityForm(Form):
    capacity = IntegerField(
        "Mentees this term",
        description="0: not mentoring this term.",
        validators=[InputRequired(message="Say how many."), NumberRange(min=0, max=MAX_CAPACITY)],
    )
    submit = SubmitField("Save places")
