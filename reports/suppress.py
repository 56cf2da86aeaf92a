"""Small-number protection for everything published about a term, decided for all of its
reports together (each program's, the all-programs report, and the trend rows later terms
repeat), never file by file.

The rule (the methods section and docs/report-privacy.md say the same):

- Protected are the counts that tell what people did or answered: whether a pair met, how soon
  and how often, whom they met, whether they answered a check-in, their ratings and what came of
  a meeting (`reports.quantities.SENSITIVE`). The program's organisation (who was eligible, who
  took part, which pairs were formed, how many check-ins were sent) is shown as it is.
- Such a count from 1 to t - 1 is hidden ("fewer than t") wherever it appears; so is a rate of
  such counts whose base is below t, or where all but 1 to t - 1 did the same; so is a median
  resting on fewer than t people or answers, and the rating summaries of fewer than t ratings.
- Then whatever would let a hidden count be worked out is hidden too ("hidden ‡"): first by
  the classic rule (a sum with one hidden part gets a second one), then until the
  linear-programming audit (`reports.audit`) finds that every hidden count can still take
  every value its label allows, given every figure published about the term.
"""

from __future__ import annotations

from reports.audit import Audit, Target, audit
from reports.metrics import BY_ID, Computed, Row
from reports.quantities import (
    DISTRIBUTION_FEW_PEOPLE,
    DISTRIBUTION_FEW_RESPONDENTS,
    DISTRIBUTION_PROTECTS,
    DISTRIBUTION_SMALL,
    DOMINATED,
    FEW_PEOPLE,
    PROTECTS,
    RATINGS,
    REASONS,
    ROW_COUNTS,
    SENSITIVE,
    SMALL_BASE,
    SMALL_COMPLEMENT,
    SMALL_COUNT,
    Key,
    Relation,
    distribution_key,
    each_row,
    relations,
    row_keys,
    true_counts,
)

__all__ = [
    "DISTRIBUTION_FEW_PEOPLE",
    "DISTRIBUTION_FEW_RESPONDENTS",
    "DISTRIBUTION_PROTECTS",
    "DISTRIBUTION_SMALL",
    "DOMINATED",
    "FEW_PEOPLE",
    "MINIMUM_THRESHOLD",
    "PROTECTS",
    "REASONS",
    "SMALL_BASE",
    "SMALL_COMPLEMENT",
    "SMALL_COUNT",
    "Protection",
    "protect",
    "suppress",
]

MINIMUM_THRESHOLD = 5


def _small(value: float | None, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def own_reason(row: Row, threshold: int) -> str:
    """Why a row must be hidden for its own numbers, or "" when it need not be."""
    kind = BY_ID[row.metric].kind
    numerator, _ = ROW_COUNTS[row.metric]
    if kind == "median":
        if 0 < row.n < threshold:
            return SMALL_BASE
        return FEW_PEOPLE if _small(row.people, threshold) else ""
    if kind not in ("proportion", "index") or numerator not in SENSITIVE or row.denominator is None:
        return ""
    # A small base first: "based on fewer than 5" says no more than the base (often shown
    # anyway), where "fewer than 5" of 3 pairs would narrow the count to 1 to 3.
    if _small(row.denominator, threshold):
        return SMALL_BASE
    # Then who it rests on: nine answers of one person are that person's behaviour, which
    # no count rule sees (minimum contributors).
    if _small(row.people, threshold):
        return FEW_PEOPLE
    # Check-ins without a rating are the complement of the ratings given, which have their own
    # label: said the same way ("all but fewer than 5"), the two labels agree, where "fewer
    # than 5" on each would pin both (4 and 4 of 8).
    if row.metric in COMPLEMENT_FIRST and _small(row.denominator - row.numerator, threshold):
        return SMALL_COMPLEMENT
    if _small(row.numerator, threshold):
        return SMALL_COUNT
    if _small(row.denominator - row.numerator, threshold):
        return SMALL_COMPLEMENT
    # One person gave more than half of it (or of the rest): it is theirs (dominance).
    return DOMINATED if row.dominated else ""


COMPLEMENT_FIRST = frozenset({"no_rating"})


class Protection:
    """Which counts are hidden for a term's tables, and so which rows and cells."""

    def __init__(self, tables: dict[str, Computed], threshold: int, all_scope: str | None):
        self.tables = tables
        self.threshold = max(threshold, MINIMUM_THRESHOLD)
        self.all_scope = all_scope
        self.truth = true_counts(tables)
        self.relations = relations(self.truth, all_scope)
        # Each row's counts, worked out once: every round asks them of every row again.
        self.keys_of = {id(row): tuple(row_keys(scope, row)) for scope, row in each_row(tables)}
        t = self.threshold
        self.own = {
            id(row): reason for _, row in each_row(tables) if (reason := own_reason(row, t))
        }
        # Primary: every protected count from 1 to t - 1, and the count of a rate hidden for
        # its own numbers; a handful of ratings hides the whole distribution.
        self.hidden = {k for k, v in self.truth.items() if k[4] in SENSITIVE and 0 < v < t}
        for scope, row in each_row(tables):
            numerator, _ = ROW_COUNTS[row.metric]
            if id(row) in self.own and numerator in SENSITIVE and row.group_kind != "term":
                self.hidden.add((scope, row.track, row.group_kind, row.group, numerator))
        # So does a distribution whose ratings, however many, fewer than t people gave.
        self.few_raters = {
            (scope, row.track)
            for scope, row in each_row(tables)
            if row.metric == "useful" and row.group_kind == "all" and _small(row.people, t)
        }
        for scope, computed in tables.items():
            for track in computed.distributions:
                if (scope, track) in self.few_raters or _small(
                    self.truth.get((scope, track, "all", "All", "ratings")), t
                ):
                    self.hidden.update(distribution_key(scope, track, r) for r in range(1, 6))

        # A rate of 0 of 0 has nothing to hide: never worth hiding to protect another.
        self.fixed = {
            k
            for scope, row in each_row(tables)
            if row.denominator == 0
            for k in row_keys(scope, row)
        }
        # Nor is a group's count of something none of the whole did: every reader knows it is 0.
        self.fixed |= {
            k
            for k, v in self.truth.items()
            if v == 0 and k[2] != "all" and self.truth.get((*k[:2], "all", "All", k[4])) == 0
        }
        # Labels that would narrow another hidden value, read "hidden ‡" instead.
        self.unlabelled: set[tuple] = set()
        # Both tracks' network figures are the two tracks' added: a label of theirs ("based on
        # fewer than 5" ties in all) with the tracks' own would pin the tracks', so a hidden one
        # reads "hidden ‡" from the start.
        self.unlabelled |= {
            (scope, id(row))
            for scope, row in each_row(tables)
            if row.track == "both" and id(row) in self.own
        }
        self.cache: dict = {}
        self.kept: set[Target] = set()  # promises kept by an earlier, tighter choice
        # Each relation's counts, and the relations each count is in: the search for a count
        # to hide goes from a count to its sums, not through every sum of forty programs.
        self.relation_keys = [frozenset(_keys(r)) for r in self.relations]
        # Likewise each row's counts, and the rows that show each count.
        self.row_at = {(scope, id(row)): (scope, row) for scope, row in each_row(tables)}
        self.keys_at = {at: frozenset(self.keys_of[at[1]]) for at in self.row_at}
        self.rows_with: dict[Key, list[tuple]] = {}
        for at, keys in self.keys_at.items():
            for key in keys:
                self.rows_with.setdefault(key, []).append(at)
        self.relations_of: dict[Key, list[int]] = {}
        for i, keys in enumerate(self.relation_keys):
            for key in keys:
                self.relations_of.setdefault(key, []).append(i)

    # --- what the current choice publishes ------------------------------------------------

    def row_reason(self, scope: str, row: Row) -> str:
        # (A "no data" row is hidden too when it rests on a hidden count: "no data" for the
        # days to a first meeting says that no pair met.)
        if id(row) in self.own:
            if (scope, id(row)) in self.unlabelled:
                return PROTECTS
            return self.own[id(row)]
        return PROTECTS if any(k in self.hidden for k in self.keys_of[id(row)]) else ""

    def cell(self, scope: str, track: str, rating: int) -> int:
        key = distribution_key(scope, track, rating)
        if key not in self.hidden:
            return 0
        if key in self.unlabelled:
            return DISTRIBUTION_PROTECTS
        if _small(self.truth.get((scope, track, "all", "All", "ratings")), self.threshold):
            return DISTRIBUTION_FEW_RESPONDENTS
        if (scope, track) in self.few_raters:
            return DISTRIBUTION_FEW_PEOPLE
        if _small(self.truth[key], self.threshold):
            return DISTRIBUTION_SMALL
        return DISTRIBUTION_PROTECTS

    def audit(self) -> Audit:
        """The audit of the current choice, solving only the promises not yet kept.

        Between two audits the choice only ever hides more counts (each a fixed number turned
        into an unknown, with a "hidden ‡" that bounds nothing) and takes labels away: every
        hidden count can take at least the values it could before. A promise kept once stays
        kept, and only the others (and any new one) are solved again: with forty programs
        protected together that is most of the linear programs of the later rounds."""
        result = audit(
            self.tables,
            self.truth,
            self.relations,
            self.threshold,
            (self.row_reason, self.cell),
            intervals=False,
            cache=self.cache,
            kept=self.kept,
        )
        self.kept |= {f.target for f in result.findings if f.kept and not f.by_extreme}
        return result

    # --- choosing what else to hide ---------------------------------------------------------

    def _unknown(self) -> set[Key]:
        """Counts shown nowhere under the current choice."""
        shown: set[Key] = set()
        for scope, row in each_row(self.tables):
            if not self.row_reason(scope, row):
                shown.update(self.keys_of[id(row)])
        for scope, computed in self.tables.items():
            for track, distribution in computed.distributions.items():
                shown.update(
                    distribution_key(scope, track, r)
                    for r in distribution
                    if not self.cell(scope, track, r)
                )
        return {k for k in self.truth if k not in shown}

    def _candidates(self, relation: Relation, unknown: set[Key]) -> list[Key]:
        return [
            k
            for k, _ in relation.terms
            if k not in unknown and k[4] in SENSITIVE and k not in self.fixed
        ]

    def _cost(self, key: Key) -> tuple:
        """How much hiding a count costs the reader: a track's headline figure most, then a
        small one (it may not cover the whole "fewer than t" range), then the larger, then the
        order."""
        value = self.truth[key]
        enough = value >= self.threshold - 1
        return (_headline(key), not enough, value if enough else -value, key)

    def _partner(self, relation: Relation, unknown: set[Key]) -> Key | None:
        """The shown protected count of a sum best hidden with its hidden part."""
        return min(self._candidates(relation, unknown), key=self._cost, default=None)

    def _complete_sums(self) -> None:
        """The classic rule, cheap and usually enough: no sum may have one hidden part alone."""
        while True:
            unknown = self._unknown()
            added = False
            for relation in self.relations:
                if relation.at_most:
                    continue
                # (A hidden count every reader knows anyway, a 0 of 0 or a group's 0 of a
                # whole's 0, needs no partner.)
                hidden = [k for k, _ in relation.terms if k in unknown and k not in self.fixed]
                if len(hidden) == 1 and (partner := self._partner(relation, unknown)):
                    self.hidden.add(partner)
                    unknown.add(partner)
                    added = True
            if not added:
                return

    def settle(self) -> Audit:
        """Hide what must be hidden until the audit passes (or nothing more can help)."""
        while True:
            # After every change: a count hidden in one table alone is still in the others'
            # sums, so the classic rule runs again before each audit.
            self._complete_sums()
            result = self.audit()
            if result.passed:
                return result
            unknown = self._unknown()
            added = False
            for finding in result.failures:
                keys = set(finding.target.keys)
                if finding.by_labels:
                    # What narrows it is other labels ("fewer than 5" in four programs that
                    # add up to "fewer than 5" in all of them): say less in them first.
                    near = {k for i in self._touching(keys) for k in self.relation_keys[i]}
                    if self._drop_label(keys | near):
                        added = True
                        continue
                    # No label left to drop near it: what a shown sum still pins with those
                    # labels (a class year everyone answered, given the total and the other
                    # years) is hidden as any other partner.
                if partner := self._nearest_partner(keys, unknown):
                    self.hidden.add(partner)
                    unknown.add(partner)
                    added = True
            if not added:
                return result

    def _nearest_partner(self, keys: set[Key], unknown: set[Key]) -> Key | None:
        """A shown count to hide in a sum with these, or with the hidden counts they are
        tied to, nearest first (what pins a count may be a sum or two away); through the
        bounds too (both tracks' ties bound each track's) when no sum reaches one."""
        return self._search(keys, unknown, bounds=False) or self._search(keys, unknown, bounds=True)

    def _search(self, keys: set[Key], unknown: set[Key], *, bounds: bool) -> Key | None:
        seen: set[Key] = set()
        frontier = set(keys)
        headline: Key | None = None  # kept only if nothing but headline figures is near
        while frontier:
            seen |= frontier
            near = [i for i in self._touching(frontier) if bounds or not self.relations[i].at_most]
            found = [k for i in near for k in self._candidates(self.relations[i], unknown)]
            if found:
                # In the same table and breakdown as what is pinned first: that is where the
                # sums that pin it are.
                best = min(
                    found,
                    key=lambda k: (
                        _headline(k),
                        not any(k[0] == t[0] for t in keys),
                        not any(k[2] == t[2] for t in keys),
                        self._cost(k),
                    ),
                )
                if not _headline(best):
                    return best
                headline = headline or best
            frontier = {k for i in near for k in self.relation_keys[i] if k in unknown} - seen
        return headline

    def _touching(self, keys: set[Key]) -> list[int]:
        """The relations with any of these counts in them, in their order."""
        return sorted({i for key in keys for i in self.relations_of.get(key, ())})

    def _drop_label(self, keys: set[Key]) -> bool:
        """Let one label touching these counts read "hidden ‡": the all-programs one first."""
        candidates = []
        for at in self._rows_with(keys):
            scope, row = self.row_at[at]
            if id(row) in self.own and at not in self.unlabelled:
                where = (row.group_kind, row.group, row.metric, row.track)
                candidates.append((scope != self.all_scope, scope, *where, at))
        for key in sorted(keys):
            if key[4] in RATINGS and key in self.hidden and key not in self.unlabelled:
                candidates.append((key[0] != self.all_scope, *key, key))
        if not candidates:
            return False
        chosen = min(candidates, key=lambda c: c[:-1])[-1]
        self.unlabelled.add(chosen)
        # The rows that say the same of the same counts (the E-I index and modularity restate
        # the cross-department ties) lose the label with it: one of them left would say it all.
        if chosen in self.row_at:
            _, row = self.row_at[chosen]
            same = self.keys_at[chosen]
            self.unlabelled |= {
                at
                for at in (self._rows_with(same) if same else self.row_at)
                if self.own.get(id(self.row_at[at][1])) == self.own[id(row)]
                and self.keys_at[at] == same
            }
        return True

    def _rows_with(self, keys: set[Key] | frozenset[Key]) -> set[tuple]:
        """The rows (scope, id) that show any of these counts."""
        return {at for key in keys for at in self.rows_with.get(key, ())}

    def done(self) -> None:
        """Let go of what only the search needed (its solved programs and indexes): a term's
        protection is kept with its tables, for its audit."""
        self.cache.clear()
        self.relation_keys, self.relations_of = [], {}
        self.row_at, self.keys_at, self.rows_with = {}, {}, {}

    # --- writing it into the tables ---------------------------------------------------------

    def apply(self) -> dict[str, int]:
        """Hide the chosen rows and cells in place; returns the cells hidden per table."""
        reasons = {
            (scope, id(row)): self.row_reason(scope, row) for scope, row in each_row(self.tables)
        }
        codes = {
            (scope, track, r): self.cell(scope, track, r)
            for scope, computed in self.tables.items()
            for track in computed.distributions
            for r in range(1, 6)
        }
        counts = dict.fromkeys(self.tables, 0)
        for scope, computed in self.tables.items():
            for row in computed.rows:
                if reason := reasons[(scope, id(row))]:
                    _hide(row, reason)
                    counts[scope] += 1
            hidden_metrics = {
                r.metric for r in computed.rows if r.suppressed and r.group_kind == "all"
            }
            for d in computed.differences:
                if d.metric in hidden_metrics:
                    d.suppressed = True
                    d.estimate, d.low, d.high, d.p_value = 0.0, None, None, None
                    counts[scope] += 1
            for track, distribution in computed.distributions.items():
                for r in RATINGS_RANGE:
                    if code := codes[(scope, track, r)]:
                        distribution[r] = code
                        counts[scope] += 1
        return counts


RATINGS_RANGE = range(1, len(RATINGS) + 1)


def _headline(key: Key) -> bool:
    """A track's own figure for all (both tracks' network figures are the two tracks' added,
    so they give way before it)."""
    return key[2] == "all" and key[1] != "both"


def _keys(relation: Relation) -> set[Key]:
    return {k for k, _ in relation.terms}


def _hide(row: Row, reason: str) -> None:
    row.suppressed = True
    row.hidden_reason = reason
    row.numerator = row.denominator = row.value = None
    row.ci_low = row.ci_high = row.q1 = row.q3 = None


def protect(
    tables: dict[str, Computed], threshold: int, all_scope: str | None = None
) -> tuple[dict[str, int], Protection]:
    """Protect a term's tables together, in place: returns the hidden cells per table and the
    protection (its true counts and relations are what an audit of the result needs)."""
    protection = Protection(tables, threshold, all_scope)
    protection.settle()
    hidden = protection.apply()
    protection.done()
    return hidden, protection


def suppress(computed: Computed, threshold: int) -> int:
    """Protect one table on its own (a term with a single report); returns the cells hidden."""
    counts, _ = protect({"": computed}, threshold)
    return counts[""]
