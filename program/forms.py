"""Forms shared by every domain, and the one base every form is made from (`Form`): what
people type is parsed the same way everywhere, so a hostile value gets a clear message in any
form, never a server error."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, PasswordField, SubmitField
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation

# Whole numbers people type: no setting needs more digits, and a longer one (309 digits make a
# float overflow in a range check) is refused with a message, not carried to the database.
MAX_DIGITS = 15


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """An IntegerField that refuses numbers of more than MAX_DIGITS digits in words, and stops
    the field's validators (a range check cannot be asked of a number it cannot compare)."""

    too_long = False

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            digits = valuelist[0].strip().lstrip("+-")
            self.too_long = len(digits) > MAX_DIGITS and digits.isdigit()
            if self.too_long:
                self.data = None
                raise ValueError(f"Enter a whole number of at most {MAX_DIGITS} digits.")
        super().process_formdata(valuelist)

    def pre_validate(self, form: Any) -> None:
        if self.too_long:
            raise StopValidation()


class Form(FlaskForm):
    """Every form's base: text is taken without the spaces around it (a value of spaces alone
    is no value, as `Optional` already judges it; a password is taken as typed), and whole
    numbers are bounded (`WholeNumberField`)."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            field_class = unbound_field.field_class
            kwargs = dict(unbound_field.kwargs)
            if not issubclass(field_class, PasswordField):
                kwargs["filters"] = [_strip, *kwargs.get("filters", ())]
            if issubclass(field_class, IntegerField) and not issubclass(
                field_class, WholeNumberField
            ):
                field_class = WholeNumberField
            field = UnboundField(field_class, *unbound_field.args, **kwargs).bind(
                form=form, **options
            )
            # A browser cuts text at `maxlength` without a word (a pasted note loses its end):
            # the limit is told and counted instead (hallway.js), and the server refuses longer
            # text with the limit in its message.
            limit = field.flags.maxlength
            if limit:
                delattr(field.flags, "maxlength")
                field.render_kw = {**(field.render_kw or {}), "data-max-length": limit}
            return field


class MailingForm(Form):
    """A form whose action e-mails people: the first submit shows how many and asks (see
    `program.web.ask_before_mailing`); the confirmation page posts it again with `confirmed`."""

    confirmed = HiddenField()


class ConfirmForm(MailingForm):
    """A bare form for one-button actions, so they carry a CSRF token like every other POST."""

    submit = SubmitField("Confirm")
