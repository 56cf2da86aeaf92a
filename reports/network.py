"""The network measures of the report, on the ties people recorded meeting: each defined once,
here, as a plain function (the methods section prints the same definitions), and tested on small
graphs worked out by hand.

A tie is two people who met (a pair or chat in which one of them answered “we met”); the
department network joins departments through those ties. Only aggregates leave this module.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

import networkx as nx


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


def joined_pairs(ties: Iterable[tuple[Hashable, Hashable]]) -> int:
    """Pairs of different departments joined by at least one tie (each tie given as its two
    people's departments)."""
    return len({frozenset(t) for t in ties if t[0] != t[1]})


def modularity(ties: Iterable[tuple[int, int]], department: Mapping[int, Hashable]) -> float | None:
    """Newman's modularity of the departments in the network of ties between people (networkx):
    Σ_d [L_d / m - (K_d / 2m)²], with L_d the ties inside department d, K_d the ties its people
    have, m all ties. Near 0: ties ignore departments; higher: departments are silos."""
    graph = nx.Graph()
    graph.add_edges_from(ties)
    if graph.number_of_edges() == 0:
        return None
    groups: dict[Hashable, set[int]] = {}
    for person in graph.nodes:
        groups.setdefault(department[person], set()).add(person)
    return float(nx.community.modularity(graph, groups.values()))


def novel(
    ties: Iterable[tuple[int, int]],
    earlier: set[tuple[int, int]],
    cohort: Mapping[int, Hashable],
) -> int:
    """Ties between people who had no earlier tie: never paired or in a chat together before,
    and not in the same cohort (class year). `earlier` holds pairs with the smaller id first;
    a cohort of None is none."""
    count = 0
    for a, b in ties:
        key = (a, b) if a < b else (b, a)
        same = cohort.get(a) is not None and cohort.get(a) == cohort.get(b)
        count += key not in earlier and not same
    return count


__all__ = [
    "department_pairs",
    "ei_index",
    "expected_cross_share",
    "joined_pairs",
    "modularity",
    "novel",
]
