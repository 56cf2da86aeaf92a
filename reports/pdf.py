"""The PDF report (ReportLab platypus): cover, one-page summary, the tables (breaking across
pages with repeated headers), a chart, methods, limitations, crosswalk and provenance, with
"Page N of M", an outline (bookmarks) of its sections, and the document's title, author, subject
and language in its metadata. Every name prints, in any alphabet (see `reports.fonts`), and the
file's dates are the data's "as of" time, so the same data gives the same bytes."""

from __future__ import annotations

import io
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from reports.build import (
    SATISFACTION_HEADER,
    Report,
    cohorts_withheld,
    distribution_cell,
    satisfaction_lines,
    written,
    written_difference,
)
from reports.fonts import BOLD, REGULAR, markup, register
from reports.html import BREAKDOWN_METRICS, HEADLINE, TRACK_NAMES
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

PRIMARY = colors.HexColor("#1f4e5f")
SECONDARY = colors.HexColor("#c96f2d")
register()
styles = getSampleStyleSheet()
BODY = ParagraphStyle(
    "body", parent=styles["BodyText"], fontName=REGULAR, fontSize=9.5, leading=12.5
)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=9.5, alignment=TA_LEFT)
H1 = ParagraphStyle("h1", parent=styles["Heading1"], fontName=BOLD, textColor=PRIMARY)
H2 = ParagraphStyle(
    "h2", parent=styles["Heading2"], fontName=BOLD, textColor=PRIMARY, spaceBefore=10
)
# The institution's name above the title on the cover: a heading to the eye, not a section.
KICKER = ParagraphStyle("kicker", parent=H2, spaceBefore=0)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of untrusted text: escaped, so nothing in it is read as markup, and set in
    fonts that have its characters."""
    paragraph = Paragraph(markup(text), style)
    paragraph.outline_text = text  # the plain text, for the PDF's bookmarks
    return paragraph


class ReportDocument(SimpleDocTemplate):
    """Adds each heading to the PDF's outline, so a reader can jump to a section."""

    def afterFlowable(self, flowable: Flowable) -> None:
        style = getattr(flowable, "style", None)
        if style is None or style.name not in ("h1", "h2"):
            return
        text = getattr(flowable, "outline_text", "")
        key = f"section-{id(flowable)}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=0 if style.name == "h1" else 1, closed=False)


def _table(header: list[str], rows: list[list[str]], widths: list[float]) -> LongTable:
    data = [[_p(h, CELL) for h in header]] + [[_p(c, CELL) for c in row] for row in rows]
    table = LongTable(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                # Cells hold paragraphs in our fonts; the cell's own font must not be Helvetica.
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef0")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


class NumberedCanvas(Canvas):
    """Two passes over the pages, so each can say "Page N of M"; dated by the data.

    `as_of` becomes the file's creation and modification date: ReportLab's invariant mode would
    write 2000-01-01, and the clock would make every file different.
    """

    as_of: datetime | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        if self.as_of is not None:
            self._doc._timeStamp = SimpleNamespace(
                YMDhms=self.as_of.timetuple()[:6], dhh=0, dmm=0, t=self.as_of.timestamp()
            )

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(REGULAR, 8)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawRightString(
                LETTER[0] - 0.75 * inch, 0.5 * inch, f"Page {self._pageNumber} of {total}"
            )
            super().showPage()
        super().save()


def _chart(report: Report) -> Drawing:
    drawing = Drawing(6.5 * inch, 2.9 * inch, initialFontName=REGULAR)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 175, 56, 270, 140
    values: list[list[int | None]] = []
    hidden: dict[str, list[str]] = {}
    for track in ("formal", "coffee"):
        row_values: list[int | None] = []
        for metric in HEADLINE:
            row = report.row(track, metric)
            if row.suppressed or row.value is None:
                # No bar at all: a bar of zero would read as "none", which is not what it is.
                row_values.append(None)
                hidden.setdefault(BY_ID[metric].label.lower(), []).append(track)
            else:
                row_values.append(round(100 * row.value))
        values.append(row_values)
    chart.data = values
    chart.categoryAxis.categoryNames = [BY_ID[m].label for m in HEADLINE]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = PRIMARY
    chart.bars[1].fillColor = SECONDARY
    drawing.add(chart)
    lines = ["Percent. Dark: formal mentoring; light: coffee chats."]
    if hidden:
        lines.append(
            "No bar (hidden to protect people; the table says why): "
            + "; ".join(f"{label} ({' and '.join(tracks)})" for label, tracks in hidden.items())
            + "."
        )
    for number, line in enumerate(_wrap(" ".join(lines), 125)):
        drawing.add(String(0, 34 - 9 * number, line, fontSize=7, fontName=REGULAR))
    return drawing


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current]


def document(
    out: io.BytesIO, *, title: str, author: str, subject: str, creator: str = "Hallway"
) -> ReportDocument:
    """A letter-size document with the reports' margins, metadata and fonts."""
    return ReportDocument(
        out,
        pagesize=LETTER,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.75 * inch,
        bottomMargin=0.75 * inch,
        title=title,
        author=author,
        subject=subject,
        creator=creator,
        lang="en-US",
        initialFontName=REGULAR,
        invariant=True,  # no random document id: the same data gives the same file
    )


def build_pdf(report: Report) -> bytes:
    out = io.BytesIO()
    doc = document(
        out,
        title=report.title,
        author=f"{report.institution} (Hallway {report.version})",
        subject=f"Semester report for {report.scope.label}, {report.scope.term_name}",
        creator=f"Hallway {report.version}",
    )
    width = doc.width
    story: list[Any] = []
    # Cover.
    story += [
        Spacer(1, 1.2 * inch),
        _p(report.institution, KICKER),
        _p(report.title, H1),
        _p(
            f"Term: {report.scope.term_name}, {report.scope.starts:%d %B %Y} to "
            f"{report.scope.ends:%d %B %Y}"
        ),
        _p(f"Program: {report.scope.label}"),
        _p(
            f"Generated from data as of {report.as_of:%d %B %Y, %H:%M} UTC "
            f"by Hallway {report.version}"
        ),
        _p("Filters: both tracks; every cohort, department and career stage."),
        Spacer(1, 12),
        _p("Privacy: " + report.suppression_rule, SMALL),
        _p(f"Input data SHA-256: {report.digest}", SMALL),
        PageBreak(),
    ]
    if report.carried:
        story += [
            _p("Actions from last term, and what came of them", H2),
            _table(
                ["Program", "Finding", "Action", "Owner, due", "Status", "Outcome"],
                [
                    [
                        f"{a.program} ({a.term})",
                        a.finding,
                        a.action,
                        (a.owner or "–") + (f", {a.due_on:%d %b %Y}" if a.due_on else ""),
                        a.status,
                        a.outcome or "–",
                    ]
                    for a in report.carried
                ],
                [1.0 * inch, 1.4 * inch, 1.4 * inch, 0.9 * inch, 0.7 * inch, width - 5.4 * inch],
            ),
            PageBreak(),
        ]
    # One-page summary.
    summary = [
        _p("Summary", H2),
        _p(
            f"People taking part: {written(report, report.row('formal', 'taking_part'))} in "
            f"formal mentoring, {written(report, report.row('coffee', 'taking_part'))} in the "
            "coffee chats. The tracks overlap and the coffee chats are opt-in, so the comparisons "
            "describe; they do not show that either track causes a difference."
        ),
        Spacer(1, 6),
        _chart(report),
        Spacer(1, 6),
        _table(
            ["Headline", "Formal mentoring", "Coffee chats", "Formal vs coffee"],
            [
                [
                    BY_ID[m].label,
                    written(report, report.row("formal", m)),
                    written(report, report.row("coffee", m)),
                    written_difference(report, m),
                ]
                for m in HEADLINE
            ],
            [1.5 * inch, 1.7 * inch, 1.7 * inch, width - 4.9 * inch],
        ),
    ]
    story += [KeepTogether(summary), PageBreak()]
    # The full side-by-side table.
    story += [
        _p("The two tracks side by side", H2),
        _p(report.footnotes, SMALL),
        _table(
            ["Metric", "Formal mentoring", "Coffee chats", "Formal vs coffee"],
            [
                [
                    m.label,
                    written(report, report.row("formal", m.id)),
                    written(report, report.row("coffee", m.id)),
                    written_difference(report, m.id),
                ]
                for m in report.metrics
            ],
            [1.5 * inch, 1.7 * inch, 1.7 * inch, width - 4.9 * inch],
        ),
    ]
    ratings = [
        [track] + [distribution_cell(report.threshold, c) for c in counts.values()]
        for track, counts in report.computed.distributions.items()
    ]
    story += [
        _p("Usefulness ratings (count of each rating)", H2),
        _table(["Track", "1", "2", "3", "4", "5"], ratings, [1.2 * inch] + [0.7 * inch] * 5),
    ]
    story += [
        _p("The network each track builds", H2),
        _p(
            "Whom people met, by department: each track's ties that met against random "
            "pairing, the departments they join, how many are new, how siloed the departments "
            "stay, and each person's reach so far. Departments only; no person appears. “Both "
            "tracks” takes every tie of each: two people who met in both are a tie in each."
        ),
        _table(
            ["Measure", *[TRACK_NAMES[t] for t in NETWORK_TRACKS]],
            [
                [BY_ID[m].label, *[written(report, report.row(t, m)) for t in NETWORK_TRACKS]]
                for m in NETWORK_TABLE
            ],
            [1.5 * inch] + [(width - 1.5 * inch) / 3] * 3,
        ),
        Spacer(1, 6),
        _p("The network across terms", BODY),
        _table(
            ["Term", "Track", *[BY_ID[m].label for m in NETWORK_TREND]],
            [
                [report.term_label(term), TRACK_NAMES[t]]
                + [
                    written(report, report.trend_row(t, m, term)).split(" (")[0]
                    for m in NETWORK_TREND
                ]
                for term in report.trend_terms
                for t in NETWORK_TRACKS
            ],
            [1.2 * inch, 1.2 * inch] + [(width - 2.4 * inch) / len(NETWORK_TREND)] * 4,
        ),
    ]
    trend_metrics = TREND
    trend_header = [f"{BY_ID[m].label} ({t})" for t in ("formal", "coffee") for m in trend_metrics]
    if report.programs:
        story += [
            _p("Programs side by side", H2),
            _table(
                ["Program", *trend_header],
                [
                    [name]
                    + [
                        written(report, computed.get(t, m)).split(" (")[0]
                        for t in ("formal", "coffee")
                        for m in trend_metrics
                    ]
                    for name, computed in report.programs
                ],
                [1.0 * inch] + [(width - 1.0 * inch) / 6] * 6,
            ),
        ]
    # Breakdowns.
    story.append(_p("Breakdowns", H2))
    column = (width - 1.3 * inch) / len(BREAKDOWN_METRICS)
    for kind, label in BREAKDOWNS:
        for track in ("formal", "coffee"):
            story.append(
                _p(f"{label}, {'formal mentoring' if track == 'formal' else 'coffee chats'}", BODY)
            )
            story.append(
                _table(
                    [label] + [BY_ID[m].label for m in BREAKDOWN_METRICS],
                    [
                        [group]
                        + [
                            written(report, report.row(track, m, kind, group))
                            for m in BREAKDOWN_METRICS
                        ]
                        for group in report.groups(kind)
                    ],
                    [1.3 * inch] + [column] * len(BREAKDOWN_METRICS),
                )
            )
    # Satisfaction by cohort, as accreditors' survey tables lay it out.
    story.append(_p("Satisfaction by cohort", H2))
    story.append(
        _p(
            "How useful people found their meetings, by cohort, laid out as the LCME "
            "Independent Student Analysis lays out its items: the answers in three bands (not "
            "useful, 1–2; neutral, 3; useful, 4–5), each with its count and share of the "
            "ratings given, n, “no rating” as its own column (with its share of the check-ins "
            "asked) and the response rate. Each "
            "answer on its own is in the ratings table above."
        )
    )
    for track in ("formal", "coffee"):
        story += [
            _p(f"Usefulness rating by cohort, {TRACK_NAMES[track].lower()}", BODY),
            _table(
                ["Cohort", *SATISFACTION_HEADER],
                satisfaction_lines(report, track),
                [1.0 * inch]
                + [(width - 1.0 * inch) / len(SATISFACTION_HEADER)] * len(SATISFACTION_HEADER),
            ),
            *([_p(why, SMALL)] if (why := cohorts_withheld(report, track)) else []),
        ]
    # Advising: coverage and load.
    story += [
        _p("Advising: coverage and load (formal mentoring)", H2),
        _table(
            ["Metric", "Value"],
            [[BY_ID[m].label, written(report, report.row("formal", m))] for m in ADVISING_TABLE]
            + [["Mentors by number of mentees", report.mentors_by_load]],
            [2.5 * inch, width - 2.5 * inch],
        ),
    ]
    # The coffee chats by how they began.
    if report.has_asks:
        dash = "–"
        story += [
            _p("Coffee chats: paired by a round, and self-initiated", H2),
            _table(
                ["Metric", "All coffee chats", *[group for _, group in ORIGINS]],
                [
                    [
                        BY_ID[m].label,
                        dash if m.startswith("asks") else written(report, report.row("coffee", m)),
                        *[
                            dash
                            if m.startswith("asks") and origin == "round"
                            else written(report, report.row("coffee", m, "origin", group))
                            for origin, group in ORIGINS
                        ],
                    ]
                    for m in ORIGIN_METRICS
                ],
                [1.5 * inch] + [(width - 1.5 * inch) / 3] * 3,
            ),
        ]
    # Trend.
    story += [
        _p("Trend across terms", H2),
        _table(
            ["Term", *trend_header],
            [
                [report.term_label(term)]
                + [
                    written(report, report.trend_row(t, m, term)).split(" (")[0]
                    for t in ("formal", "coffee")
                    for m in trend_metrics
                ]
                for term in report.trend_terms
            ],
            [1.0 * inch] + [(width - 1.0 * inch) / 6] * 6,
        ),
    ]
    # Methods, limitations, crosswalk, provenance.
    story += [
        _p("Methods and definitions", H2),
        _p(
            "Proportions carry their numerator and denominator and a 95% Wilson score interval. "
            "A difference between the tracks is given with Newcombe's hybrid score interval; "
            "counts "
            "and ratings are compared with the Mann–Whitney test and P(formal > coffee), the "
            "probability that a random formal participant's value exceeds a random coffee "
            "participant's (0.5: no difference). “No response” is counted as its own category."
        ),
    ]
    story += [_p(f"{m.label}: {m.definition}", SMALL) for m in report.definitions]
    story += [_p("Privacy: " + report.suppression_rule, SMALL)]
    story += [_p("Limitations", H2)] + [_p(f"• {t}") for t in report.limitations]
    story += [
        _p("Standards crosswalk", H2),
        _table(
            ["Metric", "Supports"],
            [[m.label, "; ".join(m.standards)] for m in report.definitions],
            [2.0 * inch, width - 2.0 * inch],
        ),
        _p("Provenance", H2),
    ]
    story += [_p(f"{count} {name}") for name, count in report.record_counts.items()]
    story += [
        _p(f"Input data SHA-256: {report.digest}"),
        _p(
            f"Generated by Hallway {report.version} from data as of "
            f"{report.as_of:%Y-%m-%d %H:%M} UTC."
        ),
    ]
    canvas = type("DatedCanvas", (NumberedCanvas,), {"as_of": report.as_of})
    doc.build(story, canvasmaker=canvas)
    return out.getvalue()
