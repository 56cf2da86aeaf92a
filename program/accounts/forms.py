"""Forms for signing in and setting a password."""

from __future__ import annotations

from typing import Any

from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from program.forms import Form

MIN_PASSWORD_LENGTH = 10


class LoginForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField("Sign in")


class ForgotPasswordForm(Form):
    email = EmailField(
        "E-mail", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    submit = SubmitField("Send me a link")


class SetPasswordForm(Form):
    password = PasswordField(
        "New password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A short sentence works well.",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1000,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters (and at most 1,000).",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    submit = SubmitField("Set password")

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_password(self, field: Any) -> None:
        if self._email and field.data and field.data.strip().lower() == self._email.lower():
            raise ValidationError("Your password cannot be your e-mail address.")
