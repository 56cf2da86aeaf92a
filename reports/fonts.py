"""Fonts for the PDF: every name prints, in any alphabet.

ReportLab's built-in Helvetica is not embedded and knows only WinAnsi, so "Łódź" printed as
"■ód■". The report embeds DejaVu Sans (Latin with its extensions and Vietnamese, Greek,
Cyrillic, and more), taken from the copy matplotlib ships, so nothing is downloaded and the
same bytes come out everywhere. Characters DejaVu Sans lacks (Chinese, Japanese, Korean) are set
in ReportLab's Adobe CID fonts, which every PDF reader carries or substitutes: STSong-Light for
Chinese, HeiseiMin-W3 for a run with Japanese kana, HYSMyeongJo-Medium for Hangul.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "HallwaySans"
BOLD = "HallwaySans-Bold"
CHINESE = "STSong-Light"
JAPANESE = "HeiseiMin-W3"
KOREAN = "HYSMyeongJo-Medium"


def dejavu_folder() -> Path:
    # Located without importing matplotlib (which is slow to import and not needed here).
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (which ships DejaVu Sans) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@functools.cache
def register() -> frozenset[int]:
    """Register the fonts once per process; the code points DejaVu Sans has glyphs for."""
    folder = dejavu_folder()
    regular = TTFont(REGULAR, str(folder / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    # <b> in a paragraph picks the bold face; italics stay upright (never used for names).
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    for name in (CHINESE, JAPANESE, KOREAN):
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return frozenset(regular.face.charToGlyph)


def _is_kana(code: int) -> bool:
    return 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F


def _is_hangul(code: int) -> bool:
    return 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def _run_font(run: str) -> str:
    codes = [ord(c) for c in run]
    if any(_is_hangul(c) for c in codes):
        return KOREAN
    if any(_is_kana(c) for c in codes):
        return JAPANESE
    return CHINESE


def markup(text: str) -> str:
    """Paragraph markup for untrusted text: escaped, so nothing in it is read as markup, with
    each run of characters that DejaVu Sans lacks set in a CID font that has them."""
    covered = register()
    parts: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            joined = "".join(run)
            parts.append(f'<font name="{_run_font(joined)}">{escape(joined)}</font>')
            run.clear()

    for char in text:
        if ord(char) in covered or char in "\n\t":
            close_run()
            parts.append(escape(char))
        else:
            run.append(char)
    close_run()
    return "".join(parts)
