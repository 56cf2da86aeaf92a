"""Outcomes compared across who took part (program/outcomes): each measure a term has values of,
by participation (formal only, coffee only, both, neither) and by engagement (those taking part
who met three times or more, against fewer), with the interval and test that fit its type:

- a number: each group's mean with its 95% t interval; across participation, Kruskal-Wallis;
  engagement, the difference of means with Welch's interval and test;
- one of several answers: each group's share giving the favourable answer with Wilson's
  interval; across participation, the chi-square test of independence; engagement, the
  difference of shares with Newcombe's interval and Fisher's exact test.

Protection: a group resting on fewer people than the measure's minimum (never below the
institution's threshold) is hidden, and so is a share whose favourable count, or its rest, is
1 to threshold - 1; no total is published; where one of the three taking-part groups is hidden,
another is too (the engagement groups add up to them), and a hidden engagement group hides the
other. A group hidden in just one program's table is hidden in a second program's too (or, with
none other showing it, in the all-programs table), else it would come back by subtraction. The
term's linear-programming audit then checks them with the rest (reports/build.py
`outcome_audit_tables`). These are associations, not effects: the report says so.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from reports.stats import decimals, newcombe, p_value, signed_points, wilson

PARTICIPATION = ("Formal only", "Coffee only", "Both", "Neither")
OUTCOME_TRACK = "outcome:"  # an outcome's rows in the audit: track "outcome:<measure id>"
# Why a group is hidden, as the audit reads it (reports/build.py `outcome_audit_tables`).
FEW = "few"  # fewer people than the measure's minimum
FEW_FAVOURABLE = "few favourable"  # 1 to threshold - 1 gave the favourable answer
FEW_OTHER = "few other"  # 1 to threshold - 1 gave another answer
GIVES_AWAY = "gives away"  # hidden only so a hidden group cannot be worked out
TAKING_PART = PARTICIPATION[:3]
ENGAGEMENT = ("Met 3 times or more", "Met fewer than 3 times")
ENGAGED_AT = 3


@dataclass
class OutcomeGroup:
    label: str
    n: int
    value: float | None  # a mean, or a share
    low: float | None
    high: float | None
    favourable: int | None = None  # a share's count
    hidden: str = ""  # why, in words, when hidden
    reason: str = ""  # why, as the audit reads it (FEW, FEW_FAVOURABLE, FEW_OTHER, GIVES_AWAY)

    def hide(self, why: str, reason: str = GIVES_AWAY) -> None:
        if not self.hidden:
            self.hidden, self.reason = why, reason


@dataclass
class OutcomeComparison:
    """One measure's comparison in one report table."""

    measure_id: int
    name: str
    numeric: bool
    definition: str
    source: str
    better: str
    favourable: str | None
    minimum: int
    participation: list[OutcomeGroup] = field(default_factory=list)
    participation_test: str = ""
    engagement: list[OutcomeGroup] = field(default_factory=list)
    engagement_difference: str = ""

    def group(self, label: str) -> OutcomeGroup:
        return next(g for g in (*self.participation, *self.engagement) if g.label == label)


def who_took_part(people: pd.DataFrame, check_ins: pd.DataFrame) -> pd.DataFrame:
    """Everyone on the term's rosters: their participation group, and whether they took part
    and met three times or more (distinct months or chats with a "we met", both tracks)."""
    taking = people[people["enrolled"].astype(bool)]
    everyone = pd.Index(sorted(set(people["person_id"])), name="person_id")
    formal = everyone.isin(taking.loc[taking["track"] == "formal", "person_id"])
    coffee = everyone.isin(taking.loc[taking["track"] == "coffee", "person_id"])
    met = check_ins.loc[check_ins["status"] == "met", ["person_id", "pair", "period"]]
    # Meetings: distinct (pair, month or chat) with a "we met", counted without a Python
    # function per person (20,000 of them took seconds).
    meetings = met.drop_duplicates().groupby("person_id").size()
    counted = meetings.reindex(everyone, fill_value=0).to_numpy()
    group = np.select(
        [formal & ~coffee, coffee & ~formal, formal & coffee],
        list(PARTICIPATION[:3]),
        default=PARTICIPATION[3],
    )
    engaged = np.where(
        formal | coffee, np.where(counted >= ENGAGED_AT, ENGAGEMENT[0], ENGAGEMENT[1]), None
    )
    return pd.DataFrame(
        {"person_id": everyone.to_numpy(), "participation": group, "engagement": engaged}
    )


def _mean_group(label: str, values: np.ndarray) -> OutcomeGroup:
    n = len(values)
    if n == 0:
        return OutcomeGroup(label, 0, None, None, None)
    mean = float(values.mean())
    if n < 2:
        return OutcomeGroup(label, n, mean, None, None)
    low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=stats.sem(values))
    spread = not (math.isnan(low) or math.isnan(high))
    return OutcomeGroup(
        label, n, mean, float(low) if spread else mean, float(high) if spread else mean
    )


def _share_group(label: str, answers: pd.Series, favourable: str) -> OutcomeGroup:
    n = len(answers)
    x = int((answers.str.casefold() == favourable.casefold()).sum())
    if n == 0:
        return OutcomeGroup(label, 0, None, None, None, 0)
    low, high = wilson(x, n)
    return OutcomeGroup(label, n, x / n, low, high, x)


fixed2 = functools.partial(decimals, fixed=True)  # a mean, its interval or a difference


def compare(
    measure: dict, values: pd.DataFrame, groups: pd.DataFrame, threshold: int
) -> OutcomeComparison:
    """One measure's comparison in one table (`values` its values for the table's people)."""
    numeric = measure["kind"] == "numeric"
    out = OutcomeComparison(
        int(measure["id"]),
        measure["name"],
        numeric,
        measure["definition"],
        measure["source"],
        measure["better"],
        measure["favourable"],
        max(int(measure["minimum_group"]), threshold),
    )
    joined = values.merge(groups, on="person_id")
    column = "number" if numeric else "answer"

    def made(label: str, part: pd.DataFrame) -> OutcomeGroup:
        if numeric:
            return _mean_group(label, part[column].to_numpy(dtype=float))
        return _share_group(label, part[column].astype(str), measure["favourable"])

    by = {label: joined[joined["participation"] == label] for label in PARTICIPATION}
    out.participation = [made(label, part) for label, part in by.items()]
    present = [part[column] for part in by.values() if len(part)]
    if len(present) > 1:
        if numeric:
            out.participation_test = "Kruskal–Wallis " + p_value(
                float(stats.kruskal(*[p.to_numpy(dtype=float) for p in present]).pvalue)
            )
        else:
            table = [[g.favourable, g.n - g.favourable] for g in out.participation if g.n]
            if all(sum(col) for col in zip(*table, strict=True)):
                out.participation_test = "chi-square test of independence " + p_value(
                    float(stats.chi2_contingency(table).pvalue)
                )
    engaged = {label: joined[joined["engagement"] == label] for label in ENGAGEMENT}
    out.engagement = [made(label, part) for label, part in engaged.items()]
    a, b = engaged[ENGAGEMENT[0]], engaged[ENGAGEMENT[1]]
    if len(a) >= 2 and len(b) >= 2:
        if numeric:
            x, y = a[column].to_numpy(dtype=float), b[column].to_numpy(dtype=float)
            test = stats.ttest_ind(x, y, equal_var=False)
            ci = test.confidence_interval(0.95)
            out.engagement_difference = (
                f"{fixed2(x.mean() - y.mean())} (95% CI {fixed2(ci.low)} to "
                f"{fixed2(ci.high)}; Welch's t test {p_value(float(test.pvalue))})"
            )
        else:
            g1, g2 = out.engagement
            d, low, high = newcombe(g1.favourable, g1.n, g2.favourable, g2.n)
            _, p = stats.fisher_exact(
                [[g1.favourable, g1.n - g1.favourable], [g2.favourable, g2.n - g2.favourable]]
            )
            out.engagement_difference = (
                f"{signed_points(d)} points (95% CI {signed_points(low)} to "
                f"{signed_points(high)}; Fisher's exact test {p_value(float(p))})"
            )
    return out


def _protect_own(out: OutcomeComparison, threshold: int) -> None:
    """A table's own rule (see the module's docstring)."""
    for group in (*out.participation, *out.engagement):
        few_answers = f"fewer than {threshold} people gave one of the answers"
        if 0 < group.n < out.minimum:
            group.hide(f"fewer than {out.minimum} people", FEW)
        elif group.favourable is not None and 0 < group.favourable < threshold:
            group.hide(few_answers, FEW_FAVOURABLE)
        elif group.favourable is not None and 0 < group.n - group.favourable < threshold:
            group.hide(few_answers, FEW_OTHER)
    taking = [g for g in out.participation if g.label in TAKING_PART]
    hidden = [g for g in taking if g.hidden]
    shown = sorted((g for g in taking if not g.hidden and g.n), key=lambda g: g.n)
    if len(hidden) == 1 and shown:
        shown[0].hide("hidden ‡ (it would give away a hidden group)")
    if any(g.hidden for g in out.engagement):
        for group in out.engagement:
            group.hide("hidden ‡ (it would give away a hidden group)")
    if any(g.hidden for g in (*out.participation, *out.engagement)):
        out.participation_test = out.participation_test and "not given: a group is hidden"
        if any(g.hidden for g in out.engagement):
            out.engagement_difference = ""


def outcome_tables(
    measures: pd.DataFrame,
    values_of: dict[str, pd.DataFrame],
    groups_of: dict[str, pd.DataFrame],
    threshold: int,
    all_scope: str | None,
) -> dict[str, list[OutcomeComparison]]:
    """Every table's comparisons, protected together: each table's own rule, then a group
    hidden in any program's table hidden in the all-programs one, whose rule runs again."""
    out: dict[str, list[OutcomeComparison]] = {}
    for scope, values in values_of.items():
        found = []
        for measure in measures.to_dict("records"):
            mine = values[values["measure_id"] == measure["id"]]
            if mine.empty:
                continue
            comparison = compare(measure, mine, groups_of[scope], threshold)
            _protect_own(comparison, threshold)
            found.append(comparison)
        out[scope] = found
    if all_scope is not None and all_scope in out:
        _protect_across(out, all_scope, threshold)
    return out


def _protect_across(
    out: dict[str, list[OutcomeComparison]], all_scope: str, threshold: int
) -> None:
    """The all-programs group is the programs' groups together: where exactly one program
    hides a group, the others' and the whole would give it back, so a second program's (the
    smallest shown) is hidden too, or, with no other program showing it, the whole's. Each
    table's own rule then runs again, until nothing more is hidden."""
    for whole in out[all_scope]:
        parts = [
            c
            for scope, found in out.items()
            if scope != all_scope
            for c in found
            if c.measure_id == whole.measure_id
        ]
        changed = True
        while changed:
            changed = False
            for group in (*whole.participation, *whole.engagement):
                if group.hidden:
                    continue
                theirs = [c.group(group.label) for c in parts]
                hidden = [g for g in theirs if g.hidden and g.n]
                shown = sorted((g for g in theirs if not g.hidden and g.n), key=lambda g: g.n)
                if len(hidden) != 1:
                    continue
                (shown[0] if shown else group).hide("hidden ‡ (it would give away a hidden group)")
                changed = True
            for comparison in (*parts, whole):
                before = [g.hidden for g in (*comparison.participation, *comparison.engagement)]
                _protect_own(comparison, threshold)
                after = [g.hidden for g in (*comparison.participation, *comparison.engagement)]
                changed = changed or before != after


def written_group(group: OutcomeGroup, numeric: bool) -> str:
    """A group's figure as every output prints it."""
    if group.hidden:
        return f"hidden: {group.hidden}" if not group.hidden.startswith("hidden") else group.hidden
    if not group.n or group.value is None:
        return "–"
    if numeric:
        if group.low is None:
            return f"mean {fixed2(group.value)} (n={group.n})"
        return (
            f"mean {fixed2(group.value)} (95% CI {fixed2(group.low)} to {fixed2(group.high)}; "
            f"n={group.n})"
        )
    return (
        f"{round(100 * group.value)}% ({group.favourable}/{group.n}; 95% CI "
        f"{round(100 * group.low)}%–{round(100 * group.high)}%)"
    )
