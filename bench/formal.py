"""Benchmark: formal matching at N = 500, 2,000 and 10,000 trainees (N/3 mentors of capacity 3),
the sparse solver against the dense optimum (linear_sum_assignment over every pair and slot),
each in its own process so that its peak memory is its own.

`python -m bench.formal`; the last line printed is JSON:
{"runs": [{"n": ..., "seconds": ..., "peak_mb": ..., "dense_seconds": ..., "dense_peak_mb": ...,
           "fit_share": ..., "unmatched": ...}, ...]}
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np

from bench import in_own_process, peak_mb
from program.matching.formal import DepartmentPreference, Mentor, Person, propose

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "500,2000,10000").split(",")]
DEPARTMENTS = 12
INTERESTS = [f"interest {k}" for k in range(40)]


def pool(n: int, seed: int = 2026) -> tuple[list[Person], list[Mentor]]:
    """Trainees at stages 0-6 (MS1-PGY3), mentors further on, three interests each."""
    rng = np.random.default_rng(seed)
    trainees = [
        Person(
            i,
            f"Department {rng.integers(DEPARTMENTS)}",
            int(rng.integers(0, 7)),
            frozenset(rng.choice(INTERESTS, 3, replace=False)),
        )
        for i in range(n)
    ]
    mentors = [
        Mentor(
            1_000_000 + j,
            f"Department {rng.integers(DEPARTMENTS)}",
            int(rng.integers(8, 15)),
            frozenset(rng.choice(INTERESTS, 3, replace=False)),
            capacity=3,
        )
        for j in range(n // 3)
    ]
    return trainees, mentors


def run(n: int, solver: str) -> dict[str, Any]:
    trainees, mentors = pool(n)
    started = time.perf_counter()
    proposal = propose(trainees, mentors, DepartmentPreference.DIFFERENT, seed=1, solver=solver)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "fit": proposal.total_fit,
        "unmatched": len(proposal.unmatched),
        "solver": proposal.solver,
    }


def main() -> None:
    runs = []
    for n in SIZES:
        # What Hallway runs: exact when small, sparse when large.
        sparse = in_own_process(run, n, "auto")
        dense = in_own_process(run, n, "dense")
        share = sparse["fit"] / dense["fit"] if dense["fit"] else 1.0
        print(
            f"n={n}: Hallway ({sparse['solver']}) {sparse['seconds']:.2f} s, "
            f"{sparse['peak_mb']:.0f} MB; dense {dense['seconds']:.2f} s, "
            f"{dense['peak_mb']:.0f} MB; fit share {share:.5f}",
            file=sys.stderr,
        )
        runs.append(
            {
                "n": n,
                "seconds": round(sparse["seconds"], 3),
                "peak_mb": round(sparse["peak_mb"]),
                "dense_seconds": round(dense["seconds"], 3),
                "dense_peak_mb": round(dense["peak_mb"]),
                "fit_share": round(share, 6),
                "unmatched": sparse["unmatched"],
            }
        )
    print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
