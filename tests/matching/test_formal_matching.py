"""Formal matching on small hand-checked cases, against a brute-force optimum, and at random."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from program.matching.formal import (
    DepartmentPreference,
    Mentor,
    Person,
    fit_matrix,
    propose,
)

PREFS = list(DepartmentPreference)


def brute_force(fit: np.ndarray, capacity: list[int]) -> tuple[int, float]:
    """The most trainees matchable, and the best total fit among assignments matching that
    many, by trying every assignment (tiny inputs only)."""
    n, m = fit.shape
    best = (0, 0.0)
    for choice in itertools.product(range(-1, m), repeat=n):
        used = [0] * m
        total = 0.0
        ok = True
        for i, j in enumerate(choice):
            if j < 0:
                continue
            if not np.isfinite(fit[i, j]) or used[j] >= capacity[j]:
                ok = False
                break
            used[j] += 1
            total += fit[i, j]
        if ok:
            best = max(best, (sum(j >= 0 for j in choice), total))
    return best


def brute_force_best(fit: np.ndarray, capacity: list[int]) -> float:
    return brute_force(fit, capacity)[1]


def test_a_hand_checked_case():
    trainees = [
        Person(1, "Medicine", 4, frozenset({"cardiology", "education"})),
        Person(2, "Surgery", 5, frozenset({"trauma"})),
    ]
    mentors = [
        Mentor(10, "Cardiology", 12, frozenset({"cardiology", "education"}), capacity=1),
        Mentor(11, "Surgery", 7, frozenset({"trauma"}), capacity=1),
    ]
    proposal = propose(trainees, mentors, DepartmentPreference.DIFFERENT)
    assert {(p.trainee_id, p.mentor_id) for p in proposal.pairs} == {(1, 10), (2, 11)}
    first = next(p for p in proposal.pairs if p.trainee_id == 1)
    # 1 + 2 shared interests + stage gap of 8 (0.5) + another department (1)
    assert first.fit == 4.5
    assert "shared interests: cardiology, education" in first.reasons
    assert "another department" in first.reasons
    assert proposal.unmatched == {}


def test_capacity_is_respected_and_shortfall_is_explained():
    trainees = [Person(i, stage_rank=4) for i in range(5)]
    mentors = [Mentor(10, stage_rank=12, capacity=2), Mentor(11, stage_rank=12, capacity=1)]
    proposal = propose(trainees, mentors)
    counts = {10: 0, 11: 0}
    for pair in proposal.pairs:
        counts[pair.mentor_id] += 1
    assert counts == {10: 2, 11: 1}
    assert len(proposal.unmatched) == 2
    assert all(
        r == "capacity ran out: 5 trainees for 3 mentoring places"
        for r in proposal.unmatched.values()
    )


def test_a_mentor_must_be_further_on_and_a_past_rematch_is_never_repeated():
    trainees = [Person(1, stage_rank=8), Person(2, stage_rank=4)]
    mentors = [Mentor(10, stage_rank=8, capacity=5), Mentor(11, stage_rank=9, capacity=5)]
    proposal = propose(trainees, mentors, forbidden=frozenset({(2, 11)}))
    pairs = {(p.trainee_id, p.mentor_id) for p in proposal.pairs}
    assert pairs == {(1, 11), (2, 10)}
    alone = propose([Person(3, stage_rank=14)], mentors)
    assert "at least one career stage further on" in alone.unmatched[3]


def test_no_capacity_at_all():
    proposal = propose([Person(1)], [Mentor(10, capacity=0)])
    assert "no mentor has offered any capacity" in proposal.unmatched[1]


people = st.builds(
    Person,
    id=st.integers(),
    department=st.sampled_from(["A", "B", "C", None]),
    stage_rank=st.one_of(st.none(), st.integers(0, 15)),
    interests=st.frozensets(st.sampled_from("abcdef"), max_size=3),
)
mentors = st.builds(
    Mentor,
    id=st.integers(),
    department=st.sampled_from(["A", "B", "C", None]),
    stage_rank=st.one_of(st.none(), st.integers(0, 15)),
    interests=st.frozensets(st.sampled_from("abcdef"), max_size=3),
    capacity=st.integers(0, 2),
)


def assert_valid(proposal, trainees, mentor_list, fit):
    used: dict[int, int] = {}
    for pair in proposal.pairs:
        used[pair.mentor_id] = used.get(pair.mentor_id, 0) + 1
    assert all(used[m.id] <= m.capacity for m in mentor_list if m.id in used)
    assert len(proposal.pairs) + len(proposal.unmatched) == len(trainees)
    assert len({p.trainee_id for p in proposal.pairs}) == len(proposal.pairs)
    row = {t.id: i for i, t in enumerate(trainees)}
    col = {m.id: j for j, m in enumerate(mentor_list)}
    for pair in proposal.pairs:
        assert np.isfinite(fit[row[pair.trainee_id], col[pair.mentor_id]])


small_inputs = {
    "trainees": st.lists(people, min_size=1, max_size=5, unique_by=lambda p: p.id),
    "mentor_list": st.lists(mentors, min_size=1, max_size=3, unique_by=lambda p: p.id),
    "preference": st.sampled_from(PREFS),
    "seed": st.integers(0, 10),
}


@settings(max_examples=80, deadline=None)
@given(**small_inputs)
def test_reaches_the_brute_force_optimum_and_is_deterministic(
    trainees, mentor_list, preference, seed
):
    """The exact solver, and the sparse one when every pair is a candidate, are optimal."""
    fit = fit_matrix(trainees, mentor_list, preference)
    optimum = brute_force_best(fit, [m.capacity for m in mentor_list])
    for solver, best in (("dense", 2), ("sparse", len(mentor_list))):
        proposal = propose(
            trainees, mentor_list, preference, seed=seed, best=best, random_extra=1, solver=solver
        )
        assert abs(proposal.total_fit - optimum) < 1e-6, solver
        assert_valid(proposal, trainees, mentor_list, fit)
        again = propose(
            trainees, mentor_list, preference, seed=seed, best=best, random_extra=1, solver=solver
        )
        assert again.pairs == proposal.pairs


@settings(max_examples=80, deadline=None)
@given(**small_inputs)
def test_a_narrow_candidate_set_still_matches_as_many_as_possible(
    trainees, mentor_list, preference, seed
):
    """With few candidates per trainee the fit may fall short of the optimum on tiny, tied
    inputs (the benchmark measures the share at scale), but nobody is left out who could be
    matched, capacities hold, and the result depends on the seed alone."""
    fit = fit_matrix(trainees, mentor_list, preference)
    proposal = propose(
        trainees, mentor_list, preference, seed=seed, best=1, random_extra=1, solver="sparse"
    )
    assert_valid(proposal, trainees, mentor_list, fit)
    assert len(proposal.pairs) == brute_force(fit, [m.capacity for m in mentor_list])[0]
    again = propose(
        trainees, mentor_list, preference, seed=seed, best=1, random_extra=1, solver="sparse"
    )
    assert again.pairs == proposal.pairs


def test_sparse_matches_dense_on_a_medium_pool():
    rng = np.random.default_rng(7)
    interests = [f"i{n}" for n in range(30)]
    trainees = [
        Person(
            i,
            f"d{rng.integers(12)}",
            int(rng.integers(0, 7)),
            frozenset(rng.choice(interests, 3, replace=False)),
        )
        for i in range(1500)
    ]
    mentor_list = [
        Mentor(
            1000 + j,
            f"d{rng.integers(12)}",
            int(rng.integers(8, 15)),
            frozenset(rng.choice(interests, 3, replace=False)),
            capacity=3,
        )
        for j in range(500)
    ]
    sparse = propose(trainees, mentor_list, DepartmentPreference.DIFFERENT, seed=1)
    dense = propose(trainees, mentor_list, DepartmentPreference.DIFFERENT, solver="dense")
    assert sparse.solver == "sparse" and dense.solver == "dense"
    assert propose(trainees[:50], mentor_list[:20]).solver == "dense"  # small: exact at once
    assert len(sparse.pairs) == len(dense.pairs) == 1500
    assert sparse.total_fit >= 0.999 * dense.total_fit
