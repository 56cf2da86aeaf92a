"""The term survey in the report (reports/survey.py): its figures as the data holds them, with
Wilson's interval as scipy computes it, in the page, the PDF and the CSV bundle, and never one
person's answer: what one to four respondents said is hidden in every table of the term."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from program.extensions import db
from program.people.models import CareerStage
from program.surveys.models import SurveyResponse
from program.surveys.services import Answers, open_due_surveys, record_answers
from reports.build import ALL, build_report, survey_lines, term_tables
from reports.bundle import build_bundle
from reports.data import SURVEY_COLUMNS, find_scope
from reports.html import build_html
from reports.metrics import Computed, trend
from reports.survey import survey_rows
from tests.reports.test_privacy import THRESHOLD, protected

OPENING = datetime(2026, 12, 17, 9, tzinfo=UTC)
AFTER = datetime(2027, 1, 15, 9, tzinfo=UTC)


def survey_world(app, make, time_machine, counts: dict[str, tuple[int, int]]) -> None:
    """A term whose survey each line's people (invited, answering) were asked and answered."""
    time_machine.move_to(OPENING, tick=False)
    program = make.program("Internal Medicine Residency", slug="im")
    answering = []
    for year, (invited, answered) in counts.items():
        if year == "Mentors":
            people = [
                make.mentor(program, stage=CareerStage.SENIOR_FACULTY) for _ in range(invited)
            ]
        else:
            people = [make.trainee(program, stage=CareerStage(year)) for _ in range(invited)]
        answering += people[:answered]
    make.term(program, slug="fall")
    with app.app_context():
        open_due_surveys(OPENING)
        by_person = {r.person_id: r for r in db.session.scalars(sa.select(SurveyResponse))}
        for k, person in enumerate(answering):
            response = by_person[person.id]
            record_answers(
                response.person,
                response,
                Answers(
                    formal_satisfaction=(5, 4, 4, 3, 2)[k % 5],
                    coffee_satisfaction=(4, 0, 5)[k % 3],
                    career_person="yes" if k % 4 else "no",
                    outside_people=("0", "1-2", "3-5")[k % 3],
                    led_to=("referral",) if k % 2 else ("none",),
                    mentor_load="too_much" if response.is_mentor else None,
                ),
                OPENING,
            )
        db.session.commit()
    time_machine.move_to(AFTER, tick=False)


def report_of(app, slug="im"):
    with app.app_context(), db.engine.connect() as conn:
        scope = find_scope(conn, "fall", slug)
        return build_report(
            conn,
            scope,
            institution="Riverside",
            threshold=THRESHOLD,
            as_of=AFTER,
            version="test",
            program_slug=slug,
        )


def test_the_survey_figures_are_the_datas_with_scipys_interval(app, make, time_machine):
    # Every line has at least 5 answering and 5 not, 5 satisfied and 5 not: nothing hidden.
    survey_world(app, make, time_machine, {"PGY1": (26, 20), "PGY2": (20, 15), "Mentors": (20, 15)})
    report = report_of(app)
    answered = report.row("formal", "survey_response")
    assert (answered.numerator, answered.denominator) == (50, 66)
    # Formal satisfaction: answers 5, 4, 4, 3, 2 in turn over 50 people: 30 of 50 satisfied.
    satisfied = report.row("formal", "satisfied")
    assert (satisfied.numerator, satisfied.denominator) == (30, 50)
    expected = binomtest(30, 50).proportion_ci(confidence_level=0.95, method="wilson")
    assert satisfied.ci_low == pytest.approx(expected.low)
    assert satisfied.ci_high == pytest.approx(expected.high)
    # "Does not apply" is left out of the coffee chats' base (every third person said it).
    coffee = report.row("coffee", "satisfied")
    assert (coffee.numerator, coffee.denominator) == (33, 33)
    pgy1 = report.row("formal", "survey_response", "class_year", "PGY1")
    assert (pgy1.numerator, pgy1.denominator, pgy1.suppressed) == (20, 26, False)
    assert report.computed.survey_targets == (70,)
    lines = {line[0]: line for line in survey_lines(report, "formal")}
    assert lines["PGY1"][1:] == ["77% (20/26)", "yes", "60% (12/20; 95% CI 39%–78%) †"]
    assert lines["PGY2"][1:3] == ["75% (15/20)", "yes"]
    assert lines["All"][1:3] == ["76% (50/66)", "yes"]


def test_three_respondents_of_a_class_year_are_never_shown(app, make, time_machine):
    survey_world(app, make, time_machine, {"PGY1": (20, 14), "PGY2": (6, 3), "Mentors": (5, 4)})
    report = report_of(app)
    for metric in ("survey_response", "satisfied"):
        row = report.row("formal", metric, "class_year", "PGY2")
        assert row.suppressed, (metric, row)
    assert report.row("formal", "load_too_much").suppressed  # four mentors answered it
    page = build_html(report).decode()
    assert "The term survey" in page and "Answered the term survey" in page
    bundle = zipfile.ZipFile(io.BytesIO(build_bundle(report)))
    name = next(n for n in bundle.namelist() if n.startswith("metrics"))
    rows = pd.read_csv(bundle.open(name))
    pgy2 = rows[
        (rows["group"] == "class_year:PGY2") & rows["metric"].isin(["satisfied", "survey_response"])
    ]
    assert len(pgy2) and pgy2["numerator"].isna().all(), pgy2
    # The data dictionary defines the survey's figures.
    assert "Answered the term survey" in bundle.read("datapackage.json").decode()


def test_the_audit_passes_with_the_survey_in_the_terms_tables(app, make, time_machine):
    survey_world(app, make, time_machine, {"PGY1": (20, 14), "PGY2": (6, 3), "Mentors": (5, 4)})
    other = make.program("Surgery Residency", slug="surg")
    make.trainee(other, stage=CareerStage.PGY1)
    make.term(other, slug="fall")
    with app.app_context(), db.engine.connect() as conn:
        tables = term_tables(conn, "fall", THRESHOLD)
    result = tables.audit()
    assert result.passed, [(f.target, f.low, f.high) for f in result.failures]
    assert any(k[4] == "satisfied" for k in result.intervals)  # a survey count was protected
    assert ALL in tables.tables


def respondent(year: str) -> st.SearchStrategy[tuple]:
    """One invited person of `year`: whether they answered, and what."""
    return st.tuples(
        st.just(year),
        st.booleans(),
        st.sampled_from([1, 2, 3, 4, 5, 0]),
        st.booleans(),
        st.sampled_from(["0", "1-2", "6+"]),
        st.booleans(),
    )


def survey_frame(people: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                k,
                year,
                True,
                False,
                year == "Mentors",
                answered,
                sat if answered else None,
                None,
                career if answered else None,
                outside if answered else None,
                led if answered else None,
                ("too_much" if career else "about_right")
                if answered and year == "Mentors"
                else None,
                70,
            )
            for k, (year, answered, sat, career, outside, led) in enumerate(people)
        ],
        columns=SURVEY_COLUMNS,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b"]),
        st.tuples(
            # A class year of 1 to 4 respondents (among more invited) beside larger ones.
            st.lists(respondent("PGY1"), min_size=1, max_size=4).map(
                lambda few: [(y, True, *rest) for y, _, *rest in few]
            ),
            st.lists(respondent("PGY2"), min_size=5, max_size=14),
            st.lists(respondent("Mentors"), min_size=0, max_size=8),
        ),
        min_size=1,
    )
)
def test_what_one_to_four_respondents_answered_is_never_published(programs):
    tables: dict[str, Computed] = {}
    everyone = []
    for scope, (few, more, mentors) in sorted(programs.items()):
        people = [*few, *more, *mentors]
        everyone += people
        tables[scope] = Computed()
        survey_rows(tables[scope], survey_frame(people))
    tables[ALL] = Computed()
    survey_rows(tables[ALL], survey_frame(everyone))
    # Across every table of the term together the audit passes (`protected` checks it), and a
    # figure about the answers of one to four people is hidden wherever it appears.
    for scope, before, after in protected(tables):
        about_answers = before.metric != "survey_response"
        if about_answers and before.denominator and 0 < before.denominator < THRESHOLD:
            assert after.suppressed, (scope, before)
        if before.metric == "survey_response" and 0 < before.numerator < THRESHOLD:
            assert after.suppressed, (scope, before)


def test_the_survey_trend_repeats_each_terms_figures_and_skips_a_term_without_one():
    ran = Computed()
    survey_rows(ran, survey_frame([("PGY1", True, 5, True, "1-2", False)] * 6))
    tables = [("Fall 2025", Computed()), ("Spring 2026", ran)]
    rows = [r for r in trend(tables) if r.metric in ("survey_response", "satisfied")]
    assert {(r.group, r.track, r.metric) for r in rows} == {
        ("Spring 2026", "formal", "survey_response"),
        ("Spring 2026", "formal", "satisfied"),
    }
    satisfied = next(r for r in rows if r.metric == "satisfied")
    assert (satisfied.numerator, satisfied.denominator) == (6, 6)
