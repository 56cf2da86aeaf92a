"""Formal mentor matching: assign trainees to mentors, within each mentor's capacity, so that
as many trainees as possible get a mentor and, among such assignments, the total fit is as high as
possible (one more trainee with a mentor always beats a better fit for another).

Fit of a trainee-mentor pair (higher is better; a pair that is not allowed has no fit):
- allowed only if the mentor is at least one career stage further on (when both stages are
  known) and the pair is not in `forbidden` (pairs that ended in a rematch);
- 1 for any allowed pair;
- +1 per shared interest, up to 3;
- +1 for a stage gap of 1 to 3 steps, +0.5 for a larger one (or an unknown stage);
- +1 when the departments suit the program's preference ("same" or "different").

The solver works on a sparse candidate graph: each trainee's best mentors plus a few random ones,
and each mentor's best trainees, with every mentor's capacity expanded into slots. scipy's
`min_weight_full_bipartite_matching` solves that graph; if it has no full matching, the dense
`linear_sum_assignment` over every pair takes over. Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

MAX_SHARED_INTERESTS = 3
MAX_FIT = 1.0 + MAX_SHARED_INTERESTS + 1.0 + 1.0
NOT_ALLOWED = -np.inf
BLOCK = 512  # trainees scored at a time, so memory stays O(block x mentors)
# Below this many trainee x slot cells the exact dense solver is cheap (well under a second), so
# small programs always get the true optimum.
DENSE_CELLS = 1_000_000


class DepartmentPreference(Enum):
    SAME = "same"
    DIFFERENT = "different"
    NONE = "none"


@dataclass(frozen=True)
class Person:
    id: int
    department: str | None = None
    stage_rank: int | None = None  # position on the career scale; None when unknown
    interests: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Mentor(Person):
    capacity: int = 1


@dataclass(frozen=True)
class Pair:
    trainee_id: int
    mentor_id: int
    fit: float
    reasons: tuple[str, ...]


@dataclass
class Proposal:
    pairs: list[Pair] = field(default_factory=list)
    unmatched: dict[int, str] = field(default_factory=dict)  # trainee id -> why
    solver: str = "sparse"

    @property
    def total_fit(self) -> float:
        return float(sum(p.fit for p in self.pairs))


@dataclass
class _Arrays:
    """The people as arrays, which is what lets scoring stay fast at 10,000 trainees."""

    t_rank: np.ndarray
    m_rank: np.ndarray
    t_dept: np.ndarray
    m_dept: np.ndarray
    t_interests: csr_matrix
    m_interests: csr_matrix
    capacity: np.ndarray


def _encode(trainees: list[Person], mentors: list[Mentor]) -> _Arrays:
    departments: dict[str, int] = {}
    interests: dict[str, int] = {}

    def dept(p: Person) -> int:
        return (
            departments.setdefault(p.department.casefold(), len(departments))
            if p.department
            else -1
        )

    def interest_coords(people: list[Person]) -> tuple[list[int], list[int]]:
        rows: list[int] = []
        cols: list[int] = []
        for row, person in enumerate(people):
            for name in person.interests:
                rows.append(row)
                cols.append(interests.setdefault(name.casefold(), len(interests)))
        return rows, cols

    t_rows, t_cols = interest_coords(trainees)
    m_rows, m_cols = interest_coords(mentors)
    width = max(len(interests), 1)
    return _Arrays(
        t_rank=np.array([-1 if p.stage_rank is None else p.stage_rank for p in trainees], int),
        m_rank=np.array([-1 if p.stage_rank is None else p.stage_rank for p in mentors], int),
        t_dept=np.array([dept(p) for p in trainees], int),
        m_dept=np.array([dept(p) for p in mentors], int),
        t_interests=csr_matrix(
            (np.ones(len(t_rows)), (t_rows, t_cols)), shape=(len(trainees), width)
        ),
        m_interests=csr_matrix(
            (np.ones(len(m_rows)), (m_rows, m_cols)), shape=(len(mentors), width)
        ),
        capacity=np.array([max(m.capacity, 0) for m in mentors], int),
    )


def _fit_block(a: _Arrays, rows: np.ndarray, preference: DepartmentPreference) -> np.ndarray:
    """Fit of trainees `rows` against every mentor; NOT_ALLOWED where a pair may not be."""
    shared = (a.t_interests[rows] @ a.m_interests.T).toarray().astype(np.float32)
    fit = np.minimum(shared, MAX_SHARED_INTERESTS, out=shared)
    fit += 1.0
    t_rank = a.t_rank[rows][:, None]
    known = (t_rank >= 0) & (a.m_rank[None, :] >= 0)
    gap = a.m_rank[None, :] - t_rank
    fit += np.where(known & (gap >= 1) & (gap <= 3), np.float32(1.0), np.float32(0.5))
    t_dept = a.t_dept[rows][:, None]
    both = (t_dept >= 0) & (a.m_dept[None, :] >= 0)
    same = both & (t_dept == a.m_dept[None, :])
    if preference is DepartmentPreference.SAME:
        fit += same
    elif preference is DepartmentPreference.DIFFERENT:
        fit += both & ~same
    fit[known & (gap < 1)] = NOT_ALLOWED
    fit[:, a.capacity == 0] = NOT_ALLOWED
    return fit


def fit_matrix(
    trainees: list[Person],
    mentors: list[Mentor],
    preference: DepartmentPreference = DepartmentPreference.NONE,
    forbidden: frozenset[tuple[int, int]] = frozenset(),
) -> np.ndarray:
    """Every pair's fit (trainees x mentors); for small inputs, tests and the dense solver."""
    arrays = _encode(trainees, mentors)
    fit = _fit_block(arrays, np.arange(len(trainees)), preference)
    _forbid(fit, 0, trainees, mentors, forbidden)
    return fit


def _forbid(
    fit: np.ndarray,
    offset: int,
    trainees: list[Person],
    mentors: list[Mentor],
    forbidden: frozenset[tuple[int, int]],
) -> None:
    if not forbidden:
        return
    mentor_index = {m.id: j for j, m in enumerate(mentors)}
    for i in range(fit.shape[0]):
        trainee_id = trainees[offset + i].id
        for j in (mentor_index.get(m) for t, m in forbidden if t == trainee_id):
            if j is not None:
                fit[i, j] = NOT_ALLOWED


def reasons(trainee: Person, mentor: Mentor, preference: DepartmentPreference) -> tuple[str, ...]:
    """Why a pair fits, in words a coordinator can check."""
    said = []
    shared = sorted(
        {i.casefold() for i in trainee.interests} & {i.casefold() for i in mentor.interests}
    )
    if shared:
        said.append("shared interests: " + ", ".join(shared[:MAX_SHARED_INTERESTS]))
    if trainee.stage_rank is not None and mentor.stage_rank is not None:
        gap = mentor.stage_rank - trainee.stage_rank
        said.append(f"{gap} stage{'s' if gap != 1 else ''} further on")
    if trainee.department and mentor.department:
        same = trainee.department.casefold() == mentor.department.casefold()
        if preference is DepartmentPreference.SAME and same:
            said.append("same department")
        elif preference is DepartmentPreference.DIFFERENT and not same:
            said.append("another department")
    return tuple(said)


def propose(
    trainees: list[Person],
    mentors: list[Mentor],
    preference: DepartmentPreference = DepartmentPreference.NONE,
    *,
    forbidden: frozenset[tuple[int, int]] = frozenset(),
    seed: int = 0,
    best: int = 16,
    random_extra: int = 2,
    solver: str = "auto",
) -> Proposal:
    """Propose mentors for trainees; see the module docstring.

    `solver`: "auto" (dense when small, else sparse), "sparse" (tests and the benchmark; still
    falls back to dense when the candidate graph has no full matching) or "dense" (exact).
    """
    proposal = Proposal()
    if not trainees:
        return proposal
    arrays = _encode(trainees, mentors)
    slots_of = np.repeat(np.arange(len(mentors)), arrays.capacity)  # slot -> mentor index
    first_slot = np.concatenate([[0], np.cumsum(arrays.capacity)])[:-1]
    if len(slots_of) == 0:
        for t in trainees:
            proposal.unmatched[t.id] = "no mentor has offered any capacity this term"
        return proposal

    chosen: dict[int, int] | None = None
    fits: dict[tuple[int, int], float] = {}
    any_allowed = np.zeros(len(trainees), dtype=bool)  # filled in by the solver
    use_sparse = solver == "sparse" or (
        solver == "auto" and len(trainees) * len(slots_of) > DENSE_CELLS
    )
    if use_sparse:
        chosen = _solve_sparse(
            arrays,
            trainees,
            mentors,
            preference,
            forbidden,
            seed,
            best,
            random_extra,
            slots_of,
            first_slot,
            fits,
            any_allowed,
        )
        proposal.solver = "sparse" if chosen is not None else "dense"
    if chosen is None:
        chosen = _solve_dense(
            arrays, trainees, mentors, preference, forbidden, slots_of, fits, any_allowed
        )
        proposal.solver = "dense"

    capacity = int(arrays.capacity.sum())
    for i, trainee in enumerate(trainees):
        if i in chosen:
            j = chosen[i]
            proposal.pairs.append(
                Pair(
                    trainee.id,
                    mentors[j].id,
                    fits[(i, j)],
                    reasons(trainee, mentors[j], preference),
                )
            )
        elif not any_allowed[i]:
            proposal.unmatched[trainee.id] = (
                "no mentor with capacity is at least one career stage further on"
                " (or every such pair is ruled out: it ended in a rematch, the mentor assesses"
                " the trainee, or a private preference)"
            )
        else:
            proposal.unmatched[trainee.id] = (
                f"capacity ran out: {len(trainees)} trainees for {capacity} mentoring places"
            )
    return proposal


def _solve_sparse(
    a: _Arrays,
    trainees: list[Person],
    mentors: list[Mentor],
    preference: DepartmentPreference,
    forbidden: frozenset[tuple[int, int]],
    seed: int,
    best: int,
    random_extra: int,
    slots_of: np.ndarray,
    first_slot: np.ndarray,
    fits: dict[tuple[int, int], float],
    any_allowed: np.ndarray,
) -> dict[int, int] | None:
    rng = np.random.default_rng(seed)
    n_mentors = len(mentors)
    edge_t: list[np.ndarray] = []
    edge_m: list[np.ndarray] = []
    edge_f: list[np.ndarray] = []
    k = min(best, n_mentors)
    for start in range(0, len(trainees), BLOCK):
        rows = np.arange(start, min(start + BLOCK, len(trainees)))
        block = _fit_block(a, rows, preference)
        _forbid(block, start, trainees, mentors, forbidden)
        any_allowed[rows] = np.isfinite(block).any(axis=1)
        # Each trainee's best mentors, and a few at random for a well-connected graph ...
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        extra = rng.integers(0, n_mentors, size=(len(rows), random_extra))
        cols = np.concatenate([top, extra], axis=1)
        r = np.repeat(rows[:, None], cols.shape[1], axis=1)
        # ... and each mentor's best trainees in this block, so no free slot is left unreachable.
        r2 = rows[np.argmax(block, axis=0)]
        c2 = np.arange(n_mentors)
        all_r = np.concatenate([r.ravel(), r2])
        all_c = np.concatenate([cols.ravel(), c2])
        values = block[all_r - start, all_c]
        keep = np.isfinite(values)
        edge_t.append(all_r[keep])
        edge_m.append(all_c[keep])
        edge_f.append(values[keep])
    t = np.concatenate(edge_t)
    m = np.concatenate(edge_m)
    f = np.concatenate(edge_f)
    if len(t) == 0:
        return {}
    # Unique (trainee, mentor) edges, then one edge per slot of that mentor.
    key = t.astype(np.int64) * n_mentors + m
    key, index = np.unique(key, return_index=True)
    t, m, f = t[index], m[index], f[index]
    reps = a.capacity[m]
    t_s = np.repeat(t, reps)
    slot = np.repeat(first_slot[m], reps) + _ranges(reps)
    cost = MAX_FIT + 1.0 - np.repeat(f, reps)
    graph = csr_matrix((cost, (t_s, slot)), shape=(len(trainees), len(slots_of)))
    matchable = min(_matchable_rows(graph), len(slots_of))
    if matchable < min(len(trainees), len(slots_of)):
        return None  # the sparse graph cannot match as many as capacity allows: go dense
    try:
        if len(trainees) <= len(slots_of):
            rows_ind, cols_ind = min_weight_full_bipartite_matching(graph)
            pairs = zip(rows_ind, cols_ind, strict=True)
        else:  # more trainees than places: every slot is filled
            slot_ind, trainee_ind = min_weight_full_bipartite_matching(graph.T.tocsr())
            pairs = zip(trainee_ind, slot_ind, strict=True)
    except ValueError:
        return None
    chosen: dict[int, int] = {}
    fit_of = dict(zip((t * n_mentors + m).tolist(), f.tolist(), strict=True))
    for i, s in pairs:
        j = int(slots_of[s])
        chosen[int(i)] = j
        fits[(int(i), j)] = fit_of[int(i) * n_mentors + j]
    return chosen


def _matchable_rows(graph: csr_matrix) -> int:
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """[0..l0), [0..l1), ... concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - starts


def _solve_dense(
    a: _Arrays,
    trainees: list[Person],
    mentors: list[Mentor],
    preference: DepartmentPreference,
    forbidden: frozenset[tuple[int, int]],
    slots_of: np.ndarray,
    fits: dict[tuple[int, int], float],
    any_allowed: np.ndarray,
) -> dict[int, int]:
    """The exact optimum over every pair and slot (linear_sum_assignment)."""
    fit = np.empty((len(trainees), len(mentors)))
    for start in range(0, len(trainees), BLOCK):
        rows = np.arange(start, min(start + BLOCK, len(trainees)))
        fit[rows] = _fit_block(a, rows, preference)
    _forbid(fit, 0, trainees, mentors, forbidden)
    allowed = np.isfinite(fit)
    any_allowed[:] = allowed.any(axis=1)
    # Not allowed: a cost above any allowed pair's, then dropped; it is never needed to match
    # the others because every allowed pair costs less.
    cost = np.where(allowed, MAX_FIT + 1.0 - fit, 1e6)[:, slots_of]
    rows_ind, cols_ind = linear_sum_assignment(cost)
    chosen: dict[int, int] = {}
    for i, s in zip(rows_ind, cols_ind, strict=True):
        j = int(slots_of[s])
        if allowed[i, j]:
            chosen[int(i)] = j
            fits[(int(i), j)] = float(fit[i, j])
    return chosen
