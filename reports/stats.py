"""The statistics of the report, from scipy: Wilson intervals for proportions, Newcombe's
interval for a difference of two proportions (built from the two Wilson intervals, method 10 of
Newcombe 1998, which scipy does not provide), and Mann-Whitney with P(X > Y) for counts/ratings."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

UNSTABLE_EVENTS = 20  # estimates from this many events or fewer are flagged


@functools.cache
def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval, the same as scipy's
    `binomtest(...).proportion_ci(method="wilson")` (a test holds them equal) in closed form:
    binomtest also works out a p-value nobody reads, a third of the report's time."""
    if n == 0:
        return (math.nan, math.nan)
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (from the Wilson limits)."""
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (d, low, high)


@dataclass(frozen=True)
class Comparison:
    """Two samples of counts or ratings compared without assuming a distribution."""

    u: float
    p_value: float
    prob_superiority: float  # P(X > Y) + P(X = Y) / 2, from U: 0.5 means no difference


def mann_whitney(x: list[float] | np.ndarray, y: list[float] | np.ndarray) -> Comparison | None:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return None
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    return Comparison(
        float(result.statistic), float(result.pvalue), float(result.statistic) / (len(x) * len(y))
    )


# How the reports write a few kinds of number, the same in every output.


def p_value(p: float) -> str:
    """A p-value as reports print it: "p < 0.001" below that, else three decimals."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def decimals(value: float | None, *, fixed: bool = False) -> str:
    """A median or quartile to two decimals at most (a rate per month runs to many), or an
    index or a mean to two exactly; never "-0.00"."""
    if value is None:
        return "–"
    text = f"{value:.2f}" if fixed else f"{round(value, 2):g}"
    return text.removeprefix("-") if text.strip("-0.") == "" else text


def signed_points(share: float) -> str:
    """A difference of shares in percentage points, signed ("+12", "-3"), and "0" for what
    rounds to none: never "-0" or "+0"."""
    points = round(100 * share)
    return f"{points:+d}" if points else "0"


def median_iqr(values: list[float] | np.ndarray) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return (math.nan, math.nan, math.nan)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return (float(med), float(q1), float(q3))
