"""Hostile workbooks, written as raw XML in a zip: a tiny file with one value in the sheet's
last cell, and a small compressed file of millions of rows."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Roster" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(sheet_parts: Iterator[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for part in sheet_parts:
                sheet.write(part.encode())
    return buffer.getvalue()


def header_row() -> str:
    return (
        '<row r="1">' + _cell("A1", "email") + _cell("B1", "name") + _cell("C1", "role") + "</row>"
    )


def last_cell_workbook() -> bytes:
    """About 1 KB: a header, and one value in XFD1048576, the last cell a sheet can have."""

    def parts() -> Iterator[str]:
        yield SHEET_HEAD + '<dimension ref="A1:XFD1048576"/><sheetData>'
        yield header_row()
        yield '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"
        yield "</sheetData></worksheet>"

    return workbook(parts())


ROW = (
    "<row>"
    '<c t="inlineStr"><is><t>someone@example.edu</t></is></c>'
    '<c t="inlineStr"><is><t>Name</t></is></c>'
    '<c t="inlineStr"><is><t>trainee</t></is></c>'
    "</row>"
)


def millions_of_rows_workbook(rows: int = 3_000_000) -> bytes:
    """About 2 MB compressed, hundreds of MB unpacked: the same short row again and again."""

    def parts() -> Iterator[str]:
        yield SHEET_HEAD + "<sheetData>"
        yield header_row()
        chunk = []
        for _ in range(rows):
            # Row and cell references are optional; without them every row is the same bytes,
            # which is what lets three million rows pack into a couple of MB.
            chunk.append(ROW)
            if len(chunk) == 10_000:
                yield "".join(chunk)
                chunk = []
        yield "".join(chunk)
        yield "</sheetData></worksheet>"

    return workbook(parts())


def last_cell_within_size_workbook() -> bytes:
    """Small unpacked, but rows past the limit with values: refused while reading."""

    def parts() -> Iterator[str]:
        yield SHEET_HEAD + "<sheetData>"
        yield header_row()
        yield (
            '<row r="2">'
            + _cell("A2", "a@example.edu")
            + _cell("B2", "A")
            + _cell("C2", "trainee")
            + "</row>"
        )
        yield '<row r="60000">' + _cell("A60000", "late@example.edu") + "</row>"
        yield "</sheetData></worksheet>"

    return workbook(parts())


def wide_rows_workbook(rows: int = 49_000, columns: int = 100) -> bytes:
    """Within the row, column and size limits (about 74 MB unpacked, a few hundred KB packed),
    but 4.9 million cells with a value: minutes of reading, refused by counting them first."""
    row = "<row>" + "<c><v>1</v></c>" * columns + "</row>"

    def parts() -> Iterator[str]:
        yield SHEET_HEAD + "<sheetData>"
        yield header_row()
        for start in range(0, rows, 1000):
            yield row * min(1000, rows - start)
        yield "</sheetData></worksheet>"

    return workbook(parts())
