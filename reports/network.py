"""The network measures of the report, on the ties people recorded meeting: each defined once,
here, as a plain function (the methods section prints the same definitions), and tested on small
graphs worked out by hand.

A tie is two people who met (a pair or chat in which one of them answered “we met”); the
department network joins departments through those ties. Only aggregates leave this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import pandas as pd


def expected_cross_share(sizes: Iterable[int]) -> float | None:
    """The share of ties that would join two departments if people were paired at random:
    1 - Σ n_d(n_d - 1) / (N(N - 1)), for departments of n_d people and N people in all."""
    counts = [n for n in sizes if n > 0]
    total = sum(counts)
    if total < 2:
        return None
    return 1 - sum(n * (n - 1) for n in counts) / (total * (total - 1))


def ei_index(external: int, internal: int) -> float | None:
    """Krackhardt and Stern's E-I index: (E - I) / (E + I), from -1 (every tie inside a
    department) to +1 (every tie across departments)."""
    total = external + internal
    return None if total == 0 else (external - internal) / total


def department_pairs(departments: int) -> int:
    """Pairs of departments that could be joined: D(D - 1) / 2."""
    return departments * (departments - 1) // 2


def joined_pairs(department_a: Sequence[Hashable], department_b: Sequence[Hashable]) -> int:
    """Pairs of different departments joined by at least one tie (each tie given by its two
    people's departments, in two lists)."""
    return len(
        {
            (x, y) if str(x) < str(y) else (y, x)
            for x, y in zip(department_a, department_b, strict=True)
            if x != y
        }
    )


def modularity(department_a: Sequence[Hashable], department_b: Sequence[Hashable]) -> float | None:
    """Newman's modularity of the departments in the network of ties between people:
    Q = sum over departments d of [L_d / m - (K_d / 2m)^2], with L_d the ties inside d, K_d
    the ends of ties in d (the sum of its people's degrees) and m all ties. Near 0: ties
    ignore departments; higher: departments are silos. (networkx's
    `community.modularity` of the partition by department gives the same, and is what the
    tests check it against; counting the ties' departments takes milliseconds where building
    the graph took a second at 20,000 people.)"""
    m = len(department_a)
    if m == 0:
        return None
    inside = Counter(x for x, y in zip(department_a, department_b, strict=True) if x == y)
    ends = Counter(department_a) + Counter(department_b)
    return sum(inside[d] / m - (k / (2 * m)) ** 2 for d, k in ends.items())


def novel(keys: np.ndarray, earlier: np.ndarray, cohort_a: np.ndarray, cohort_b: np.ndarray) -> int:
    """Ties between people who had no earlier tie: never paired or in a chat together before
    (`earlier` holds the tie keys of those who were), and not in the same cohort (class year;
    None or NaN is none)."""
    known = pd.notna(cohort_a) & pd.notna(cohort_b)
    same = known & (np.asarray(cohort_a, dtype=object) == np.asarray(cohort_b, dtype=object))
    return int((~np.isin(keys, earlier) & ~same).sum())


__all__ = [
    "department_pairs",
    "ei_index",
    "expected_cross_share",
    "joined_pairs",
    "modularity",
    "novel",
]
