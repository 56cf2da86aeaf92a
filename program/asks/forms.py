"""The directory's forms: one's own listing, the guided ask, a one-click answer, a guest."""

from __future__ import annotations

from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange

from program.asks.models import Meets
from program.forms import Form

MEETS = [SelectChoice(m.value, m.label) for m in Meets]


class ListingForm(Form):
    note = TextAreaField(
        "What you are glad to talk about",
        description="One or two sentences, shown as you write them: your path, your work, what "
        "you wish you had known.",
        validators=[Length(max=500)],
    )
    topics = StringField(
        "Interests",
        description="Separated by commas, such as: global health, quality improvement, research.",
        validators=[Length(max=700)],
    )
    asks_per_month = IntegerField(
        "Asks a month you will take",
        default=2,
        validators=[InputRequired(), NumberRange(min=1, max=10)],
    )
    meets = SelectField("How you like to meet", choices=MEETS, default=Meets.EITHER.value)
    submit = SubmitField("Save and be open to asks")


class StateForm(Form):
    action = HiddenField(validators=[AnyOf(["pause", "resume", "stop"])])


class AskForm(Form):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Your note", validators=[DataRequired(), Length(max=5000)])
    referred_by = HiddenField()
    submit = SubmitField("Send my ask")


class AnswerForm(Form):
    answer = HiddenField(validators=[AnyOf(["yes", "no"])])


class GuestForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    note = TextAreaField(
        "A line about them",
        description="Shown in the directory: who they are and what they are glad to talk about.",
        validators=[Length(max=500)],
    )
    topics = StringField(
        "Interests", description="Separated by commas.", validators=[Length(max=700)]
    )
    asks_per_month = IntegerField(
        "Asks a month", default=2, validators=[InputRequired(), NumberRange(min=1, max=10)]
    )
    meets = SelectField("Meets", choices=MEETS, default=Meets.VIDEO.value)
    submit = SubmitField("Add the guest")
