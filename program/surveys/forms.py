"""The survey's form (the same on the e-mail's page and the home page's) and the coordinator's
survey settings."""

from __future__ import annotations

from typing import Any

from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from program.forms import Form, WholeNumberField
from program.surveys.instrument import (
    CAREER_QUESTION,
    LED_TO,
    LED_TO_QUESTION,
    LOAD,
    LOAD_QUESTION,
    MAX_OWN_QUESTIONS,
    OUTSIDE,
    OUTSIDE_QUESTION,
    OWN_KINDS,
    SATISFACTION,
    TRACK_QUESTION,
    YES_NO,
    OwnQuestion,
)
from program.surveys.models import SurveyResponse
from program.surveys.services import Answers

SCALE = [SelectChoice(str(code), label) for code, label in SATISFACTION]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SurveyForm(Form):
    formal_satisfaction = RadioField(
        TRACK_QUESTION["formal"], choices=SCALE, validators=[Optional()]
    )
    coffee_satisfaction = RadioField(
        TRACK_QUESTION["coffee"], choices=SCALE, validators=[Optional()]
    )
    career_person = RadioField(
        CAREER_QUESTION, choices=[SelectChoice(c, t) for c, t in YES_NO], validators=[Optional()]
    )
    outside = RadioField(
        OUTSIDE_QUESTION, choices=[SelectChoice(c, t) for c, t in OUTSIDE], validators=[Optional()]
    )
    led_to = CheckboxesField(
        LED_TO_QUESTION, choices=[SelectChoice(c, t) for c, t in LED_TO], validators=[Optional()]
    )
    mentor_load = RadioField(
        LOAD_QUESTION, choices=[SelectChoice(c, t) for c, t in LOAD], validators=[Optional()]
    )
    own_0 = RadioField(validators=[Optional()], choices=[])
    own_1 = RadioField(validators=[Optional()], choices=[])
    own_2 = RadioField(validators=[Optional()], choices=[])
    submit = SubmitField("Send my answers")

    def shape(self, response: SurveyResponse, questions: list[OwnQuestion]) -> None:
        """Ask only what applies to this person, and the program's own questions, with their
        saved answers filled in on a first view."""
        for track in ("formal", "coffee"):
            if not getattr(response, f"in_{track}"):
                delattr(self, f"{track}_satisfaction")
        if not response.is_mentor:
            delattr(self, "mentor_load")
        for k in range(MAX_OWN_QUESTIONS):
            name = f"own_{k}"
            if k >= len(questions):
                delattr(self, name)
                continue
            field = getattr(self, name)
            field.label.text = questions[k].text
            choices = YES_NO if questions[k].kind == "yes_no" else SATISFACTION[:-1]
            field.choices = [SelectChoice(str(c), t) for c, t in choices]
        if self.is_submitted() or response.answered_at is None:
            return
        for track in ("formal", "coffee"):
            if f"{track}_satisfaction" in self:
                value = getattr(response, f"{track}_satisfaction")
                getattr(self, f"{track}_satisfaction").data = None if value is None else str(value)
        self.career_person.data = "yes" if response.career_person else "no"
        self.outside.data = response.outside_people
        self.led_to.data = list(response.led_to or [])
        if "mentor_load" in self:
            self.mentor_load.data = response.mentor_load
        for k, value in enumerate(response.own_answers or []):
            if f"own_{k}" in self:
                getattr(self, f"own_{k}").data = value

    def answers(self) -> Answers:
        # A question not asked of this person is not on the form (`shape` removed it).
        def data(name: str) -> Any:
            return self[name].data if name in self else None

        def number(name: str) -> int | None:
            return int(data(name)) if data(name) else None

        own = [data(f"own_{k}") for k in range(MAX_OWN_QUESTIONS)]
        return Answers(
            formal_satisfaction=number("formal_satisfaction"),
            coffee_satisfaction=number("coffee_satisfaction"),
            career_person=self.career_person.data or None,
            outside_people=self.outside.data or None,
            led_to=tuple(self.led_to.data or ()),
            mentor_load=data("mentor_load") or None,
            own=tuple(own),
        )


class SurveySettingsForm(Form):
    days_before_end = WholeNumberField(
        "Open the survey this many days before the term's last day",
        validators=[InputRequired(), NumberRange(min=1, max=60)],
    )
    target_percent = WholeNumberField(
        "Response target per class year (%): reminders stop once it is reached",
        validators=[InputRequired(), NumberRange(min=1, max=100)],
    )
    question_0 = StringField("Your question 1 (optional)", validators=[Optional(), Length(max=300)])
    kind_0 = SelectField("Answered", choices=[SelectChoice(c, t) for c, t in OWN_KINDS])
    question_1 = StringField("Your question 2 (optional)", validators=[Optional(), Length(max=300)])
    kind_1 = SelectField("Answered", choices=[SelectChoice(c, t) for c, t in OWN_KINDS])
    question_2 = StringField("Your question 3 (optional)", validators=[Optional(), Length(max=300)])
    kind_2 = SelectField("Answered", choices=[SelectChoice(c, t) for c, t in OWN_KINDS])
    save = SubmitField("Save survey settings")

    def questions(self) -> list[tuple[str, str]]:
        return [
            (getattr(self, f"question_{k}").data or "", getattr(self, f"kind_{k}").data)
            for k in range(MAX_OWN_QUESTIONS)
        ]
