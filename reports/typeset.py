"""Tagged, archival PDFs, typeset by Typst (the `typst` wheel: no system library, no network).

A PDF made here is tagged and declares PDF/UA-1 and PDF/A-2a: a structure tree in reading
order, headings as H1-H3, tables with their header cells, the document's title shown and its
language set, every font embedded. Typst refuses to write a document that breaks those
standards (a figure without alternative text, say), so an inaccessible PDF fails its tests
rather than reaching a reader. ReportLab's open-source edition cannot tag a PDF at all.

Each document is a template in `reports/typst/` that reads its data as JSON from
`sys.inputs`: whatever people typed is read as plain text, never as markup. The same data
gives the same bytes: the PDF is dated by the data (`as_of`), not by the clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typst

from reports.fonts import dejavu_folder

TEMPLATES = Path(__file__).resolve().parent / "typst"
STANDARDS = ["ua-1", "a-2a"]


def typeset(template: str, data: dict[str, Any], as_of: datetime) -> bytes:
    """`reports/typst/<template>.typ` typeset with `data` as a tagged PDF/UA-1, PDF/A-2a.

    Fonts: DejaVu Sans (matplotlib's copy) for Latin, Greek and Cyrillic, and the system's CJK
    fonts for Chinese, Japanese and Korean names (WenQuanYi Zen Hei or Noto Sans CJK, where
    installed: see the README)."""
    pdf = typst.compile(
        str(TEMPLATES / f"{template}.typ"),
        root=str(TEMPLATES),
        font_paths=[str(dejavu_folder())],
        sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
        pdf_standards=STANDARDS,
        timestamp=int(as_of.timestamp()),
    )
    if not isinstance(pdf, bytes):  # one PDF, never a page list (that is for images)
        raise TypeError(f"Typst returned {type(pdf).__name__}, not a PDF")
    return pdf
