"""The report's charts: the headline figures with their 95% intervals, each headline figure
across terms, and the network against random pairing; one SVG for the page and the PDF, the
values in words, nothing drawn for a hidden value, colours that pass contrast and are never
the only cue."""

from __future__ import annotations

import re
from html import unescape

import pytest

from reports.charts import (
    BOTH,
    COFFEE,
    FORMAL,
    RANDOM,
    headline_chart,
    hidden_note,
    network_chart,
    trend_chart,
)
from reports.html import build_html, drawn_charts
from reports.metrics import BY_ID, TREND
from reports.pdf import _figure
from tests.reports.test_network import two_terms  # noqa: F401 (a fixture)
from tests.reports.test_reports import report_for, term_data  # noqa: F401 (a fixture)


def _luminance(colour: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_colours_pass_contrast_for_text_on_white():
    for colour in (FORMAL, COFFEE, RANDOM, BOTH):
        assert 1.05 / (_luminance(colour) + 0.05) >= 4.5, colour


@pytest.mark.usefixtures("term_data")
def test_the_headline_chart_draws_each_value_with_its_interval_and_no_bar_when_hidden(app):
    report = report_for(app, threshold=10)
    chart = headline_chart(report)
    hidden = shown = 0
    for bar in chart.bars:
        row = report.row(bar.track, bar.metric)
        if row.suppressed or row.value is None:
            hidden += 1
            assert bar.width == 0 and bar.low is None
            assert f"{bar.track}: hidden" in chart.alt or f"{bar.track}: no data" in chart.alt
        else:
            shown += 1
            assert bar.width == round(330 * row.value, 1)
            assert bar.low <= bar.width <= bar.high
            value = f"{round(100 * row.value)}% (95% CI {round(100 * row.ci_low)}%"
            assert value in bar.label and bar.label in chart.alt
    assert hidden and shown, "the small test program has hidden and shown headline values"
    caption = hidden_note(report)
    assert caption.startswith(" No bar (hidden to protect people")
    # One source: the page's SVG is the PDF's figure, its values said in words.
    drawn = drawn_charts(report)["headline"]
    figure = _figure(drawn, "Percent." + caption)
    assert figure["svg"] == str(drawn.svg) and figure["svg"].startswith("<svg")
    assert figure["alt"] == chart.alt
    assert str(drawn.svg) in build_html(report).decode()


@pytest.mark.usefixtures("two_terms")
def test_the_trend_chart_has_a_line_per_track_for_each_headline_figure(app):
    report = report_for(app)
    chart = trend_chart(report)
    assert len(report.trend_terms) == 2
    assert [panel.title for panel in chart.panels] == [BY_ID[m].label for m in TREND]
    terms = report.trend_terms
    assert [label for label, _ in chart.terms] == [report.term_label(t) for t in terms]
    for panel, metric in zip(chart.panels, TREND, strict=True):
        formal, coffee = panel.series
        # Told apart by dash and marker, not colour alone.
        assert (formal.dash, formal.marker) != (coffee.dash, coffee.marker)
        for series, track in ((formal, "formal"), (coffee, "coffee")):
            drawn = {p.x: p.label for run in series.runs for p in run}
            for term, (_, x) in zip(terms, chart.terms, strict=True):
                row = report.trend_row(track, metric, term)
                if row.suppressed or row.value is None:
                    assert x not in drawn  # a gap, never a made-up point
                else:
                    assert drawn[x] == f"{round(100 * row.value)}%"
    for term in terms:
        assert report.term_label(term) in chart.alt


@pytest.mark.usefixtures("two_terms")
def test_the_network_chart_sets_each_track_against_random_pairing(app):
    report = report_for(app)
    chart = network_chart(report)
    assert [panel.title for panel in chart.panels] == ["Formal mentoring", "Coffee chats"]
    for panel, track in zip(chart.panels, ("formal", "coffee"), strict=True):
        met, random = panel.series
        assert random.name == "At random" and random.dash and met.dash == ""
        for series, metric in ((met, "cross_department"), (random, "expected_cross")):
            values = [p.label for run in series.runs for p in run]
            expected = [
                f"{round(100 * row.value)}%"
                for term in report.trend_terms
                if not (row := report.trend_row(track, metric, term)).suppressed
                and row.value is not None
            ]
            assert values == expected
    assert "At random" in chart.alt
    # Its data table beside it has the random share too.
    html = build_html(report).decode()
    table = html.split("The network across terms", 1)[1].split("</table>", 1)[0]
    assert BY_ID["expected_cross"].label in table


@pytest.mark.usefixtures("term_data")
def test_every_chart_is_an_image_with_a_title_and_its_values_described(app):
    report = report_for(app, threshold=10)
    html = build_html(report).decode()
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 3
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
        for ref in ids:
            assert f'id="{ref}"' in svg
    assert len({re.search(r'aria-labelledby="([^"]+)"', s).group(1) for s in svgs}) == 3
    for key, drawn in drawn_charts(report).items():
        assert drawn.alt.rstrip(".") in unescape(str(drawn.svg)), key
