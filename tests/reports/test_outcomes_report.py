"""Outcomes compared across who took part (reports/outcomes.py): each statistic as scipy gives
it, groups of too few people hidden with whatever would give them away, across programs too, and
the section on the page, in the PDF and in the CSV bundle."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from scipy import stats

from program.extensions import db
from program.outcomes.models import Better, MeasureKind
from program.outcomes.services import apply_outcomes, define_measure, upload_outcomes
from program.people.models import Person
from reports.audit import Audit, audit
from reports.build import build_report, outcome_audit_tables, outcome_trend_lines
from reports.bundle import build_bundle
from reports.charts import _axis, outcome_trend_chart
from reports.data import find_scope
from reports.html import build_html, drawn_charts
from reports.metrics import Computed
from reports.outcomes import (
    ENGAGEMENT,
    PARTICIPATION,
    OutcomeComparison,
    OutcomeGroup,
    compare,
    outcome_tables,
)
from reports.pdf import build_pdf
from reports.quantities import relations, true_counts
from tests.reports.test_reports import outline_sections

THRESHOLD = 5
WELLBEING = {
    "id": 1,
    "name": "Well-being index",
    "kind": "numeric",
    "definition": "0 to 9.",
    "source": "Survey",
    "better": "lower",
    "favourable": None,
    "minimum_group": 10,
}
MATCH = {**WELLBEING, "id": 2, "name": "First choice", "kind": "categorical", "favourable": "yes"}


def people(sizes: dict[str, int], engaged_share: float = 0.5, start: int = 0) -> pd.DataFrame:
    """Who took part: `sizes` people in each participation group; of those taking part, the
    first `engaged_share` met three times or more."""
    rows, k = [], start
    for group, n in sizes.items():
        for i in range(n):
            engaged = None
            if group != "Neither":
                engaged = ENGAGEMENT[0 if i < engaged_share * n else 1]
            rows.append((k, group, engaged))
            k += 1
    return pd.DataFrame(rows, columns=["person_id", "participation", "engagement"])


def numbers(groups: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person_id": groups["person_id"],
            "measure_id": 1,
            "number": rng.integers(0, 10, len(groups)).astype(float),
            "answer": None,
        }
    )


def answers(groups: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person_id": groups["person_id"],
            "measure_id": 2,
            "number": None,
            "answer": np.where(rng.random(len(groups)) < 0.6, "Yes", "no"),
        }
    )


def test_a_numbers_groups_and_tests_are_scipys():
    groups = people({"Formal only": 30, "Coffee only": 25, "Both": 40, "Neither": 20})
    values = numbers(groups)
    result = compare(WELLBEING, values, groups, THRESHOLD)
    joined = values.merge(groups, on="person_id")
    for group in result.participation:
        sample = joined.loc[joined["participation"] == group.label, "number"].to_numpy()
        low, high = stats.t.interval(0.95, len(sample) - 1, sample.mean(), stats.sem(sample))
        assert (group.n, group.value) == (len(sample), pytest.approx(sample.mean()))
        assert (group.low, group.high) == (pytest.approx(low), pytest.approx(high))
    samples = [joined.loc[joined["participation"] == g, "number"] for g in PARTICIPATION]
    expected = stats.kruskal(*samples).pvalue
    assert result.participation_test == f"Kruskal–Wallis p = {expected:.3f}"
    a, b = (joined.loc[joined["engagement"] == e, "number"].to_numpy() for e in ENGAGEMENT)
    welch = stats.ttest_ind(a, b, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert f"95% CI {ci.low:.2f} to {ci.high:.2f}" in result.engagement_difference
    assert f"Welch's t test p = {welch.pvalue:.3f}" in result.engagement_difference


def test_a_shares_groups_and_tests_are_scipys():
    groups = people({"Formal only": 30, "Coffee only": 25, "Both": 40, "Neither": 20})
    values = answers(groups)
    result = compare(MATCH, values, groups, THRESHOLD)
    joined = values.merge(groups, on="person_id")
    table = []
    for group in result.participation:
        part = joined[joined["participation"] == group.label]
        x = int((part["answer"].str.lower() == "yes").sum())  # "Yes" counts as "yes"
        ci = stats.binomtest(x, len(part)).proportion_ci(method="wilson")
        assert (group.favourable, group.n) == (x, len(part))
        assert (group.low, group.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
        table.append([x, len(part) - x])
    expected = stats.chi2_contingency(table).pvalue
    assert result.participation_test == f"chi-square test of independence p = {expected:.3f}"
    g1, g2 = result.engagement
    _, p = stats.fisher_exact(
        [[g1.favourable, g1.n - g1.favourable], [g2.favourable, g2.n - g2.favourable]]
    )
    assert f"Fisher's exact test p = {p:.3f}" in result.engagement_difference


def test_a_group_of_too_few_hides_and_so_does_what_would_give_it_away():
    # Six "formal only" (under the measure's 10): hidden, and a second taking-part group with it
    # (the engagement groups add up to the three), and both engagement groups are still shown
    # since two hidden parts give nothing away on their own... unless one of them is hidden.
    groups = people({"Formal only": 6, "Coffee only": 25, "Both": 40, "Neither": 20})
    (result,) = outcome_tables(
        pd.DataFrame([WELLBEING]), {"p": numbers(groups)}, {"p": groups}, THRESHOLD, None
    )["p"]
    shown = {g.label: g.hidden for g in result.participation}
    assert shown["Formal only"] == "fewer than 10 people"
    assert shown["Coffee only"].startswith("hidden ‡")  # the smallest other taking-part group
    assert shown["Both"] == "" and shown["Neither"] == ""
    assert result.participation_test == "not given: a group is hidden"


def test_a_share_of_all_but_a_few_is_hidden():
    groups = people({"Formal only": 30, "Coffee only": 30, "Both": 30, "Neither": 30})
    values = answers(groups)
    formal = groups.loc[groups["participation"] == "Formal only", "person_id"]
    values.loc[values["person_id"].isin(formal), "answer"] = "yes"
    values.loc[values["person_id"] == formal.iloc[0], "answer"] = "no"  # 29 of 30
    (result,) = outcome_tables(
        pd.DataFrame([MATCH]), {"p": values}, {"p": groups}, THRESHOLD, None
    )["p"]
    assert result.group("Formal only").hidden.startswith("fewer than 5 people gave one")


def two_programs(formal_only_in_a: int) -> dict[str, list]:
    """Programs a and b (their "formal only" groups of `formal_only_in_a` and 30) and all
    programs ("*"), their well-being compared and protected together."""
    a = people({"Formal only": formal_only_in_a, "Coffee only": 25, "Both": 40, "Neither": 20})
    b = people({"Formal only": 30, "Coffee only": 25, "Both": 40, "Neither": 20}, start=1000)
    together = pd.concat([a, b], ignore_index=True)
    values = numbers(together)
    return outcome_tables(
        pd.DataFrame([WELLBEING]),
        {
            "a": values[values["person_id"] < 1000],
            "b": values[values["person_id"] >= 1000],
            "*": values,
        },
        {"a": a, "b": b, "*": together},
        THRESHOLD,
        "*",
    )


def test_a_group_hidden_in_one_program_is_not_given_back_by_the_all_programs_table():
    tables = two_programs(6)
    hidden = {
        scope: {g.label for g in found[0].participation if g.hidden}
        for scope, found in tables.items()
    }
    # Program a hides its six; the whole minus b would give them back, so b's (or the whole's)
    # is hidden too: no group is hidden in exactly one of the programs.
    for label in ("Formal only", "Coffee only", "Both"):
        in_programs = [label in hidden[s] for s in ("a", "b")]
        assert in_programs.count(True) != 1 or label in hidden["*"], (label, hidden)


def define_wellbeing(actor: Person) -> None:
    define_measure(
        actor,
        name="Well-being index",
        kind=MeasureKind.NUMERIC,
        definition="0 to 9.",
        source="Survey",
        better=Better.LOWER,
        favourable=None,
        minimum_group=10,
        threshold=THRESHOLD,
    )


def test_the_report_shows_outcomes_on_the_page_in_the_pdf_and_the_csv(app, make, time_machine):
    program = make.program("Internal Medicine Residency", slug="im")
    trainees = [make.trainee(program) for _ in range(24)]
    make.term(program, slug="fall")
    dean = make.dean()
    with app.app_context():
        actor = db.session.get(Person, dean.id)
        define_wellbeing(actor)
        text = "email,Well-being index\n" + "\n".join(
            f"{t.email},{k % 7}" for k, t in enumerate(trainees)
        )
        apply_outcomes(actor, upload_outcomes(actor, "fall", text.encode(), "ir.csv"))
        db.session.commit()
        with db.engine.connect() as conn:
            scope = find_scope(conn, "fall", "im")
            report = build_report(
                conn,
                scope,
                institution="Riverside",
                threshold=THRESHOLD,
                as_of=datetime(2027, 1, 15, tzinfo=UTC),
                version="test",
                program_slug="im",
            )
    (comparison,) = report.computed.outcomes
    assert comparison.group("Neither").n == 24  # nobody took part in this bare term
    page = build_html(report).decode()
    assert "Outcomes, by who took part" in page and "Well-being index" in page
    assert "Outcomes, by who took part" in outline_sections(
        PdfReader(io.BytesIO(build_pdf(report)))
    )
    bundle = zipfile.ZipFile(io.BytesIO(build_bundle(report)))
    rows = pd.read_csv(bundle.open("outcomes.csv"))
    neither = rows[(rows["compared"] == "participation") & (rows["group"] == "Neither")]
    assert neither["n"].tolist() == [24]
    package = json.loads(bundle.read("datapackage.json"))
    assert [r["path"] for r in package["resources"]] == ["metrics.csv", "outcomes.csv"]
    assert package["outcomes"][0]["definition"] == "0 to 9."


def test_a_measure_across_terms_repeats_each_terms_own_figures(app, make):
    program = make.program("Internal Medicine Residency", slug="im")
    trainees = [make.trainee(program) for _ in range(12)]
    make.term(program, slug="fall")
    make.term(
        program, "Spring 2027", slug="spring", starts_on=date(2027, 1, 1), ends_on=date(2027, 6, 30)
    )
    dean = make.dean()
    with app.app_context():
        actor = db.session.get(Person, dean.id)
        define_wellbeing(actor)
        for slug, shift in (("fall", 0), ("spring", 2)):
            text = "email,Well-being index\n" + "\n".join(
                f"{t.email},{(k % 5) + shift}" for k, t in enumerate(trainees)
            )
            apply_outcomes(actor, upload_outcomes(actor, slug, text.encode(), f"{slug}.csv"))
        db.session.commit()
        with db.engine.connect() as conn:
            report = build_report(
                conn,
                find_scope(conn, "spring", "im"),
                institution="Riverside",
                threshold=THRESHOLD,
                as_of=datetime(2027, 7, 15, tzinfo=UTC),
                version="test",
                program_slug="im",
            )
    (comparison,) = report.computed.outcomes
    lines = outcome_trend_lines(report, comparison)
    # Nobody took part: "Neither" holds the twelve, fall's mean 1.75, spring's 3.75.
    assert [line[0] for line in lines] == ["Fall 2026", "Spring 2027"]
    assert [line[4] for line in lines] == ["mean 1.75", "mean 3.75"]
    assert "across terms, by participation" in build_html(report).decode()
    # The chart draws the same figures: one line, rising, on an axis of the values shown.
    chart = outcome_trend_chart(report, comparison)
    (panel,) = chart.panels
    drawn = {s.name: s.runs for s in panel.series}
    assert drawn["Formal only"] == drawn["Coffee only"] == drawn["Both"] == []
    (run,) = drawn["Neither"]
    assert [p.label for p in run] == ["1.75", "3.75"]
    assert run[0].y > run[1].y  # higher on the page: a larger mean
    assert [label for label, _ in chart.grid] == ["1", "3", "5"]
    assert "Neither: Fall 2026 1.75, Spring 2027 3.75" in chart.alt
    assert "Formal only: Fall 2026 no data, Spring 2027 no data" in chart.alt
    assert f"outcome-{comparison.measure_id}" in drawn_charts(report)


def test_an_outcomes_axis_fits_its_values_and_a_share_spans_0_to_100():
    assert _axis([3.46, 3.70, 3.49], numeric=True) == (3.4, 3.8)
    assert _axis([12.0, 48.0], numeric=True) == (10.0, 50.0)
    assert _axis([5.0], numeric=True) == (4.0, 6.0)
    assert _axis([0.76, 0.82], numeric=False) == (0.0, 1.0)


def test_a_hidden_group_is_a_gap_and_nothing_shown_draws_no_chart():
    def comparison(values: dict[str, float | None]) -> OutcomeComparison:
        return OutcomeComparison(
            1,
            "Index",
            True,
            "",
            "",
            "lower",
            None,
            10,
            participation=[
                OutcomeGroup(label, 20, value, None, None, hidden="" if value else "fewer")
                for label, value in values.items()
            ],
        )

    terms = ["Fall 2026", "Spring 2027", "Fall 2027"]
    shown = dict(zip(PARTICIPATION, (2.0, 3.0, 4.0, 5.0), strict=True))
    middle = {**shown, "Both": None}
    report = SimpleNamespace(
        outcome_trend=[
            (t, [comparison(v)]) for t, v in zip(terms, (shown, middle, shown), strict=True)
        ],
        term_label=str,
    )
    chart = outcome_trend_chart(report, comparison(shown))
    both = next(s for s in chart.panels[0].series if s.name == "Both")
    assert [[p.label for p in run] for run in both.runs] == [["4.00"], ["4.00"]]
    assert "Both: Fall 2026 4.00, Spring 2027 hidden, Fall 2027 4.00" in chart.alt
    none = dict.fromkeys(PARTICIPATION)
    report.outcome_trend = [(t, [comparison(none)]) for t in terms]
    assert outcome_trend_chart(report, comparison(none)) is None


def test_the_audit_reads_the_outcomes_and_finds_a_group_subtraction_would_give_back():
    found = two_programs(3)

    def audited() -> Audit:
        tables = outcome_audit_tables({s: Computed(outcomes=f) for s, f in found.items()})
        truth = true_counts(tables)
        return audit(tables, truth, relations(truth, "*"), THRESHOLD)

    result = audited()
    assert result.passed, [(f.target, f.low, f.high) for f in result.failures]
    few = ("a", "outcome:1", "participation", "Formal only", "outcome_n")
    assert few in result.intervals  # program a's three: hidden, and still free
    # Shown in program b and in all programs, a's group comes back by subtraction: caught.
    for scope in ("b", "*"):
        for group in (*found[scope][0].participation, *found[scope][0].engagement):
            group.hidden = group.reason = ""
    assert not audited().passed
