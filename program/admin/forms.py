"""Forms of the admin pages."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from program.admin.models import MIN_SUPPRESSION_THRESHOLD
from program.forms import Form


class SettingsForm(Form):
    name = StringField("Institution name", validators=[DataRequired(), Length(max=200)])
    suppression_threshold = IntegerField(
        "Suppression threshold",
        description=(
            "Counts of what people did or answered below this read “fewer than N” in reports, "
            f"so that nobody can be picked out. At least {MIN_SUPPRESSION_THRESHOLD} (the "
            "default); a higher number hides more of a small program's report."
        ),
        validators=[
            InputRequired(),
            NumberRange(
                min=MIN_SUPPRESSION_THRESHOLD,
                max=1000,
                message=f"Use a whole number of at least {MIN_SUPPRESSION_THRESHOLD}.",
            ),
        ],
    )
    mail_sender = StringField(
        "Mail sender address",
        description="The From address of Hallway's e-mails, e.g. mentoring@med.example.edu.",
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
    )
    time_zone = StringField(
        "Time zone",
        description="Meeting times are proposed and put on calendars in it, e.g. America/Chicago.",
        validators=[DataRequired(), Length(max=64)],
    )
    chat_tool = SelectField(
        "Chat tool",
        choices=[
            SelectChoice("", "None: e-mail only"),
            SelectChoice("teams", "Microsoft Teams"),
            SelectChoice("slack", "Slack"),
        ],
        description=(
            "Introductions and check-ins go to people in it (each may choose e-mail instead), "
            "e-mail behind it for anyone it cannot reach. Its tokens are set on the server "
            "(see the README's “Microsoft Teams” and “Slack”)."
        ),
        validators=[Optional()],
    )
    submit = SubmitField("Save settings")


class SignInForm(Form):
    mode = RadioField(
        "How people sign in",
        choices=[
            SelectChoice("both", "With their institution's account, or a Hallway password"),
            SelectChoice("sso_only", "With their institution's account only"),
        ],
        default="both",
    )
    break_glass_id = SelectField(
        "Break-glass administrator",
        description=(
            "With institution sign-in only, this administrator alone keeps a password, for when "
            "the institution's sign-in is down. Each of their password sign-ins is audited."
        ),
        coerce=int,
        validate_choice=False,
    )
    self_registration = BooleanField(
        "Let anyone at the institution make their account by signing in",
        description=(
            "Off: only people on a program's roster (or invited) get in. On: someone else gets "
            "an account at their first institution sign-in, in no program until a coordinator "
            "adds them."
        ),
    )
    submit = SubmitField("Save sign-in")


class InstitutionRolesForm(Form):
    is_admin = BooleanField("Administrator (manages programs, people and settings)")
    is_dean = BooleanField("Dean (reads every program's reports)")
    submit = SubmitField("Save roles")


class EmailAddressForm(Form):
    email = StringField(
        "E-mail address",
        description="A new address, or the same one to say it works again after a bounce.",
        validators=[DataRequired(), Length(max=254)],
    )
    submit = SubmitField("Save address")
