"""The roster upload form."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField

from program.forms import Form

ALLOWED_EXTENSIONS = ["csv", "xlsx", "txt", "tsv"]


class RosterUploadForm(Form):
    file = FileField(
        "Roster file",
        description="CSV or Excel (.xlsx), up to {limit}. The first row names the columns.",
        validators=[
            FileRequired("Choose a roster file."),
            FileAllowed(ALLOWED_EXTENSIONS, "Upload a .csv or .xlsx file."),
        ],
    )
    submit = SubmitField("Upload and preview")
