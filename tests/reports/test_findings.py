"""Page one's "what stands out": a department gone quiet, a cohort nobody rated, each from a
figure the body shows, and nothing from a hidden one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reports.build import Report
from reports.data import Scope
from reports.metrics import ALL_UNRATED, Computed, Row, count_row


def _median(group_kind: str, group: str, value: float, *, hidden: bool = False) -> Row:
    return Row(
        "formal",
        group_kind,
        group,
        "meetings_per_participant",
        value=value,
        q1=0,
        q3=value + 1,
        n=8,
        denominator=8,
        suppressed=hidden,
        hidden_reason="few people" if hidden else "",
    )


def _report(rows: list[Row], *, withheld: frozenset[str] = frozenset()) -> Report:
    computed = Computed(rows=rows, by_cohort_withheld=set(withheld))
    return Report(
        scope=Scope([(1, 1, "Fall 2026", date(2026, 8, 1), date(2026, 12, 18))], "MD", "Fall 2026"),
        institution="Riverside",
        threshold=5,
        as_of=datetime(2026, 11, 20, tzinfo=UTC),
        version="test",
        computed=computed,
        trend_rows=[],
        hidden_cells=0,
        digest="0" * 64,
        record_counts={},
    )


def _department(name: str, median: float, *, hidden: bool = False) -> list[Row]:
    return [
        count_row("formal", "department", name, "eligible", 9),
        count_row("formal", "department", name, "taking_part", 8),
        _median("department", name, median, hidden=hidden),
    ]


def test_a_department_gone_quiet_is_named_with_the_figures_that_show_it():
    report = _report(
        [
            _median("all", "All", 2),
            *_department("Surgery", 0),
            *_department("Pediatrics", 0),
            *_department("Medicine", 3),
        ]
    )
    (sentence,) = report.standing_out
    assert sentence == (
        "Gone quiet in formal mentoring: in Pediatrics (8 taking part) and Surgery (8 taking "
        "part), at least half of those taking part reported no meeting this term (a median of "
        "0 meetings, against 2 across the track)."
    )
    assert sentence in report.findings


def test_a_hidden_median_or_a_silent_track_says_nothing():
    hidden = _report([_median("all", "All", 2), *_department("Surgery", 0, hidden=True)])
    assert hidden.standing_out == []
    # Where the whole track met at a median of 0, one quiet department does not stand out.
    everyone_quiet = _report([_median("all", "All", 0), *_department("Surgery", 0)])
    assert everyone_quiet.standing_out == []


def _cohort(name: str, *, unrated: bool) -> list[Row]:
    rows = [count_row("formal", "cohort", name, "checkins_asked", 12)]
    if unrated:
        rows.append(Row("formal", "cohort", name, "no_rating", note=ALL_UNRATED))
    else:
        rows.append(Row("formal", "cohort", name, "no_rating", 3, 12, 0.25, n=12))
    return rows


def test_a_cohort_nobody_rated_is_named_only_where_the_cohort_lines_are_shown():
    rows = [*_cohort("Class of 2028", unrated=True), *_cohort("Class of 2027", unrated=False)]
    assert _report(rows).standing_out == [
        "Unrated in formal mentoring: nobody in the cohort Class of 2028 rated a meeting this "
        "term, so how useful they found them is unknown (the satisfaction table)."
    ]
    # Cohort lines withheld (one cohort has too few ratings): the table shows none, and
    # page one names none.
    assert _report(rows, withheld=frozenset({"formal"})).standing_out == []
