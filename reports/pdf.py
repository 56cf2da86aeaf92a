"""The PDF report: cover, one-page summary, the tables (breaking across pages with repeated
headers), the chart, methods, limitations, crosswalk and provenance, with "Page N of M" and an
outline of its sections. A tagged PDF that declares PDF/UA-1 and PDF/A-2a, typeset by Typst
(`reports.typeset`): what is written here is a list of blocks (headings, paragraphs, tables,
each chart as a figure with its values in words), which `reports/typst/report.typ` lays out.
The charts are the page's own SVGs, drawn once (`reports.html.drawn_charts`)."""

from __future__ import annotations

from typing import Any

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
    satisfaction_lines,
    survey_intro,
    survey_lines,
    survey_track_lines,
    written,
    written_difference,
)
from reports.charts import OUTCOME_LEGEND, hidden_note
from reports.html import BREAKDOWN_METRICS, HEADLINE, TRACK_NAMES, Drawn, drawn_charts
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
from reports.typeset import typeset

# Block styles: what each paragraph is, for the template (headings become H1-H3).
H1, H2, H3, BODY, SMALL, KICKER = "h1", "h2", "h3", "body", "small", "kicker"
inch = 72.0  # points: column widths are given in points, and only their proportions count
WIDTH = 8.5 * inch - 1.5 * inch  # letter, with 0.75 inch margins
PAGE_BREAK = {"kind": "pagebreak"}


def _p(text: str, style: str = BODY) -> dict[str, Any]:
    """A paragraph (or a heading, by its style) of plain text: never read as markup."""
    level = {H1: 1, H2: 2, H3: 3}.get(style)
    if level:
        return {"kind": "heading", "level": level, "text": text}
    return {"kind": "para", "style": style, "text": text}


def _space(points: float) -> dict[str, Any]:
    return {"kind": "space", "points": points}


def _table(header: list[str], rows: list[list[str]], widths: list[float]) -> dict[str, Any]:
    """A table whose first row is its column headers (repeated on each page it spans)."""
    return {
        "kind": "table",
        "header": header,
        "rows": [[str(cell) for cell in row] for row in rows],
        "widths": [round(w / sum(widths), 4) for w in widths],
    }


def _trend_table(report: Report, metrics: tuple[str, ...], width: float) -> dict[str, Any]:
    """Each term's figures of `metrics`, per track, as the trend's table prints them."""
    columns = [(t, m) for t in ("formal", "coffee") for m in metrics]
    return _table(
        ["Term", *[f"{BY_ID[m].label} ({t})" for t, m in columns]],
        [
            [report.term_label(term)]
            + [written(report, report.trend_row(t, m, term)).split(" (")[0] for t, m in columns]
            for term in report.trend_terms
        ],
        [1.0 * inch] + [(width - 1.0 * inch) / len(columns)] * len(columns),
    )


def _figure(drawn: Drawn, caption: str) -> dict[str, Any]:
    """A chart as a tagged figure: the page's own SVG, its values in words as the alternative
    text a screen reader reads."""
    return {"kind": "figure", "svg": str(drawn.svg), "alt": drawn.alt, "caption": caption}


def build_pdf(report: Report) -> bytes:
    """The report as a tagged PDF (PDF/UA-1, PDF/A-2a; see `reports.typeset`)."""
    width = WIDTH
    charts = drawn_charts(report)
    story: list[Any] = []
    # Page one: the title and what a dean reads first.
    story += [
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
        _p("Findings", H2),
        *[_p(f"• {text}") for text in report.findings],
        _space(12),
        _p(f"Input data SHA-256: {report.digest}", SMALL),
        PAGE_BREAK,
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
            PAGE_BREAK,
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
        _space(6),
        _figure(
            charts["headline"],
            "Percent, each bar labelled with its track, value and 95% interval (the black line "
            "across it)." + hidden_note(report),
        ),
        _space(6),
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
    story += [*summary, PAGE_BREAK]
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
        _space(6),
        _p("The network across terms", H3),
        _figure(
            charts["network"],
            "Solid: the share of each track's ties that met across departments; dotted: the "
            "share random pairing of the same people would give. Values in the table below.",
        ),
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
            [1.2 * inch, 1.2 * inch]
            + [(width - 2.4 * inch) / len(NETWORK_TREND)] * len(NETWORK_TREND),
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
    story.append(_p("How to read them", H3))
    story += [_p(text, SMALL) for text in report.reading_guide]
    column = (width - 1.3 * inch) / len(BREAKDOWN_METRICS)
    for kind, label in BREAKDOWNS:
        for track in ("formal", "coffee"):
            story.append(
                _p(f"{label}, {'formal mentoring' if track == 'formal' else 'coffee chats'}", H3)
            )
            listed = report.listed_groups(kind, track)
            if listed:
                story.append(
                    _table(
                        [label] + [BY_ID[m].label for m in BREAKDOWN_METRICS],
                        [
                            [group]
                            + [
                                written(report, report.row(track, m, kind, group))
                                for m in BREAKDOWN_METRICS
                            ]
                            for group in listed
                        ],
                        [1.3 * inch] + [column] * len(BREAKDOWN_METRICS),
                    )
                )
            else:
                story.append(_p(f"No {label.lower()} has figures to show."))
            if line := report.size_only_line(kind, track, label):
                story.append(_p(line, SMALL))
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
            _p(f"Usefulness rating by cohort, {TRACK_NAMES[track].lower()}", H3),
            _table(
                ["Cohort", *SATISFACTION_HEADER],
                satisfaction_lines(report, track),
                [1.0 * inch]
                + [(width - 1.0 * inch) / len(SATISFACTION_HEADER)] * len(SATISFACTION_HEADER),
            ),
            *([_p(why, SMALL)] if (why := cohorts_withheld(report, track)) else []),
        ]
    # The term survey, as accreditors read it.
    if report.computed.survey_targets:
        story += [_p("The term survey", H2), _p(survey_intro(report))]
        for track in ("formal", "coffee"):
            if lines := survey_lines(report, track):
                story += [
                    _p(f"The term survey by class year, {TRACK_NAMES[track].lower()}", H3),
                    _table(
                        ["Class year", *SURVEY_HEADER],
                        lines,
                        [1.0 * inch]
                        + [(width - 1.0 * inch) / len(SURVEY_HEADER)] * len(SURVEY_HEADER),
                    ),
                ]
        if len(report.trend_terms) > 1:
            story += [
                _figure(
                    charts["survey"],
                    "Solid with circles: formal mentoring; dashed with squares: coffee chats; a "
                    "gap is a hidden value, or a term without a survey.",
                ),
                _trend_table(report, SURVEY_TREND, width),
            ]
        if whole := survey_track_lines(report):
            story += [
                _p("The term survey over each whole track", H3),
                _table(
                    ["Question", "Formal mentoring", "Coffee chats"],
                    whole,
                    [2.2 * inch, (width - 2.2 * inch) / 2, (width - 2.2 * inch) / 2],
                ),
            ]
    # Outcomes, by who took part.
    if report.computed.outcomes:
        story += [_p("Outcomes, by who took part", H2), _p(OUTCOMES_INTRO)]
        for c in report.computed.outcomes:
            story += [
                _p(c.name, H3),
                _table(
                    ["Compared", "Group", "Mean (95% CI; n)" if c.numeric else "Share (95% CI)"],
                    outcome_lines(c),
                    [1.4 * inch, 1.8 * inch, width - 3.2 * inch],
                ),
                *[_p(note, SMALL) for note in outcome_notes(c)],
            ]
            if len(across := outcome_trend_lines(report, c)) > 1:
                if drawn := charts.get(f"outcome-{c.measure_id}"):
                    story.append(_figure(drawn, OUTCOME_LEGEND))
                story.append(
                    _table(
                        ["Term", *[g.label for g in c.participation]],
                        across,
                        [1.2 * inch] + [(width - 1.2 * inch) / 4] * 4,
                    )
                )
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
        _figure(
            charts["trend"],
            "Solid with circles: formal mentoring; dashed with squares: coffee chats; a gap is "
            "a hidden value. Values, with counts and intervals, in the table below.",
        ),
        _trend_table(report, tuple(trend_metrics), width),
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
    data = {
        "title": report.title,
        "author": f"{report.institution} (Hallway {report.version})",
        "subject": f"Semester report for {report.scope.label}, {report.scope.term_name}",
        "footer": (
            f"{report.scope.label} · {report.scope.term_name} · data as of "
            f"{report.as_of:%Y-%m-%d %H:%M} UTC"
        ),
        "blocks": story,
    }
    return typeset("report", data, report.as_of)
