"""Small-cell suppression, as a step of its own after the metrics are computed.

- A count below the threshold (but not zero) is hidden, and so is every rate or median resting on
  it: a proportion whose numerator, denominator or complement (denominator - numerator) is below
  the threshold, a median from fewer people or ratings than the threshold.
- A hidden row's count must not reappear elsewhere in the same table (as another row's count,
  base or size), or it could be worked back out: such rows are hidden too.
- Within a breakdown (cohort, department or stage) the groups add up to the total, so a single
  hidden group could be recovered by subtraction: the smallest other group is hidden with it
  (complementary suppression), metric by metric.
- A difference between the tracks is hidden when either side is.
- The rating distribution needs the threshold in respondents, and its cells follow the same rules.
"""

from __future__ import annotations

from reports.metrics import BY_ID, Computed, Row

MINIMUM_THRESHOLD = 5

# Why a value is hidden; every output labels it accordingly (reports.build.hidden_label) and
# the CSV's `note` names it.
SMALL_COUNT = "small count"  # its own count is 1 .. threshold - 1
SMALL_BASE = "small base"  # a rate or median resting on fewer than the threshold
SMALL_COMPLEMENT = "small complement"  # all but 1 .. threshold - 1 of its base
PROTECTS = "protects another cell"  # hidden only so a hidden cell cannot be worked out
REASONS = (SMALL_COUNT, SMALL_BASE, SMALL_COMPLEMENT, PROTECTS)

# Cells of a rating distribution that are hidden, and why (counts are never negative).
DISTRIBUTION_SMALL = -1
DISTRIBUTION_PROTECTS = -2
DISTRIBUTION_FEW_RESPONDENTS = -3


def _small(value: float | None, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def _small_reason(row: Row, threshold: int) -> str:
    """Why the row must be hidden for its own numbers, or "" when it need not be."""
    kind = BY_ID[row.metric].kind
    if kind == "count":
        return SMALL_COUNT if _small(row.value, threshold) else ""
    if kind == "median":
        return SMALL_BASE if 0 < row.n < threshold else ""
    if row.denominator is None:
        return ""
    if _small(row.numerator, threshold):
        return SMALL_COUNT
    if _small(row.denominator, threshold):
        return SMALL_BASE
    if _small(row.denominator - row.numerator, threshold):
        return SMALL_COMPLEMENT
    return ""


def _hide(row: Row, reason: str) -> None:
    row.suppressed = True
    row.hidden_reason = reason
    row.numerator = row.denominator = row.value = None
    row.ci_low = row.ci_high = row.q1 = row.q3 = None


def suppress(computed: Computed, threshold: int) -> int:
    """Hide what must be hidden, in place; returns how many cells (rows) were hidden."""
    threshold = max(threshold, MINIMUM_THRESHOLD)
    rows = computed.rows
    reasons = {id(r): reason for r in rows if (reason := _small_reason(r, threshold))}
    small = set(reasons)

    cells: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        cells.setdefault((r.track, r.group_kind, r.group), []).append(r)
    families: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        if r.group_kind in ("cohort", "department", "stage"):
            families.setdefault((r.track, r.group_kind, r.metric), []).append(r)

    # Hiding one value can expose another, so repeat until nothing changes.
    while True:
        before = len(small)
        for cell in cells.values():
            # A hidden row's numerator, and any small count it rests on, must not reappear as
            # another row's count, base or size: with the bases published, it would give the
            # hidden value away by subtraction.
            exposed: set[float] = set()
            for r in cell:
                if id(r) in small:
                    exposed.add(r.numerator if r.numerator is not None else r.value)
                    for count in (r.denominator, r.n):
                        if _small(count, threshold):
                            exposed.add(count)
                    if (
                        r.numerator is not None
                        and r.denominator is not None
                        and _small(r.denominator - r.numerator, threshold)
                    ):
                        exposed.add(r.denominator - r.numerator)
            exposed -= {None, 0}
            for r in cell:
                counts = {r.numerator, r.n if r.n else None}
                if BY_ID[r.metric].kind == "count":
                    counts.add(r.value)
                if id(r) not in small and counts & exposed:
                    small.add(id(r))
                    reasons[id(r)] = PROTECTS
        # Complementary suppression within each breakdown family.
        for members in families.values():
            groups: dict[str, list[Row]] = {}
            for r in members:
                groups.setdefault(r.group, []).append(r)
            hidden = {g for g, rs in groups.items() if any(id(r) in small for r in rs)}
            if len(hidden) == 1 and len(groups) > 1:
                sizes = {
                    g: max((r.denominator or r.value or 0) for r in rs) for g, rs in groups.items()
                }
                others = sorted((g for g in groups if g not in hidden), key=lambda g: (sizes[g], g))
                for r in groups[others[0]]:
                    small.add(id(r))
                    reasons.setdefault(id(r), PROTECTS)
        if len(small) == before:
            break

    hidden_cells = 0
    for r in rows:
        if id(r) in small and not (r.value is None and r.note):  # "no data" stays as it is
            _hide(r, reasons[id(r)])
            hidden_cells += 1
    hidden_metrics = {r.metric for r in rows if r.suppressed and r.group_kind == "all"}
    for d in computed.differences:
        if d.metric in hidden_metrics:
            d.suppressed = True
            d.estimate, d.low, d.high, d.p_value = 0.0, None, None, None
            hidden_cells += 1
    for distribution in computed.distributions.values():
        total = sum(distribution.values())
        cells = sorted(distribution.items(), key=lambda kv: (kv[1], kv[0]))
        hide = {k: DISTRIBUTION_SMALL for k, v in distribution.items() if 0 < v < threshold}
        if total < threshold:
            hide = dict.fromkeys(distribution, DISTRIBUTION_FEW_RESPONDENTS)
        elif len(hide) == 1:
            hide[next(k for k, v in cells if k not in hide)] = DISTRIBUTION_PROTECTS
        distribution.update(hide)
        hidden_cells += len(hide)
    return hidden_cells
