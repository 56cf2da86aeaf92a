"""Reading a roster file as registrars and GME offices export it: plain Python, no database.

`parse_roster(data, filename)` takes the uploaded bytes (CSV in UTF-8 with or without BOM,
UTF-16 or Windows-1252; or XLSX) and returns every row normalised, with every problem found,
each tied to its spreadsheet row number (the header is row 1) and column. It never raises for
bad content: a whole-file problem (wrong type, missing column) is a `RosterFileError` with a
plain message, and everything else is a `Problem` on the result.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from program.db import CONTROL_CHARACTERS
from program.people.stages import CareerStage, parse_stage

COLUMNS = (
    "email",
    "name",
    "role",
    "department",
    "stage",
    "cohort",
    "interests",
    "tracks",
    "assesses",
)
REQUIRED = ("email", "name", "role")
COLUMN_LABELS = {
    "email": "E-mail",
    "name": "Name",
    "role": "Role",
    "department": "Department",
    "stage": "Stage",
    "cohort": "Cohort",
    "interests": "Interests",
    "tracks": "Tracks",
    "assesses": "Assesses",
}
MAX_LENGTH = {
    "email": 254,
    "name": 200,
    "role": 100,
    "department": 120,
    "stage": 60,
    "cohort": 120,
    "interests": 2000,
    "tracks": 60,
    "assesses": 4000,
}
MAX_INTEREST_LENGTH = 80
MAX_INTERESTS = 20
MAX_ROWS = 50_000
# Registrars' exports carry many unrelated columns; more than this is not a roster.
MAX_COLUMNS = 200
# A workbook is a zip: what it unpacks to is checked before anything is read, so a small file
# that unpacks to gigabytes (a "zip bomb", or a sheet of millions of rows) is refused at once.
# A 50,000-row roster unpacks to about 20 MB.
MAX_XLSX_UNPACKED_BYTES = 80 * 1024 * 1024
# Cells with a value, in all: reading is what costs (about 10 µs a cell with openpyxl), so the
# work is bounded, not only the bytes (49,000 rows of 100 short cells fit in 74 MB and took
# minutes). Fifty thousand rows of eight columns; read in about four seconds.
MAX_CELLS = 400_000
ROLES = ("trainee", "mentor")
TRACKS = ("formal", "coffee")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Header names as they appear in real exports, reduced to letters and digits.
_HEADER_SYNONYMS = {
    "email": ["email", "emailaddress", "mail", "workemail", "institutionalemail", "emailid"],
    "name": ["name", "fullname", "displayname", "personname", "traineename", "preferredname"],
    "role": ["role", "roles", "type", "persontype", "programrole", "participanttype"],
    "department": ["department", "dept", "division", "specialty", "speciality", "service"],
    "stage": [
        "stage",
        "careerstage",
        "pgy",
        "pgylevel",
        "level",
        "traininglevel",
        "year",
        "classyear",
        "rank",
        "position",
    ],
    "cohort": ["cohort", "group", "class", "cohortname"],
    "interests": ["interests", "interest", "topics", "areasofinterest", "researchinterests"],
    "tracks": ["tracks", "track", "participation", "programtrack", "mentoringtrack"],
    # Faculty who assess or grade trainees: their addresses, never their mentor (LCME 11.1).
    "assesses": ["assesses", "grades", "assessesgrades", "evaluates", "assessorof", "assessing"],
}
_FIRST_NAME = {"firstname", "givenname", "forename", "first"}
_LAST_NAME = {"lastname", "surname", "familyname", "last"}
_ROLE_WORDS = {
    "trainee": "trainee",
    "resident": "trainee",
    "student": "trainee",
    "mentee": "trainee",
    "learner": "trainee",
    "intern": "trainee",
    "mentor": "mentor",
    "faculty": "mentor",
    "advisor": "mentor",
    "adviser": "mentor",
    "coach": "mentor",
}
_TRACK_WORDS = {
    "formal": ("formal",),
    "mentoring": ("formal",),
    "formalmentoring": ("formal",),
    "coffee": ("coffee",),
    "coffeechat": ("coffee",),
    "coffeechats": ("coffee",),
    "informal": ("coffee",),
    "both": TRACKS,
    "all": TRACKS,
}
_LIST_SPLIT = re.compile(r"\s*(?:[;,/|+&]|\band\b)\s*")
# The plain ASCII addresses that make up nearly every roster: accepted without the full (slow)
# validator. Anything else, including every address this would wrongly accept, goes through it.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


class RosterFileError(ValueError):
    """The file as a whole cannot be read as a roster; the message says why, plainly."""


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row number, header = 1; None for the whole file
    column: str | None
    message: str
    blocking: bool = True  # errors block the import; warnings do not

    @property
    def column_label(self) -> str:
        return COLUMN_LABELS.get(self.column or "", self.column or "")


@dataclass(frozen=True)
class RosterRow:
    row: int
    email: str
    name: str
    roles: frozenset[str]
    department: str = ""
    stage: CareerStage | None = None
    cohort: str = ""
    interests: tuple[str, ...] = ()
    tracks: frozenset[str] | None = None  # None: the file did not say
    assesses: tuple[str, ...] = ()  # trainees' addresses this faculty member assesses


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header as written
    blank_rows: int = 0
    total_rows: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.blocking]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKC", str(text)).casefold())


_HEADER_INDEX = {syn: canon for canon, syns in _HEADER_SYNONYMS.items() for syn in syns}


def decode_text(data: bytes) -> str:
    """Text from CSV bytes in UTF-8 (with or without BOM), UTF-16 (with BOM or without) or
    Windows-1252, which is what Excel writes when asked for plain "CSV" on Windows."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    head = data[:4000]
    if head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        if max(even_zeros, odd_zeros) > len(head) // 3:
            encoding = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
            return data.decode(encoding, errors="replace")
        raise RosterFileError(
            "This file is not a text CSV file. Export the roster as CSV or XLSX and try again."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _looks_binary(text: str) -> bool:
    sample = text[:4000]
    if not sample:
        return False
    controls = len(CONTROL_CHARACTERS.findall(sample)) + sample.count("\ufffd")
    return "\x00" in sample or controls > max(3, len(sample) // 50)


@dataclass(frozen=True)
class UnsavedFormula:
    """A workbook cell holding a formula whose value was never saved in the file (made by a
    program other than Excel, or never recalculated): its value cannot be known."""

    formula: str


Formulas = dict[tuple[int, int], str]  # (row number, column index) -> the formula's text


def read_table(data: bytes, filename: str) -> tuple[list[list[str]], Formulas]:
    """The file's cells as text, header row first, whatever the format; and the workbook's
    cells that hold a formula with no saved value (read as empty)."""
    name = filename.lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if name.endswith((".xlsx", ".xlsm")):
        if not is_zip:
            raise RosterFileError("This file is named .xlsx but is not an Excel workbook.")
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt", ".tsv")):
        if is_zip:
            raise RosterFileError(
                "This file is an Excel workbook named .csv: upload it with its .xlsx name."
            )
        return _read_csv(data), {}
    if name.endswith(".xls"):
        raise RosterFileError("Old .xls workbooks are not read: save it as .xlsx or as CSV.")
    raise RosterFileError("Upload a .csv or .xlsx file.")


def _read_csv(data: bytes) -> list[list[str]]:
    text = decode_text(data)
    if _looks_binary(text):
        raise RosterFileError(
            "This file is not a text CSV file. Export the roster as CSV or XLSX and try again."
        )
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    # The csv module rather than pandas here: it keeps ragged rows (a stray extra comma) as they
    # are, so every record keeps its spreadsheet row number instead of being dropped or shifted.
    try:
        return [list(record) for record in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise RosterFileError(f"This CSV file cannot be read: {exc}.") from exc


def _read_xlsx(data: bytes) -> tuple[list[list[str]], Formulas]:
    """The first sheet's cells, read as a stream (openpyxl's read-only mode), with the size,
    row and column limits checked while reading, so a hostile workbook is refused within a
    second or two and a few tens of MB."""
    damaged = "This Excel workbook cannot be read; it may be damaged."
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise RosterFileError(damaged) from exc
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise RosterFileError(
                f"This workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, far more than a "
                f"roster of {MAX_ROWS:,} rows; save only the roster's sheet, as CSV or XLSX."
            )
        # openpyxl reads every sheet through once when it opens a workbook that does not state
        # its size; counting the rows' tags first is a hundred times faster, so a sheet of a
        # few hundred thousand rows is refused before that.
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        try:
            counts = [_count_tags(archive, name) for name in sheets]
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise RosterFileError(damaged) from exc
        if any(rows > MAX_ROWS + 1 for rows, _ in counts):
            raise RosterFileError(
                f"The workbook has a sheet of more than {MAX_ROWS:,} rows (counting rows that "
                "are only formatted); save only the roster's sheet, or split it."
            )
        if any(cells > MAX_CELLS for _, cells in counts):
            _refuse_cells(max(cells for _, cells in counts))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise RosterFileError(damaged) from exc
    formulas: Formulas = {}
    try:
        table: list[list[str]] = []
        cells = 0
        for number, values in _sheet_rows(workbook):
            if not values:
                continue
            cells += len(values)
            if cells > MAX_CELLS:  # what the count above could not see (another notation)
                _refuse_cells(cells, counted=False)
            if max(values) > MAX_COLUMNS:
                raise RosterFileError(
                    f"Row {number:,} has values beyond column {MAX_COLUMNS}; a roster has a "
                    "handful of columns. Save only the roster's columns and try again."
                )
            if number > MAX_ROWS + 1:
                raise RosterFileError(f"The file has more than {MAX_ROWS:,} rows; split it.")
            table.extend([] for _ in range(number - 1 - len(table)))
            row = [""] * max(values)
            for column, value in values.items():
                if isinstance(value, UnsavedFormula):
                    formulas[(number, column - 1)] = value.formula
                else:
                    row[column - 1] = str(value)
            table.append(row)
    except RosterFileError:
        raise
    except Exception as exc:
        raise RosterFileError(damaged) from exc
    finally:
        workbook.close()
    while table and not any(table[-1]) and (len(table), 0) not in formulas:
        table.pop()  # formatting left below the data is not rows
    return table, formulas


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
# A cell with content closes with </c> (an empty, formatted one is <c .../>): counted with
# bytes.count, which makes no object per match (millions of them took seconds).
_CELL_END = b"</c>"
_PREFIXED_CELL_END = re.compile(rb"</[A-Za-z_][\w.-]*:c>")


def _refuse_cells(cells: int, *, counted: bool = True) -> None:
    raise RosterFileError(
        f"The workbook has {'' if counted else 'at least '}{cells:,} cells with values, more "
        f"than a roster's "
        f"{MAX_CELLS:,} (fifty thousand rows of eight columns); save only the roster's columns "
        "and rows, as CSV or XLSX."
    )


def _count_tags(archive: zipfile.ZipFile, path: str) -> tuple[int, int]:
    """How many <row> elements and cells with content a sheet's XML holds, read as a stream of
    bytes: a hundred times faster than parsing it."""
    rows = cells = 0
    tail = b""

    def count(data: bytes, end: int) -> None:
        nonlocal rows, cells
        rows += len(_ROW_TAG.findall(data, 0, end))
        cells += data.count(_CELL_END, 0, end) + len(_PREFIXED_CELL_END.findall(data, 0, end))

    with archive.open(path) as source:
        while chunk := source.read(1 << 20):
            data = tail + chunk
            # Keep what follows the last "<": a tag cut in two is counted in the next chunk.
            cut = data.rfind(b"<")
            cut = len(data) if cut == -1 else cut
            count(data, cut)
            tail = data[cut:]
    count(tail, len(tail))
    return rows, cells


class _ValuesParser(WorkSheetParser):
    """openpyxl's reader of saved values, which tells a formula with no saved value (an
    UnsavedFormula) from an empty cell."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            cell["value"] = UnsavedFormula("=" + (element.findtext(FORMULA_TAG) or ""))
        return cell


def _sheet_rows(workbook: Any) -> Iterator[tuple[int, dict[int, object]]]:
    """(row number, {column number: value}) for each row the first sheet's XML holds.

    openpyxl's own row reader, used the way its read-only worksheet uses it, but without the
    padding: `iter_rows` fills every gap up to the sheet's stated size (a million empty rows
    for one value in XFD1048576) and, without a stated size, first parses the whole sheet to
    find one.
    """
    sheet = workbook.worksheets[0]
    with workbook._archive.open(sheet._worksheet_path) as source:
        parser = _ValuesParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            yield (
                number,
                {
                    cell["column"]: cell["value"]
                    for cell in cells
                    if cell["value"] not in (None, "")
                },
            )


def _clean_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.lower() == "nan":
        text = ""
    text = text.strip().replace("\ufeff", "")
    # A leading apostrophe is how our export (and Excel) keeps a formula-like value as text.
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        text = text[1:]
    return text


def map_columns(header: list[str]) -> tuple[dict[str, int], dict[str, str], list[int]]:
    """Which column index holds each field; names as written; first/last name columns."""
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    first_last: list[int] = []
    for index, raw in enumerate(header):
        key = _key(raw)
        canon = _HEADER_INDEX.get(key)
        if canon is None and key.startswith("email"):
            canon = "email"
        if canon is not None and canon not in positions:
            positions[canon] = index
            written[canon] = raw
        elif key in _FIRST_NAME:
            first_last.insert(0, index)
        elif key in _LAST_NAME:
            first_last.append(index)
    return positions, written, first_last


def parse_roster(data: bytes, filename: str) -> ParsedRoster:
    """Read and check a whole roster file. See the module docstring."""
    table, formulas = read_table(data, filename)
    if not table or not any(_clean_cell(c) for c in table[0]):
        raise RosterFileError("The file is empty: the first row must name the columns.")
    header = [_clean_cell(c) for c in table[0]]
    positions, written, first_last = map_columns(header)
    if "name" not in positions and len(first_last) == 2:
        written["name"] = f"{header[first_last[0]]} + {header[first_last[1]]}"
    missing = [
        c for c in REQUIRED if c not in positions and not (c == "name" and len(first_last) == 2)
    ]
    if missing:
        names = ", ".join(f"“{COLUMN_LABELS[c]}”" for c in missing)
        found = ", ".join(f"“{h}”" for h in header if h) or "none"
        raise RosterFileError(
            f"The file has no {names} column{'s' if len(missing) > 1 else ''}. "
            f"The first row must name the columns; it has: {found[:500]}."
        )
    if len(table) - 1 > MAX_ROWS:
        raise RosterFileError(f"The file has more than {MAX_ROWS:,} rows; split it.")

    result = ParsedRoster(columns=written, total_rows=len(table) - 1)
    first_row_of: dict[str, int] = {}
    for offset, raw_row in enumerate(table[1:]):
        row_number = offset + 2
        cells = [_clean_cell(c) for c in raw_row]
        unsaved = {
            column: formula for (row, column), formula in formulas.items() if row == row_number
        }
        if not any(cells) and not unsaved:
            result.blank_rows += 1
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            index = positions.get(name)
            return cells[index] if index is not None and index < len(cells) else ""

        values = {name: cell(name) for name in COLUMNS}
        if "name" not in positions and len(first_last) == 2:
            values["name"] = " ".join(cells[i] for i in first_last if i < len(cells) and cells[i])
        row, problems = _check_row(row_number, values)
        if unsaved:
            problems = _unsaved_formulas(row_number, unsaved, positions, problems)
        result.problems.extend(problems)
        if row is None:
            continue
        if row.email in first_row_of:
            result.problems.append(
                Problem(
                    row_number,
                    "email",
                    f"{row.email} is already on row {first_row_of[row.email]} of this file.",
                )
            )
            continue
        first_row_of[row.email] = row_number
        result.rows.append(row)
    return result


def _unsaved_formulas(
    row_number: int, unsaved: dict[int, str], positions: dict[str, int], problems: list[Problem]
) -> list[Problem]:
    """A row's problems with each formula that has no saved value said as such, in place of
    "is empty" (which is what a reader of values sees)."""
    names = {index: name for name, index in positions.items()}
    found = [
        Problem(
            row_number,
            names.get(column, f"column {column + 1}"),
            f"holds a formula ({formula[:60]}) whose value is not saved in the file; Hallway "
            "reads values, not formulas. In Excel, copy the column and paste it as values, "
            "then save and upload again.",
        )
        for column, formula in sorted(unsaved.items())
        if column in names
    ]
    said = {p.column for p in found}
    return [p for p in problems if p.column not in said] + found


def _check_row(row_number: int, values: dict[str, str]) -> tuple[RosterRow | None, list[Problem]]:
    problems: list[Problem] = []

    def error(column: str, message: str) -> None:
        problems.append(Problem(row_number, column, message))

    for name, value in values.items():
        if len(value) > MAX_LENGTH[name]:
            error(name, f"is too long ({len(value):,} characters; at most {MAX_LENGTH[name]}).")
            values[name] = ""
        elif CONTROL_CHARACTERS.search(value):
            error(name, "contains control characters; retype it as plain text.")
            values[name] = ""
        elif value.startswith(FORMULA_TRIGGERS):
            # Not refused (a name may begin so), but never silent: a spreadsheet would run it.
            problems.append(
                Problem(
                    row_number,
                    name,
                    f"“{value[:60]}” starts like a spreadsheet formula; it will be stored as "
                    "text (and exported with a leading apostrophe, so no spreadsheet runs it).",
                    blocking=False,
                )
            )

    email = ""
    if not values["email"]:
        error("email", "is empty; every person needs an e-mail address.")
    elif len(values["email"]) <= MAX_LENGTH["email"]:
        try:
            email = normalise_email(values["email"])
        except EmailNotValidError as exc:
            reason = str(exc).rstrip(".")
            error("email", f"“{values['email'][:80]}” is not a valid e-mail address ({reason}).")

    name = " ".join(values["name"].split())
    if not name and not any(p.column == "name" for p in problems):
        error("name", "is empty; every person needs a name.")

    roles, role_problems = _parse_roles(values["role"])
    for message in role_problems:
        error("role", message)

    stage = None
    if values["stage"]:
        stage = parse_stage(values["stage"])
        if stage is None:
            error(
                "stage",
                f"“{values['stage'][:60]}” is not a career stage Hallway knows. Use one of "
                "MS1 to MS4, PGY1 to PGY7, Fellow, Junior faculty, Mid-career faculty, "
                "Senior faculty, Staff.",
            )
    if stage is not None and "mentor" in roles and stage.value.startswith("MS"):
        error("role", f"A medical student ({stage.value}) cannot be a mentor.")

    tracks: frozenset[str] | None = None
    if values["tracks"]:
        tracks, track_problem = _parse_tracks(values["tracks"])
        if track_problem:
            error("tracks", track_problem)

    assesses: list[str] = []
    for address in re.split(r"[;,\s]+", values["assesses"]):
        if not address:
            continue
        try:
            assesses.append(normalise_email(address))
        except EmailNotValidError:
            error("assesses", f"“{address}” is not an e-mail address.")
    if assesses and "mentor" not in roles:
        error("assesses", "Only faculty (mentors) are recorded as assessing trainees.")

    interests, problem = parse_interests(values["interests"])
    if problem:
        error("interests", problem)

    if any(p.blocking for p in problems):
        return None, problems
    return (
        RosterRow(
            row=row_number,
            email=email,
            name=name,
            roles=roles,
            department=" ".join(values["department"].split()),
            stage=stage,
            cohort=" ".join(values["cohort"].split()),
            interests=interests,
            tracks=tracks,
            assesses=tuple(dict.fromkeys(assesses)),
        ),
        problems,
    )


def normalise_email(text: str) -> str:
    """The address in lower case, or EmailNotValidError saying what is wrong with it."""
    if _PLAIN_EMAIL.fullmatch(text) and len(text) <= 254 and len(text.split("@")[0]) <= 64:
        domain = text.rsplit("@", 1)[1].lower()
        if not any(domain == n or domain.endswith("." + n) for n in SPECIAL_USE_DOMAIN_NAMES):
            return text.lower()
    return validate_email(text, check_deliverability=False).normalized.lower()


def _words(text: str) -> Iterable[str]:
    return (w for w in _LIST_SPLIT.split(text) if w.strip())


def _parse_roles(text: str) -> tuple[frozenset[str], list[str]]:
    if not text:
        return frozenset(), ["is empty; write trainee, mentor, or both (e.g. “trainee; mentor”)."]
    roles: set[str] = set()
    problems: list[str] = []
    for word in _words(text):
        key = _key(word).removesuffix("s") if _key(word) not in _ROLE_WORDS else _key(word)
        if key in _ROLE_WORDS:
            roles.add(_ROLE_WORDS[key])
        elif key in ("coordinator", "admin", "administrator", "dean"):
            problems.append(
                f"“{word[:40]}” cannot be given by a roster import; an admin names coordinators."
            )
        else:
            problems.append(f"“{word[:40]}” is not a role; use trainee or mentor.")
    return frozenset(roles), problems


def _parse_tracks(text: str) -> tuple[frozenset[str], str | None]:
    tracks: set[str] = set()
    for word in _words(text):
        found = _TRACK_WORDS.get(_key(word))
        if found is None:
            return frozenset(), f"“{word[:40]}” is not a track; use formal, coffee or both."
        tracks.update(found)
    return frozenset(tracks), None


def parse_interests(text: str) -> tuple[tuple[str, ...], str | None]:
    """Interests separated by semicolons, spaces tidied and repeats (in any case) dropped, with
    what is wrong with them if anything: the one rule for the roster file and the person page."""
    seen: dict[str, str] = {}
    for part in text.split(";"):
        cleaned = " ".join(part.split())
        if cleaned and cleaned.casefold() not in seen:
            seen[cleaned.casefold()] = cleaned
    interests = tuple(seen.values())
    if len(interests) > MAX_INTERESTS:
        return interests, f"lists {len(interests)} interests; at most {MAX_INTERESTS}."
    if any(len(i) > MAX_INTEREST_LENGTH for i in interests):
        return interests, f"has an interest longer than {MAX_INTEREST_LENGTH} characters."
    return interests, None


def spreadsheet_safe(value: str) -> str:
    """A cell value that no spreadsheet will run as a formula (an apostrophe keeps it text)."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value
