"""The HTML report: the accessible version, from the same numbers as the PDF and the CSV.

Rendered with Jinja2 directly (no Flask): `templates/reports/_body.html` is the content, used by
the standalone download here and by the web page, which wraps it in the site's layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from reports.build import (
    OUTCOMES_INTRO,
    SATISFACTION_HEADER,
    SURVEY_HEADER,
    Report,
    cohorts_withheld,
    distribution_cell,
    outcome_lines,
    outcome_notes,
    outcome_trend_lines,
    percent,
    satisfaction_lines,
    survey_intro,
    survey_lines,
    survey_track_lines,
    written,
    written_difference,
)
from reports.charts import (
    HEADLINE,
    OUTCOME_LEGEND,
    BarChart,
    LineChart,
    headline_chart,
    network_chart,
    outcome_trend_chart,
    survey_trend_chart,
    trend_chart,
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
    SURVEY_TREND,
    TREND,
)

# In a checkout the templates sit at the repository's top; a wheel carries them in the program
# package (see pyproject.toml).
_TOP = Path(__file__).resolve().parent.parent
TEMPLATES = next(p for p in (_TOP / "program" / "templates", _TOP / "templates") if p.is_dir())
TRACK_NAMES = {"formal": "Formal mentoring", "coffee": "Coffee chats", "both": "Both tracks"}
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
        "survey_trend": SURVEY_TREND,
        "satisfaction_header": SATISFACTION_HEADER,
        "satisfaction_lines": lambda track: satisfaction_lines(report, track),
        "cohorts_withheld": lambda track: cohorts_withheld(report, track),
        "survey_header": SURVEY_HEADER,
        "survey_lines": lambda track: survey_lines(report, track),
        "survey_track_lines": lambda: survey_track_lines(report),
        "outcomes_intro": OUTCOMES_INTRO,
        "outcome_legend": OUTCOME_LEGEND,
        "outcome_lines": outcome_lines,
        "outcome_notes": outcome_notes,
        "outcome_trend_lines": lambda c: outcome_trend_lines(report, c),
        "survey_intro": lambda: survey_intro(report),
        "network_tracks": NETWORK_TRACKS,
        "track_names": TRACK_NAMES,
        "origin_metrics": ORIGIN_METRICS,
        "breakdown_metrics": BREAKDOWN_METRICS,
        "charts": drawn_charts(report),
    }


@dataclass
class Drawn:
    """A chart as the outputs embed it: its SVG, and its values in words."""

    svg: Markup
    alt: str


def drawn_charts(report: Report) -> dict[str, Drawn]:
    """The report's charts, each drawn once for the page, the download and the PDF: the
    headline figures with their intervals, their trend, and the network against random."""
    made: dict[str, tuple[str, BarChart | LineChart]] = {
        "headline": ("reports/_bars.svg", headline_chart(report)),
        "trend": ("reports/_lines.svg", trend_chart(report)),
        "network": ("reports/_lines.svg", network_chart(report)),
    }
    if report.computed.survey_targets:
        made["survey"] = ("reports/_lines.svg", survey_trend_chart(report))
    for comparison in report.computed.outcomes:
        if (chart := outcome_trend_chart(report, comparison)) is not None:
            made[f"outcome-{comparison.measure_id}"] = ("reports/_lines.svg", chart)
    return {
        key: Drawn(
            # Rendered by an autoescaping template: every text in it is escaped already.
            Markup(_environment.get_template(template).render(chart=chart, id=f"chart-{key}")),  # noqa: S704
            chart.alt,
        )
        for key, (template, chart) in made.items()
    }


def build_html(report: Report) -> bytes:
    page = _environment.get_template("reports/standalone.html")
    return page.render(**context(report)).encode("utf-8")
