"""Roster export in the import's own columns, so export, edit and re-import round-trips.

Both formats keep every value as text: a CSV cell that a spreadsheet would run as a formula gets
a leading apostrophe (which the importer removes again), and XLSX cells are typed as strings.
"""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
from openpyxl import Workbook

from program.db import CONTROL_CHARACTERS
from program.extensions import db
from program.people.models import Person
from program.programs.models import Cohort, CohortMember, Membership, Program, Role, Term
from program.roster.parsing import COLUMN_LABELS, COLUMNS, spreadsheet_safe


def roster_rows(program: Program, term: Term) -> list[list[str]]:
    """One row per current trainee or mentor, in the import's columns, in three queries."""
    people = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Person).where(
                Person.id.in_(
                    sa.select(Membership.person_id).where(
                        Membership.program_id == program.id,
                        Membership.is_current,
                        Membership.role != Role.COORDINATOR,
                    )
                )
            )
        )
    }
    memberships: dict[int, list[Membership]] = {}
    for m in db.session.scalars(
        sa.select(Membership).where(
            Membership.program_id == program.id,
            Membership.is_current,
            Membership.role != Role.COORDINATOR,
        )
    ):
        memberships.setdefault(m.person_id, []).append(m)
    cohorts = dict(
        db.session.execute(
            sa.select(CohortMember.person_id, Cohort.name)
            .join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(CohortMember.term_id == term.id)
        ).all()
    )
    rows = []
    for person in sorted(people.values(), key=lambda p: (p.sort_name, p.email)):
        held = memberships.get(person.id, [])
        formal = any(m.formal_track for m in held)
        coffee = any(m.coffee_track for m in held)
        tracks = "both" if formal and coffee else "formal" if formal else "coffee" if coffee else ""
        rows.append(
            [
                person.email,
                person.name,
                "; ".join(sorted((m.role.value for m in held), reverse=True)),
                person.department_name,
                person.stage.label if person.stage else "",
                cohorts.get(person.id, ""),
                "; ".join(person.interests or []),
                tracks,
            ]
        )
    return rows


HEADER = [COLUMN_LABELS[c] for c in COLUMNS]


def roster_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads accented names), formula-safe cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def sheet_title(title: str) -> str:
    """A title Excel accepts: none of : \\ / ? * [ ], no leading or trailing apostrophe, at most
    31 characters ("AY 2027/28" becomes "AY 2027-28")."""
    cleaned = re.sub(r"[:\\/?*\[\]]", "-", title)
    cleaned = CONTROL_CHARACTERS.sub("", cleaned).strip().strip("'").strip()[:31].strip()
    return cleaned or "Roster"


def roster_xlsx(rows: list[list[str]], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title)
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            # openpyxl would store "=..." as a formula; a string type keeps it inert text.
            cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
