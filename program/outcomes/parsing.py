"""Reading an outcomes file (CSV or XLSX, read as rosters are): an e-mail column, and one column
per measure defined in Hallway, named as the measure is. Plain Python: what is wrong with the
file is found here, row by row, in words; who the addresses are is the service's question."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from email_validator import EmailNotValidError

from program.db import name_key
from program.roster.parsing import MAX_ROWS, RosterFileError, normalise_email, read_table

EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address"}
MAX_ANSWER = 120
MAX_PROBLEMS = 200  # listed; the count says how many more


@dataclass(frozen=True)
class MeasureColumn:
    """What the parser needs of a measure: its id, name and whether it takes numbers."""

    id: int
    name: str
    numeric: bool


@dataclass
class ParsedOutcomes:
    measures: list[MeasureColumn] = field(default_factory=list)  # the file's, in its order
    # Each person's row: (row number, address, {measure id: number or answer}).
    rows: list[tuple[int, str, dict[int, float | str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def refuse(self, problem: str) -> None:
        self.problems.append(problem)


class OutcomesFileError(ValueError):
    """The file as a whole cannot be read as an outcomes file; the message says why."""


def parse_outcomes(
    data: bytes, filename: str, measures: dict[str, MeasureColumn]
) -> ParsedOutcomes:
    """The file's rows and every problem in it. `measures`: the defined ones, by name key."""
    try:
        table, formulas = read_table(data, filename)
    except RosterFileError as exc:
        raise OutcomesFileError(str(exc)) from exc
    if not table or not any(cell.strip() for cell in table[0]):
        raise OutcomesFileError("The file is empty: the first row must name the columns.")
    if len(table) - 1 > MAX_ROWS:
        raise OutcomesFileError(f"The file has more than {MAX_ROWS:,} rows; split it.")
    header = [cell.strip() for cell in table[0]]
    emails = [k for k, h in enumerate(header) if h.lower() in EMAIL_HEADERS]
    if len(emails) != 1:
        raise OutcomesFileError(
            "The file needs one “email” column, to match each row to a person"
            + (" (it has several)." if emails else ".")
        )
    out = ParsedOutcomes()
    columns: dict[int, MeasureColumn] = {}
    for k, title in enumerate(header):
        if k == emails[0] or not title:
            continue
        found = measures.get(name_key(title))
        if found is None:
            out.refuse(
                f"The column “{title[:120]}” is not a measure defined in Hallway: define it "
                "first (its name, definition, source and which way is better), or remove it."
            )
        elif found.id in {c.id for c in columns.values()}:
            out.refuse(f"The measure “{found.name}” has two columns.")
        else:
            columns[k] = found
    out.measures = list(columns.values())
    if not columns and not out.problems:
        out.refuse("The file has no measure column besides the e-mail.")
    first_row: dict[str, int] = {}
    for offset, cells in enumerate(table[1:]):
        number = offset + 2
        if not any(cell.strip() for cell in cells):
            continue
        cells = [*cells, *[""] * (len(header) - len(cells))]
        raw = cells[emails[0]].strip()
        try:
            email = normalise_email(raw)
        except EmailNotValidError:
            out.refuse(f"Row {number}: “{raw[:80]}” is not an e-mail address.")
            continue
        if email in first_row:
            out.refuse(f"Row {number}: {email} is also on row {first_row[email]}.")
            continue
        first_row[email] = number
        values: dict[int, float | str] = {}
        for k, measure in columns.items():
            text = " ".join(cells[k].split())
            if (number, k) in formulas:
                out.refuse(
                    f"Row {number}, “{measure.name}”: a formula with no saved value; save the "
                    "workbook in Excel (or export it as CSV) and upload it again."
                )
            elif not text:
                continue  # no value of this measure for this person
            elif measure.numeric:
                try:
                    value = float(text)
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    out.refuse(f"Row {number}, “{measure.name}”: “{text[:40]}” is not a number.")
                    continue
                values[measure.id] = value
            elif len(text) > MAX_ANSWER:
                out.refuse(
                    f"Row {number}, “{measure.name}”: an answer of more than {MAX_ANSWER} "
                    "characters."
                )
            else:
                values[measure.id] = text
        out.rows.append((number, email, values))
    return out
