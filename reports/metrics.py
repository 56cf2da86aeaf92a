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

from reports.data import TRACKS, Frames
from reports.stats import UNSTABLE_EVENTS, mann_whitney, median_iqr, newcombe, wilson


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    kind: str  # "count", "proportion" or "median"
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

# Every metric defined, in the order methods sections and the data dictionary list them.
ALL_METRICS = METRICS + ADVISING_METRICS + ASK_METRICS
BY_ID = {m.id: m for m in ALL_METRICS}
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

    def get(self, track: str, metric: str, group_kind: str = "all", group: str = "All") -> Row:
        for row in self.rows:
            if (row.track, row.metric, row.group_kind, row.group) == (
                track,
                metric,
                group_kind,
                group,
            ):
                return row
        return Row(track, group_kind, group, metric, note="not computed")


def proportion_row(track: str, kind: str, group: str, metric: str, x: int, n: int) -> Row:
    low, high = wilson(x, n)
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
        note="" if n else "no data",
    )


def _median(track: str, kind: str, group: str, metric: str, values: Any) -> Row:
    values = np.asarray(values, dtype=float)
    med, q1, q3 = median_iqr(values)
    if not len(values):
        return Row(track, kind, group, metric, note="no data")
    return Row(
        track, kind, group, metric, value=med, q1=q1, q3=q3, n=len(values), denominator=len(values)
    )


def count_row(track: str, kind: str, group: str, metric: str, value: int) -> Row:
    return Row(track, kind, group, metric, numerator=value, value=value, n=value)


def compute(frames: Frames, with_next_term: bool) -> Computed:
    out = Computed()
    samples: dict[str, dict[str, np.ndarray]] = {}
    people, pairs, members, checks = frames.people, frames.pairs, frames.members, frames.check_ins
    met = checks[checks["status"] == "met"]
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
        own_met = tmet[["pair", "person_id"]].drop_duplicates()
        ties = own_met.merge(members, on="pair", suffixes=("", "_other"))
        ties = ties[ties["person_id"] != ties["person_id_other"]]
        distinct = ties.groupby("person_id")["person_id_other"].nunique()
        rows.append(
            _median(
                track,
                "all",
                "All",
                "people_met",
                taking["person_id"].map(distinct).fillna(0).to_numpy(),
            )
        )
        attrs = tp.set_index("person_id")[["department", "stage"]]
        attrs = attrs[~attrs.index.duplicated()]
        pairs_met = set(periods.index)
        tie_rows = members[members["pair"].isin(pairs_met)].merge(members, on="pair")
        tie_rows = tie_rows[tie_rows["person_id_x"] < tie_rows["person_id_y"]]
        for metric, column in (("cross_department", "department"), ("cross_stage", "stage")):
            a = tie_rows["person_id_x"].map(attrs[column])
            b = tie_rows["person_id_y"].map(attrs[column])
            known = a.notna() & b.notna() & (a != "Not recorded") & (b != "Not recorded")
            rows.append(
                proportion_row(
                    track, "all", "All", metric, int((a[known] != b[known]).sum()), int(known.sum())
                )
            )
        rows.append(
            proportion_row(track, "all", "All", "new_ties", int(tpairs["new_tie"].sum()), n_pairs)
        )
        answered = int(tchecks["status"].notna().sum())
        rows.append(proportion_row(track, "all", "All", "response_rate", answered, len(tchecks)))
        rows.append(
            proportion_row(
                track, "all", "All", "no_response", len(tchecks) - answered, len(tchecks)
            )
        )
        ratings = tchecks["rating"].dropna().astype(int).to_numpy()
        samples.setdefault("rating", {})[track] = ratings
        out.distributions[track] = {r: int((ratings == r).sum()) for r in range(1, 6)}
        rows.append(
            proportion_row(track, "all", "All", "useful", int((ratings >= 4).sum()), len(ratings))
        )
        rows.append(_median(track, "all", "All", "rating", ratings))
        rows.append(
            proportion_row(
                track, "all", "All", "led_to", int(tmet["led_to"].notna().sum()), len(tmet)
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
        for kind, _ in BREAKDOWNS:
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
                rows.append(
                    proportion_row(
                        track,
                        kind,
                        str(group),
                        "response_rate",
                        int(ids.map(answered_by).fillna(0).sum()),
                        int(ids.map(asked_by).fillna(0).sum()),
                    )
                )

    _by_origin(frames, out)
    _advising(frames, out)
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
    """The headline proportions across terms, as rows with group_kind "term"."""
    out = []
    for term_name, computed in rows_by_term:
        for track in TRACKS:
            for metric in ("participation", "pairs_met", "response_rate"):
                row = computed.get(track, metric)
                out.append(Row(**{**row.__dict__, "group_kind": "term", "group": term_name}))
    return out


def as_frame(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame([r.__dict__ for r in rows])
