"""The report's charts, drawn once as SVG: the web page shows them, the downloaded HTML carries
them and the PDF embeds them as tagged figures. Each comes with its values in words (the
alternative text a screen reader reads) and sits beside a table of the same figures.

Plain geometry in SVG units here; `templates/reports/_bars.svg` and `_lines.svg` draw it. A
hidden figure is drawn as nothing (no bar, no point: a gap in its line) and said to be hidden.

Colours pass WCAG's contrast for text (4.5:1) on white, so labels may use them too, and are
never the only cue: every bar is labelled with its track, lines differ in dash and marker."""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.build import Report, percent
from reports.metrics import BY_ID, SURVEY_TREND, TREND, Row

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
PANEL_HEIGHT = TITLE + PLOT_HEIGHT + 34  # title, plot, terms
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


def _xs(count: int) -> list[float]:
    first, last = LEFT + 40, WIDTH - RIGHT - 40
    if count == 1:
        return [(first + last) / 2]
    step = (last - first) / (count - 1)
    return [round(first + i * step, 1) for i in range(count)]


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
    xs = _xs(len(terms))
    drawn: list[Panel] = []
    words: list[str] = []
    for p, (panel_title, specs) in enumerate(panels):
        top = LEGEND + p * PANEL_HEIGHT
        values = {
            (name, term): report.trend_row(track, metric, term)
            for name, _, _, _, track, metric in specs
            for term in terms
        }
        series = []
        said = []
        for name, colour, dash, marker, _, _ in specs:
            runs: list[list[Point]] = [[]]
            for term, x in zip(terms, xs, strict=True):
                row = values[(name, term)]
                if not _shown(row):
                    if runs[-1]:
                        runs.append([])
                    continue
                # Above the point where this line is the higher one at this term.
                others = [
                    v.value for (n, t), v in values.items() if t == term and n != name and _shown(v)
                ]
                above = all(row.value >= o for o in others)  # type: ignore[operator]
                y = top + TITLE + PLOT_HEIGHT * (1 - row.value)  # type: ignore[operator]
                runs[-1].append(Point(x, round(y, 1), percent(row.value), above))
            series.append(Series(name, colour, dash, marker, [r for r in runs if r]))
            said.append(
                f"{name}: "
                + ", ".join(f"{report.term_label(t)} {_in_words(values[(name, t)])}" for t in terms)
            )
        drawn.append(Panel(panel_title, top, series))
        words.append(f"{panel_title}. " + "; ".join(said) + ".")
    return LineChart(
        title=title,
        desc=desc,
        terms=[(report.term_label(t), x) for t, x in zip(terms, xs, strict=True)],
        panels=drawn,
        legend=legend,
        height=LEGEND + len(panels) * PANEL_HEIGHT + (30 if len(terms) > 4 else 0),
        tilted=len(terms) > 4,
        alt=f"{title}. " + " ".join(words),
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
