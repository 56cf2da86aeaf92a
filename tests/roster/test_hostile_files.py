"""Hostile workbooks are refused at once, with a message, in bounded memory, writing nothing."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from program.roster.models import RosterUpload
from program.roster.parsing import RosterFileError, parse_roster
from tests.accounts.test_accounts import count
from tests.conftest import text_of
from tests.roster import hostile
from tests.roster.test_import import data_snapshot, setup, upload  # noqa: F401 (fixture)

CASES = [
    (hostile.last_cell_workbook, "values beyond column 200"),
    (hostile.millions_of_rows_workbook, "unpacks to 435 MB"),
    (hostile.wide_rows_workbook, "has 4,900,003 cells with values, more than a roster's 400,000"),
    (lambda: hostile.millions_of_rows_workbook(200_000), "a sheet of more than 50,000 rows"),
    (hostile.last_cell_within_size_workbook, "more than 50,000 rows"),
]


@pytest.mark.parametrize(("make_file", "message"), CASES)
def test_refused_while_reading(make_file, message):
    data = make_file()
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(RosterFileError, match=message):
        parse_roster(data, "roster.xlsx")
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Generous bounds (tracemalloc slows Python several times): the point is "not minutes, not
    # gigabytes"; bench.hostile measures the real figures.
    assert seconds < 20 and peak < 64 * 1024 * 1024


@pytest.mark.parametrize(("make_file", "message"), CASES[:3])
def test_the_upload_page_says_why_and_writes_nothing(app, client, setup, make_file, message):  # noqa: F811
    before = data_snapshot(app)
    response = upload(client, "x", make_file(), filename="roster.xlsx")
    assert response.status_code == 200 and message in text_of(response)
    assert data_snapshot(app) == before
    assert count(app, RosterUpload) == 0


def test_the_cell_budget_holds_while_reading_too(monkeypatch):
    """Cells the byte count cannot see (a notation it does not know) are counted as they are
    read, and the budget holds there too."""
    from program.roster import parsing

    monkeypatch.setattr(parsing, "_CELL_END", b"</nothing-like-a-cell>")
    with pytest.raises(RosterFileError, match="cells with values"):
        parse_roster(hostile.wide_rows_workbook(rows=5_000, columns=100), "roster.xlsx")


def test_a_workbook_with_a_gap_and_formatting_below_still_reads():
    """Rows far apart are kept with their row numbers; nothing past the data is a row."""
    parts = iter(
        [
            hostile.SHEET_HEAD + "<sheetData>",
            hostile.header_row(),
            '<row r="5">'
            + hostile._cell("A5", "late@example.edu")
            + hostile._cell("B5", "Late Comer")
            + hostile._cell("C5", "trainee")
            + "</row>",
            '<row r="900" ht="20" customHeight="1"/>',
            "</sheetData></worksheet>",
        ]
    )
    parsed = parse_roster(hostile.workbook(parts), "roster.xlsx")
    assert [(r.row, r.email) for r in parsed.rows] == [(5, "late@example.edu")]
