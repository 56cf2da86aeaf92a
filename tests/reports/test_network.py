"""The network section of the report: each measure on a small graph worked out by hand, then on
a hand-built institution over two terms (per track and both together, across terms), its
protection with the rest of the report, and every output carrying it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import networkx as nx
import numpy as np
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from program.checkins.models import CheckIn, CheckInStatus
from program.extensions import db
from program.people.models import Person
from program.programs.models import Cohort, CohortMember, Term
from program.programs.terms import record_term_roster
from reports import network
from reports.build import satisfaction_lines, term_tables, written
from reports.data import find_scope, load
from reports.html import build_html
from reports.metrics import NETWORK_TABLE, compute
from reports.pdf import build_pdf
from tests.factories import PersonRef
from tests.reports.test_reports import report_for, term_data  # noqa: F401 (a fixture)

# --- the measures on graphs worked out by hand -------------------------------------------------


def test_expected_cross_share_is_one_minus_the_chance_of_the_same_department():
    # 2 and 3 people: 20 ordered pairs, 2 + 6 of them inside a department.
    assert network.expected_cross_share([2, 3]) == pytest.approx(1 - 8 / 20)
    assert network.expected_cross_share([4]) == 0
    assert network.expected_cross_share([1, 1]) == 1
    assert network.expected_cross_share([1]) is None
    assert network.expected_cross_share([]) is None


def test_ei_index_runs_from_all_inside_to_all_across():
    assert network.ei_index(0, 5) == -1
    assert network.ei_index(5, 0) == 1
    assert network.ei_index(1, 3) == pytest.approx(-0.5)
    assert network.ei_index(0, 0) is None


def test_department_pairs_joined_counts_each_pair_of_departments_once():
    assert network.department_pairs(4) == 6
    assert network.department_pairs(1) == 0
    # A-B (twice) and A-C; A-A joins nothing.
    assert network.joined_pairs(["A", "B", "A", "C"], ["B", "A", "A", "A"]) == 2


def test_modularity_by_hand_and_as_networkx_computes_it():
    # Two triangles joined by one edge, each triangle a department: m = 7, each department has
    # 3 ties inside and degree 7: Q = 2 * (3/7 - (7/14)^2) = 6/7 - 1/2.
    ties = [(1, 2), (2, 3), (1, 3), (4, 5), (5, 6), (4, 6), (3, 4)]
    department = {1: "A", 2: "A", 3: "A", 4: "B", 5: "B", 6: "B"}

    def of(edges, labels):
        return [labels[x] for x, _ in edges], [labels[y] for _, y in edges]

    assert network.modularity(*of(ties, department)) == pytest.approx(6 / 7 - 1 / 2)
    # Every tie across: below zero; no ties: nothing to say.
    assert network.modularity(*of([(1, 4), (2, 5)], department)) == pytest.approx(-0.5)
    assert network.modularity([], []) is None
    # networkx's own, on Zachary's karate club split by club and on random graphs.
    graph = nx.karate_club_graph()
    clubs = {n: graph.nodes[n]["club"] for n in graph}
    for g, labels in [(graph, clubs)] + [
        (nx.gnm_random_graph(40, 90, seed=s), {n: n % 4 for n in range(40)}) for s in range(5)
    ]:
        parts = [{n for n in g if labels[n] == c} for c in set(labels.values())]
        reference = nx.community.modularity(g, parts, weight=None)  # ties are unweighted
        assert network.modularity(*of(list(g.edges), labels)) == pytest.approx(reference)


def test_a_tie_is_novel_without_an_earlier_tie_or_a_shared_cohort():
    keys = np.array([102, 103, 104, 405])  # ties 1-2, 1-3, 1-4, 4-5 as keys
    earlier = np.array([102])
    cohort_a = np.array(["2027", "2027", "2027", "2028"], dtype=object)
    cohort_b = np.array(["2027", "2027", "2028", None], dtype=object)
    # 1-2 met before; 1 and 3 are classmates; 1-4 and 4-5 are new (5 has no cohort).
    assert network.novel(keys, earlier, cohort_a, cohort_b) == 2


# --- on a hand-built institution ---------------------------------------------------------------


@pytest.fixture
def two_terms(app, make, term_data):  # noqa: F811
    """`term_data` (Fall) and a Spring term before it in which M2 mentored T3 and T1 met T5 in a
    coffee chat (T1 said "we met"); in Fall, T1 and T4 are in the same cohort."""
    program = term_data["program"]
    spring = make.term(
        program, "Spring 2026", slug="spring", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
    )
    with app.app_context():
        people = {p.name: p.id for p in db.session.scalars(sa.select(Person))}

    def person(name: str) -> PersonRef:
        return PersonRef(people[name], "", name)

    feb = datetime(2026, 2, 1, tzinfo=UTC)
    pair = make.assignment(spring, person("M2"), person("T3"), started_at=feb)
    round_id = make.coffee_round(program, feb, number=0)
    chat = make.chat(round_id, person("T1"), person("T5"))
    with app.app_context():
        for who, assignment, chat_id, status in (
            ("T3", pair, None, CheckInStatus.MET),
            ("T1", None, chat, CheckInStatus.MET),
            ("T5", None, chat, None),
        ):
            db.session.add(
                CheckIn(
                    person_id=people[who],
                    assignment_id=assignment,
                    chat_id=chat_id,
                    period_start=date(2026, 2, 1),
                    asked_at=feb,
                    status=status,
                    answered_at=feb if status else None,
                    met_on=date(2026, 2, 10) if status else None,
                )
            )
        fall = db.session.scalar(sa.select(Term).where(Term.slug == "fall"))
        cohort = Cohort(term_id=fall.id, name="Class of 2028")
        db.session.add(cohort)
        db.session.flush()
        for name in ("T1", "T4"):
            db.session.add(
                CohortMember(cohort_id=cohort.id, term_id=fall.id, person_id=people[name])
            )
        db.session.flush()
        record_term_roster(fall)
        db.session.commit()
    return term_data


def computed(app, term="fall"):
    with app.app_context(), db.engine.connect() as conn:
        return compute(load(conn, find_scope(conn, term, "med")), with_next_term=False)


def test_every_network_measure_by_hand(app, two_terms):
    c = computed(app)

    def value(track, metric):
        row = c.get(track, metric)
        return (row.numerator, row.denominator, row.value)

    # Ties that met in Fall. Formal: M1-T1 (Cardiology-Medicine), M2-T3 (Medicine); M1-T2 did
    # not meet. Coffee: T1-T4 (Medicine). Both: the three.
    assert value("formal", "cross_department") == (1, 2, 0.5)
    assert value("coffee", "cross_department") == (0, 1, 0.0)
    assert value("both", "cross_department") == (1, 3, pytest.approx(1 / 3))
    # Random pairing of those taking part. Formal: M1 (Cardiology), M2, T1, T2, T3 (Medicine):
    # 1 - 12/20. Coffee: T1, T4, T5, M2, all Medicine: 0. Both: 1 and 6: 1 - 30/42.
    assert c.get("formal", "expected_cross").value == pytest.approx(0.4)
    assert c.get("coffee", "expected_cross").value == 0
    assert c.get("both", "expected_cross").value == pytest.approx(2 / 7)
    # E-I: (E - I) / (E + I).
    assert c.get("formal", "ei_index").value == 0
    assert c.get("coffee", "ei_index").value == -1
    assert c.get("both", "ei_index").value == pytest.approx(-1 / 3)
    # Department pairs: formal and both have two departments, one pair, joined; the coffee
    # track has one department and no pair to join.
    assert value("formal", "dept_pairs_joined") == (1, 1, 1.0)
    assert value("coffee", "dept_pairs_joined") == (0, 0, None)
    assert value("both", "dept_pairs_joined") == (1, 1, 1.0)
    # Novelty: M2-T3 were paired in Spring; T1-T4 are classmates; M1-T1 is new.
    assert value("formal", "novel_ties") == (1, 2, 0.5)
    assert value("coffee", "novel_ties") == (0, 1, 0.0)
    assert value("both", "novel_ties") == (1, 3, pytest.approx(1 / 3))
    # Modularity, Cardiology {M1} and Medicine {T1, M2, T3}: m = 2, Q = -(1/4)^2 + (1/2 -
    # (3/4)^2) = -1/8. Coffee, one tie inside Medicine: 0. Both, m = 3: -(1/6)^2 + (2/3 -
    # (5/6)^2) = -1/18.
    assert c.get("formal", "modularity").value == pytest.approx(-1 / 8)
    assert c.get("coffee", "modularity").value == pytest.approx(0)
    assert c.get("both", "modularity").value == pytest.approx(-1 / 18)


def test_reach_counts_people_and_departments_met_in_every_term_so_far(app, two_terms):
    c = computed(app)

    def summary(track, metric):
        row = c.get(track, metric)
        return (row.value, row.q1, row.q3, row.n)

    # Formal, per person taking part in Fall (by their own "we met" answers, Spring's too):
    # M1 met T1; T1 met M1; T3 met M2 (Fall and Spring); M2 and T2 none. [0, 0, 1, 1, 1].
    assert summary("formal", "reach_people") == (1, 0, 1, 5)
    assert summary("formal", "reach_departments") == (1, 0, 1, 5)
    # Months asked so far: T1 3 (Sep-Nov), M1 1, T3 2 (Feb, Oct): paces 1/3, 1, 1/2, 0, 0.
    assert summary("formal", "reach_pace") == (pytest.approx(1 / 3), 0, 0.5, 5)
    # Coffee: T1 met T4 in Fall and T5 in Spring (2 people, one department); T4 met T1; T5
    # and M2 none. [2, 1, 0, 0].
    assert summary("coffee", "reach_people") == (0.5, 0, 1.25, 4)
    assert summary("coffee", "reach_departments") == (0.5, 0, 1, 4)
    # Both: T1 met M1, T4 and T5 (3 people, 2 departments); M1 1; T3 1; T4 1; M2, T2, T5 0.
    both = c.get("both", "reach_people")
    assert (both.value, both.n) == (1, 7)
    assert c.get("both", "reach_departments").value == 1


def test_the_network_is_protected_with_the_rest_and_its_audit_passes(app, two_terms):
    with app.app_context(), db.engine.connect() as conn:
        tables = term_tables(conn, "fall", threshold=5)
        assert tables.audit().passed
        fall = tables.tables["med"]
        # Two ties: a rate on fewer than 5, hidden with the E-I index and modularity that
        # restate it, labelled for the base they rest on.
        for metric in ("cross_department", "ei_index", "modularity", "novel_ties"):
            row = fall.get("formal", metric)
            assert row.suppressed and row.hidden_reason == "small base", metric
            assert row.value is None
        # Who takes part where is the organisation's: shown.
        assert not fall.get("both", "expected_cross").suppressed


def test_the_network_section_is_in_every_output_with_its_trend(app, two_terms):
    report = report_for(app)
    html = build_html(report).decode()
    assert "The network each track builds" in html
    assert "Both tracks" in html and "Department modularity" in html
    assert report.trend_terms == ["Spring 2026", "Fall 2026"]
    # Spring's one formal tie: its row in the trend is Spring's own row, protected with it.
    spring = report.trend_row("formal", "cross_department", "Spring 2026")
    assert spring.suppressed
    assert written(report, report.trend_row("both", "modularity", "Fall 2026")).startswith("hidden")
    pdf = build_pdf(report)
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "The network each track builds" in text and "The network across terms" in text
    for metric in NETWORK_TABLE:
        assert report.row("both", metric).note != "not computed", metric


# --- satisfaction by cohort --------------------------------------------------------------------


def test_satisfaction_by_cohort_by_hand(app, two_terms):
    c = computed(app)

    def line(track, group):
        kind = "all" if group == "All" else "cohort"
        out = []
        for metric in ("rated_low", "rated_3", "rated_high", "no_rating"):
            row = c.get(track, metric, kind, group)
            out.append((row.numerator, row.denominator) if not row.note else row.note)
        return [*out, c.get(track, "checkins_asked", kind, group).value]

    # Formal. Class of 2028 is T1: Sep rated 5, Oct rated 4, Nov met without a rating. The
    # rest (M1, M2, T2, T3): M1 rated 4, T3 rated 2, three check-ins without one.
    assert line("formal", "Class of 2028") == [(0, 2), (0, 2), (2, 2), (1, 3), 3]
    assert line("formal", "Not recorded") == [(1, 2), (0, 2), (1, 2), (3, 5), 5]
    assert line("formal", "All") == [(1, 4), (0, 4), (3, 4), (4, 8), 8]
    # Coffee: T4 rated 3 and T1 gave none; T5 and M2 gave no rating at all.
    assert line("coffee", "Class of 2028") == [(0, 1), (1, 1), (0, 1), (1, 2), 2]
    assert line("coffee", "Not recorded") == [*["no data"] * 3, "all: no rating was given", 2]


def test_satisfaction_cohorts_with_few_ratings_give_only_the_whole_line(app, two_terms):
    report = report_for(app)
    with app.app_context(), db.engine.connect() as conn:
        assert term_tables(conn, "fall", threshold=5).audit().passed

    # Every cohort has fewer than 5 ratings: no cohort lines (they would show through the
    # track's own), and the reader is told why.
    lines = satisfaction_lines(report, "formal")
    assert [line[0] for line in lines] == ["All"]
    # 4 ratings of 8 check-ins: the bands rest on fewer than 5 ratings; "no rating" is all but
    # those, said the same way; n and the check-ins asked are shown.
    assert lines[0][1:5] == ["hidden: based on fewer than 5"] * 3 + [
        "hidden: based on fewer than 5"
    ]
    assert lines[0][5] == "hidden: all but fewer than 5"
    assert lines[0][6] == "8"
    html = build_html(report).decode()
    assert "Satisfaction by cohort" in html and "one has fewer" in html
