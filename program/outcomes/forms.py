"""The outcome measure's definition and the outcomes file's upload."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from program.forms import Form, WholeNumberField
from program.outcomes.models import Better, MeasureKind

KINDS = [
    SelectChoice(MeasureKind.NUMERIC.value, "A number (an index, a count)"),
    SelectChoice(MeasureKind.CATEGORICAL.value, "One of several answers"),
]
BETTER = [
    SelectChoice(Better.HIGHER.value, "Higher is better"),
    SelectChoice(Better.LOWER.value, "Lower is better"),
    SelectChoice(Better.NEITHER.value, "Neither"),
]


class MeasureForm(Form):
    name = StringField(
        "Name, as the file's column is headed",
        validators=[InputRequired(), Length(max=120)],
    )
    kind = SelectField("Values", choices=KINDS)
    definition = TextAreaField(
        "Definition: what it is and how it is taken", validators=[InputRequired(), Length(max=2000)]
    )
    source = StringField(
        "Source (e.g. the annual well-being survey; the NRMP match list)",
        validators=[InputRequired(), Length(max=300)],
    )
    better = SelectField("Which way is better", choices=BETTER)
    favourable = StringField(
        "The favourable answer (answers of one of several only)",
        description="The report gives its share in each group, e.g. “first choice”.",
        validators=[Optional(), Length(max=120)],
    )
    minimum_group = WholeNumberField(
        "The fewest people a published group may rest on",
        description="At least the institution's threshold; more for a sensitive measure such "
        "as well-being.",
        validators=[InputRequired(), NumberRange(min=5, max=1000)],
    )
    define = SubmitField("Define the measure")


class OutcomesUploadForm(Form):
    term = SelectField("Term", choices=[])
    file = FileField(
        "Outcomes file (CSV or XLSX)",
        description="One row per person: an “email” column, and one column per measure, headed "
        "with the measure's name. An empty cell is no value.",
        validators=[FileRequired(message="Choose a file.")],
    )
    upload = SubmitField("Upload and preview")
