"""Forms for creating and editing programs and naming their coordinators."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from program.forms import Form
from program.people.stages import CareerStage
from program.programs.models import DepartmentPreference


class ProgramForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        "Short name for links",
        description="Lower-case letters, digits and hyphens, e.g. im-residency.",
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$",
                message="Use lower-case letters, digits and single hyphens, e.g. im-residency.",
            ),
        ],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    active = BooleanField("Active", default=True)
    silent_after_days = IntegerField(
        "Flag a formal pair as silent after (days)",
        default=45,
        validators=[InputRequired(), NumberRange(min=7, max=365)],
    )
    formal_department_preference = SelectField(
        "Formal matches prefer a mentor from",
        choices=[
            SelectChoice(DepartmentPreference.NONE.value, "No preference"),
            SelectChoice(DepartmentPreference.SAME.value, "The trainee's own department"),
            SelectChoice(DepartmentPreference.DIFFERENT.value, "Another department"),
        ],
        default=DepartmentPreference.NONE.value,
    )
    coffee_cadence_days = IntegerField(
        "Days between coffee-chat rounds",
        default=30,
        validators=[InputRequired(), NumberRange(min=7, max=180)],
    )
    coffee_repeat_window = IntegerField(
        "Never repeat a coffee pair within this many rounds",
        description="Leave empty to avoid repeats for as long as a new partner exists.",
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    coffee_department_preference = SelectField(
        "Coffee chats pair people from",
        choices=[
            SelectChoice(DepartmentPreference.DIFFERENT.value, "Different departments"),
            SelectChoice(DepartmentPreference.SAME.value, "The same department"),
            SelectChoice(DepartmentPreference.NONE.value, "Any department"),
        ],
        default=DepartmentPreference.DIFFERENT.value,
    )
    submit = SubmitField("Save program")


class AddCoordinatorForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField(
        "Name",
        description="Only for someone without a Hallway account yet: they get an invitation.",
        validators=[Optional(), Length(max=200)],
    )
    submit = SubmitField("Make coordinator")


class TermForm(Form):
    name = StringField(
        "Name", description="For example “Fall 2026”.", validators=[DataRequired(), Length(max=120)]
    )
    starts_on = DateField("Starts on", validators=[InputRequired(message="Give the first day.")])
    ends_on = DateField("Ends on", validators=[InputRequired(message="Give the last day.")])
    submit = SubmitField("Save term")


class CohortForm(Form):
    name = StringField(
        "New cohort",
        description="For example “PGY-1”.",
        validators=[DataRequired(), Length(max=120)],
    )
    submit = SubmitField("Add cohort")


class MoveCohortForm(Form):
    cohort = SelectField("Cohort", coerce=str)
    submit = SubmitField("Move")


class EndMembershipForm(Form):
    reason = StringField(
        "Why",
        description="For example “Left the program”.",
        validators=[DataRequired(), Length(max=200)],
    )
    submit = SubmitField("End membership")


class PeopleFilterForm(Form):
    """The people list's filters, read from the query string (a GET form has no CSRF token)."""

    FILTERS = ("q", "role", "cohort", "department", "stage", "track")

    class Meta:
        csrf = False

    q = StringField("Name or e-mail", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", validators=[Optional()])
    cohort = SelectField("Cohort", validators=[Optional()])
    department = SelectField("Department", validators=[Optional()])
    stage = SelectField("Stage", validators=[Optional()])
    track = SelectField(
        "Track",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("formal", "Formal mentoring"),
            SelectChoice("coffee", "Coffee chats"),
        ],
        validators=[Optional()],
    )
    submit = SubmitField("Filter")


class AssessesForm(Form):
    trainee_email = EmailField(
        "Trainee's e-mail address",
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    submit = SubmitField("Record")


class PersonDetailsForm(Form):
    """A coordinator corrects a member's details (the roster's own columns)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    department = StringField("Department", validators=[Optional(), Length(max=120)])
    stage = SelectField(
        "Career stage",
        choices=[SelectChoice("", "—")] + [SelectChoice(s.value, s.label) for s in CareerStage],
        validators=[Optional()],
    )
    interests = StringField(
        "Interests",
        description="Separated by semicolons, e.g. “cardiology; medical education”.",
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField("Save details")
