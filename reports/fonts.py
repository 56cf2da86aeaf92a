"""Fonts for the PDFs: every name prints, in any alphabet.

The PDFs embed DejaVu Sans (Latin with its extensions and Vietnamese, Greek, Cyrillic, and
more), taken from the copy matplotlib ships, so nothing is downloaded and the same bytes come
out everywhere. Chinese, Japanese and Korean come from the system's CJK font (WenQuanYi Zen
Hei or Noto Sans CJK; see the README), which the PDF embeds as it does DejaVu Sans.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def dejavu_folder() -> Path:
    """The folder of matplotlib's DejaVu fonts (found without importing matplotlib, which is
    slow to import and not needed here)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (which ships DejaVu Sans) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
