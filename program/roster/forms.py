"""The roster upload form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField

ALLOWED_EXTENSIONS = ["csv", "xlsx", "txt", "tsv"]


class RosterUploadForm(FlaskForm):
    file = FileField(
        "Roster file",
        description="CSV or Excel (.xlsx), up to {limit}. The first row names the columns.",
        validators=[
            FileRequired("Choose a roster file."),
            FileAllowed(ALLOWED_EXTENSIONS, "Upload a .csv or .xlsx file."),
        ],
    )
    submit = SubmitField("Upload and preview")
