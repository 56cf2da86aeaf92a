"""The linear-programming audit of everything published about a term, as statistical agencies
audit linked tables (FCSM Statistical Policy Working Paper 22).

Whoever holds every file published about a term knows each shown count, what each hidden value's
label says ("fewer than 5" is 1 to 4), and every sum that ties the counts together
(`reports.quantities.relations`). For each hidden count the audit finds the smallest and
largest values consistent with all of that, two small linear programs per count over the hidden
counts connected to it, and compares the interval with what the methods promise:

- a count shown as "fewer than t" could still be any of 1 to t - 1;
- a rate hidden because all but fewer than t did the same: the ones who did not could still be
  any of 1 to t - 1;
- a rate hidden because of a small base b: its count could still be at least min(t - 1, b + 1)
  different values (never pinned, however small the base).

Put in one line: every protected count from 1 to t - 1 that is hidden, whatever its label says,
can still be at least t - 1 different values. What a shown 0% or 100% of a group of at least t
says of every part of that group is not counted against it (it is what the figure shows).
Values hidden only to protect another (‡) carry no
promise of their own (they are not small); their intervals are computed and reported with the
rest. HiGHS solves the programs (the solver scipy's linprog uses), kept warm between the two
directions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import highspy
import numpy as np

from reports.metrics import BY_ID, Computed, Row
from reports.quantities import (
    ABOUT_PEOPLE,
    BASE,
    DISTRIBUTION_FEW_PEOPLE,
    DISTRIBUTION_FEW_RESPONDENTS,
    DISTRIBUTION_SMALL,
    ROW_COUNTS,
    SENSITIVE,
    SMALL_BASE,
    SMALL_COMPLEMENT,
    SMALL_COUNT,
    Key,
    Relation,
    distribution_key,
    each_row,
    row_keys,
)

TOLERANCE = 1e-6
# How many pairs of solves a group's promises are proved with together before the rest are
# solved one by one.
CERTIFY_ROUNDS = 8


@dataclass(frozen=True)
class Target:
    """A hidden value the methods make a promise about: terms · counts must stay free to take
    any value in some interval at least `width` wide (width + 1 whole numbers)."""

    terms: tuple[tuple[Key, float], ...]
    width: float
    label: str

    @property
    def keys(self) -> list[Key]:
        return [k for k, _ in self.terms]


@dataclass
class Finding:
    target: Target
    low: float
    high: float
    # Narrowed only by a shown 0% or 100%, which says it of everyone in its group by design.
    by_extreme: bool = False
    # Narrowed by the labels alone (every protected count unknown): hiding more cannot help,
    # only a label that says less can.
    by_labels: bool = False

    @property
    def kept(self) -> bool:
        return self.by_extreme or self.promised(self.low, self.high)

    def promised(self, low: float, high: float) -> bool:
        return high - low >= self.target.width - TOLERANCE


@dataclass
class Audit:
    hidden_counts: int = 0  # distinct counts hidden in at least one place and shown nowhere
    findings: list[Finding] = field(default_factory=list)
    # Every hidden count's interval, ‡ ones included: key -> (low, high).
    intervals: dict[Key, tuple[float, float]] = field(default_factory=dict)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.kept]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def narrowest(self) -> Finding | None:
        """The promised value pinned most tightly (the smallest interval), leaving out those
        narrowed only by a shown 0% or 100%."""
        strict = [f for f in self.findings if not f.by_extreme]
        return min(strict, key=lambda f: (f.high - f.low, f.target.keys), default=None)


# Which rows and cells are hidden, and why: (scope, row) -> reason or "" when shown;
# (scope, track, rating) -> distribution code or 0 when shown.
RowReason = Callable[[str, Row], str]
CellCode = Callable[[str, str, int], int]


def published_rows(tables: dict[str, Computed]) -> tuple[RowReason, CellCode]:
    """Read what the finished reports show: each row's hidden reason and each rating cell."""

    def row_reason(scope: str, row: Row) -> str:
        return row.hidden_reason if row.suppressed else ""

    def cell(scope: str, track: str, rating: int) -> int:
        value = tables[scope].distributions[track][rating]
        return value if value < 0 else 0

    return row_reason, cell


Label = tuple[tuple[tuple[Key, float], ...], float, float]  # terms · counts in [low, high]


def _row_label(scope: str, row: Row, reason: str, threshold: int) -> Label | None:
    """What a hidden row's label tells anyone who reads it ("fewer than 5" is 1 to 4)."""
    numerator, base = ROW_COUNTS[row.metric]
    at = (scope, row.track, row.group_kind, row.group)
    if reason == SMALL_COUNT and numerator:
        return ((((*at, numerator), 1.0),), 1.0, threshold - 1.0)
    if reason == SMALL_COMPLEMENT and numerator and base:
        return ((((*at, base), 1.0), ((*at, numerator), -1.0)), 1.0, threshold - 1.0)
    if reason == SMALL_BASE and base:
        return ((((*at, base), 1.0),), 1.0, threshold - 1.0)
    return None


def audit(
    tables: dict[str, Computed],
    truth: dict[Key, float],
    relations: list[Relation],
    threshold: int,
    hidden: tuple[RowReason, CellCode] | None = None,
    *,
    intervals: bool = True,
    cache: dict | None = None,
    kept: set[Target] | None = None,
) -> Audit:
    """Audit the term's tables as published (or as `hidden` would publish them).

    `intervals` also finds every hidden count's interval (for the audit's own report; the
    protection needs only the promises); `cache` keeps solved groups between calls. `kept`:
    promises a looser choice already kept, not solved again (see `Protection.settle`)."""
    row_reason, cell = hidden or published_rows(tables)
    small = (1.0, threshold - 1.0)
    shown: set[Key] = set()
    appears: set[Key] = set()
    labels: list[Label] = []
    rates: list[tuple[Key, Key]] = []  # hidden proportions of protected counts: (count, base)
    # Counts hidden for whom they rest on (fewer than t people, or mostly one person's): their
    # labels say nothing of them, and they must still be as free as a small count.
    about_people: set[Key] = set()
    for scope, row in each_row(tables):
        keys = row_keys(scope, row)
        appears.update(keys)
        reason = row_reason(scope, row)
        if not reason:
            shown.update(keys)
            continue
        if (label := _row_label(scope, row, reason, threshold)) is not None:
            labels.append(label)
        numerator, base = ROW_COUNTS[row.metric]
        if reason in ABOUT_PEOPLE and numerator in SENSITIVE:
            about_people.add((scope, row.track, row.group_kind, row.group, numerator))
        if numerator in SENSITIVE and base and BY_ID[row.metric].kind == "proportion":
            at = (scope, row.track, row.group_kind, row.group)
            rates.append(((*at, numerator), (*at, base)))
    for scope, computed in tables.items():
        for track, distribution in computed.distributions.items():
            for rating in distribution:
                key = distribution_key(scope, track, rating)
                appears.add(key)
                code = cell(scope, track, rating)
                if code == 0:
                    shown.add(key)
                elif code == DISTRIBUTION_SMALL:
                    labels.append((((key, 1.0),), *small))
                elif code == DISTRIBUTION_FEW_RESPONDENTS:
                    labels.append(((((scope, track, "all", "All", "ratings"), 1.0),), *small))
                elif code == DISTRIBUTION_FEW_PEOPLE:
                    about_people.add(key)
    unknown = sorted(k for k in appears if k not in shown and k in truth)

    # The promises: a protected count from 1 to t - 1 (or all but 1 to t - 1 of its base) can
    # still be at least t - 1 values; a count on a base below t can still be anything up to it.
    # A count on a base below t has the base's promise instead: at least as many values as
    # the base allows (2 of 3 pairs: at least 3 of 0 to 3), never one.
    width = threshold - 2.0

    def on_small_base(count: Key) -> bool:
        base = (*count[:4], BASE[count[4]]) if count[4] in BASE else None
        return base in truth and 0 < truth[base] < threshold

    targets: dict[tuple, Target] = {}
    for key in unknown:
        if key[4] in SENSITIVE and 0 < truth[key] < threshold and not on_small_base(key):
            targets[((key, 1.0),)] = Target(((key, 1.0),), width, "small count")
    for count, base in rates:
        if count not in unknown:
            continue  # shown elsewhere: the audit's leak check below finds it
        complement = truth[base] - truth[count]
        if 0 < complement < threshold and not on_small_base(count):
            terms = ((base, 1.0), (count, -1.0))
            targets[terms] = Target(terms, width, "small complement")
        if 0 < truth[base] < threshold:
            terms = ((count, 1.0),)
            need = min(width, truth[base])
            targets[(*terms, "base")] = Target(terms, need, "count on a small base")
    for count in sorted(about_people):
        if count in unknown:
            terms = ((count, 1.0),)
            targets.setdefault(terms, Target(terms, width, "count of few people"))
    # A label about a protected count that is shown elsewhere gives it away outright.
    leaks = [
        Finding(Target(terms, 1.0, "label of a shown count"), value, value)
        for terms, low, high in labels
        if all(k in shown for k, _ in terms)
        and any(k[4] in SENSITIVE for k, _ in terms)
        and (value := sum(c * truth[k] for k, c in terms)) is not None
    ]
    result = Audit(hidden_counts=len(unknown), findings=leaks)
    if unknown:
        cache = cache if cache is not None else {}
        system = _System(unknown, truth, relations, labels, cache)
        pending = [t for t in targets.values() if kept is None or t not in kept]
        if not intervals:
            # Only whether each promise is kept is needed (the protection's rounds): most are
            # proved together; the interval of each is the published audit's, solved in full.
            unproved = system.certify(pending)
            if kept is not None:
                kept.update(set(pending) - set(unproved))
            pending = unproved
        for target in pending:
            result.findings.append(Finding(target, *system.bounds(target.terms)))
        if result.failures:
            # A shown "none of the 6" or "all of the 6" (a base of at least t) says the same of
            # every part of that group; what it alone pins is what it shows. Treat those as
            # unknown and look again: a finding kept then was narrowed by nothing else.
            extremes = [
                k
                for k in shown
                if k in truth
                and k[4] in SENSITIVE
                and k[4] in BASE
                and (base := (*k[:4], BASE[k[4]])) in truth
                and truth[base] >= threshold
                and truth[k] in (0.0, truth[base])
            ]
            if extremes:
                relaxed = _System(sorted({*unknown, *extremes}), truth, relations, labels, cache)
                for finding in result.failures:
                    if finding.promised(*relaxed.bounds(finding.target.terms)):
                        finding.by_extreme = True
        if result.failures:
            protected = sorted({*unknown, *(k for k in truth if k[4] in SENSITIVE)})
            blind = _System(protected, truth, relations, labels, cache)
            for finding in result.failures:
                if not finding.promised(*blind.bounds(finding.target.terms)):
                    finding.by_labels = True
        if intervals:
            for key in unknown:
                result.intervals[key] = system.bounds(((key, 1.0),))
    return result


class _System:
    """The hidden counts as unknowns of a linear system: every relation, with each shown count
    as the constant it is, and every label's bounds; solved one connected group at a time."""

    def __init__(
        self,
        unknown: list[Key],
        truth: dict[Key, float],
        relations: list[Relation],
        labels: list[Label],
        cache: dict,
    ):
        self.truth = truth
        self.index = {k: i for i, k in enumerate(unknown)}
        self.cache = cache
        rows: list[tuple[tuple[tuple[int, float], ...], float, float]] = []  # terms, low, high
        for relation in relations:
            terms, constant = self._split(relation.terms)
            if terms:
                rows.append((terms, -np.inf if relation.at_most else -constant, -constant))
        for terms, low, high in labels:
            terms_, constant = self._split(terms)
            if terms_:
                rows.append((terms_, low - constant, high - constant))
        parent = list(range(len(unknown)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for terms, _, _ in rows:
            for i, _ in terms[1:]:
                parent[find(i)] = find(terms[0][0])
        self.group = [find(i) for i in range(len(unknown))]
        self.rows: dict[int, list] = {}
        for row in rows:
            self.rows.setdefault(self.group[row[0][0][0]], []).append(row)
        self.members: dict[int, list[int]] = {}
        for i, g in enumerate(self.group):
            self.members.setdefault(g, []).append(i)
        self.models: dict[int, tuple[object, dict[int, int]]] = {}

    def _split(self, terms: tuple[tuple[Key, float], ...]) -> tuple[tuple, float]:
        inside: dict[int, float] = {}
        constant = 0.0
        for key, c in terms:
            if key in self.index:
                inside[self.index[key]] = inside.get(self.index[key], 0.0) + c
            else:
                constant += c * self.truth[key]
        return tuple(sorted(inside.items())), constant

    def _model(self, g: int) -> tuple[_Model, dict[int, int]]:
        if g not in self.models:
            members = self.members[g]
            local = {v: j for j, v in enumerate(members)}
            rows = tuple(
                (tuple((local[i], c) for i, c in t), lo, hi) for t, lo, hi in self.rows.get(g, [])
            )
            # The same group with the same shown values is the same program: solved once
            # across the protection's rounds.
            key = (rows, len(members))
            if key not in self.cache:
                self.cache[key] = _Model(rows, len(members))
            self.models[g] = (self.cache[key], local)
        return self.models[g]

    def certify(self, targets: list[Target]) -> list[Target]:
        """The targets not yet proved kept, after two solves per group: the least and the
        greatest of all its targets' values together. Both solutions are solutions of the
        whole program, so a target whose value differs by its width between the two can take
        at least that many values: kept, as its own two solves would show. Most promises of a
        term are proved so, at two solves a group instead of two a promise; the rest are
        solved one by one (`bounds`)."""
        by_group: dict[int, list[tuple[Target, tuple]]] = {}
        for target in targets:
            objective, _ = self._split(target.terms)
            if objective:
                by_group.setdefault(self.group[objective[0][0]], []).append((target, objective))
        proved: set[Target] = set()
        # Weighted afresh each round (fixed weights: the same term, the same proof), so a
        # target another's weight pulled back is pulled its own way the next time.
        draw = np.random.default_rng(0)
        for g, found in by_group.items():
            model, local = self._model(g)
            for _ in range(CERTIFY_ROUNDS):
                total = np.zeros(model.size)
                for _, objective in found:
                    weight = draw.uniform(-1.0, 1.0)
                    for i, c in objective:
                        total[local[i]] += weight * c
                ends = model.extremes(total)
                if ends is None:
                    break
                low, high = ends
                left = []
                for target, objective in found:
                    at_low = sum(c * low[local[i]] for i, c in objective)
                    at_high = sum(c * high[local[i]] for i, c in objective)
                    if abs(at_high - at_low) >= target.width - TOLERANCE:
                        proved.add(target)
                    else:
                        left.append((target, objective))
                if len(left) in (0, len(found)):
                    break  # all proved, or a round proved none: the rest are solved alone
                found = left
        return [t for t in targets if t not in proved]

    def bounds(self, terms: tuple[tuple[Key, float], ...]) -> tuple[float, float]:
        objective, constant = self._split(terms)
        if not objective:
            return constant, constant
        model, local = self._model(self.group[objective[0][0]])
        low, high = model.bounds(tuple((local[i], c) for i, c in objective))
        return low + constant, high + constant


class _Model:
    """One group's linear program in HiGHS, built once; each objective is solved both ways,
    warm from the previous solve."""

    def __init__(self, rows: tuple, size: int):
        self.size = size
        self.solved: dict[tuple, tuple[float, float]] = {}
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        inf = highspy.kHighsInf
        self.h.addVars(size, np.zeros(size), np.full(size, inf))
        if rows:
            starts = np.cumsum([0] + [len(t) for t, _, _ in rows[:-1]]).astype(np.int32)
            self.h.addRows(
                len(rows),
                np.array([-inf if lo == -np.inf else lo for _, lo, _ in rows]),
                np.array([hi for _, _, hi in rows]),
                sum(len(t) for t, _, _ in rows),
                starts,
                np.array([i for t, _, _ in rows for i, _ in t], dtype=np.int32),
                np.array([c for t, _, _ in rows for _, c in t], dtype=float),
            )
        self.cost = np.zeros(size)

    def bounds(self, objective: tuple) -> tuple[float, float]:
        """The smallest and largest value of the objective over counts >= 0 meeting every row."""
        if objective in self.solved:
            return self.solved[objective]
        cost = np.zeros(self.size)
        for i, c in objective:
            cost[i] = c
        out = []
        for sense, status in self._both_ways(cost):
            if status == highspy.HighsModelStatus.kOptimal:
                out.append(self.h.getInfo().objective_function_value)
            elif status == highspy.HighsModelStatus.kUnbounded:
                out.append(-np.inf if sense == highspy.ObjSense.kMinimize else np.inf)
            else:
                raise ValueError(f"the published figures are inconsistent ({status})")
        self.solved[objective] = (out[0], out[1])
        return self.solved[objective]

    def extremes(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A solution least and one greatest in `cost` (None where either is unbounded)."""
        ends = []
        for _, status in self._both_ways(cost):
            if status != highspy.HighsModelStatus.kOptimal:
                return None
            ends.append(np.array(self.h.getSolution().col_value))
        return ends[0], ends[1]

    def _both_ways(self, cost: np.ndarray) -> Iterator[tuple[object, object]]:
        """Solve for `cost` least, then greatest, warm from the previous solve: each sense
        and the status HiGHS reached, its solution in `self.h` until the next is asked for."""
        self.h.changeColsCost(self.size, np.arange(self.size, dtype=np.int32), cost)
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            self.h.changeObjectiveSense(sense)
            status = self._run()
            if status not in _DECIDED:
                # A warm start can leave HiGHS undecided on a degenerate program: from cold.
                self.h.clearSolver()
                status = self._run()
            yield sense, status

    def _run(self) -> object:
        self.h.run()
        return self.h.getModelStatus()


_DECIDED = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded)
