"""Coffee-chat rounds: pair everyone eligible (one trio for an odd count), near the best total
weight, without Flask or a database.

Rules (DESIGN.md, "Pairing rules"):
- never two people paired within the last `repeat_window` rounds (None: ever), nor a formal
  mentor with their own mentee (`forbidden`); if that leaves someone without a partner, the rule
  on repeats (never the formal one) is relaxed for them, oldest repeat first, and said so;
- weight: 1 for any allowed pair, +2 when the departments suit the program's preference, +2 for
  a stage gap of 1-2 (+1 for a larger or an unknown one, 0 for the same stage), +1.5 when one
  was referred to the other, -1 for a pair that met longer ago than the window, and -0.5 for
  each partner the two already share (at most -1, over the last `SHARED_ROUNDS` rounds): a
  chat with someone outside one's circle is the weak tie that reaches furthest;
- an odd count makes one trio, its three people taken from those in the fewest trios so far, so
  nobody is in a trio twice before everyone has been in one;
- nobody is silently dropped: whoever is left out is listed with the reason;
- deterministic for a seed.

The solver splits the pool at random into two halves and solves the bipartite assignment on a
sparse candidate graph (each person's random candidates and referrals, plus a permutation that
guarantees a full matching) with scipy, then improves it with vectorised 2-swaps between pairs,
which also reach the pairs within a half. This is near-optimal (the benchmark measures it against
networkx's exact general matching and against an upper bound) at a tiny fraction of the cost of a
dense general matching.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from program.matching.formal import DepartmentPreference

MAX_WEIGHT = 1.0 + 2.0 + 2.0 + 1.5
FORMAL, RECENT, OLDER, REFERRAL = 1, 2, 4, 8
BLOCKED = -1e6  # a pair that must not meet: never chosen while any allowed pair improves on it
# Shared partners: what each costs a pair, how many count at most, and how far back they count
# (a year of monthly rounds; older circles have moved on, and the count grows with the square
# of each person's partners).
SHARED_PENALTY, SHARED_MOST, SHARED_ROUNDS = 0.5, 2, 12
CANDIDATES = 12
SWAP_PASSES = 24
# Tries from fresh random halves while someone is left without an allowed partner.
RESTARTS, RESTARTS_SMALL, SMALL_POOL = 3, 40, 200


@dataclass(frozen=True)
class Participant:
    id: int
    department: str | None = None
    stage_rank: int | None = None
    trios: int = 0  # chats of three they have been in so far
    referred: frozenset[int] = frozenset()  # people someone suggested they meet


@dataclass
class Quality:
    pairs: int = 0  # pairwise links in the round's chats (a trio has three)
    cross_department: float = 0.0
    stage_gap_1_2: float = 0.0
    repeats: int = 0  # pairs within the repeat window, made only because nothing else was possible
    total_weight: float = 0.0  # of the matching (a trio's third person's links not counted)
    shared_contacts: float = 0.0  # share of pairs whose people already had a partner in common

    def as_dict(self) -> dict[str, float | int]:
        return {
            "pairs": self.pairs,
            "cross_department": round(self.cross_department, 4),
            "stage_gap_1_2": round(self.stage_gap_1_2, 4),
            "repeats": self.repeats,
            "total_weight": round(self.total_weight, 2),
            "shared_contacts": round(self.shared_contacts, 4),
        }


@dataclass
class RoundPlan:
    chats: list[tuple[int, ...]] = field(default_factory=list)  # person ids, 2 or 3 each
    left_out: dict[int, str] = field(default_factory=dict)  # person id -> why
    # Pairs made again within the repeat window because nothing else was possible:
    # (id, id, rounds since they last met).
    relaxed: list[tuple[int, int, int]] = field(default_factory=list)
    quality: Quality = field(default_factory=Quality)


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class _Pool:
    """The participants as arrays, and the rules as vectorised functions of index pairs."""

    def __init__(
        self,
        people: list[Participant],
        history: Mapping[tuple[int, int], int],
        forbidden: frozenset[tuple[int, int]],
        repeat_window: int | None,
        preference: DepartmentPreference,
        *,
        new_circles: bool = True,
    ) -> None:
        self.people = people
        self.n = n = len(people)
        self.index = {p.id: i for i, p in enumerate(people)}
        departments: dict[str, int] = {}
        self.dept = np.array(
            [
                -1
                if p.department is None
                else departments.setdefault(p.department, len(departments))
                for p in people
            ],
            dtype=np.int64,
        )
        self.stage = np.array(
            [-1 if p.stage_rank is None else p.stage_rank for p in people], dtype=np.int64
        )
        self.trios = np.array([p.trios for p in people], dtype=np.int64)
        self.preference = preference

        ids = np.array([p.id for p in people], dtype=np.int64)
        by_id = np.argsort(ids, kind="stable")
        sorted_ids = ids[by_id]

        def keys_and_rows(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """Pair keys over indices for an (m, 2) array of ids, and which rows were kept."""
            if not len(pairs) or not n:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
            at = np.minimum(np.searchsorted(sorted_ids, pairs), n - 1)
            known = (sorted_ids[at] == pairs).all(axis=1)
            i, j = by_id[at[known, 0]], by_id[at[known, 1]]
            return np.minimum(i, j) * n + np.maximum(i, j), known

        def keys(pairs: list[tuple[int, int]]) -> np.ndarray:
            found, _ = keys_and_rows(np.array(pairs, dtype=np.int64).reshape(-1, 2))
            return np.unique(found)

        past = np.array(list(history), dtype=np.int64).reshape(-1, 2)
        ago = np.fromiter(history.values(), dtype=np.int64, count=len(history))
        past_keys, known = keys_and_rows(past)
        ago = ago[known]
        order = np.argsort(past_keys, kind="stable")
        self.past_keys, self.past_ago = past_keys[order], ago[order]
        is_recent = np.ones(len(ago), dtype=bool) if repeat_window is None else ago <= repeat_window
        self.recent = np.unique(past_keys[is_recent])
        # Every pair with a rule of its own, sorted once, with what applies to it as bit flags:
        # one binary search per weight call instead of a set test per rule.
        groups = [
            (FORMAL, keys(list(forbidden))),
            (RECENT, self.recent),
            (OLDER, np.unique(past_keys[~is_recent])),
            (REFERRAL, keys([(p.id, other) for p in people for other in p.referred])),
        ]
        all_keys = np.concatenate([found for _, found in groups])
        all_flags = np.concatenate([np.full(len(found), flag) for flag, found in groups])
        self.has_referrals = len(groups[3][1]) > 0
        self.ids = ids
        # Partners in common count whoever they were, in this round's pool or not.
        within = np.fromiter(history.values(), dtype=np.int64, count=len(history)) <= SHARED_ROUNDS
        position = by_id[np.minimum(np.searchsorted(sorted_ids, past), max(n - 1, 0))]
        position[ids[position] != past] = -1
        self.shared_keys, self.shared_counts = _shared(n, past[within], position[within])
        self.new_circles = new_circles
        self.special, inverse = np.unique(all_keys, return_inverse=True)
        self.flags = np.zeros(len(self.special), dtype=np.int64)
        np.bitwise_or.at(self.flags, inverse, all_flags.astype(np.int64))

    def rounds_ago(self, i: int, j: int) -> int:
        """Rounds since i and j last met (0 if never)."""
        k = self.key(i, j)
        at = np.searchsorted(self.past_keys, k)
        if at < len(self.past_keys) and self.past_keys[at] == k:
            return int(self.past_ago[at:][self.past_keys[at:] == k].min())
        return 0

    def key(self, i: int, j: int) -> int:
        return min(i, j) * self.n + max(i, j)

    def is_recent(self, i: int, j: int) -> bool:
        """Paired within the repeat window."""
        return bool(self.flags_of(np.array([self.key(i, j)]))[0] & RECENT)

    def keys(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.minimum(i, j) * self.n + np.maximum(i, j)

    def flags_of(self, k: np.ndarray) -> np.ndarray:
        if not len(self.special):
            return np.zeros(len(k), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.special, k), len(self.special) - 1)
        return np.where(self.special[at] == k, self.flags[at], 0)

    def shared(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Partners each pair (i[k], j[k]) already has in common."""
        if not len(self.shared_keys):
            return np.zeros(len(i), dtype=np.int64)
        k = self.keys(i, j)
        at = np.minimum(np.searchsorted(self.shared_keys, k), len(self.shared_keys) - 1)
        return np.where(self.shared_keys[at] == k, self.shared_counts[at], 0)

    def weight(self, i: np.ndarray, j: np.ndarray, allow_repeats: bool = False) -> np.ndarray:
        """Weight of each pair (i[k], j[k]); BLOCKED where the pair may not meet."""
        w = np.ones(len(i))
        di, dj = self.dept[i], self.dept[j]
        known = (di >= 0) & (dj >= 0)
        if self.preference is DepartmentPreference.DIFFERENT:
            w += np.where(known, 2.0 * (di != dj), 1.0)
        elif self.preference is DepartmentPreference.SAME:
            w += np.where(known, 2.0 * (di == dj), 1.0)
        si, sj = self.stage[i], self.stage[j]
        gap = np.abs(si - sj)
        w += np.where(
            (si < 0) | (sj < 0), 1.0, np.where((gap >= 1) & (gap <= 2), 2.0, 1.0 * (gap > 2))
        )
        if self.new_circles and len(self.shared_keys):
            w -= SHARED_PENALTY * np.minimum(self.shared(i, j), SHARED_MOST)
        blocked = i == j
        if len(self.special):
            flags = self.flags_of(self.keys(i, j))
            w += 1.5 * ((flags & REFERRAL) > 0) - 1.0 * ((flags & OLDER) > 0)
            blocked |= (flags & FORMAL) > 0
            recent = (flags & RECENT) > 0
            if allow_repeats:
                w -= 2.0 * recent  # allowed only to avoid leaving someone out
            else:
                blocked |= recent
        return np.where(blocked, BLOCKED, w)

    def allowed(self, i: int, j: int, allow_repeats: bool = False) -> bool:
        return bool(self.weight(np.array([i]), np.array([j]), allow_repeats)[0] > BLOCKED / 2)


def _shared(n: int, past: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of the pool with a partner in common (keys over the pool's indices, sorted) and how
    many: the entries of A·A, for the adjacency A of everyone in the past pairs (ids, `past`;
    their places in the pool, `position`, -1 for those outside it)."""
    if not len(past) or not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    everyone, compact = np.unique(past, return_inverse=True)
    compact = compact.reshape(-1, 2)
    in_pool = np.full(len(everyone), -1, dtype=np.int64)
    in_pool[compact.ravel()] = position.ravel()
    a, b = compact[:, 0], compact[:, 1]
    size = len(everyone)
    adjacency = csr_matrix(
        (np.ones(2 * len(a)), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(size, size)
    )
    adjacency.data[:] = 1.0  # a pair met twice is one partner
    two_steps = (adjacency @ adjacency).tocoo()
    i, j = in_pool[two_steps.row], in_pool[two_steps.col]
    keep = (i >= 0) & (j >= 0) & (i < j)
    keys = i[keep] * n + j[keep]
    order = np.argsort(keys)
    return keys[order], two_steps.data[keep][order].astype(np.int64)


def plan_round(
    people: list[Participant],
    *,
    history: Mapping[tuple[int, int], int] | None = None,
    forbidden: frozenset[tuple[int, int]] = frozenset(),
    repeat_window: int | None = None,
    preference: DepartmentPreference = DepartmentPreference.DIFFERENT,
    seed: int = 0,
    candidates: int = CANDIDATES,
    new_circles: bool = True,
) -> RoundPlan:
    """Plan one round for `people` (the eligible, in any order).

    `history` maps a pair of ids (smaller first) to how many rounds ago they last met (1: the
    previous round); `forbidden` holds formal mentor-mentee pairs. `new_circles` weighs against
    pairs who already share partners (off only to measure what that weight does).
    """
    plan = RoundPlan()
    people = sorted(people, key=lambda p: p.id)  # the result depends on the seed, not the order
    if len(people) < 2:
        for p in people:
            plan.left_out[p.id] = "nobody else is taking part in this round"
        return plan
    rng = np.random.default_rng(seed)
    pool = _Pool(
        people, history or {}, forbidden, repeat_window, preference, new_circles=new_circles
    )
    everyone = np.arange(pool.n)
    trio = _pick_trio(pool, rng) if pool.n % 2 else None
    extra = None
    if trio is not None:
        everyone = everyone[~np.isin(everyone, trio)]
    elif pool.n % 2:
        fewest = everyone[pool.trios == pool.trios.min()]
        extra = int(rng.choice(fewest))
        everyone = everyone[everyone != extra]
    a, b, single = _pair_everyone(pool, everyone, rng, candidates, plan)
    chats: list[list[int]] = np.stack([a, b], axis=1).tolist()
    total = float(pool.weight(a, b, allow_repeats=True).sum())
    if trio is not None:
        chats.append([int(x) for x in trio])
        x, y, z = (np.array([v]) for v in trio)
        total += float(max(pool.weight(x, y)[0], pool.weight(x, z)[0], pool.weight(y, z)[0]))
    for person in ([extra] if extra is not None else []) + single:
        _add_third(pool, person, chats, rng, plan)
    two = np.array([c for c in chats if len(c) == 2], dtype=np.int64).reshape(-1, 2)
    plan.chats = [tuple(c) for c in pool.ids[two].tolist()]
    plan.chats += [tuple(pool.ids[np.array(c)].tolist()) for c in chats if len(c) == 3]
    plan.quality = _quality(pool, chats, total)
    return plan


TRIO_CANDIDATES = 48


def _pick_trio(pool: _Pool, rng: np.random.Generator) -> np.ndarray | None:
    """Three mutually allowed people from those in the fewest trios so far (the next level up
    only when the lowest has fewer than three), the best-weighted such trio among a few."""
    order = np.lexsort((rng.random(pool.n), pool.trios))
    for x in order[:TRIO_CANDIDATES]:
        rest = order[order != x][:TRIO_CANDIDATES]
        wx = pool.weight(np.full(len(rest), x), rest)
        ok = rest[wx > BLOCKED / 2]
        if len(ok) < 2:
            continue
        i, j = np.triu_indices(len(ok), 1)
        y, z = ok[i], ok[j]
        w_yz = pool.weight(y, z)
        fine = w_yz > BLOCKED / 2
        if not fine.any():
            continue
        y, z = y[fine], z[fine]
        level = pool.trios[y] + pool.trios[z]
        weight = (
            pool.weight(np.full(len(y), x), y) + pool.weight(np.full(len(z), x), z) + w_yz[fine]
        )
        best = np.lexsort((-weight, level))[0]
        return np.array([x, y[best], z[best]])
    return None


def _match(
    pool: _Pool, members: np.ndarray, rng: np.random.Generator, candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """A perfect matching of `members` (an even count), near the maximum weight."""
    if len(members) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = rng.permutation(members)
    half = len(order) // 2
    left, right = order[:half], order[half:]
    m = half
    rows = [np.repeat(np.arange(m), candidates), np.arange(m)]
    cols = [rng.integers(0, m, size=m * candidates), rng.permutation(m)]
    position = np.full(pool.n, -1)
    position[right] = np.arange(m)
    ref_rows: list[int] = []
    ref_cols: list[int] = []
    for r, person in enumerate(left if pool.has_referrals else ()):
        for other in pool.people[person].referred:
            j = pool.index.get(other)
            if j is not None and position[j] >= 0:
                ref_rows.append(r)
                ref_cols.append(position[j])
    rows.append(np.array(ref_rows, dtype=np.int64))
    cols.append(np.array(ref_cols, dtype=np.int64))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    _, first = np.unique(r * m + c, return_index=True)
    r, c = r[first], c[first]
    w = pool.weight(left[r], right[c])
    cost = MAX_WEIGHT + 1.0 - w  # positive; a blocked edge costs about 1e6
    graph = csr_matrix((cost, (r, c)), shape=(m, m))
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    a = left[row_ind]
    b = right[col_ind]
    return _improve(pool, a, b, rng)


def _improve(
    pool: _Pool, a: np.ndarray, b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised 2-swaps: for pairs (a,b), (c,d) try (a,c)(b,d) and (a,d)(b,c)."""
    a, b = a.copy(), b.copy()
    if len(a) < 2:
        return a, b
    w = pool.weight(a, b)
    for _ in range(SWAP_PASSES):
        order = rng.permutation(len(a))
        p, q = order[: len(order) // 2], order[len(order) // 2 : 2 * (len(order) // 2)]
        current = w[p] + w[q]
        w_ac, w_bd = pool.weight(a[p], a[q]), pool.weight(b[p], b[q])
        w_ad, w_bc = pool.weight(a[p], b[q]), pool.weight(b[p], a[q])
        first, second = w_ac + w_bd, w_ad + w_bc
        use_first = (first > current + 1e-9) & (first >= second)
        use_second = (second > current + 1e-9) & ~use_first
        bp, aq, bq = b[p].copy(), a[q].copy(), b[q].copy()
        # First: (a_p, a_q) and (b_p, b_q); second: (a_p, b_q) and (b_p, a_q).
        b[p] = np.where(use_first, aq, np.where(use_second, bq, bp))
        a[q] = np.where(use_first | use_second, bp, aq)
        b[q] = np.where(use_first, bq, np.where(use_second, aq, bq))
        w[p] = np.where(use_first, w_ac, np.where(use_second, w_ad, w[p]))
        w[q] = np.where(use_first, w_bd, np.where(use_second, w_bc, w[q]))
        if not (use_first | use_second).any():
            break  # a pass with no improvement: a local optimum for this neighbourhood
    return a, b


def _pair_everyone(
    pool: _Pool, members: np.ndarray, rng: np.random.Generator, candidates: int, plan: RoundPlan
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Pairs for `members`, and whoever could not be given an allowed partner.

    The matching can leave a few people with only a forbidden partner; they are re-paired with
    each other or swapped into an existing pair. If someone is still waiting, the matching is
    tried again from other random halves (a few times, more for small pools where every try is
    cheap), and only then is a repeat allowed, the oldest first, and recorded."""
    attempts = RESTARTS_SMALL if len(members) <= SMALL_POOL else RESTARTS
    best: tuple[list[int], list[int], list[int]] = ([], [], list(map(int, members)))
    for attempt in range(attempts):
        a, b = _match(pool, members, rng, candidates)
        bad = pool.weight(a, b) <= BLOCKED / 2
        good_a, good_b = [int(x) for x in a[~bad]], [int(x) for x in b[~bad]]
        waiting = [int(x) for pair in zip(a[bad], b[bad], strict=True) for x in pair]
        waiting = _pair_waiting(pool, waiting, good_a, good_b, False, plan)
        if attempt == 0 or len(waiting) < len(best[2]):
            best = (good_a, good_b, waiting)
        if not waiting:
            break
    good_a, good_b, waiting = best
    if waiting:
        waiting = _pair_waiting(pool, waiting, good_a, good_b, True, plan)
    return np.array(good_a, dtype=np.int64), np.array(good_b, dtype=np.int64), waiting


def _pair_waiting(
    pool: _Pool,
    waiting: list[int],
    good_a: list[int],
    good_b: list[int],
    allow_repeats: bool,
    plan: RoundPlan,
) -> list[int]:
    still: list[int] = []
    while waiting:
        u = waiting.pop(0)
        partners = [v for v in waiting if pool.allowed(u, v, allow_repeats)]
        if partners:
            if allow_repeats:
                partners.sort(key=lambda v: -pool.rounds_ago(u, v))
            v = partners[0]
            waiting.remove(v)
            good_a.append(u)
            good_b.append(v)
            if pool.is_recent(u, v):
                _note_repeat(pool, u, v, plan)
            continue
        swapped = False
        for v in waiting:
            for k in range(len(good_a)):
                x, y = good_a[k], good_b[k]
                for s, t in ((x, y), (y, x)):
                    if pool.allowed(u, s) and pool.allowed(v, t):
                        good_a[k], good_b[k] = u, s
                        good_a.append(v)
                        good_b.append(t)
                        waiting.remove(v)
                        swapped = True
                        break
                if swapped:
                    break
            if swapped:
                break
        if not swapped:
            still.append(u)
    return still


def _note_repeat(pool: _Pool, u: int, v: int, plan: RoundPlan) -> None:
    ago = pool.rounds_ago(u, v)
    plan.relaxed.append((pool.people[u].id, pool.people[v].id, ago))


def _add_third(
    pool: _Pool, person: int, chats: list[list[int]], rng: np.random.Generator, plan: RoundPlan
) -> None:
    """Put `person` into a pair as its third, fairly: pairs of those in the fewest trios first."""
    pairs = [c for c in chats if len(c) == 2]
    if pairs:
        x = np.array([c[0] for c in pairs])
        y = np.array([c[1] for c in pairs])
        me = np.full(len(pairs), person)
        fewest = np.maximum(pool.trios[x], pool.trios[y])
        tie = rng.random(len(pairs))
        for allow_repeats in (False, True):
            wx, wy = pool.weight(me, x, allow_repeats), pool.weight(me, y, allow_repeats)
            ok = np.flatnonzero((wx > BLOCKED / 2) & (wy > BLOCKED / 2))
            if len(ok):
                # The fewest trios so far, then the best weight, then the seed's coin.
                best = ok[np.lexsort((tie[ok], -(wx + wy)[ok], fewest[ok]))[0]]
                chat = pairs[int(best)]
                for other in chat:
                    if pool.is_recent(person, other):
                        _note_repeat(pool, person, other, plan)
                chat.append(person)
                return
    plan.left_out[pool.people[person].id] = (
        "no partner is allowed: everyone else is their formal mentor or mentee"
        if pool.n <= 3
        else "no chat could take them without pairing them with their formal mentor or mentee"
    )


def _quality(pool: _Pool, chats: list[list[int]], total_weight: float) -> Quality:
    pairs = np.array([c for c in chats if len(c) == 2], dtype=np.int64).reshape(-1, 2)
    extra = [(c[x], c[y]) for c in chats if len(c) == 3 for x, y in ((0, 1), (0, 2), (1, 2))]
    links = np.concatenate([pairs, np.array(extra, dtype=np.int64).reshape(-1, 2)])
    if not len(links):
        return Quality()
    i, j = links[:, 0], links[:, 1]
    di, dj = pool.dept[i], pool.dept[j]
    gap = np.abs(pool.stage[i] - pool.stage[j])
    known_stage = (pool.stage[i] >= 0) & (pool.stage[j] >= 0)
    recent = (pool.flags_of(pool.keys(i, j)) & RECENT) > 0
    shared = pool.shared(i, j)
    return Quality(
        pairs=len(links),
        cross_department=float(((di >= 0) & (dj >= 0) & (di != dj)).mean()),
        stage_gap_1_2=float((known_stage & (gap >= 1) & (gap <= 2)).mean()),
        repeats=int(recent.sum()),
        total_weight=total_weight,
        shared_contacts=float((shared > 0).mean()),
    )
