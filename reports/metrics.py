"""Every metric of the report: one written definition each, used both to compute and to print it.

Computed per track (formal, coffee) for everyone, per breakdown group (cohort, department,
stage) for the participant metrics, with Wilson intervals for proportions; the tracks are then
compared (Newcombe interval for a difference of proportions, Mann-Whitney and P(X > Y) for counts
and ratings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reports import network
from reports.data import TRACKS, Frames, tie_key
from reports.stats import UNSTABLE_EVENTS, mann_whitney, median_iqr, newcombe, wilson


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    # "count", "proportion", "median", "share" (a proportion of no count: no interval) or
    # "index" (a measure of its own scale)
    kind: str
    definition: str
    standards: tuple[str, ...] = ()
    per_person: bool = False  # computed per breakdown group too


LCME_11_1 = "LCME 11.1 (academic advising: effectiveness from data on outcomes and satisfaction)"
LCME_11_2 = "LCME 11.2 (career advising)"
LCME_3_5 = "LCME 3.5 (learning environment: periodic evaluation)"
LCME_1_1 = "LCME 1.1 (strategic planning and continuous quality improvement)"
ACGME_WB = "ACGME CPR VI.C (well-being: enhancing professional relationships)"
ACGME_APE = "ACGME Annual Program Evaluation (longitudinal program data)"

METRICS = [
    Metric(
        "eligible",
        "Eligible",
        "count",
        "People in the track's roster during the term. Formal: the trainees in the formal "
        "track and the mentors who offered places this term (a mentor who said “not this "
        "term” is not counted as someone who could have taken part), plus anyone in a "
        "published formal pair. Coffee: the trainees and mentors in the coffee track, plus "
        "anyone who took part. Each as recorded in the term's roster.",
        (LCME_3_5,),
        True,
    ),
    Metric(
        "taking_part",
        "Taking part",
        "count",
        "Eligible people who took part: in a "
        "published formal pair (formal), or enrolled at any time in the term or in a coffee "
        "chat of the term, a round's or one they started with an ask (coffee). Guests from "
        "outside are counted in the chats, never as people of the track.",
        (LCME_11_1, ACGME_WB),
        True,
    ),
    Metric(
        "participation",
        "Participation rate",
        "proportion",
        "Taking part ÷ eligible.",
        (LCME_11_1, ACGME_WB),
        True,
    ),
    Metric(
        "pairs_formed",
        "Pairs formed",
        "count",
        "Published formal pairs and coffee chats (a trio counts once) of the term.",
        (LCME_11_1,),
    ),
    Metric(
        "pairs_met",
        "Pairs that met at least once",
        "proportion",
        "Pairs in which at least one person answered “we met” at least once ÷ pairs formed.",
        (LCME_11_1, ACGME_WB),
    ),
    Metric(
        "met_within_30",
        "Met within 30 days of the introduction",
        "proportion",
        "Pairs whose "
        "first recorded meeting was at most 30 days after the introduction ÷ pairs formed.",
        (LCME_11_1,),
    ),
    Metric(
        "days_to_first",
        "Days from introduction to first meeting",
        "median",
        "Among pairs "
        "that met: days from the introduction to the first recorded meeting (median, IQR).",
        (LCME_11_1,),
    ),
    Metric(
        "meetings_per_participant",
        "Meetings per participant",
        "median",
        "Per person taking "
        "part: the check-in periods they answered “we met” (median, IQR); people who never "
        "answered count as zero.",
        (LCME_11_1, ACGME_WB),
        True,
    ),
    Metric(
        "sustained",
        "Sustained pairs (3 or more meetings)",
        "proportion",
        "Pairs with meetings recorded in 3 or more check-in periods ÷ pairs formed.",
        (LCME_11_1,),
    ),
    Metric(
        "people_met",
        "Distinct people met per participant",
        "median",
        "Per person taking part: different people they recorded meeting (median, IQR).",
        (ACGME_WB,),
    ),
    Metric(
        "cross_department",
        "Cross-department ties",
        "proportion",
        "Ties that met between "
        "people of different departments ÷ ties that met with both departments recorded.",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "cross_stage",
        "Cross-stage ties",
        "proportion",
        "Ties that met between people at "
        "different career stages ÷ ties that met with both stages recorded.",
        (LCME_11_2,),
    ),
    Metric(
        "new_ties",
        "New ties",
        "proportion",
        "Pairs formed whose people had never been paired before this term ÷ pairs formed.",
        (ACGME_WB,),
    ),
    Metric(
        "response_rate",
        "Check-in response rate",
        "proportion",
        "Check-ins answered ÷ "
        "check-ins asked. “No response” is kept as its own category, never dropped.",
        (LCME_1_1,),
        True,
    ),
    Metric(
        "no_response",
        "No response",
        "proportion",
        "Check-ins left unanswered ÷ check-ins asked.",
        (LCME_1_1,),
    ),
    Metric(
        "useful",
        "Rated useful (4 or 5 of 5)",
        "proportion",
        "Ratings of 4 or 5 ÷ ratings "
        "given (ratings are optional and private; only totals are reported).",
        (LCME_11_1,),
    ),
    Metric(
        "rating",
        "Usefulness rating",
        "median",
        "Ratings given, 1 to 5 (median, IQR).",
        (LCME_11_1,),
    ),
    Metric(
        "led_to",
        "Led to something concrete",
        "proportion",
        "“We met” answers that marked a "
        "collaboration, referral, opportunity or advice acted on ÷ “we met” answers.",
        (LCME_11_1, LCME_11_2),
    ),
    Metric(
        "continuation",
        "Continued into the next term",
        "proportion",
        "People taking part "
        "this term who take part in the same track the next term ÷ people taking part.",
        (ACGME_APE, LCME_1_1),
    ),
]
# The coffee chats split by how they began: a round paired them, or one person asked the other
# through the directory. Some of the track's metrics per origin, and three of the asks.
ORIGINS = (("round", "Paired by a round"), ("ask", "Self-initiated"))
ASK_METRICS = [
    Metric(
        "asks_sent",
        "Asks sent",
        "count",
        "Asks sent through the directory in the term (withdrawn ones not counted).",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "asks_accepted",
        "Asks accepted",
        "proportion",
        "Asks answered yes ÷ asks sent.",
        (LCME_11_2,),
    ),
    Metric(
        "asks_per_asker",
        "Asks per person who asked",
        "median",
        "Per person who sent at least one ask in the term: the asks they sent (median, IQR).",
        (LCME_11_2,),
    ),
]
ORIGIN_METRICS = (
    "pairs_formed",
    "pairs_met",
    "useful",
    "led_to",
    "people_met",
    "asks_sent",
    "asks_accepted",
    "asks_per_asker",
)
# Advising (LCME 11.1: an effective system of advising, shown with data on coverage): the formal
# track's trainees with a mentor, how long they waited, and the mentors' load.
ADVISING_METRICS = [
    Metric(
        "advising_coverage",
        "Trainees with a formal mentor",
        "proportion",
        "Trainees of the formal track who had a mentor (a published pair) during the term ÷ "
        "trainees of the formal track.",
        (LCME_11_1,),
    ),
    Metric(
        "days_to_mentor",
        "Days waited for a mentor",
        "median",
        "Among trainees who had a mentor: days from the term's start to their first pair of "
        "the term (0 when paired before it began; median, IQR).",
        (LCME_11_1,),
    ),
    Metric(
        "mentees_per_mentor",
        "Mentees per mentor",
        "median",
        "Among mentors with at least one mentee in the term: their mentees (median, IQR).",
        (LCME_11_1,),
    ),
    Metric(
        "mentors_by_load",
        "Mentors",
        "count",
        "Mentors with this many mentees in the term.",
        (LCME_11_1,),
    ),
    Metric(
        "over_capacity",
        "Mentors above their stated places",
        "count",
        "Mentors who said how many mentees they could take this term and have more than that.",
        (LCME_11_1,),
    ),
    Metric(
        "assessor_pairs",
        "Pairs with an assessor as mentor",
        "count",
        "Published pairs in which the mentor is recorded as assessing or grading the trainee "
        "(the rule: none; LCME 11.1).",
        (LCME_11_1,),
    ),
]
ADVISING_TABLE = (
    "advising_coverage",
    "days_to_mentor",
    "mentees_per_mentor",
    "over_capacity",
    "assessor_pairs",
)
LOADS = ("1 mentee", "2 mentees", "3 mentees", "4 or more")

# The network each track builds (weak ties across departments), per track and for both
# together, from the ties people recorded meeting; the definitions are reports.network's.
NETWORK_TRACKS = ("formal", "coffee", "both")
NETWORK_METRICS = [
    Metric(
        "expected_cross",
        "Cross-department share expected at random",
        "share",
        "The share of ties that would join two departments if the people taking part were "
        "paired at random: 1 − Σ n_d(n_d − 1) / (N(N − 1)), with n_d the people taking part "
        "in department d and N all of them (departments recorded). Compare the "
        "cross-department ties above.",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "ei_index",
        "E–I index",
        "index",
        "Krackhardt and Stern's E–I index of the ties that met: (E − I) / (E + I), with E the "
        "ties across departments and I those within one; −1 when every tie stays inside a "
        "department, +1 when every tie crosses.",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "dept_pairs_joined",
        "Department pairs joined",
        "proportion",
        "Pairs of departments joined by at least one tie that met ÷ all pairs of the "
        "departments of the people taking part, D(D − 1) / 2.",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "novel_ties",
        "Ties new to both people",
        "proportion",
        "Ties that met between two people with no earlier tie (never paired or in a chat "
        "together before this term, and not in the same cohort) ÷ ties that met.",
        (ACGME_WB,),
    ),
    Metric(
        "modularity",
        "Department modularity",
        "index",
        "Newman's modularity of the departments in the network of ties that met (networkx): "
        "Σ_d [L_d / m − (K_d / 2m)²], with L_d the ties within department d, K_d the ties of "
        "its people and m all ties. Near 0, ties ignore departments; the higher, the more "
        "departments are silos. Falling from term to term: the institution is less siloed.",
        (LCME_11_2, ACGME_WB, ACGME_APE),
    ),
    Metric(
        "reach_people",
        "People met so far",
        "median",
        "Per person taking part this term: different people they recorded meeting in the "
        "track, this term and every earlier one (median, IQR).",
        (ACGME_WB,),
    ),
    Metric(
        "reach_departments",
        "Departments met so far",
        "median",
        "Per person taking part this term: different departments of the people they recorded "
        "meeting in the track, this term and every earlier one (median, IQR).",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "reach_pace",
        "People met per month, against the playbook's one",
        "median",
        "Per person taking part this term: people met so far ÷ the months they were asked "
        "about in check-ins so far (at least one); 1 is the playbook's pace of one new person "
        "a month (median, IQR).",
        (ACGME_WB,),
    ),
]
NETWORK_TABLE = (
    "cross_department",
    "expected_cross",
    "ei_index",
    "dept_pairs_joined",
    "novel_ties",
    "modularity",
    "reach_people",
    "reach_departments",
    "reach_pace",
)
# The figures each term's trend row repeats: the headline proportions, and the network's.
TREND = ("participation", "pairs_met", "response_rate")
NETWORK_TREND = (
    "cross_department",
    "expected_cross",
    "dept_pairs_joined",
    "novel_ties",
    "modularity",
)

# Satisfaction as accreditors read it, laid out as the LCME Independent Student Analysis lays out
# its items: per cohort (class year), the answers in three bands (not useful 1-2, neutral 3,
# useful 4-5) with their shares of the ratings given and n, "no rating" as its own column (its
# share: of the check-ins asked), and the response rate. (Each answer on its own is in the
# ratings table above: per cohort, most would be counts of one to four, hidden.)
SATISFACTION_BANDS = (("rated_low", (1, 2)), ("rated_3", (3,)), ("rated_high", (4, 5)))
SATISFACTION_METRICS = [
    Metric(
        "rated_low",
        "Not useful (1–2)",
        "proportion",
        "Ratings of 1 or 2 (of 5) ÷ ratings given.",
        (LCME_11_1,),
    ),
    Metric(
        "rated_3",
        "Neutral (3)",
        "proportion",
        "Ratings of 3 (of 5) ÷ ratings given.",
        (LCME_11_1,),
    ),
    Metric(
        "rated_high",
        "Useful (4–5)",
        "proportion",
        "Ratings of 4 or 5 (of 5) ÷ ratings given.",
        (LCME_11_1,),
    ),
    Metric(
        "no_rating",
        "No rating",
        "proportion",
        "Check-ins asked that carry no rating (not answered, or answered without one: a rating "
        "is given only after a meeting, and is optional) ÷ check-ins asked.",
        (LCME_11_1, LCME_1_1),
    ),
    Metric(
        "checkins_asked",
        "Check-ins asked",
        "count",
        "Check-ins sent to the group's people in the term.",
        (LCME_1_1,),
    ),
]
SATISFACTION_TABLE = tuple(m.id for m in SATISFACTION_METRICS)

# The term survey (program/surveys/instrument.py), per track and per class year: each rests on
# the respondents who took part in the track (mentors are a line of their own).
ACGME_PEC = "ACGME Program Evaluation Committee (residents' and faculty's survey results)"
SURVEY_METRICS = [
    Metric(
        "survey_response",
        "Answered the term survey",
        "proportion",
        "People who answered the term survey ÷ people invited (everyone on the term's roster "
        "in the track), against the program's response target.",
        (LCME_11_1, ACGME_PEC),
    ),
    Metric(
        "satisfied",
        "Satisfied or very satisfied",
        "proportion",
        "Answers of “satisfied” or “very satisfied” with the mentoring received in the track "
        "this term ÷ those who answered the question (“does not apply” left out).",
        (LCME_11_1, ACGME_PEC),
    ),
    Metric(
        "career_person",
        "Has someone for career advice",
        "proportion",
        "Respondents answering yes to “I have at least one person I can go to for career "
        "advice” ÷ respondents.",
        (LCME_11_2, ACGME_WB),
    ),
    Metric(
        "outside_met",
        "Met someone outside their department",
        "proportion",
        "Respondents who had a professional conversation with at least one person outside "
        "their own department this term ÷ respondents.",
        (LCME_3_5, ACGME_WB),
    ),
    Metric(
        "survey_led_to",
        "A conversation led to something",
        "proportion",
        "Respondents for whom a conversation led to a collaboration, a referral, an "
        "opportunity or advice they acted on ÷ respondents.",
        (LCME_11_1,),
    ),
    Metric(
        "load_too_much",
        "Mentors whose load was too much",
        "proportion",
        "Mentors answering that their mentoring load this term was too much ÷ mentors who "
        "answered the question.",
        (ACGME_WB, ACGME_PEC),
    ),
]
SURVEY_TABLE = tuple(m.id for m in SURVEY_METRICS)
SURVEY_TREND = ("survey_response", "satisfied")  # across terms, as each term's report shows them

# Every metric defined, in the order methods sections and the data dictionary list them.
ALL_METRICS = (
    METRICS
    + NETWORK_METRICS
    + SATISFACTION_METRICS
    + ADVISING_METRICS
    + ASK_METRICS
    + SURVEY_METRICS
)
# Outcomes as the audit reads them (reports/outcomes.py `audit_rows`): each group's people with
# a value and, for one of several answers, how many gave the favourable one.
OUTCOME_METRICS = [
    Metric("outcome_people", "People with a value", "count", "People of the group with a value."),
    Metric(
        "outcome_share",
        "Share giving the favourable answer",
        "proportion",
        "People of the group giving the favourable answer ÷ people of the group with a value.",
    ),
]
BY_ID = {m.id: m for m in (*ALL_METRICS, *OUTCOME_METRICS)}
BREAKDOWNS = (("cohort", "Cohort"), ("department", "Department"), ("stage", "Career stage"))


@dataclass
class Row:
    """One value of the tidy table: a metric for a track and a group."""

    track: str
    group_kind: str  # "all", "cohort", "department", "stage", "term"
    group: str
    metric: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    q1: float | None = None
    q3: float | None = None
    n: int = 0  # the events or people the value rests on
    # Who a figure about what people did or answered rests on, where its events are several a
    # person (check-ins, ratings): how many distinct people, and whether one of them gave more
    # than half of its count or of its complement (the figure is then that person's own).
    # None where each event is a different person's, or a pair's (a count of t pairs involves
    # more than t people).
    people: int | None = None
    dominated: bool = False
    suppressed: bool = False
    note: str = ""
    # Why a suppressed value is hidden: one of reports.suppress.REASONS.
    hidden_reason: str = ""

    @property
    def unstable(self) -> bool:
        return 0 < self.n <= UNSTABLE_EVENTS


@dataclass
class Difference:
    metric: str
    estimate: float  # formal minus coffee (proportions), or P(formal > coffee)
    low: float | None
    high: float | None
    p_value: float | None = None
    suppressed: bool = False


@dataclass
class Computed:
    rows: list[Row] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    distributions: dict[str, dict[int, int]] = field(default_factory=dict)  # track -> rating
    # Tracks whose satisfaction table gives no cohort lines: a cohort had too few ratings.
    by_cohort_withheld: set[str] = field(default_factory=set)
    # The term survey's response targets (%), one per program that ran one (none: no survey).
    survey_targets: tuple[int, ...] = ()
    # Outcomes compared across who took part (reports/outcomes.py), protected on their own.
    outcomes: list[Any] = field(default_factory=list)

    # The rows by what names them, the first of each: a page looks rows up thousands of times.
    # Made again when the rows are another list or have grown (they are built by appending).
    _index: tuple[list[Row], int, dict[tuple[str, str, str, str], Row]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def get(self, track: str, metric: str, group_kind: str = "all", group: str = "All") -> Row:
        if self._index is None or not (
            self._index[0] is self.rows and self._index[1] == len(self.rows)
        ):
            index: dict[tuple[str, str, str, str], Row] = {}
            for row in self.rows:
                index.setdefault((row.track, row.metric, row.group_kind, row.group), row)
            self._index = (self.rows, len(self.rows), index)
        found = self._index[2].get((track, metric, group_kind, group))
        return found or Row(track, group_kind, group, metric, note="not computed")


def proportion_row(
    track: str,
    kind: str,
    group: str,
    metric: str,
    x: int,
    n: int,
    by: pd.Series | None = None,
    hits: pd.Series | None = None,
) -> Row:
    """x of n, with Wilson's interval. `by` (whose each of the n events is) and `hits` (whether
    it counts in x) say who the figure rests on: see `Row.people`."""
    low, high = wilson(x, n)
    people, dominated = (
        contributors(by, hits) if by is not None and hits is not None else (None, False)
    )
    return Row(
        track,
        kind,
        group,
        metric,
        x,
        n,
        x / n if n else None,
        None if math.isnan(low) else low,
        None if math.isnan(high) else high,
        n=n,
        people=people,
        dominated=dominated,
        note="" if n else "no data",
    )


def contributors(by: pd.Series, hits: pd.Series) -> tuple[int, bool]:
    """How many distinct people these events are, and whether one person gave more than half
    of those that count (`hits`) or of those that do not: a share that large is that person's
    own behaviour, whatever the group's size (the dominance rule)."""
    if not len(by):
        return 0, False
    # Counted with numpy, not a pandas groupby: the report asks this for every row of every
    # breakdown, and a groupby's set-up cost was a tenth of a 20,000-person report.
    codes, people = pd.factorize(by, sort=False)
    counted = np.asarray(hits, dtype=bool)
    hit = np.bincount(codes, weights=counted, minlength=len(people))
    miss = np.bincount(codes, minlength=len(people)) - hit
    x, rest = int(counted.sum()), int(len(counted) - counted.sum())
    dominated = bool((x and 2 * hit.max() > x) or (rest and 2 * miss.max() > rest))
    return len(people), dominated


def _median(
    track: str, kind: str, group: str, metric: str, values: Any, people: int | None = None
) -> Row:
    """The median and quartiles of `values`; `people`, where several values may be one
    person's (ratings), how many people gave them."""
    values = np.asarray(values, dtype=float)
    med, q1, q3 = median_iqr(values)
    if not len(values):
        return Row(track, kind, group, metric, note="no data")
    return Row(
        track,
        kind,
        group,
        metric,
        value=med,
        q1=q1,
        q3=q3,
        n=len(values),
        denominator=len(values),
        people=people,
    )


def count_row(track: str, kind: str, group: str, metric: str, value: int) -> Row:
    return Row(track, kind, group, metric, numerator=value, value=value, n=value)


def compute(frames: Frames, with_next_term: bool) -> Computed:
    out = Computed()
    samples: dict[str, dict[str, np.ndarray]] = {}
    ties_of: dict[str, pd.DataFrame] = {}  # each track's ties that met
    people, pairs, members, checks = frames.people, frames.pairs, frames.members, frames.check_ins
    met = checks[checks["status"] == "met"]
    met_now = _whom_met(met, members)
    for track in TRACKS:
        tp = people[people["track"] == track]
        taking = tp[tp["enrolled"]]
        tpairs = pairs[pairs["track"] == track]
        tchecks = checks[checks["track"] == track]
        tmet = met[met["track"] == track]
        rows = out.rows
        rows.append(count_row(track, "all", "All", "eligible", len(tp)))
        rows.append(count_row(track, "all", "All", "taking_part", len(taking)))
        rows.append(proportion_row(track, "all", "All", "participation", len(taking), len(tp)))
        rows.append(count_row(track, "all", "All", "pairs_formed", len(tpairs)))

        # Meetings per pair: distinct periods in which either side said "we met".
        periods = tmet.groupby("pair")["period"].nunique()
        # As datetime64, so the minimum per pair runs in pandas' compiled code, not per group
        # in Python (a third of a large report's time).
        when = pd.to_datetime(tmet["met_on"].where(tmet["met_on"].notna(), tmet["period"]))
        first_met = when.groupby(tmet["pair"]).min().rename("first")
        started = pd.to_datetime(tpairs.set_index("pair")["started"]).rename("started")
        joined = first_met.to_frame().join(started, how="inner")
        days = (joined["first"] - joined["started"]).dt.days.clip(lower=0).tolist()
        n_pairs = len(tpairs)
        rows.append(proportion_row(track, "all", "All", "pairs_met", len(periods), n_pairs))
        rows.append(
            proportion_row(
                track, "all", "All", "met_within_30", sum(d <= 30 for d in days), n_pairs
            )
        )
        rows.append(_median(track, "all", "All", "days_to_first", days))
        per_person = tmet.groupby("person_id")["period"].nunique()
        meetings = taking["person_id"].map(per_person).fillna(0).to_numpy()
        samples.setdefault("meetings_per_participant", {})[track] = meetings
        rows.append(_median(track, "all", "All", "meetings_per_participant", meetings))
        rows.append(
            proportion_row(track, "all", "All", "sustained", int((periods >= 3).sum()), n_pairs)
        )
        # People met: the other members of pairs in which the person said "we met".
        distinct = _in_track(met_now, track).groupby("person_id")["other_id"].nunique()
        rows.append(
            _median(
                track,
                "all",
                "All",
                "people_met",
                taking["person_id"].map(distinct).fillna(0).to_numpy(),
            )
        )
        stages = _recorded(tp, "stage")
        ties = ties_of[track] = met_ties(members, set(periods.index))
        a, b = ties["a"].map(stages), ties["b"].map(stages)
        known = a.notna() & b.notna()
        rows.append(
            proportion_row(
                track,
                "all",
                "All",
                "cross_stage",
                int((a[known] != b[known]).sum()),
                int(known.sum()),
            )
        )
        rows.append(
            proportion_row(track, "all", "All", "new_ties", int(tpairs["new_tie"].sum()), n_pairs)
        )
        answered_mask = tchecks["status"].notna()
        answered = int(answered_mask.sum())
        by = tchecks["person_id"]
        rows.append(
            proportion_row(
                track, "all", "All", "response_rate", answered, len(tchecks), by, answered_mask
            )
        )
        rows.append(
            proportion_row(
                track,
                "all",
                "All",
                "no_response",
                len(tchecks) - answered,
                len(tchecks),
                by,
                ~answered_mask,
            )
        )
        rated = tchecks[tchecks["rating"].notna()]
        ratings = rated["rating"].astype(int).to_numpy()
        samples.setdefault("rating", {})[track] = ratings
        out.distributions[track] = {r: int((ratings == r).sum()) for r in range(1, 6)}
        rows.append(
            proportion_row(
                track,
                "all",
                "All",
                "useful",
                int((ratings >= 4).sum()),
                len(ratings),
                rated["person_id"],
                rated["rating"] >= 4,
            )
        )
        rows.append(
            _median(track, "all", "All", "rating", ratings, people=rated["person_id"].nunique())
        )
        rows.append(
            proportion_row(
                track,
                "all",
                "All",
                "led_to",
                int(tmet["led_to"].notna().sum()),
                len(tmet),
                tmet["person_id"],
                tmet["led_to"].notna(),
            )
        )
        if with_next_term:
            following = set(frames.next_term.loc[frames.next_term["track"] == track, "person_id"])
            rows.append(
                proportion_row(
                    track,
                    "all",
                    "All",
                    "continuation",
                    int(taking["person_id"].isin(following).sum()),
                    len(taking),
                )
            )
        else:
            rows.append(Row(track, "all", "All", "continuation", note="no following term yet"))

        # Breakdowns: the participant metrics per cohort, department and stage.
        answered_by = tchecks[tchecks["status"].notna()].groupby("person_id").size()
        asked_by = tchecks.groupby("person_id").size()
        _satisfaction(track, "all", "All", tchecks, out)
        for kind, _ in BREAKDOWNS:
            # Each group's check-ins, split in one pass (not a filter of them all per group).
            group_of = tp.drop_duplicates("person_id").set_index("person_id")[kind]
            checks_of = dict(tuple(tchecks.groupby(tchecks["person_id"].map(group_of), sort=False)))
            for group, gp in tp.groupby(kind, sort=True):
                g_taking = gp[gp["enrolled"]]
                rows.append(count_row(track, kind, str(group), "eligible", len(gp)))
                rows.append(count_row(track, kind, str(group), "taking_part", len(g_taking)))
                rows.append(
                    proportion_row(track, kind, str(group), "participation", len(g_taking), len(gp))
                )
                rows.append(
                    _median(
                        track,
                        kind,
                        str(group),
                        "meetings_per_participant",
                        g_taking["person_id"].map(per_person).fillna(0).to_numpy(),
                    )
                )
                ids = gp["person_id"]
                own = checks_of.get(group, tchecks.iloc[:0])
                if kind == "cohort":
                    _satisfaction(track, kind, str(group), own, out)
                rows.append(
                    proportion_row(
                        track,
                        kind,
                        str(group),
                        "response_rate",
                        int(ids.map(answered_by).fillna(0).sum()),
                        int(ids.map(asked_by).fillna(0).sum()),
                        own["person_id"],
                        own["status"].notna(),
                    )
                )

    _by_origin(frames, out)
    _advising(frames, out)
    # Both tracks together: every tie of each (two people who met in both tracks are a tie in
    # each), so that the two tracks' counts add up to theirs.
    ties_of["both"] = pd.concat(list(ties_of.values()), ignore_index=True)
    _network(frames, out, ties_of, met_now)
    for metric in METRICS:
        if metric.kind != "proportion":
            continue
        f, c = out.get("formal", metric.id), out.get("coffee", metric.id)
        if f.denominator and c.denominator:
            d, low, high = newcombe(
                int(f.numerator), int(f.denominator), int(c.numerator), int(c.denominator)
            )
            out.differences.append(Difference(metric.id, d, low, high))
    for metric_id, by_track in samples.items():
        result = mann_whitney(by_track.get("formal", []), by_track.get("coffee", []))
        if result is not None:
            out.differences.append(
                Difference(metric_id, result.prob_superiority, None, None, result.p_value)
            )
    return out


# When none (or all) of the chats did something, none (or all) of each origin's did: said so,
# with no numbers, which would add nothing and only give away the small parts' bases.
AS_FOR_ALL = ("none, as for all chats", "all, as for all chats")
# Where nobody rated, every check-in is without a rating: said in words, with no numbers (the
# count would be the check-ins asked, and only give away a small base).
ALL_UNRATED = "all: no rating was given"
# Where no tie crossed departments, none joined two: said in words, as the share says already.
NONE_CROSSED = "none: no tie crossed departments"
# Notes a report prints in place of a value.
IN_WORDS = (*AS_FOR_ALL, ALL_UNRATED, NONE_CROSSED)


def _origin_share(out: Computed, group: str, metric: str, x: int, n: int) -> Row:
    whole = out.get("coffee", metric)
    if whole.denominator and whole.numerator == 0:
        return Row("coffee", "origin", group, metric, note=AS_FOR_ALL[0])
    if whole.denominator and whole.numerator == whole.denominator:
        return Row("coffee", "origin", group, metric, note=AS_FOR_ALL[1])
    return proportion_row("coffee", "origin", group, metric, x, n)


def _by_origin(frames: Frames, out: Computed) -> None:
    """The coffee chats' figures for each origin: paired by a round, or self-initiated. People
    are counted among those taking part in the coffee track (a guest is in no figure but the
    chats and answers)."""
    people, pairs, members, checks = frames.people, frames.pairs, frames.members, frames.check_ins
    if not len(frames.asks) and not (pairs["origin"] == "ask").any():
        return  # no chat began with an ask: nothing to split (and no rows to protect)
    coffee = people[(people["track"] == "coffee") & people["enrolled"]]
    taking = set(coffee["person_id"])
    for origin, group in ORIGINS:
        opairs = pairs[(pairs["track"] == "coffee") & (pairs["origin"] == origin)]
        ochecks = checks[checks["pair"].isin(set(opairs["pair"]))]
        omet = ochecks[ochecks["status"] == "met"]
        rows = out.rows
        rows.append(count_row("coffee", "origin", group, "pairs_formed", len(opairs)))
        rows.append(_origin_share(out, group, "pairs_met", omet["pair"].nunique(), len(opairs)))
        ratings = ochecks["rating"].dropna().astype(int).to_numpy()
        rows.append(_origin_share(out, group, "useful", int((ratings >= 4).sum()), len(ratings)))
        rows.append(
            _origin_share(out, group, "led_to", int(omet["led_to"].notna().sum()), len(omet))
        )
        own_met = omet[["pair", "person_id"]].drop_duplicates()
        ties = own_met.merge(members, on="pair", suffixes=("", "_other"))
        ties = ties[ties["person_id"] != ties["person_id_other"]]
        distinct = ties.groupby("person_id")["person_id_other"].nunique()
        in_chats = members[members["pair"].isin(set(opairs["pair"]))]["person_id"]
        met_by = sorted(set(in_chats) & taking)
        rows.append(
            _median(
                "coffee",
                "origin",
                group,
                "people_met",
                pd.Series(met_by, dtype="int64").map(distinct).fillna(0).to_numpy(),
            )
        )
        if origin == "ask":
            asks = frames.asks
            rows.append(count_row("coffee", "origin", group, "asks_sent", len(asks)))
            rows.append(
                proportion_row(
                    "coffee",
                    "origin",
                    group,
                    "asks_accepted",
                    int(asks["accepted"].sum()),
                    len(asks),
                )
            )
            rows.append(
                _median(
                    "coffee",
                    "origin",
                    group,
                    "asks_per_asker",
                    asks.groupby("asker_id").size().to_numpy(),
                )
            )


def _satisfaction(track: str, kind: str, group: str, checks: pd.DataFrame, out: Computed) -> None:
    """A line of the satisfaction table: each band of answers of the ratings given, the
    check-ins with no rating of those asked, and the check-ins asked."""
    rated = checks[checks["rating"].notna()]
    ratings = rated["rating"].astype(int)
    asked = len(checks)
    for metric, answers in SATISFACTION_BANDS:
        band = ratings.isin(answers)
        out.rows.append(
            proportion_row(
                track, kind, group, metric, int(band.sum()), len(ratings), rated["person_id"], band
            )
        )
    if asked and not len(ratings):
        out.rows.append(Row(track, kind, group, "no_rating", note=ALL_UNRATED))
    else:
        out.rows.append(
            proportion_row(
                track,
                kind,
                group,
                "no_rating",
                asked - len(ratings),
                asked,
                checks["person_id"],
                checks["rating"].isna(),
            )
        )
    out.rows.append(count_row(track, kind, group, "checkins_asked", asked))


NOT_RECORDED = "Not recorded"


def _recorded(people: pd.DataFrame, column: str) -> pd.Series:
    """Each person's value of an attribute, where it is recorded."""
    values = people.drop_duplicates("person_id").set_index("person_id")[column]
    return values[values != NOT_RECORDED]


def met_ties(members: pd.DataFrame, pairs: set[str]) -> pd.DataFrame:
    """The ties of these pairs (a trio has three), each pair of people once: a, b with a < b."""
    both = members[members["pair"].isin(pairs)]
    both = both.merge(both, on="pair")
    both = both[both["person_id_x"] < both["person_id_y"]]
    return (
        both[["person_id_x", "person_id_y"]]
        .drop_duplicates()
        .rename(columns={"person_id_x": "a", "person_id_y": "b"})
        .reset_index(drop=True)
    )


def _whom_met(met: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Whom each person met: the others in the pairs where they answered "we met" (track,
    person_id, other_id)."""
    own = met[["pair", "person_id", "track"]].drop_duplicates().merge(members, on="pair")
    own = own[own["person_id_x"] != own["person_id_y"]]
    return pd.DataFrame(
        {"track": own["track"], "person_id": own["person_id_x"], "other_id": own["person_id_y"]}
    )


def _in_track(frame: pd.DataFrame, track: str) -> pd.DataFrame:
    """A frame's rows of one track, or all of them for both tracks."""
    return frame if track == "both" else frame[frame["track"] == track]


def _network(
    frames: Frames, out: Computed, ties_of: dict[str, pd.DataFrame], met_now: pd.DataFrame
) -> None:
    """The network each track builds, and both together: cross-department ties against random
    pairing, the E-I index, department pairs joined, new ties, modularity, and each person's
    reach so far (reports.network defines each)."""
    people = frames.people
    department = _recorded(people, "department")
    cohort = _recorded(people, "cohort")
    # Departments of people met before this term who are not on this term's roster.
    everyone = frames.departments.set_index("person_id")["department"]
    everyone = everyone[everyone.notna() & (everyone != NOT_RECORDED)]
    departments_of = pd.concat([everyone[~everyone.index.isin(department.index)], department])
    earlier = frames.earlier_ties["key"].to_numpy(dtype="int64")
    rows = out.rows
    for track in NETWORK_TRACKS:
        taking = (
            _in_track(people, track).loc[lambda p: p["enrolled"], "person_id"].drop_duplicates()
        )
        ties = ties_of[track]
        a, b = ties["a"].map(department), ties["b"].map(department)
        known = a.notna() & b.notna()
        a_known, b_known = a[known].tolist(), b[known].tolist()
        cross, recorded = int((a[known] != b[known]).sum()), int(known.sum())
        rows.append(proportion_row(track, "all", "All", "cross_department", cross, recorded))
        sizes = taking.map(department).value_counts()
        expected = network.expected_cross_share(sizes.tolist())
        rows.append(
            Row(
                track,
                "all",
                "All",
                "expected_cross",
                value=expected,
                note="" if expected is not None else "no data",
            )
        )
        for metric, value in (
            ("ei_index", network.ei_index(cross, recorded - cross)),
            ("modularity", network.modularity(a_known, b_known)),
        ):
            rows.append(
                Row(
                    track,
                    "all",
                    "All",
                    metric,
                    numerator=cross,
                    denominator=recorded,
                    value=value,
                    n=recorded,
                    note="" if value is not None else "no data",
                )
            )
        joined = network.joined_pairs(a_known, b_known)
        possible = network.department_pairs(len(sizes))
        if cross == 0 and possible:
            rows.append(Row(track, "all", "All", "dept_pairs_joined", note=NONE_CROSSED))
        else:
            rows.append(proportion_row(track, "all", "All", "dept_pairs_joined", joined, possible))
        fresh = network.novel(
            tie_key(ties["a"], ties["b"]).to_numpy(),
            earlier,
            ties["a"].map(cohort).to_numpy(),
            ties["b"].map(cohort).to_numpy(),
        )
        rows.append(proportion_row(track, "all", "All", "novel_ties", fresh, len(ties)))
        _reach(frames, track, met_now, taking, departments_of, out)


def _reach(
    frames: Frames,
    track: str,
    met_now: pd.DataFrame,
    taking: pd.Series,
    departments_of: pd.Series,
    out: Computed,
) -> None:
    """People and departments each participant has met in the track so far, and per month."""
    now = _in_track(met_now, track)[["person_id", "other_id"]]
    before = _in_track(frames.met_before, track)[["person_id", "other_id"]]
    met = pd.concat([before, now], ignore_index=True).drop_duplicates()
    people_met = met.groupby("person_id")["other_id"].nunique()
    met["department"] = met["other_id"].map(departments_of)
    departments_met = met.dropna(subset=["department"]).groupby("person_id")["department"].nunique()
    months_now = _in_track(frames.check_ins, track).groupby("person_id")["period"].nunique()
    months_before = frames.months_before[frames.months_before["track"] == track]
    months = months_now.add(months_before.set_index("person_id")["months"], fill_value=0)
    reached = taking.map(people_met).fillna(0).to_numpy(dtype=float)
    for metric, values in (
        ("reach_people", reached),
        ("reach_departments", taking.map(departments_met).fillna(0).to_numpy(dtype=float)),
        ("reach_pace", reached / np.maximum(taking.map(months).fillna(0).to_numpy(dtype=float), 1)),
    ):
        out.rows.append(_median(track, "all", "All", metric, values))


def _advising(frames: Frames, out: Computed) -> None:
    """Coverage of the formal track's trainees, their wait, and the mentors' load."""
    advising = frames.advising
    trainees = advising["trainee_id"].nunique()
    paired = advising[advising["mentor_id"].notna()]
    advised = paired["trainee_id"].nunique()
    out.rows.append(proportion_row("formal", "all", "All", "advising_coverage", advised, trainees))
    waited = paired.groupby("trainee_id")["waited"].min().to_numpy(dtype=float)
    out.rows.append(_median("formal", "all", "All", "days_to_mentor", waited))
    load = paired.groupby("mentor_id")["trainee_id"].nunique()
    out.rows.append(_median("formal", "all", "All", "mentees_per_mentor", load.to_numpy()))
    for k, group in enumerate(LOADS, start=1):
        n = int((load >= k).sum()) if k == len(LOADS) else int((load == k).sum())
        out.rows.append(count_row("formal", "load", group, "mentors_by_load", n))
    places = frames.places.set_index("mentor_id")["capacity"]
    stated = load[load.index.isin(places.index)]
    over = int((stated > places.reindex(stated.index)).sum())
    out.rows.append(count_row("formal", "all", "All", "over_capacity", over))
    out.rows.append(count_row("formal", "all", "All", "assessor_pairs", frames.assessor_pairs))


def trend(rows_by_term: list[tuple[str, Computed]]) -> list[Row]:
    """The headline proportions and the network's figures across terms, as rows with
    group_kind "term"."""
    out = []
    for term_name, computed in rows_by_term:
        for tracks, metrics in (
            (TRACKS, TREND),
            (NETWORK_TRACKS, NETWORK_TREND),
            (TRACKS, SURVEY_TREND),
        ):
            for track in tracks:
                for metric in metrics:
                    row = computed.get(track, metric)
                    if row.note == "not computed":
                        continue  # a term without it (a term that ran no survey)
                    out.append(Row(**{**row.__dict__, "group_kind": "term", "group": term_name}))
    return out


def as_frame(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame([r.__dict__ for r in rows])
