"""Small numbers protected across every download of a term, and the audit that checks it: a
dean who subtracts one file from another gets nothing back."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from program.checkins.models import CheckIn, CheckInStatus
from program.extensions import db
from program.people.models import CareerStage
from reports import audit as audit_module
from reports.audit import audit
from reports.build import ALL, build_report, term_tables
from reports.data import find_scope
from reports.metrics import Computed, Row, proportion_row
from reports.quantities import SENSITIVE, relations, true_counts
from reports.suppress import (
    DOMINATED,
    FEW_PEOPLE,
    PROTECTS,
    SMALL_BASE,
    SMALL_COMPLEMENT,
    SMALL_COUNT,
    protect,
    suppress,
)

THRESHOLD = 5


def response_tables(answers: dict[str, dict[str, tuple[int, int]]]) -> dict[str, Computed]:
    """Each program's coffee response rates by department (answered, asked), and all programs'
    as their sums: the shape of the report's own rows."""

    def table(groups: dict[str, tuple[int, int]]) -> Computed:
        c = Computed()
        answered = sum(a for a, _ in groups.values())
        asked = sum(k for _, k in groups.values())
        c.rows.append(row("all", "All", "response_rate", answered, asked))
        c.rows.append(row("all", "All", "no_response", asked - answered, asked))
        for group, (a, k) in sorted(groups.items()):
            c.rows.append(row("department", group, "response_rate", a, k))
        return c

    out = {program: table(groups) for program, groups in answers.items()}
    together: dict[str, tuple[int, int]] = {}
    for groups in answers.values():
        for group, (a, k) in groups.items():
            before = together.get(group, (0, 0))
            together[group] = (before[0] + a, before[1] + k)
    out[ALL] = table(together)
    return out


def row(kind: str, group: str, metric: str, x: int, n: int) -> Row:
    return Row(
        "coffee", kind, group, metric, x, n, x / n if n else None, n=n, note="" if n else "no data"
    )


def shown(tables: dict[str, Computed], scope: str, group: str) -> float | None:
    return tables[scope].get("coffee", "response_rate", "department", group).numerator


def protected(tables: dict[str, Computed]) -> list[tuple[str, Row, Row]]:
    """Protect every table of the term together and check the audit passes across all of
    them; returns each row as it was before and as it is published, with its table."""
    truth = true_counts(tables)
    original = copy.deepcopy(tables)
    protect(tables, THRESHOLD, ALL)
    result = audit(tables, truth, relations(truth, ALL), THRESHOLD)
    assert result.passed, [(f.target, f.low, f.high) for f in result.failures]
    return [
        (scope, before, after)
        for scope, table in tables.items()
        for before, after in zip(original[scope].rows, table.rows, strict=True)
    ]


# A program where 3 of 20 cardiologists answered, beside one where 30 of 40 did.
TWO_PROGRAMS = {
    "a": {"Cardiology": (3, 20), "Medicine": (30, 40)},
    "b": {"Cardiology": (30, 40), "Medicine": (12, 20)},
}


def test_the_audit_catches_the_subtraction_file_by_file_protection_allowed():
    tables = response_tables(TWO_PROGRAMS)
    truth = true_counts(tables)
    # As reports were protected before: each file on its own.
    for table in tables.values():
        suppress(table, THRESHOLD)
    assert shown(tables, "a", "Cardiology") is None  # hidden in program a's report ...
    # ... and given back by the all-programs report minus program b's.
    assert shown(tables, ALL, "Cardiology") - shown(tables, "b", "Cardiology") == 3
    result = audit(tables, truth, relations(truth, ALL), THRESHOLD)
    assert not result.passed
    pinned = {f.target.keys[0]: (f.low, f.high) for f in result.failures}
    assert pinned[("a", "coffee", "department", "Cardiology", "answered")] == (3, 3)


def test_protecting_every_file_together_leaves_nothing_to_subtract():
    tables = response_tables(TWO_PROGRAMS)
    truth = true_counts(tables)
    hidden, _ = protect(tables, THRESHOLD, ALL)
    assert shown(tables, "a", "Cardiology") is None
    # The subtraction no longer works: one of its two terms is hidden too.
    assert shown(tables, ALL, "Cardiology") is None or shown(tables, "b", "Cardiology") is None
    result = audit(tables, truth, relations(truth, ALL), THRESHOLD)
    assert result.passed, [(f.target, f.low, f.high) for f in result.failures]
    finding = next(
        f
        for f in result.findings
        if f.target.keys == [("a", "coffee", "department", "Cardiology", "answered")]
    )
    assert (finding.low, finding.high) == (1, 4)  # all "fewer than 5" says, and no more
    assert sum(hidden.values()) < sum(len(t.rows) for t in tables.values())


counts = st.integers(0, 30)
department = st.tuples(counts, counts).map(lambda p: (min(p), max(p)))
DEPARTMENTS = ["Cardiology", "Medicine", "Surgery", "Pediatrics"]


def institutions(programs: str, least: int = 1) -> st.SearchStrategy:
    """Programs (named by letter), each with some departments' (answered, asked)."""
    return st.dictionaries(
        st.sampled_from(list(programs)),
        st.dictionaries(st.sampled_from(DEPARTMENTS), department, min_size=1),
        min_size=least,
    )


@settings(max_examples=120, deadline=None)
@given(institutions("abc", 1))
def test_any_institutions_linked_tables_pass_the_audit_and_show_only_the_truth(answers):
    tables = response_tables(answers)
    for _, before, after in protected(tables):
        if not after.suppressed:
            assert (after.numerator, after.denominator) == (before.numerator, before.denominator)
            continue
        small = 0 < (before.numerator or 0) < THRESHOLD
        # A label never claims a count is small when it is not (it may say less).
        if after.hidden_reason == SMALL_COUNT:
            assert small
        if after.hidden_reason == SMALL_COMPLEMENT:
            assert 0 < before.denominator - before.numerator < THRESHOLD


# --- generated institutions, through the database and the report's own reading ---------------

EXAMPLES = itertools.count()
statuses = st.sampled_from([CheckInStatus.MET, CheckInStatus.NOT_YET, None, None])


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_institutions_pass_the_audit(app, make, data):
    term_slug = f"t{next(EXAMPLES)}"  # a term of its own: examples share the database
    departments = ["Cardiology", "Medicine", "Surgery"]
    programs = data.draw(st.integers(2, 3))
    for _ in range(programs):
        program = make.program()
        term = make.term(program, slug=term_slug)
        mentors = [
            make.mentor(program, department=data.draw(st.sampled_from(departments)))
            for _ in range(data.draw(st.integers(1, 4)))
        ]
        for k in range(data.draw(st.integers(2, 14))):
            trainee = make.trainee(
                program,
                department=data.draw(st.sampled_from(departments)),
                stage=data.draw(st.sampled_from([CareerStage.PGY1, CareerStage.PGY2])),
            )
            pair = make.assignment(
                term, mentors[k % len(mentors)], trainee, datetime(2026, 8, 3, tzinfo=UTC)
            )
            with app.app_context():
                for month in (9, 10):
                    for person in (trainee, mentors[k % len(mentors)]):
                        status = data.draw(statuses)
                        db.session.add(
                            CheckIn(
                                person_id=person.id,
                                assignment_id=pair,
                                period_start=date(2026, month, 1),
                                status=status,
                                answered_at=datetime(2026, month, 9, tzinfo=UTC)
                                if status
                                else None,
                                met_on=date(2026, month, 9)
                                if status == CheckInStatus.MET
                                else None,
                                rating=data.draw(st.sampled_from([None, 2, 4, 5]))
                                if status == CheckInStatus.MET
                                else None,
                            )
                        )
                db.session.commit()
    with app.app_context(), db.engine.connect() as conn:
        tables = term_tables(conn, term_slug, THRESHOLD)
        result = tables.audit()
    assert result.passed, [(f.target, f.low, f.high) for f in result.failures]
    assert result.hidden_counts > 0  # small programs: something was protected
    # Every count a table shows is what the data holds.
    for key, value in tables.protection.truth.items():
        if key[4] in SENSITIVE and key not in result.intervals:
            assert value == tables.protection.truth[key]


def test_later_terms_repeat_a_terms_figures_exactly_as_its_own_report_shows_them(app, make):
    program = make.program(slug="med")
    fall = make.term(program, slug="fall", starts_on=date(2026, 8, 1), ends_on=date(2026, 12, 31))
    mentor = make.mentor(program)
    for n in range(6):
        trainee = make.trainee(program, name=f"T{n}")
        pair = make.assignment(fall, mentor, trainee, datetime(2026, 8, 3, tzinfo=UTC))
        with app.app_context():  # 3 of the 6 pairs met: a small count, hidden in both reports
            met = CheckInStatus.MET if n < 3 else None
            db.session.add(
                CheckIn(
                    person_id=trainee.id,
                    assignment_id=pair,
                    period_start=date(2026, 9, 1),
                    status=met,
                    met_on=date(2026, 9, 9) if met else None,
                    answered_at=datetime(2026, 9, 9, tzinfo=UTC) if met else None,
                )
            )
            db.session.commit()
    make.term(
        program, "Spring 2027", slug="spring", starts_on=date(2027, 1, 1), ends_on=date(2027, 6, 30)
    )
    as_of = datetime(2027, 2, 1, tzinfo=UTC)
    with app.app_context(), db.engine.connect() as conn:

        def report(term: str):
            return build_report(
                conn,
                find_scope(conn, term, "med"),
                institution="Riverside",
                threshold=THRESHOLD,
                as_of=as_of,
                version="test",
                program_slug="med",
            )

        own, later = report("fall"), report("spring")
    for r in later.trend_rows:
        if r.group == "Fall 2026":
            mine = own.row(r.track, r.metric)
            assert (r.suppressed, r.hidden_reason, r.numerator, r.denominator) == (
                mine.suppressed,
                mine.hidden_reason,
                mine.numerator,
                mine.denominator,
            )
    assert any(r.group == "Fall 2026" and r.suppressed for r in later.trend_rows)


def test_the_audit_command_reports_its_figures_and_passes(app, make):
    program = make.program(slug="med")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program)
    for n in range(3):
        trainee = make.trainee(program, name=f"T{n}")
        pair = make.assignment(term, mentor, trainee, datetime(2026, 8, 3, tzinfo=UTC))
        make.check_in(trainee, pair)
    result = app.test_cli_runner().invoke(args=["report", "audit", "--term", "fall"])
    assert result.exit_code == 0, result.output
    assert "Audited fall: 1 program" in result.output
    assert "Passed" in result.output and "Narrowest" in result.output
    missing = app.test_cli_runner().invoke(args=["report", "audit", "--term", "nope"])
    assert missing.exit_code != 0 and "No term" in missing.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 3  # read only


# --- who a figure rests on: minimum contributors and dominance ---------------------------------

# One person's check-ins in a department: (answered, asked), up to a dozen each.
one_person = st.tuples(st.integers(0, 12), st.integers(1, 12)).map(lambda p: (min(p), max(p)))


def people_tables(answers: dict[str, dict[str, list[tuple[int, int]]]]) -> dict[str, Computed]:
    """Each program's coffee response rates, all and by department, built from each person's
    check-ins as the report builds them (so each row knows who it rests on); all programs'
    from everyone's."""

    def rate(kind: str, group: str, metric: str, people: list[tuple[str, int, int]]) -> Row:
        by = [who for who, _, asked in people for _ in range(asked)]
        hits = [k < a for _, a, asked in people for k in range(asked)]
        if metric == "no_response":
            hits = [not h for h in hits]
        return proportion_row(
            "coffee", kind, group, metric, sum(hits), len(hits), pd.Series(by), pd.Series(hits)
        )

    def table(groups: dict[str, list[tuple[str, int, int]]]) -> Computed:
        c = Computed()
        everyone = [p for people in groups.values() for p in people]
        c.rows.append(rate("all", "All", "response_rate", everyone))
        c.rows.append(rate("all", "All", "no_response", everyone))
        for group, people in sorted(groups.items()):
            c.rows.append(rate("department", group, "response_rate", people))
        return c

    named = {
        program: {
            group: [(f"{program}/{group}/{n}", a, k) for n, (a, k) in enumerate(people)]
            for group, people in groups.items()
        }
        for program, groups in answers.items()
    }
    out = {program: table(groups) for program, groups in named.items()}
    together: dict[str, list[tuple[str, int, int]]] = {}
    for groups in named.values():
        for group, people in groups.items():
            together.setdefault(group, []).extend(people)
    out[ALL] = table(together)
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b"]),
        st.dictionaries(
            st.sampled_from(["Cardiology", "Medicine", "Pediatrics"]),
            # Groups of 1 to 4 people with many check-ins each, or a larger one.
            st.one_of(
                st.lists(one_person, min_size=1, max_size=4),
                st.lists(one_person, min_size=5, max_size=9),
            ),
            min_size=1,
        ),
        min_size=1,
    )
)
def test_what_fewer_than_five_people_did_is_never_published(answers):
    tables = people_tables(answers)
    # Across every download of the term together, each hidden count (a few people's answers
    # among them) can still take at least 4 values: nothing pins it.
    for scope, before, after in protected(tables):
        if before.denominator and 0 < before.people < THRESHOLD:
            # Nine answers of one person are that person's: hidden, and said so.
            assert after.suppressed, (scope, before)
            # Its label says why, or only "hidden ‡" where saying why would narrow another
            # hidden value; never a small count's label, which would be untrue.
            assert after.hidden_reason in (FEW_PEOPLE, SMALL_BASE, PROTECTS), (scope, after)
        elif before.dominated:
            assert after.suppressed, (scope, before)


def test_one_persons_nine_answers_read_as_theirs_not_as_a_department():
    # The Pediatrics: one faculty member, 9 of 9 answered, beside a larger department.
    tables = people_tables(
        {"md": {"Pediatrics": [(9, 9)], "Medicine": [(3, 4), (2, 4), (4, 4), (1, 4), (3, 4)]}}
    )
    protect(tables, THRESHOLD, ALL)
    pediatrics = tables["md"].get("coffee", "response_rate", "department", "Pediatrics")
    assert pediatrics.suppressed and pediatrics.hidden_reason == FEW_PEOPLE
    # Nor can it be had back as the program's total minus Medicine's: one of them is hidden too.
    medicine = tables["md"].get("coffee", "response_rate", "department", "Medicine")
    whole = tables["md"].get("coffee", "response_rate")
    assert medicine.suppressed or whole.suppressed
    # Five people of whom one gave 10 of the 17 answers: that one person's figure.
    dominated = people_tables({"md": {"Surgery": [(10, 10), (2, 3), (2, 3), (2, 3), (1, 3)]}})
    protect(dominated, THRESHOLD, ALL)
    surgery = dominated["md"].get("coffee", "response_rate", "department", "Surgery")
    assert surgery.suppressed and surgery.hidden_reason == DOMINATED


@settings(max_examples=80, deadline=None)
@given(institutions("abcd", 2))
def test_proving_promises_together_hides_exactly_what_solving_each_alone_hides(answers):
    """The protection's rounds prove most promises two solves a group (`_System.certify`),
    not two a promise: a proof is a pair of solutions of the whole program, so it never keeps
    a promise the promise's own solves would break, and the choice of what to hide is the
    same, to the cell."""
    together = response_tables(answers)
    protect(together, THRESHOLD, ALL)
    rounds = audit_module.CERTIFY_ROUNDS
    audit_module.CERTIFY_ROUNDS = 0  # every promise solved on its own
    try:
        alone = response_tables(answers)
        protect(alone, THRESHOLD, ALL)
    finally:
        audit_module.CERTIFY_ROUNDS = rounds
    for scope in together:
        assert [(r.suppressed, r.hidden_reason) for r in together[scope].rows] == [
            (r.suppressed, r.hidden_reason) for r in alone[scope].rows
        ]


@settings(max_examples=80, deadline=None)
@given(institutions("abc", 2))
def test_promises_proved_together_break_exactly_where_each_alone_breaks(answers):
    """Each file protected on its own leaves subtractions open: the audit that proves
    promises together finds every one the audit solving each alone finds, and no other."""
    tables = response_tables(answers)
    truth = true_counts(tables)
    for table in tables.values():
        suppress(table, THRESHOLD)
    alone = audit(tables, truth, relations(truth, ALL), THRESHOLD)
    kept: set = set()
    together = audit(tables, truth, relations(truth, ALL), THRESHOLD, intervals=False, kept=kept)
    assert {f.target for f in together.failures} == {f.target for f in alone.failures}
    findings = {f.target: f for f in alone.findings}
    assert all(findings[target].kept for target in kept)
