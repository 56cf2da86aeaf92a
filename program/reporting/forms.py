"""A term's findings and actions, and their follow-up; the period of a mentor's record."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from program.forms import Form
from program.reporting.models import ActionStatus


class ActionForm(Form):
    finding = TextAreaField(
        "Finding",
        description="What the report showed, such as “a third of coffee chats never met”.",
        validators=[DataRequired(), Length(max=1000)],
    )
    action = TextAreaField(
        "Action",
        description="What the program will do about it.",
        validators=[DataRequired(), Length(max=1000)],
    )
    owner = StringField("Owner", validators=[Optional(), Length(max=200)])
    due_on = DateField("Due", validators=[Optional()])


class FollowUpForm(Form):
    status = SelectField("Status", choices=[SelectChoice(s.value, s.label) for s in ActionStatus])
    outcome = TextAreaField("What came of it", validators=[Optional(), Length(max=1000)])


class RecordForm(Form):
    """The period of a mentoring record (a GET form: downloading changes nothing)."""

    class Meta:
        csrf = False

    starts = DateField("From", validators=[Optional()])
    ends = DateField("To", validators=[Optional()])
    fmt = SelectField(
        "Format", choices=[SelectChoice("pdf", "PDF"), SelectChoice("csv", "CSV")], default="pdf"
    )
