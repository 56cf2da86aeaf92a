"""Benchmark: a coffee-chat round at N = 500, 2,000 and 10,000 people (12 departments, 7 stages,
three past rounds of history), against the Beans-style baseline (networkx `max_weight_matching`
over every allowed pair, same weights) at 500 and 2,000, and at 10,000 against an upper bound
(each person's best allowed partner, summed and halved: no matching can weigh more). Each solver
runs in its own process, so its peak memory is its own; Hallway's time is the best of five runs
(milliseconds), the reference's a single run (seconds). Then a whole round through the service,
with its database writes and intros, for 10,000 enrolled people. And what the weight against
shared partners does after a year of rounds (`new_circles`): pairs who already had a partner
in common, with the weight off and on.

`python -m bench.coffee`; the last line printed is JSON:
{"runs": [{"n", "seconds", "peak_mb", "reference", "reference_seconds", "weight_share",
           "speedup", "cross_department", "stage_gap_1_2", "repeats", "left_out"}, ...],
 "new_circles": [{"n", "rounds_of_history", "shared_contacts_without", "shared_contacts_with",
                  "cross_department_…", "stage_gap_1_2_…", "seconds_…", "left_out_…"}, ...],
 "service_round_10000_s": ...}
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench import database_url, fresh_program, in_own_process, peak_mb
from program.matching.coffee import Participant, _Pool, pair_key, plan_round
from program.matching.formal import DepartmentPreference

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "500,2000,10000").split(",")]
BASELINE_UP_TO = int(os.environ.get("BENCH_BASELINE_UP_TO", "2000"))
SERVICE_PEOPLE = int(os.environ.get("BENCH_SERVICE_PEOPLE", "10000"))
PREFERENCE = DepartmentPreference.DIFFERENT


def pool(
    n: int, seed: int = 2026, rounds: int = 3
) -> tuple[list[Participant], dict[tuple[int, int], int]]:
    """People in 12 departments and 7 stages, and `rounds` past rounds of random pairs."""
    rng = np.random.default_rng(seed)
    people = [
        Participant(i, f"Department {rng.integers(12)}", int(rng.integers(0, 7))) for i in range(n)
    ]
    history: dict[tuple[int, int], int] = {}
    for ago in range(rounds, 0, -1):
        order = rng.permutation(n)
        for a, b in zip(order[0::2], order[1::2], strict=False):
            history[pair_key(int(a), int(b))] = ago
    return people, history


def run_hallway(n: int) -> dict[str, Any]:
    """Best of five runs: a round takes milliseconds, so one run is mostly noise."""
    people, history = pool(n)
    seconds = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        plan = plan_round(people, history=history, preference=PREFERENCE, seed=1)
        seconds = min(seconds, time.perf_counter() - started)
    q = plan.quality
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "weight": q.total_weight,
        "cross_department": q.cross_department,
        "stage_gap_1_2": q.stage_gap_1_2,
        "repeats": q.repeats,
        "left_out": len(plan.left_out),
    }


CIRCLE_ROUNDS = 12


def run_circles(n: int) -> dict[str, Any]:
    """The weight against shared partners, off and on, after a year of monthly rounds (where
    circles overlap): the share of pairs who already had a partner in common, and what it
    costs the other aims."""
    people, history = pool(n, rounds=CIRCLE_ROUNDS)
    out: dict[str, Any] = {"n": n, "rounds_of_history": CIRCLE_ROUNDS}
    for label, on in (("without", False), ("with", True)):
        started = time.perf_counter()
        plan = plan_round(
            people,
            history=history,
            preference=PREFERENCE,
            seed=1,
            repeat_window=None,
            new_circles=on,
        )
        seconds = time.perf_counter() - started
        q = plan.quality
        out |= {
            f"shared_contacts_{label}": round(q.shared_contacts, 4),
            f"cross_department_{label}": round(q.cross_department, 4),
            f"stage_gap_1_2_{label}": round(q.stage_gap_1_2, 4),
            f"seconds_{label}": round(seconds, 4),
            f"left_out_{label}": len(plan.left_out),
        }
    return out


def _all_pairs(pool_: _Pool, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i = np.repeat(np.arange(start, stop), pool_.n)
    j = np.tile(np.arange(pool_.n), stop - start)
    keep = i < j
    i, j = i[keep], j[keep]
    w = pool_.weight(i, j)
    allowed = w > 0
    return i[allowed], j[allowed], w[allowed]


def run_baseline(n: int) -> dict[str, Any]:
    """Beans: networkx's exact general matching over every allowed pair."""
    import networkx as nx

    people, history = pool(n)
    started = time.perf_counter()
    pool_ = _Pool(people, history, frozenset(), None, PREFERENCE)
    graph = nx.Graph()
    for start in range(0, n, 500):
        i, j, w = _all_pairs(pool_, start, min(n, start + 500))
        graph.add_weighted_edges_from(zip(i.tolist(), j.tolist(), w.tolist(), strict=True))
    matching = nx.max_weight_matching(graph)
    weight = sum(graph[a][b]["weight"] for a, b in matching)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), "weight": weight}


def run_bound(n: int) -> dict[str, Any]:
    """Each person's best allowed partner, summed and halved: an upper bound on any matching."""
    people, history = pool(n)
    started = time.perf_counter()
    pool_ = _Pool(people, history, frozenset(), None, PREFERENCE)
    best = np.zeros(n)
    for start in range(0, n, 500):
        stop = min(n, start + 500)
        i = np.repeat(np.arange(start, stop), n)
        j = np.tile(np.arange(n), stop - start)
        w = pool_.weight(i, j).reshape(stop - start, n)
        best[start:stop] = w.max(axis=1)
    return {
        "seconds": time.perf_counter() - started,
        "peak_mb": peak_mb(),
        "weight": best.sum() / 2,
    }


def service_round(people: int) -> float:
    """Seconds for `publish_round` with `people` enrolled: the plan, the rows and the intros."""
    from program import create_app
    from program.coffee.models import Enrollment
    from program.coffee.rounds import publish_round
    from program.extensions import db
    from program.people.models import CareerStage, Department, Person
    from program.programs.models import Membership, Role

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url(),
            "SECRET_KEY": "bench",
            "BASE_URL": "http://localhost",
            "TESTING": True,
        }
    )
    stages = [CareerStage.MS3, CareerStage.MS4, *list(CareerStage)[4:9]]
    with app.app_context():
        program, _ = fresh_program()
        db.session.execute(
            sa.insert(Department),
            [{"name": f"Department {d}", "name_key": f"department {d}"} for d in range(12)],
        )
        departments = list(db.session.scalars(sa.select(Department.id)))
        rng = np.random.default_rng(5)
        db.session.execute(
            sa.insert(Person),
            [
                {
                    "email": f"p{n}@example.edu",
                    "name": f"Person {n}",
                    "interests": [],
                    "security_stamp": f"{n:032d}",
                    "department_id": departments[int(rng.integers(12))],
                    "stage": stages[int(rng.integers(len(stages)))],
                }
                for n in range(people)
            ],
        )
        ids = list(db.session.scalars(sa.select(Person.id)))
        db.session.execute(
            sa.insert(Membership),
            [{"person_id": i, "program_id": program.id, "role": Role.TRAINEE} for i in ids],
        )
        db.session.execute(
            sa.insert(Enrollment), [{"person_id": i, "program_id": program.id} for i in ids]
        )
        db.session.commit()
        with app.test_request_context():
            started = time.perf_counter()
            round_ = publish_round(None, program)
            db.session.commit()
            seconds = time.perf_counter() - started
            print(
                f"service round: {people} people, {len(round_.chats)} chats, {seconds:.2f} s",
                file=sys.stderr,
            )
        db.session.remove()
        db.engine.dispose()
    return seconds


def main() -> None:
    runs = []
    for n in SIZES:
        ours = in_own_process(run_hallway, n)
        reference = "baseline" if n <= BASELINE_UP_TO else "bound"
        other = in_own_process(run_baseline if reference == "baseline" else run_bound, n)
        share = ours["weight"] / other["weight"] if other["weight"] else 1.0
        print(
            f"n={n}: Hallway {ours['seconds']:.3f} s, {ours['peak_mb']:.0f} MB; {reference} "
            f"{other['seconds']:.2f} s, {other['peak_mb']:.0f} MB; weight share {share:.4f}",
            file=sys.stderr,
        )
        runs.append(
            {
                "n": n,
                "seconds": round(ours["seconds"], 4),
                "peak_mb": round(ours["peak_mb"]),
                "reference": reference,
                "reference_seconds": round(other["seconds"], 3),
                "weight_share": round(share, 4),
                "speedup": round(other["seconds"] / ours["seconds"]),
                "cross_department": round(ours["cross_department"], 4),
                "stage_gap_1_2": round(ours["stage_gap_1_2"], 4),
                "repeats": ours["repeats"],
                "left_out": ours["left_out"],
            }
        )
    circles = [in_own_process(run_circles, n) for n in SIZES]
    for c in circles:
        print(
            f"n={c['n']}, {CIRCLE_ROUNDS} rounds of history: pairs sharing a partner "
            f"{c['shared_contacts_without']:.1%} without the weight, "
            f"{c['shared_contacts_with']:.1%} with it",
            file=sys.stderr,
        )
    service = service_round(SERVICE_PEOPLE)
    print(
        json.dumps(
            {"runs": runs, "new_circles": circles, "service_round_10000_s": round(service, 3)}
        )
    )


if __name__ == "__main__":
    main()
