"""The mentor record's download page, shared by the pages it is reached from: a person's own
home, a program's person page and the reports."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from program.db import DomainError, utc_now
from program.people.models import Person
from program.programs.models import Program
from program.reporting.forms import RecordForm
from program.reporting.services import (
    RECORD_FORMATS,
    mentoring_record_file,
    record_period,
)


def record_page(person: Person, program: Program | None, back: str) -> Response | tuple[str, int]:
    """The page that downloads a mentor's record for a period; the file once asked for."""
    form = RecordForm(request.args)
    asked = "fmt" in request.args
    if asked and form.validate():
        try:
            starts, ends = record_period(form.starts.data, form.ends.data, utc_now().date())
        except DomainError as exc:
            form.starts.errors = [*form.starts.errors, exc.message]
        else:
            data, name = mentoring_record_file(
                current_user, person, starts, ends, form.fmt.data, program
            )
            response = Response(data, mimetype=RECORD_FORMATS[form.fmt.data])
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    if not asked:
        form.starts.data, form.ends.data = record_period(None, None, utc_now().date())
    return render_template(
        "reporting/record.html", form=form, person=person, program=program, back=back
    ), (400 if asked else 200)
