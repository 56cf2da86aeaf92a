"""The report's charts, drawn once as SVG: the web page shows them, the downloaded HTML carries
them and the PDF embeds them as tagged figures. Each comes with its values in words (the
alternative text a screen reader reads) and sits beside a table of the same figures.

Plain geometry in SVG units here; `templates/reports/_bars.svg` and `_lines.svg` draw it. A
hidden figure is drawn as nothing (no bar, no point: a gap in its line) and said to be hidden.

Colours pass WCAG's contrast for text (4.5:1) on white, so labels may use them too, and are
never the only cue: every bar is labelled with its track, lines differ in dash and marker."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from reports.build import Report, percent
from reports.metrics import BY_ID, SURVEY_TREND, TREND, Row
from reports.outcomes import PARTICIPATION, OutcomeComparison, OutcomeGroup, fixed2

FORMAL = "#1f4e5f"  # 8.9:1 on white
COFFEE = "#a4521a"  # 5.5:1 on white
RANDOM = "#555555"  # 7.5:1 on white
TRACKS = (("formal", "Formal mentoring", FORMAL), ("coffee", "Coffee chats", COFFEE))

WIDTH = 600
HEADLINE = ("participation", "pairs_met", "met_within_30", "response_rate", "useful")
BAR_SCALE = 330  # SVG units for 100%
GROUP_HEIGHT = 58  # per headline metric: its name, then one bar per track


def _shown(row: Row) -> bool:
    return not row.suppressed and row.value is not None


def _interval(row: Row) -> str:
    """A value with its 95% interval, or what a table prints in its place."""
    if not _shown(row):
        return written_short(row)
    if row.ci_low is None or row.ci_high is None:
        return percent(row.value)
    return f"{percent(row.value)} (95% CI {percent(row.ci_low)}–{percent(row.ci_high)})"


def written_short(row: Row) -> str:
    """What a table cell says of a hidden or missing value, without its parenthesis."""
    return "hidden" if row.suppressed else "no data"


def _in_words(row: Row) -> str:
    """A share as a chart's words say it: "62%", "hidden" or "no data"."""
    return percent(row.value) if _shown(row) else written_short(row)


# --- the headline figures, per track, with their intervals ---------------------------------


@dataclass
class Bar:
    metric: str
    track: str
    colour: str
    y: float
    width: float  # 0: hidden, no bar
    low: float | None  # the interval's ends, in SVG units; None: none drawn
    high: float | None
    label: str


@dataclass
class BarChart:
    title: str
    desc: str
    labels: list[tuple[str, float]]  # each metric's name and its y
    bars: list[Bar]
    height: float
    width: int = WIDTH
    alt: str = ""


def headline_chart(report: Report) -> BarChart:
    bars, labels = [], []
    for i, metric in enumerate(HEADLINE):
        top = 18 + i * GROUP_HEIGHT
        labels.append((BY_ID[metric].label, top - 5))
        for j, (track, _, colour) in enumerate(TRACKS):
            row = report.row(track, metric)
            shown = _shown(row)
            bars.append(
                Bar(
                    metric=metric,
                    track=track,
                    colour=colour,
                    y=top + j * 18,
                    width=round(BAR_SCALE * row.value, 1) if shown else 0,  # type: ignore[operator]
                    low=round(BAR_SCALE * row.ci_low, 1)
                    if shown and row.ci_low is not None
                    else None,
                    high=round(BAR_SCALE * row.ci_high, 1)
                    if shown and row.ci_high is not None
                    else None,
                    label=f"{track}: {_interval(row)}",
                )
            )
    by_metric: dict[str, list[str]] = {}
    for bar in bars:
        by_metric.setdefault(bar.metric, []).append(bar.label)
    alt = (
        "Headline proportions by track, each with its 95% interval. "
        + "; ".join(f"{BY_ID[m].label}: {', '.join(v)}" for m, v in by_metric.items())
        + "."
    )
    return BarChart(
        title="Headline proportions by track, with 95% intervals",
        desc="Bars for the formal and coffee tracks for each headline metric, a line across "
        "each bar for its 95% interval; the same values are in the table that follows.",
        labels=labels,
        bars=bars,
        height=10 + len(HEADLINE) * GROUP_HEIGHT,
        alt=alt,
    )


def hidden_note(report: Report) -> str:
    """What the headline chart draws no bar for, and why, for its caption ("" if nothing)."""
    hidden: dict[str, list[str]] = {}
    for metric in HEADLINE:
        for track, _, _ in TRACKS:
            if not _shown(report.row(track, metric)):
                hidden.setdefault(BY_ID[metric].label.lower(), []).append(track)
    if not hidden:
        return ""
    return (
        " No bar (hidden to protect people; the table says why): "
        + "; ".join(f"{label} ({' and '.join(tracks)})" for label, tracks in hidden.items())
        + "."
    )


# --- lines across terms ---------------------------------------------------------------------

LEFT, RIGHT = 48, 24  # room for the axis's labels, and for the last point's
PLOT_HEIGHT = 96
TITLE = 36  # a panel's title, and room above the plot for a value printed over a point
LEGEND = 24


@dataclass
class Point:
    x: float
    y: float
    label: str
    above: bool  # its value printed above the point (else below, clear of the other line)


@dataclass
class Series:
    name: str
    colour: str
    dash: str  # SVG stroke-dasharray; "" for a solid line
    marker: str  # "circle", "square" or "none"
    # Runs of consecutive shown points: a hidden term breaks the line.
    runs: list[list[Point]] = field(default_factory=list)


@dataclass
class Panel:
    title: str
    top: float
    series: list[Series]


@dataclass
class LineChart:
    title: str
    desc: str
    terms: list[tuple[str, float]]  # each term's label and its x
    panels: list[Panel]
    legend: list[Series]
    height: float
    tilted: bool  # term labels slanted, where they would not fit side by side
    alt: str
    width: int = WIDTH
    grid: tuple[tuple[str, float], ...] = (("0%", 1.0), ("50%", 0.5), ("100%", 0.0))
    plot_height: int = PLOT_HEIGHT
    title_height: int = TITLE
    left: int = LEFT
    right: int = WIDTH - RIGHT
    legend_step: int = 170  # SVG units from one legend entry to the next


def _xs(count: int) -> list[float]:
    first, last = LEFT + 40, WIDTH - RIGHT - 40
    if count == 1:
        return [(first + last) / 2]
    step = (last - first) / (count - 1)
    return [round(first + i * step, 1) for i in range(count)]


@dataclass
class Line:
    """One series as drawn: its look, and per term its height up the axis (0 to 1; None where
    hidden or missing, a gap), the label printed at its point and what its words say."""

    name: str
    colour: str
    dash: str
    marker: str
    heights: list[float | None]
    labels: list[str]
    words: list[str]


def _draw(
    title: str,
    desc: str,
    terms: list[str],
    panels: list[tuple[str, list[Line]]],
    legend: list[Series],
    **look: object,
) -> LineChart:
    """A chart of one panel per figure, a line per series across the terms."""
    plot_height = int(look.get("plot_height", PLOT_HEIGHT))  # type: ignore[call-overload]
    panel_height = TITLE + plot_height + 34  # title, plot, terms
    xs = _xs(len(terms))
    drawn: list[Panel] = []
    words: list[str] = []
    for p, (panel_title, lines) in enumerate(panels):
        top = LEGEND + p * panel_height
        series = []
        for line in lines:
            runs: list[list[Point]] = [[]]
            for i, (height, x) in enumerate(zip(line.heights, xs, strict=True)):
                if height is None:
                    if runs[-1]:
                        runs.append([])
                    continue
                # Above the point where this line is the highest one at this term.
                above = all(
                    o.heights[i] is None or height >= o.heights[i]  # type: ignore[operator]
                    for o in lines
                    if o is not line
                )
                y = top + TITLE + plot_height * (1 - height)
                runs[-1].append(Point(x, round(y, 1), line.labels[i], above))
            series.append(
                Series(line.name, line.colour, line.dash, line.marker, [r for r in runs if r])
            )
        drawn.append(Panel(panel_title, top, series))
        words.append(
            f"{panel_title}. "
            + "; ".join(
                f"{line.name}: "
                + ", ".join(f"{t} {w}" for t, w in zip(terms, line.words, strict=True))
                for line in lines
            )
            + "."
        )
    return LineChart(
        title=title,
        desc=desc,
        terms=list(zip(terms, xs, strict=True)),
        panels=drawn,
        legend=legend,
        height=LEGEND + len(panels) * panel_height + (30 if len(terms) > 4 else 0),
        tilted=len(terms) > 4,
        alt=f"{title}. " + " ".join(words),
        **look,  # type: ignore[arg-type]
    )


def _lines(
    report: Report,
    title: str,
    desc: str,
    panels: list[tuple[str, list[tuple[str, str, str, str, str, str]]]],
    legend: list[Series],
) -> LineChart:
    """A chart of one panel per figure, each with a line per series across the report's terms.
    A series is (name, colour, dash, marker, track, metric), read from the trend rows."""
    terms = report.trend_terms
    return _draw(
        title,
        desc,
        [report.term_label(t) for t in terms],
        [
            (
                panel_title,
                [
                    Line(
                        name,
                        colour,
                        dash,
                        marker,
                        [r.value if _shown(r) else None for r in rows],  # type: ignore[misc]
                        [percent(r.value) if _shown(r) else "" for r in rows],
                        [_in_words(r) for r in rows],
                    )
                    for name, colour, dash, marker, track, metric in specs
                    for rows in [[report.trend_row(track, metric, t) for t in terms]]
                ],
            )
            for panel_title, specs in panels
        ],
        legend,
    )


def trend_chart(report: Report) -> LineChart:
    """A line per headline figure across terms: each figure a panel, a line per track."""
    return _per_metric(
        report,
        "Headline figures across terms",
        "One panel per headline figure, a line per track across the terms; values printed at "
        "each point, a hidden value a gap in its line; the same values are in the table "
        "that follows.",
        TREND,
    )


def survey_trend_chart(report: Report) -> LineChart:
    """The term survey's response and satisfied shares across the terms that ran it."""
    return _per_metric(
        report,
        "The term survey across terms",
        "One panel per figure (answered the survey; satisfied or very satisfied), a line per "
        "track across the terms that ran it; a hidden value a gap in its line; the same values "
        "are in the table that follows.",
        SURVEY_TREND,
    )


def _per_metric(
    report: Report, title: str, description: str, metrics: tuple[str, ...]
) -> LineChart:
    return _lines(
        report,
        title,
        description,
        [
            (
                BY_ID[metric].label,
                [
                    (name, colour, "" if track == "formal" else "6 4", marker, track, metric)
                    for (track, name, colour), marker in zip(
                        TRACKS, ("circle", "square"), strict=True
                    )
                ],
            )
            for metric in metrics
        ],
        [
            Series(name, colour, "" if track == "formal" else "6 4", marker)
            for (track, name, colour), marker in zip(TRACKS, ("circle", "square"), strict=True)
        ],
    )


def network_chart(report: Report) -> LineChart:
    """Each track's share of ties that crossed departments across terms, against the share
    random pairing of the same people would give."""
    return _lines(
        report,
        "Cross-department ties across terms, against random pairing",
        "One panel per track: the share of its ties that met across departments (solid) and "
        "the share expected if the same people were paired at random (dotted); the same "
        "values are in the table that follows.",
        [
            (
                name,
                [
                    ("Ties that met", colour, "", marker, track, "cross_department"),
                    ("At random", RANDOM, "2 3", "none", track, "expected_cross"),
                ],
            )
            for (track, name, colour), marker in zip(TRACKS, ("circle", "square"), strict=True)
        ],
        [
            Series("Ties that met", "#222222", "", "circle"),
            Series("At random", RANDOM, "2 3", "none"),
        ],
    )


# --- an outcome measure across terms ----------------------------------------------------------

BOTH = "#2e6b30"  # 6.4:1 on white
# The participation groups' lines: formal and coffee as in every chart, both and neither apart.
GROUP_LOOKS = dict(
    zip(
        PARTICIPATION,
        (
            (FORMAL, "", "circle"),
            (COFFEE, "6 4", "square"),
            (BOTH, "8 3 2 3", "triangle"),
            (RANDOM, "2 3", "diamond"),
        ),
        strict=True,
    )
)
OUTCOME_LEGEND = (
    "Formal only: solid with circles; coffee only: dashed with squares; both: dash-dot with "
    "triangles; neither: dotted with diamonds. A gap in a line is a hidden value."
)
OUTCOME_PLOT_HEIGHT = 150  # four lines need more room than two


def _axis(values: list[float], numeric: bool) -> tuple[float, float]:
    """The axis's ends: a share from 0 to 100%; a mean from a round number under its lowest
    shown value to one over its highest (a well-being index of 0 to 9 read near 6 would be a
    flat line on an axis from 0)."""
    if not numeric or not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    span = high - low or max(abs(high), 1.0) / 2
    step = 10 ** math.floor(math.log10(span))
    step *= next(f for f in (1, 2, 5, 10) if span / (step * f) <= 4)
    # Whole steps (rounded, so 3.7 / 0.1 is 37 and not 37.000000000000004), an even number of
    # them so the middle line is a round number too.
    bottom = math.floor(round(low / step, 9))
    top = math.ceil(round(high / step, 9))
    if top == bottom:
        bottom, top = bottom - 1, top + 1
    top += (top - bottom) % 2
    return round(bottom * step, 9), round(top * step, 9)


def _figure_of(group: OutcomeGroup, numeric: bool) -> str:
    if group.hidden:
        return "hidden"
    if not group.n or group.value is None:
        return "no data"
    return fixed2(group.value) if numeric else percent(group.value)


def _tick(value: float, numeric: bool) -> str:
    return f"{value:g}" if numeric else percent(value)


def outcome_trend_chart(report: Report, comparison: OutcomeComparison) -> LineChart | None:
    """One outcome measure across the terms it was imported for: a line per participation group
    (each term as its own report shows it), or None where fewer than two terms have it or
    every value is hidden."""
    found = [
        (term, mine)
        for term, outcomes in report.outcome_trend
        for mine in outcomes
        if mine.measure_id == comparison.measure_id
    ]
    if len(found) < 2:
        return None
    numeric = comparison.numeric
    per_group = {label: [m.group(label) for _, m in found] for label in PARTICIPATION}
    shown = [
        g.value
        for groups in per_group.values()
        for g in groups
        if not g.hidden and g.n and g.value is not None
    ]
    if not shown:
        return None  # nothing to draw: the table says why
    bottom, top = _axis(shown, numeric)  # type: ignore[arg-type]
    lines = [
        Line(
            label,
            colour,
            dash,
            marker,
            [
                None
                if g.hidden or not g.n or g.value is None
                else (g.value - bottom) / (top - bottom)
                for g in groups
            ],
            [_figure_of(g, numeric) if not g.hidden else "" for g in groups],
            [_figure_of(g, numeric) for g in groups],
        )
        for label, groups in per_group.items()
        for colour, dash, marker in [GROUP_LOOKS[label]]
    ]
    figure = "mean" if numeric else f"share answering “{comparison.favourable}”"
    middle = (bottom + top) / 2
    return _draw(
        f"{comparison.name} across terms, by participation",
        f"The {figure} of each participation group across the terms with values, a line per "
        "group; values printed at each point, a hidden value a gap in its line"
        + ("; the axis spans the values shown, not from zero" if numeric else "")
        + "; the same values are in the table that follows.",
        [report.term_label(term) for term, _ in found],
        [(f"{comparison.name}: {figure}", lines)],
        [Series(line.name, line.colour, line.dash, line.marker) for line in lines],
        plot_height=OUTCOME_PLOT_HEIGHT,
        legend_step=120,
        grid=(
            (_tick(bottom, numeric), 1.0),
            (_tick(middle, numeric), 0.5),
            (_tick(top, numeric), 0.0),
        ),
    )
