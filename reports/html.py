"""The HTML report: the accessible version, from the same numbers as the PDF and the CSV.

Rendered with Jinja2 directly (no Flask): `templates/reports/_body.html` is the content, used by
the standalone download here and by the web page, which wraps it in the site's layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports.build import (
    SATISFACTION_HEADER,
    Report,
    cohorts_withheld,
    distribution_cell,
    percent,
    satisfaction_lines,
    written,
    written_difference,
)
from reports.metrics import (
    ADVISING_TABLE,
    BREAKDOWNS,
    BY_ID,
    NETWORK_TABLE,
    NETWORK_TRACKS,
    NETWORK_TREND,
    ORIGIN_METRICS,
    ORIGINS,
    TREND,
)

# In a checkout the templates sit at the repository's top; a wheel carries them in the program
# package (see pyproject.toml).
_TOP = Path(__file__).resolve().parent.parent
TEMPLATES = next(p for p in (_TOP / "program" / "templates", _TOP / "templates") if p.is_dir())
TRACK_NAMES = {"formal": "Formal mentoring", "coffee": "Coffee chats", "both": "Both tracks"}
HEADLINE = ("participation", "pairs_met", "met_within_30", "response_rate", "useful")
BREAKDOWN_METRICS = (
    "eligible",
    "taking_part",
    "participation",
    "meetings_per_participant",
    "response_rate",
)

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def context(report: Report) -> dict[str, Any]:
    """What the report templates need (the web page passes the same)."""
    return {
        "report": report,
        "written": lambda row: written(report, row),
        "written_difference": lambda metric: written_difference(report, metric),
        "distribution_cell": lambda count: distribution_cell(report.threshold, count),
        "percent": percent,
        "metric": BY_ID,
        "headline": HEADLINE,
        "breakdowns": BREAKDOWNS,
        "origins": ORIGINS,
        "advising_table": ADVISING_TABLE,
        "network_table": NETWORK_TABLE,
        "network_trend": NETWORK_TREND,
        "trend_metrics": TREND,
        "satisfaction_header": SATISFACTION_HEADER,
        "satisfaction_lines": lambda track: satisfaction_lines(report, track),
        "cohorts_withheld": lambda track: cohorts_withheld(report, track),
        "network_tracks": NETWORK_TRACKS,
        "track_names": TRACK_NAMES,
        "origin_metrics": ORIGIN_METRICS,
        "breakdown_metrics": BREAKDOWN_METRICS,
        "bars": bars(report),
        "group_height": GROUP_HEIGHT,
    }


GROUP_HEIGHT = 58  # SVG units per headline metric: its name, then one bar per track


def bars(report: Report) -> list[dict[str, Any]]:
    """The headline chart's bars, in SVG units; suppressed values get no bar."""
    out = []
    for i, metric in enumerate(HEADLINE):
        for j, track in enumerate(("formal", "coffee")):
            row = report.row(track, metric)
            value = None if row.suppressed else row.value
            out.append(
                {
                    "metric": metric,
                    "track": track,
                    # Each metric's name on its own line above its two bars, so a long name is
                    # never cut off by them.
                    "x": 0,
                    "y": 18 + i * GROUP_HEIGHT + j * 18,
                    "width": 0 if value is None else round(400 * value, 1),
                    "label": written(report, row).split(" (")[0],
                }
            )
    return out


def chart_svg(report: Report) -> str:
    """The headline chart, as the page draws it: one source for the page and the PDF."""
    return _environment.get_template("reports/_chart.svg").render(**context(report))


def chart_alt(report: Report) -> str:
    """What the chart shows, in words, with every value it draws (a screen reader's view of
    it in the PDF); a hidden value is said to be hidden."""
    by_metric: dict[str, list[str]] = {}
    for bar in bars(report):
        by_metric.setdefault(bar["metric"], []).append(f"{bar['track']} {bar['label']}")
    parts = [f"{BY_ID[m].label}: {', '.join(values)}" for m, values in by_metric.items()]
    return "Headline proportions by track. " + "; ".join(parts) + "."


def build_html(report: Report) -> bytes:
    page = _environment.get_template("reports/standalone.html")
    return page.render(**context(report)).encode("utf-8")
