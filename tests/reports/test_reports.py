"""Semester reports: every metric on a hand-built term (answers worked out by hand below), the
statistics against published values, suppression (with a property test), the three outputs,
reproducibility, untrusted text, and who may read which report."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from html import unescape

import pandas as pd
import pdfua
import pikepdf
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from program.admin.models import InstitutionSettings
from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.extensions import db
from program.people.models import CareerStage, Person
from reports.build import (
    build_report,
    distribution_cell,
    p_value,
    signed_points,
    written,
    written_difference,
)
from reports.bundle import build_bundle, metrics_csv
from reports.data import data_as_of, find_scope, load
from reports.html import HEADLINE, build_html
from reports.metrics import BREAKDOWNS, BY_ID, Computed, compute
from reports.pdf import build_pdf
from reports.stats import mann_whitney, newcombe, wilson
from reports.suppress import (
    DISTRIBUTION_FEW_RESPONDENTS,
    SMALL_BASE,
    SMALL_COMPLEMENT,
    SMALL_COUNT,
    suppress,
)
from tests.conftest import IN_CI, login, text_of
from tests.reports.test_record import CJK_FONT, children, structure, structure_of

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
SEP1 = datetime(2026, 9, 1, 9, tzinfo=UTC)


# --- statistics against published values ---------------------------------------------------


def test_wilson_and_newcombe_match_newcombe_1998():
    low, high = wilson(8, 10)  # Newcombe (1998) Table I: 0.4902 to 0.9433
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    d, low, high = newcombe(56, 70, 48, 80)  # Newcombe (1998b), method 10: 0.0524 to 0.3339
    assert round(d, 4) == 0.2 and (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


@pytest.mark.parametrize("n", [1, 2, 7, 30, 333])
def test_wilson_is_scipys_wilson_interval(n):
    from scipy import stats

    for x in range(0, n + 1, max(1, n // 7)):
        ci = stats.binomtest(x, n).proportion_ci(method="wilson")
        assert wilson(x, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_mann_whitney_gives_u_and_the_probability_of_superiority():
    result = mann_whitney([1, 2, 3], [4, 5, 6])
    assert result.u == 0 and result.prob_superiority == 0.0
    assert round(result.p_value, 4) == 0.1  # exact two-sided p for complete separation, 3 vs 3


# --- every metric on a small term worked out by hand -----------------------------------------


@pytest.fixture
def term_data(app, make):
    """Formal: mentors M1 (Cardiology, senior) and M2 (Medicine, junior faculty); trainees T1-T5
    (Medicine); pairs M1-T1, M1-T2, M2-T3 from 1 September. Coffee: T1, T4, T5 and M2 enrolled,
    one round on 1 October with chats T1+T4 and T5+M2."""
    program = make.program("Medicine", slug="med")
    make.coordinator(program, name="Coordinator")
    term = make.term(program, slug="fall")
    m1 = make.mentor(program, name="M1", department="Cardiology", stage=CareerStage.SENIOR_FACULTY)
    m2 = make.mentor(program, name="M2", department="Medicine", stage=CareerStage.JUNIOR_FACULTY)
    t = [
        make.trainee(program, name=f"T{n}", department="Medicine", stage=CareerStage.PGY1)
        for n in range(1, 6)
    ]
    a1 = make.assignment(term, m1, t[0], started_at=SEP1)
    a2 = make.assignment(term, m1, t[1], started_at=SEP1)
    a3 = make.assignment(term, m2, t[2], started_at=SEP1)
    with app.app_context():
        asked = datetime(2026, 9, 8, tzinfo=UTC)

        def check(person, period, status=None, *, assignment=None, chat=None, **extra):
            db.session.add(
                CheckIn(
                    person_id=person.id,
                    assignment_id=assignment,
                    chat_id=chat,
                    period_start=period,
                    asked_at=asked,
                    status=status,
                    answered_at=asked if status else None,
                    **extra,
                )
            )

        met = CheckInStatus.MET
        check(
            t[0],
            date(2026, 9, 1),
            met,
            assignment=a1,
            met_on=date(2026, 9, 10),
            rating=5,
            led_to=LedTo.REFERRAL,
        )
        check(m1, date(2026, 9, 1), met, assignment=a1, met_on=date(2026, 9, 10), rating=4)
        check(t[0], date(2026, 10, 1), met, assignment=a1, met_on=date(2026, 10, 12), rating=4)
        check(t[0], date(2026, 11, 1), met, assignment=a1, met_on=date(2026, 11, 9))
        check(t[1], date(2026, 9, 1), CheckInStatus.NOT_YET, assignment=a2)
        check(m1, date(2026, 9, 1), assignment=a2)
        check(t[2], date(2026, 10, 1), met, assignment=a3, met_on=date(2026, 10, 20), rating=2)
        check(m2, date(2026, 10, 1), assignment=a3)

        for person in (t[0], t[3], t[4], m2):
            db.session.add(Enrollment(program_id=program.id, person_id=person.id, enrolled_at=SEP1))
        round_ = Round(
            program_id=program.id,
            number=1,
            scheduled_for=date(2026, 10, 1),
            seed=1,
            status=RoundStatus.PUBLISHED,
            published_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        db.session.add(round_)
        db.session.flush()
        chats = []
        for pair in ((t[0], t[3]), (t[4], m2)):
            chat = Chat(round_id=round_.id, program_id=round_.program_id)
            db.session.add(chat)
            db.session.flush()
            for k, person in enumerate(pair):
                db.session.add(
                    ChatMember(chat_id=chat.id, round_id=round_.id, person_id=person.id, position=k)
                )
            chats.append(chat.id)
        check(t[0], date(2026, 10, 1), met, chat=chats[0], met_on=date(2026, 10, 5))
        check(t[3], date(2026, 10, 1), met, chat=chats[0], met_on=date(2026, 10, 5), rating=3)
        check(t[4], date(2026, 10, 1), CheckInStatus.WONT_HAPPEN, chat=chats[1])
        check(m2, date(2026, 10, 1), chat=chats[1])
        db.session.commit()
    return {"program": program, "term": term}


@pytest.fixture
def with_asks(app, term_data):
    """On top of `term_data`: T2 asked M1 (yes on 3 October: a chat, both said "we met", rated 5
    and 4, one led to something) and M2 (not now); T3 asked M1 (still waiting); T3 withdrew one
    to M2 (not counted)."""
    from program.asks.models import Ask, AskStatus

    with app.app_context():
        people = {p.name: p for p in db.session.scalars(sa.select(Person))}
        program_id = term_data["program"].id
        t2, t3, m1, m2 = people["T2"], people["T3"], people["M1"], people["M2"]
        yes_at = datetime(2026, 10, 3, 12, tzinfo=UTC)
        chat = Chat(program_id=program_id, created_at=yes_at)
        db.session.add(chat)
        db.session.flush()
        db.session.add_all(
            [
                ChatMember(chat_id=chat.id, person_id=t2.id, position=0),
                ChatMember(chat_id=chat.id, person_id=m1.id, position=1),
            ]
        )

        def ask(asker, recipient, status, **extra):
            db.session.add(
                Ask(
                    program_id=program_id,
                    asker_id=asker.id,
                    recipient_id=recipient.id,
                    subject="Coffee?",
                    body="...",
                    status=status,
                    created_at=datetime(2026, 10, 1, tzinfo=UTC),
                    answered_at=None if status is AskStatus.WAITING else yes_at,
                    **extra,
                )
            )

        ask(t2, m1, AskStatus.ACCEPTED, chat_id=chat.id)
        ask(t2, m2, AskStatus.DECLINED)
        ask(t3, m1, AskStatus.WAITING)
        ask(t3, m2, AskStatus.WITHDRAWN)
        for person, rating, led_to in ((t2, 5, LedTo.ADVICE_ACTED_ON), (m1, 4, None)):
            db.session.add(
                CheckIn(
                    person_id=person.id,
                    chat_id=chat.id,
                    period_start=date(2026, 10, 3),
                    asked_at=datetime(2026, 10, 10, tzinfo=UTC),
                    answered_at=datetime(2026, 10, 11, tzinfo=UTC),
                    status=CheckInStatus.MET,
                    met_on=date(2026, 10, 8),
                    rating=rating,
                    led_to=led_to,
                )
            )
        db.session.commit()
    return term_data


def test_the_coffee_chats_split_by_how_they_began(app, with_asks):
    c = computed_for(app)

    def origin(metric, group):
        row = c.get("coffee", metric, "origin", group)
        return (row.numerator, row.denominator, row.value)

    # All chats: the round's two and the self-started one.
    assert value(c, "coffee", "pairs_formed")[2] == 3
    assert value(c, "coffee", "pairs_met") == (2, 3, 2 / 3)
    assert origin("pairs_formed", "Paired by a round")[2] == 2
    assert origin("pairs_formed", "Self-initiated")[2] == 1
    assert origin("pairs_met", "Paired by a round") == (1, 2, 0.5)
    assert origin("pairs_met", "Self-initiated") == (1, 1, 1.0)
    assert origin("useful", "Self-initiated") == (2, 2, 1.0)
    assert origin("led_to", "Self-initiated") == (1, 2, 0.5)
    # Asks: three sent (the withdrawn one is not), one accepted; T2 sent 2, T3 1.
    assert origin("asks_sent", "Self-initiated")[2] == 3
    assert origin("asks_accepted", "Self-initiated") == (1, 3, 1 / 3)
    assert c.get("coffee", "asks_per_asker", "origin", "Self-initiated").value == 1.5
    # When none of all the chats led to something, neither did any origin's: said so, with no
    # numbers (which would only give away the small parts' bases).
    with app.app_context():
        db.session.execute(sa.update(CheckIn).values(led_to=None))
        db.session.commit()
    c = computed_for(app)
    for group in ("Paired by a round", "Self-initiated"):
        row = c.get("coffee", "led_to", "origin", group)
        assert (row.note, row.numerator, row.denominator) == ("none, as for all chats", None, None)


def test_the_split_is_protected_with_the_rest_and_cannot_be_subtracted(app, with_asks):
    from reports.build import term_tables

    with app.app_context(), db.engine.connect() as conn:
        tables = term_tables(conn, "fall", 5)
        result = tables.audit()
    assert result.passed, [(f.target, f.low, f.high) for f in result.failures]
    report = report_for(app, threshold=5)
    # One self-started chat that met: hidden, and so is what would give it back by subtraction
    # (all chats minus the round's).
    self_met = report.row("coffee", "pairs_met", "origin", "Self-initiated")
    round_met = report.row("coffee", "pairs_met", "origin", "Paired by a round")
    assert self_met.suppressed
    assert round_met.suppressed or report.row("coffee", "pairs_met").suppressed
    # Every format carries the split.
    frame = pd.read_csv(io.BytesIO(metrics_csv(report)), encoding="utf-8-sig")
    assert "origin:Self-initiated" in set(frame["group"])
    assert frame.loc[frame["metric"] == "asks_sent", "value"].tolist() == [3]
    html = unescape(build_html(report).decode())
    assert "paired by a round, and self-initiated" in html and "Asks per person who asked" in html
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(build_pdf(report))).pages)
    assert "self-initiated" in text and "Asks sent" in text


def computed_for(app, program_slug="med", term_slug="fall"):
    with app.app_context(), db.engine.connect() as conn:
        scope = find_scope(conn, term_slug, program_slug)
        return compute(load(conn, scope), with_next_term=False)


def value(c: Computed, track: str, metric: str) -> tuple:
    row = c.get(track, metric)
    return (row.numerator, row.denominator, row.value)


def test_every_formal_metric_by_hand(app, term_data):
    c = computed_for(app)
    # Eligible: M1, M2, T1-T5 (the coordinator is not in the formal track's roster of pairs).
    assert value(c, "formal", "eligible")[2] == 7
    assert value(c, "formal", "taking_part")[2] == 5
    assert value(c, "formal", "participation") == (5, 7, 5 / 7)
    assert value(c, "formal", "pairs_formed")[2] == 3
    assert value(c, "formal", "pairs_met") == (2, 3, 2 / 3)  # M1-T1 and M2-T3
    assert value(c, "formal", "met_within_30") == (1, 3, 1 / 3)  # 9 days; the other 49
    days = c.get("formal", "days_to_first")
    assert (days.value, days.q1, days.q3) == (29, 19, 39)  # median of 9 and 49
    meetings = c.get("formal", "meetings_per_participant")  # T1 3, M1 1, T3 1, M2 0, T2 0
    assert (meetings.value, meetings.q1, meetings.q3, meetings.n) == (1, 0, 1, 5)
    assert value(c, "formal", "sustained") == (1, 3, 1 / 3)  # M1-T1 met in 3 months
    assert c.get("formal", "people_met").value == 1  # [1, 1, 1, 0, 0]
    assert value(c, "formal", "cross_department") == (1, 2, 0.5)  # Cardiology-Medicine only
    assert value(c, "formal", "cross_stage") == (2, 2, 1.0)
    assert value(c, "formal", "new_ties") == (3, 3, 1.0)
    assert value(c, "formal", "response_rate") == (6, 8, 0.75)
    assert value(c, "formal", "no_response") == (2, 8, 0.25)
    assert value(c, "formal", "useful") == (3, 4, 0.75)  # ratings 5, 4, 4, 2
    assert c.get("formal", "rating").value == 4
    assert value(c, "formal", "led_to") == (1, 5, 0.2)  # 5 "we met" answers, one referral
    assert c.distributions["formal"] == {1: 0, 2: 1, 3: 0, 4: 2, 5: 1}


def test_a_closed_terms_report_never_changes_when_people_move_on(app, make, term_data):
    """Each term as it was: close it, then move someone to another department, advance their
    stage and end their membership; every format of the report stays byte-identical."""
    from program.people.services import find_or_create_department
    from program.programs.models import Membership, Term
    from program.programs.terms import set_term_closed

    def outputs():
        report = report_for(app)
        return build_pdf(report), build_bundle(report), build_html(report)

    with app.test_request_context():
        term = db.session.get(Term, term_data["term"].id)
        set_term_closed(None, term, True)
        db.session.commit()
    before = outputs()
    cardiology_before = report_for(app).row("formal", "participation", "department", "Cardiology")
    with app.test_request_context():
        m1 = db.session.scalar(sa.select(Person).where(Person.name == "M1"))
        m1.department = find_or_create_department("Oncology")
        m1.stage = CareerStage.SENIOR_FACULTY
        t1 = db.session.scalar(sa.select(Person).where(Person.name == "T1"))
        t1.stage = CareerStage.PGY3
        for membership in db.session.scalars(
            sa.select(Membership).where(Membership.person_id == t1.id)
        ):
            membership.ended_at = AS_OF
        db.session.commit()

    # Life goes on elsewhere: another program's pair answers its check-in. The closed term's
    # "as of" time (its cover, its PDF dates) reads only its own data, so it does not move.
    def as_of_now():
        with app.app_context(), db.engine.connect() as conn:
            return data_as_of(conn, find_scope(conn, "fall", "med"))

    as_of_before = as_of_now()
    other = make.program("Surgery", slug="surgery")
    other_term = make.term(
        other, slug="spring", starts_on=date(2027, 1, 5), ends_on=date(2027, 6, 30)
    )
    trainee = make.trainee(other)
    pair = make.assignment(other_term, make.mentor(other), trainee)
    answered = make.check_in(trainee, pair)
    with app.test_request_context():
        from program.checkins.services import record_check_in

        check_in = db.session.get(CheckIn, answered)
        record_check_in(check_in.person, check_in, CheckInStatus.NOT_YET)
        db.session.commit()
    assert as_of_now() == as_of_before
    assert outputs() == before
    after = report_for(app).row("formal", "participation", "department", "Cardiology")
    assert (after.numerator, after.denominator) == (
        cardiology_before.numerator,
        cardiology_before.denominator,
    )


def test_the_formal_tracks_eligible_is_what_its_definition_says(app, make, term_data):
    """Trainees of the formal track, mentors who offered places, anyone in a published pair;
    not a mentor who said "not this term"."""
    program, term = term_data["program"], term_data["term"]
    offered = make.mentor(program, name="Offered, unpaired")
    make.availability(term, offered, capacity=2)
    declined = make.mentor(program, name="Not this term")
    declined_id = make.availability(term, declined)
    with app.app_context():
        from program.formal.models import Availability

        answer = db.session.get(Availability, declined_id)
        answer.accepting, answer.answered_at = False, AS_OF
        db.session.commit()
    c = computed_for(app)
    # 7 before (M1, M2, T1-T5), plus the mentor who offered places; not the one who declined.
    assert value(c, "formal", "eligible")[2] == 8
    definition = BY_ID["eligible"].definition
    assert "mentors who offered places" in definition and "not this term" in definition
    assert "mentors and trainees in the formal track" not in definition


def test_every_coffee_metric_by_hand(app, term_data):
    c = computed_for(app)
    # Eligible: the trainees and mentors of the coffee track (M1, M2, T1-T5); a coordinator
    # counts only by taking part.
    assert value(c, "coffee", "eligible")[2] == 7
    assert value(c, "coffee", "participation") == (4, 7, 4 / 7)
    assert value(c, "coffee", "pairs_formed")[2] == 2
    assert value(c, "coffee", "pairs_met") == (1, 2, 0.5)
    assert c.get("coffee", "days_to_first").value == 4  # 1 to 5 October
    assert value(c, "coffee", "response_rate") == (3, 4, 0.75)
    # Only T1-T4 met (T5-M2 did not): one tie, both in Medicine.
    assert value(c, "coffee", "cross_department") == (0, 1, 0.0)
    # Participation compared: 5/7 - 4/7, Newcombe's interval as computed by hand above.
    difference = next(d for d in c.differences if d.metric == "participation")
    expected = newcombe(5, 7, 4, 7)
    assert (difference.estimate, difference.low, difference.high) == expected
    # Breakdown: the formal track by department.
    cardiology = c.get("formal", "participation", "department", "Cardiology")
    assert (cardiology.numerator, cardiology.denominator) == (1, 1)


def test_headline_metrics_recomputed_from_raw_rows_agree(app, term_data):
    """The headline figures worked out again from the tables in plain SQL, apart from
    reports/metrics.py, each exactly as its printed definition reads."""
    c = computed_for(app)
    term = term_data["term"].id
    with app.app_context(), db.engine.connect() as conn:

        def ids(sql: str, **params) -> set:
            return set(conn.execute(sa.text(sql), {"term": term, **params}).scalars())

        def count(sql: str, **params) -> int:
            return conn.execute(sa.text(sql), {"term": term, **params}).scalar_one()

        paired = ids(
            "SELECT mentor_id FROM assignment WHERE term_id = :term AND started_at IS NOT NULL "
            "UNION SELECT trainee_id FROM assignment WHERE term_id = :term "
            "AND started_at IS NOT NULL"
        )
        formal_eligible = (
            ids(
                "SELECT person_id FROM term_roster_entry WHERE term_id = :term "
                "AND is_trainee AND formal_track"
            )
            | ids("SELECT person_id FROM availability WHERE term_id = :term AND accepting")
            | paired
        )

        def checks(what: str, condition: str = "1 = 1") -> int:
            # Constant fragments only: the term is a bound parameter.
            return count(
                f"SELECT {what} FROM check_in WHERE assignment_id IN "  # noqa: S608
                f"(SELECT id FROM assignment WHERE term_id = :term) AND {condition}"
            )

        pairs = count("SELECT count(*) FROM assignment WHERE term_id = :term")
        met_pairs = checks("count(DISTINCT assignment_id)", "status = 'met'")
        asked = checks("count(*)")
        answered = checks("count(*)", "status IS NOT NULL")
        ratings = checks("count(rating)")
        useful = checks("count(*)", "rating >= 4")
        met_answers = checks("count(*)", "status = 'met'")
        led_to = checks("count(*)", "status = 'met' AND led_to IS NOT NULL")
        coffee_people = ids(
            "SELECT person_id FROM enrollment UNION SELECT person_id FROM chat_member"
        )
        coffee_eligible = (
            ids(
                "SELECT person_id FROM term_roster_entry WHERE term_id = :term "
                "AND coffee_track AND (is_trainee OR is_mentor)"
            )
            | coffee_people
        )
        chats = count("SELECT count(*) FROM chat")
    assert value(c, "formal", "eligible")[2] == len(formal_eligible) == 7
    assert value(c, "formal", "taking_part")[2] == len(paired)
    assert value(c, "formal", "participation")[:2] == (len(paired), len(formal_eligible))
    assert value(c, "formal", "pairs_formed")[2] == pairs
    assert value(c, "formal", "pairs_met")[:2] == (met_pairs, pairs)
    assert value(c, "formal", "response_rate")[:2] == (answered, asked)
    assert value(c, "formal", "no_response")[:2] == (asked - answered, asked)
    assert value(c, "formal", "useful")[:2] == (useful, ratings)
    assert value(c, "formal", "led_to")[:2] == (led_to, met_answers)
    assert value(c, "coffee", "eligible")[2] == len(coffee_eligible)
    assert value(c, "coffee", "taking_part")[2] == len(coffee_people)
    assert value(c, "coffee", "pairs_formed")[2] == chats


# --- suppression -----------------------------------------------------------------------------


def test_what_people_did_is_protected_and_the_programs_shape_is_shown(app, term_data):
    c = computed_for(app)
    hidden = suppress(c, threshold=5)
    assert hidden > 0
    # Who was eligible, who took part and which pairs were formed: shown as they are.
    for metric in ("eligible", "taking_part", "participation", "pairs_formed", "new_ties"):
        assert not c.get("formal", metric).suppressed, metric
    assert value(c, "formal", "participation") == (5, 7, 5 / 7)
    # 2 of the 3 pairs met: a rate on a base below 5 says only that ("based on fewer than 5",
    # which the 3 pairs formed say anyway), never "fewer than 5" of 3, which narrows it.
    assert c.get("formal", "pairs_met").hidden_reason == SMALL_BASE
    # The first meeting's median rests on the 2 pairs that met: hidden with them.
    assert c.get("formal", "days_to_first").suppressed
    # 6 of 8 check-ins answered: all but 2, so the rate is hidden, and the 2 is a small count.
    assert c.get("formal", "response_rate").hidden_reason == SMALL_COMPLEMENT
    assert c.get("formal", "no_response").hidden_reason == SMALL_COUNT
    # Medians over the 5 people taking part are shown; over fewer, not.
    assert not c.get("formal", "meetings_per_participant").suppressed
    assert c.get("formal", "meetings_per_participant", "department", "Cardiology").suppressed
    assert c.get("formal", "continuation").suppressed is False  # no data is not a hidden cell
    # 4 ratings < 5: every cell hidden, for too few respondents.
    assert c.distributions["formal"] == dict.fromkeys(range(1, 6), DISTRIBUTION_FEW_RESPONDENTS)
    assert next(d for d in c.differences if d.metric == "response_rate").suppressed
    assert not next(d for d in c.differences if d.metric == "participation").suppressed


def test_labels_say_honestly_why_a_value_is_hidden(app, term_data):
    report = report_for(app, threshold=5)
    row = report.row
    assert written(report, row("formal", "no_response")) == "fewer than 5"
    assert written(report, row("formal", "response_rate")) == "hidden: all but fewer than 5"
    assert written(report, row("formal", "pairs_met")) == "hidden: based on fewer than 5"
    assert written(report, row("formal", "days_to_first")) == "hidden ‡"
    assert written_difference(report, "response_rate") == "hidden: one track's value is hidden"
    assert "‡ hidden so that no hidden value can be worked out" in report.footnotes
    assert distribution_cell(5, DISTRIBUTION_FEW_RESPONDENTS) == "hidden: fewer than 5 respondents"
    assert p_value(0.0004) == "p < 0.001" and p_value(0.0312) == "p = 0.031"
    # The CSV's note names the reason; the HTML and PDF print the same labels.
    frame = pd.read_csv(io.BytesIO(metrics_csv(report)), encoding="utf-8-sig")
    notes = frame.loc[frame.suppressed, "note"]
    assert set(notes) == {
        "small count",
        "small base",
        "small complement",
        "protects another cell",
        "few people",
    }
    # Answers and outcomes resting on 1 to 4 people, however many check-ins they are: the
    # formal track's outcomes of a meeting (said by 3 people), and Medicine's and the PGY1s'
    # answers.
    few = frame[frame.note == "few people"]
    assert sorted(zip(few.metric, few.group, strict=True)) == [
        ("led_to", "All"),
        ("response_rate", "department:Medicine"),
        ("response_rate", "stage:PGY1"),
    ]
    html = unescape(build_html(report).decode())
    assert "hidden: all but fewer than 5" in html and "<5" not in html
    assert "hidden: fewer than 5 people" in html


def test_a_difference_that_rounds_to_nothing_reads_0_points_never_minus_0():
    assert [signed_points(x) for x in (-0.004, 0.004, -0.0, 0.12, -0.034)] == [
        "0",
        "0",
        "0",
        "+12",
        "-3",
    ]


def test_the_threshold_is_never_below_five(app, term_data):
    c = computed_for(app)
    suppress(c, threshold=2)
    assert c.get("formal", "no_response").suppressed  # 2 is still hidden


# --- the outputs -----------------------------------------------------------------------------


def outline_sections(reader: PdfReader) -> list[str]:
    """The PDF's sections: the outline's entries under the report's title."""
    return [
        item.title
        for group in reader.outline
        if isinstance(group, list)
        for item in group
        if not isinstance(item, list)
    ]


def report_for(app, threshold=5, program_slug="med", institution="Riverside <b>School</b>"):
    with app.app_context(), db.engine.connect() as conn:
        scope = find_scope(conn, "fall", program_slug)
        return build_report(
            conn,
            scope,
            institution=institution,
            threshold=threshold,
            as_of=AS_OF,
            version="test",
            program_slug=program_slug,
        )


def test_a_small_program_still_gets_a_report_in_every_format(app, term_data):
    report = report_for(app, threshold=10)
    html = build_html(report).decode()
    assert "fewer than 10" in html and "&lt;10" not in html  # labels say what they mean
    assert "Riverside &lt;b&gt;School&lt;/b&gt;" in html
    pdf = build_pdf(report)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "fewer than 10" in text and "Page 1 of" in text
    assert build_bundle(report)


def test_pdf_opens_has_metadata_the_html_numbers_and_renders(app, term_data, tmp_path):
    report = report_for(app)
    pdf = build_pdf(report)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == report.title
    assert "Riverside" in reader.metadata.author
    text = " ".join(page.extract_text() for page in reader.pages).replace("\n", " ")
    coffee_response = written(report, report.row("coffee", "response_rate"))
    assert coffee_response.split(";")[0] in text  # "75% (3/4"
    assert report.digest in text.replace(" ", "")
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in text
    html = unescape(build_html(report).decode())
    assert coffee_response.split(";")[0] in html and report.digest in html
    # Every value of the side-by-side table is in both documents.
    for m in report.metrics:
        for track in ("formal", "coffee"):
            shown = written(report, report.row(track, m.id)).split(" (")[0]
            assert shown in html and shown in text, (m.id, track, shown)
    if shutil.which("pdftoppm") is None:
        if IN_CI:
            pytest.fail("CI must render the PDF: install poppler-utils (.ci/run does)")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    (tmp_path / "r.pdf").write_bytes(pdf)
    done = subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("page-*.png"))) == len(reader.pages)


NAMES_IN_MANY_ALPHABETS = {
    "Polish": "Uniwersytet Medyczny w Łodzi",
    "Vietnamese": "Trường Đại học Y Hà Nội",
    "Greek": "Ιατρική Σχολή Αθηνών",
    "Cyrillic": "Медицинский университет",
    "Chinese": "北京协和医学院",
    "Japanese": "とうきょう医科歯科大学",
    "Korean": "서울대학교",
}


def test_the_pdf_prints_every_alphabet_embeds_its_font_and_is_dated_by_the_data(
    app, term_data, tmp_path
):
    institution = " · ".join(NAMES_IN_MANY_ALPHABETS.values())
    report = report_for(app, institution=institution)
    pdf = build_pdf(report)
    assert pdf == build_pdf(report_for(app, institution=institution))  # byte-identical
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        str(font["/BaseFont"]): font
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    names = " ".join(fonts)
    assert "Helvetica" not in names  # never the WinAnsi-only, unembedded font
    # Every font is embedded: DejaVu Sans for the alphabets, the system's CJK font for the rest.
    for name, font in fonts.items():
        descendant = font["/DescendantFonts"][0] if "/DescendantFonts" in font else font
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descendant["/FontDescriptor"]), name
    assert any(name.endswith("+DejaVuSans") for name in fonts)
    if CJK_FONT:
        assert "WenQuanYiZenHei" in names and "LastResort" not in names
    text = " ".join(reader.pages[0].extract_text().split())
    for script in ("Polish", "Vietnamese", "Greek", "Cyrillic"):
        assert NAMES_IN_MANY_ALPHABETS[script] in text, script
    # Dated by the data's "as of" time, not 2000-01-01 and not the clock.
    assert reader.metadata.creation_date.replace(tzinfo=UTC) == AS_OF
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert report.title in outline
    assert {"Summary", "Methods and definitions", "Provenance"} <= set(outline_sections(reader))
    if shutil.which("pdftotext"):
        (tmp_path / "r.pdf").write_bytes(pdf)
        extracted = subprocess.run(
            ["pdftotext", "-l", "1", str(tmp_path / "r.pdf"), "-"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        # Every script extracts as text, CJK included where a CJK font is installed.
        for script, name in NAMES_IN_MANY_ALPHABETS.items():
            if CJK_FONT or script in ("Polish", "Vietnamese", "Greek", "Cyrillic"):
                assert name in " ".join(extracted.split()), script


def test_csv_bundle_round_trips_matches_its_dictionary_and_is_byte_identical(app, term_data):
    first = build_bundle(report_for(app))
    assert first == build_bundle(report_for(app))
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert sorted(archive.namelist()) == ["README.txt", "datapackage.json", "metrics.csv"]
    raw = archive.read("metrics.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    package = json.loads(archive.read("datapackage.json"))
    fields = [f["name"] for f in package["resources"][0]["schema"]["fields"]]
    assert list(frame.columns) == fields
    assert set(frame["metric"]) <= {m["id"] for m in package["metrics"]}
    # Hidden below the minimum threshold of 5 (2 unanswered), so the cells are empty.
    row = frame[
        (frame.track == "formal") & (frame.group == "All") & (frame.metric == "response_rate")
    ]
    assert bool(row.suppressed.item()) and row.numerator.isna().item()
    assert frame["suppressed"].dtype == bool
    assert frame.loc[frame.suppressed, ["numerator", "denominator", "value"]].isna().all().all()
    report = report_for(app)
    assert len(frame) == len(report.computed.rows) + len(
        [r for r in report.trend_rows if r.group != report.scope.term_name]
    )
    assert package["hallway"]["data_sha256"] in archive.read("README.txt").decode()


def test_untrusted_text_is_inert_in_every_output(app, make, term_data):
    hostile_department = '=HYPERLINK("http://x")<script>alert(1)</script>'
    program = term_data["program"]
    for n in range(3):
        make.trainee(program, name=f"<img src=x onerror=alert({n})>", department=hostile_department)
    report = report_for(app)
    html = build_html(report).decode()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "onerror" not in html  # names never appear at all
    csv_text = metrics_csv(report).decode("utf-8-sig")
    for record in csv.reader(io.StringIO(csv_text)):
        for cell in record:
            assert not cell.startswith(("=", "+", "@")), cell
    assert "department:'=HYPERLINK" not in csv_text or "'=HYPERLINK" in csv_text
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(build_pdf(report))).pages)
    assert "onerror" not in text


# --- pages, downloads and permissions --------------------------------------------------------


def test_a_coordinator_reads_and_downloads_their_programs_report_and_it_is_audited(
    app, client, make, term_data
):
    coordinator = make.coordinator(term_data["program"])
    login(client, coordinator.email)
    page = client.get("/reports?program=med&term=fall")
    assert page.status_code == 200 and "The two tracks side by side" in text_of(page)
    pdf = client.get("/reports/med/fall.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert pdf.headers["Cache-Control"] == "no-store"  # no proxy or browser cache keeps it
    bundle = client.get("/reports/med/fall.zip")
    assert zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    with app.app_context():
        from program.audit.models import AuditEvent

        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "report.downloaded")
            )
            == 2
        )


def test_a_report_is_built_once_and_again_as_soon_as_its_data_or_names_change(
    app, client, make, term_data
):
    """Reports are kept under the data's "as of" time: the same data is served from what was
    built, and any change to what the report reads (an answer, a rename) builds it anew."""
    from program.checkins.services import record_check_in
    from program.programs.models import Program
    from program.reporting.services import make_report

    with app.app_context():
        program = db.session.get(Program, term_data["program"].id)
        first = make_report(program, "fall")
        assert make_report(program, "fall") is first
        waiting = db.session.scalar(
            sa.select(CheckIn).where(CheckIn.answered_at.is_(None), CheckIn.chat_id.is_(None))
        )
        record_check_in(waiting.person, waiting, CheckInStatus.NOT_YET)
        db.session.commit()
        second = make_report(program, "fall")
        assert second is not first and second.as_of > first.as_of
        assert second.digest != first.digest  # the data the report read is not the same
        program.name = "Internal Medicine"
        db.session.commit()
        third = make_report(program, "fall")
        assert third.scope.label == "Internal Medicine"
        # History imported late, its times older than the report's "as of": built anew too.
        late = db.session.scalar(sa.select(CheckIn).where(CheckIn.chat_id.is_(None)))
        db.session.add(
            CheckIn(
                person_id=late.person_id,
                assignment_id=late.assignment_id,
                period_start=date(2026, 8, 1),
                asked_at=datetime(2026, 8, 8, tzinfo=UTC),
            )
        )
        db.session.commit()
        fourth = make_report(program, "fall")
        assert fourth.as_of == third.as_of and fourth.digest != third.digest
    # A download of the same data is the same file, built once.
    coordinator = make.coordinator(term_data["program"])
    login(client, coordinator.email)
    one, two = client.get("/reports/med/fall.pdf"), client.get("/reports/med/fall.pdf")
    assert one.status_code == two.status_code == 200 and one.data == two.data


def test_another_programs_coordinator_and_trainees_are_refused(app, client, make, term_data):
    other = make.program("Surgery", slug="surgery")
    make.term(other, slug="fall")
    outsider = make.coordinator(other)
    login(client, outsider.email)
    assert client.get("/reports?program=med&term=fall").status_code == 403
    assert client.get("/reports/med/fall.pdf").status_code == 403
    assert client.get("/reports/all/fall.zip").status_code == 403
    assert client.get("/reports/surgery/fall.pdf").status_code == 200
    client.post("/logout")
    trainee = make.trainee(term_data["program"])
    login(client, trainee.email)
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/med/fall.pdf").status_code == 403


def test_a_dean_reads_every_program_and_all_programs_together(app, client, make, term_data):
    dean = make.dean()
    login(client, dean.email)
    page = text_of(client.get("/reports?program=all&term=fall"))
    assert "All programs" in page
    assert client.get("/reports/med/fall.pdf").status_code == 200
    assert client.get("/reports/all/fall.html").status_code == 200
    assert client.get("/reports/all/nope.pdf").status_code == 404


def test_the_picker_offers_only_reports_that_exist_and_each_one_opens(app, client, make, term_data):
    """A dean: all programs and each program, each with its own terms; no choice is a 404."""
    surgery = make.program("Surgery", slug="surgery")
    make.term(
        surgery, "Spring 2026", slug="spring", starts_on=date(2026, 1, 5), ends_on=date(2026, 6, 30)
    )
    login(client, make.dean().email)
    html = client.get("/reports").get_data(as_text=True)
    values = re.findall(r'<option value="([^"]+)"', html)
    assert values == ["all/fall", "all/spring", "med/fall", "surgery/spring"]
    assert "med/spring" not in values and "surgery/fall" not in values  # no such terms
    for value in values:
        chosen = client.get(f"/reports?report={value}")
        assert chosen.status_code == 302
        assert client.get(chosen.headers["Location"]).status_code == 200, value


def test_a_coordinator_is_offered_their_own_programs_terms_only(app, client, make, term_data):
    other = make.program("Surgery", slug="surgery")
    make.term(other, "Spring 2026", slug="spring", starts_on=date(2026, 1, 5))
    login(client, make.coordinator(term_data["program"]).email)
    html = client.get("/reports").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"', html) == ["med/fall"]


def test_the_all_programs_report_shows_the_programs_side_by_side(app, make, term_data):
    surgery = make.program("Surgery", slug="surgery")
    make.term(surgery, slug="fall")
    for n in range(12):
        make.trainee(surgery, name=f"S{n}")
    make.mentor(surgery, name="SM")
    report = report_for(app, program_slug=None)
    assert [name for name, _ in report.programs] == ["Medicine", "Surgery"]
    medicine_alone = report_for(app)
    for name, computed in report.programs:
        for track in ("formal", "coffee"):
            for metric in ("participation", "pairs_met", "response_rate"):
                shown = written(report, computed.get(track, metric))
                if name == "Medicine":  # the same figure, and the same protection, as its own
                    assert shown == written(medicine_alone, medicine_alone.row(track, metric))
    surgery_eligible = dict(report.programs)["Surgery"].get("coffee", "eligible")
    assert surgery_eligible.value == 13
    html = unescape(build_html(report).decode())
    assert "Programs side by side" in html and "Surgery" in html
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(build_pdf(report))).pages)
    assert "Programs side by side" in text
    frame = pd.read_csv(io.BytesIO(metrics_csv(report)), encoding="utf-8-sig")
    assert {"All programs", "Medicine", "Surgery"} <= set(frame["program"])


def test_the_trend_marks_a_term_still_in_progress(app, make, term_data):
    program = term_data["program"]
    make.term(
        program, "Spring 2026", slug="spring", starts_on=date(2026, 1, 5), ends_on=date(2026, 6, 30)
    )
    report = report_for(app)  # as of 1 December 2026: fall ends on 31 December
    assert report.term_label("Fall 2026") == "Fall 2026 (in progress)"
    assert report.term_label("Spring 2026") == "Spring 2026"
    assert "Fall 2026 (in progress)" in build_html(report).decode()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(build_pdf(report))).pages)
    assert "Fall 2026 (in progress)" in " ".join(text.split())  # the cell wraps


def test_the_report_command_writes_each_format(app, term_data, tmp_path):
    runner = app.test_cli_runner()
    for fmt, magic in (("pdf", b"%PDF"), ("csv", b"PK"), ("html", b"<!doctype")):
        out = tmp_path / f"r.{fmt}"
        result = runner.invoke(
            args=[
                "report",
                "--program",
                "med",
                "--term",
                "fall",
                "--format",
                fmt,
                "--out",
                str(out),
            ]
        )
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(magic)
    result = runner.invoke(args=["report", "--term", "fall", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "--program SLUG or --all" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InstitutionSettings)) >= 0


GLANCE = ("taking_part", "pairs_formed", "pairs_met", "response_rate", "useful")


def assert_glance_agrees(conn, scope) -> None:
    """The dashboard's aggregates and the report's metrics give the same five figures."""
    from reports.glance import glance

    full = compute(load(conn, scope), with_next_term=False)
    quick = glance(conn, scope)
    for track in ("formal", "coffee"):
        for metric in GLANCE:
            a, b = full.get(track, metric), quick.get(track, metric)
            assert (a.numerator, a.denominator, a.value) == (b.numerator, b.denominator, b.value), (
                track,
                metric,
            )


def test_the_dashboards_aggregates_agree_with_the_reports_metrics(app, term_data):
    with app.app_context(), db.engine.connect() as conn:
        assert_glance_agrees(conn, find_scope(conn, "fall", "med"))


def test_advising_coverage_and_load_by_hand(app, term_data):
    """T1-T5 are the formal track's trainees; M1 has T1 and T2, M2 has T3, all from 1 September
    (the term began on 1 August). M1 offered one place; M2 is recorded as assessing T3."""
    from program.formal.models import Assessor, Availability

    with app.app_context():
        people = {p.name: p for p in db.session.scalars(sa.select(Person))}
        term_id = term_data["term"].id
        db.session.add_all(
            [
                Availability(
                    term_id=term_id,
                    person_id=people["M1"].id,
                    accepting=True,
                    capacity=1,
                    answered_at=SEP1,
                ),
                Assessor(
                    program_id=term_data["program"].id,
                    assessor_id=people["M2"].id,
                    trainee_id=people["T3"].id,
                ),
            ]
        )
        db.session.commit()
    c = computed_for(app)
    assert value(c, "formal", "advising_coverage") == (3, 5, 3 / 5)
    waited = c.get("formal", "days_to_mentor")
    assert (waited.value, waited.n) == (31, 3)
    load = c.get("formal", "mentees_per_mentor")
    assert (load.value, load.n) == (1.5, 2)
    by_load = {
        g: c.get("formal", "mentors_by_load", "load", g).value
        for g in ("1 mentee", "2 mentees", "3 mentees", "4 or more")
    }
    assert by_load == {"1 mentee": 1, "2 mentees": 1, "3 mentees": 0, "4 or more": 0}
    assert c.get("formal", "over_capacity").value == 1  # M1: 2 mentees, 1 place offered
    assert c.get("formal", "assessor_pairs").value == 1
    report = report_for(app, threshold=5)
    html = unescape(build_html(report).decode())
    assert "Advising: coverage and load" in html and "60% (3/5" in html
    assert "1 mentee: 1 · 2 mentees: 1 · 3 mentees: 0 · 4 or more: 0" in html
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(build_pdf(report))).pages).split()
    )
    assert "Advising: coverage and load" in text and "Mentors above their stated places" in text


def test_the_reports_page_opens_on_the_current_term_and_a_future_one_says_when_it_starts(
    app, client, make, term_data, time_machine
):
    time_machine.move_to(datetime(2026, 11, 20, 12, tzinfo=UTC))
    make.term(
        term_data["program"],
        "AY 2027/28",
        slug="ay-2027",
        starts_on=date(2027, 7, 1),
        ends_on=date(2028, 6, 30),
    )
    coordinator = make.coordinator(term_data["program"])
    login(client, coordinator.email)
    opened = client.get("/reports")
    html = opened.get_data(as_text=True)
    assert '<option value="med/fall" selected>' in html
    assert "Medicine, AY 2027/28 (starts 01 Jul 2027)" in text_of(opened)
    assert "The two tracks side by side" in text_of(opened)
    future = text_of(client.get("/reports?program=med&term=ay-2027"))
    assert "This term starts on 01 July 2027: nothing to report yet." in future
    assert "The two tracks side by side" not in future and "0%" not in future
    assert client.get("/reports/med/ay-2027.pdf").status_code == 404
    # A dean's page opens on all programs' current term, not the future one either.
    dean = make.dean()
    client.post("/logout")
    login(client, dean.email)
    assert '<option value="all/fall" selected>' in client.get("/reports").get_data(as_text=True)


def test_the_pdf_is_tagged_for_a_screen_reader_in_the_pages_order(app, term_data, tmp_path):
    """PDF/UA-1 and PDF/A-2a: pdfua finds nothing; headings, tables with header cells and the
    chart as a figure with its values in words, in the order the page reads."""
    report = report_for(app)
    path = tmp_path / "report.pdf"
    path.write_bytes(build_pdf(report))
    assert pdfua.validate(str(path)).findings == ()
    with pikepdf.open(path) as pdf:
        assert pdf.Root.MarkInfo.Marked is True and str(pdf.Root.Lang) == "en"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        meta = pdf.open_metadata()
        assert meta["pdfuaid:part"] == "1" and meta["pdfaid:part"] == "2"
        elements = structure(pdf)
        kinds = [kind for kind, _ in elements]
        assert kinds.count("H1") == 1 and kinds.index("H1") < kinds.index("H2")
        tables = [element for kind, element in elements if kind == "Table"]
        assert len(tables) >= 10
        for table in tables:
            rows = [e for k, e in structure_of(table) if k == "TR"]
            assert set(children(rows[0])) == {"TH"}
        figures = [str(element.Alt) for kind, element in elements if kind == "Figure"]
        headline, network, trend = figures  # in the page's order
        assert headline.startswith("Headline proportions by track")
        for metric in HEADLINE:
            assert BY_ID[metric].label in headline
        assert network.startswith("Cross-department ties across terms, against random")
        assert trend.startswith("Headline figures across terms")
    # Its sections come in the page's order.
    html = unescape(build_html(report).decode())
    page_sections = re.findall(r"<h2[^>]*>([^<]+)</h2>", html)
    reader = PdfReader(path)
    pdf_sections = outline_sections(reader)
    shared = [title for title in pdf_sections if title in page_sections]
    assert len(shared) >= 8
    assert shared == [title for title in page_sections if title in shared]


def test_breakdowns_open_with_a_reading_guide_and_list_only_groups_with_something_to_show(
    app, term_data
):
    report = report_for(app)
    html = unescape(build_html(report).decode())
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert report.reading_guide[0] in text and "How to read them" in text
    left_out = 0
    for kind, _ in BREAKDOWNS:
        for track in ("formal", "coffee"):
            listed = report.listed_groups(kind, track)
            small = dict(report.size_only(kind, track))
            left_out += len(small)
            assert not set(listed) & set(small)
            for group in small:
                # Left out only when every figure of what its people did is hidden or empty,
                # and named under the table with its size.
                for metric in ("meetings_per_participant", "response_rate"):
                    row = report.row(track, metric, kind, group)
                    assert row.suppressed or row.value is None
                assert f"{group} ({small[group]} eligible)" in text
            for group in listed:
                assert any(
                    not report.row(track, m, kind, group).suppressed
                    and report.row(track, m, kind, group).value is not None
                    for m in ("meetings_per_participant", "response_rate")
                )
    assert left_out, "the small test program has groups with nothing but their size"
    pdf_text = " ".join(
        " ".join(page.extract_text().split())
        for page in PdfReader(io.BytesIO(build_pdf(report))).pages
    )
    assert "How to read them" in pdf_text and "Not in the table" in pdf_text


def test_page_one_says_what_changed_and_whether_beyond_chance():
    from reports.build import change_against
    from reports.metrics import Row

    def rate(x: int, n: int) -> Row:
        return Row("formal", "all", "All", "participation", x, n, x / n, n=n)

    assert change_against(rate(60, 100), rate(40, 100), "Spring 2026") == (
        "up 20 points from Spring 2026's 40%, beyond chance"
    )
    assert change_against(rate(48, 100), rate(50, 100), "Spring 2026") == (
        "down 2 points from Spring 2026's 50%, within chance"
    )
    assert change_against(rate(50, 100), rate(50, 100), "Spring 2026") == "as in Spring 2026, 50%"


def test_findings_come_first_from_shown_figures_only(app, term_data):
    report = report_for(app)
    findings = report.findings
    for track, name in (("formal", "Formal mentoring"), ("coffee", "Coffee chats")):
        sentence = next((f for f in findings if f.startswith(f"{name}: ")), "")
        for metric in ("participation", "pairs_met", "response_rate", "useful"):
            row = report.row(track, metric)
            label = BY_ID[metric].label.lower()
            if row.suppressed or row.value is None:
                assert f"{label} " not in sentence, (track, metric)  # never hinted at
            else:
                assert f"{label} {round(100 * row.value)}%" in sentence, (track, metric)
    assert findings[-1].startswith("What this report cannot show")
    # First in the page and on the PDF's first page.
    html = unescape(build_html(report).decode())
    assert html.index("Findings") < html.index("Summary")
    first_page = " ".join(PdfReader(io.BytesIO(build_pdf(report))).pages[0].extract_text().split())
    assert "Findings" in first_page and findings[-1][:40] in first_page
