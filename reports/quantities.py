"""The counts behind a term's published figures, and the sums that tie them together.

Every number a report publishes is either one of these counts or rests on them: a proportion
publishes its numerator and its base, a count itself, a median the number it rests on (and the
rating median the rating distribution it summarises). One count can appear in several rows and
several files (each program's report, the all-programs report, the trend rows of later terms);
it has one key, so a value hidden in one place is hidden everywhere. The relations are the sums
anyone can write down from the definitions (groups add up to the total, programs add up to all
programs, answered plus unanswered is asked): the protection and the audit both work on them.

Plain Python and pandas-free, so the protection can be tested and audited alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reports.metrics import BREAKDOWNS, BY_ID, ORIGINS, Computed, Row
from reports.outcomes import ENGAGEMENT, OUTCOME_TRACK, TAKING_PART

# Why a value is hidden; every output labels it accordingly (reports.build.hidden_label) and
# the CSV's `note` names it.
SMALL_COUNT = "small count"  # its own count is 1 .. threshold - 1
SMALL_BASE = "small base"  # a rate or median resting on fewer than the threshold
SMALL_COMPLEMENT = "small complement"  # all but 1 .. threshold - 1 of its base
PROTECTS = "protects another cell"  # hidden only so a hidden value cannot be worked out
FEW_PEOPLE = "few people"  # what fewer than the threshold's people did, however many times
DOMINATED = "one person's"  # more than half of its count (or of the rest) is one person's
REASONS = (SMALL_COUNT, SMALL_BASE, SMALL_COMPLEMENT, PROTECTS, FEW_PEOPLE, DOMINATED)
# Reasons about who a figure rests on, not about its numbers: their labels say nothing of the
# hidden count, which must still be free to take as many values as a small count's.
ABOUT_PEOPLE = (FEW_PEOPLE, DOMINATED)

# Cells of a rating distribution that are hidden, and why (counts are never negative).
DISTRIBUTION_SMALL = -1
DISTRIBUTION_PROTECTS = -2
DISTRIBUTION_FEW_RESPONDENTS = -3
DISTRIBUTION_FEW_PEOPLE = -4  # the ratings, however many, were given by fewer than t people

# (scope, track, group kind, group, count): scope is the report's label, a program's name or
# "All programs".
Key = tuple[str, str, str, str, str]

# What each metric's row publishes: (numerator count, base count).
ROW_COUNTS: dict[str, tuple[str | None, str | None]] = {
    "eligible": ("eligible", None),
    "taking_part": ("taking", None),
    "participation": ("taking", "eligible"),
    "pairs_formed": ("pairs", None),
    "pairs_met": ("met_pairs", "pairs"),
    "met_within_30": ("met_30", "pairs"),
    "days_to_first": (None, "met_pairs"),
    "meetings_per_participant": (None, "taking"),
    "sustained": ("sustained", "pairs"),
    "people_met": (None, "taking"),
    "cross_department": ("cross_department", "ties_department"),
    "cross_stage": ("cross_stage", "ties_stage"),
    "new_ties": ("new_ties", "pairs"),
    "response_rate": ("answered", "asked"),
    "no_response": ("unanswered", "asked"),
    "useful": ("useful", "ratings"),
    "rating": (None, "ratings"),
    "led_to": ("led_to", "met_answers"),
    "continuation": ("continuing", "taking"),
    "advising_coverage": ("advised", "formal_trainees"),
    "days_to_mentor": (None, "advised"),
    "mentees_per_mentor": (None, "mentors_advising"),
    "mentors_by_load": ("mentors", None),
    "over_capacity": ("over_capacity", None),
    "assessor_pairs": ("assessor_pairs", None),
    "asks_sent": ("asks", None),
    "asks_accepted": ("accepted_asks", "asks"),
    "asks_per_asker": (None, "askers"),
    "expected_cross": (None, None),  # from who takes part, where: the organisation's
    "ei_index": ("cross_department", "ties_department"),
    "modularity": ("cross_department", "ties_department"),
    "dept_pairs_joined": ("dept_pairs_joined", "dept_pairs"),
    "novel_ties": ("novel_ties", "met_ties"),
    "reach_people": (None, "taking"),
    "reach_departments": (None, "taking"),
    "reach_pace": (None, "taking"),
    "rated_low": ("not_useful", "ratings"),
    "rated_3": ("rating_3", "ratings"),
    "rated_high": ("useful", "ratings"),
    "no_rating": ("no_rating", "asked"),
    "checkins_asked": ("asked", None),
    # The term survey (reports/survey.py): people, one answer each.
    "survey_response": ("survey_answered", "survey_invited"),
    "satisfied": ("satisfied", "satisfaction_answers"),
    "career_person": ("career_yes", "survey_answered"),
    "outside_met": ("outside_met", "survey_answered"),
    "survey_led_to": ("survey_led_to", "survey_answered"),
    "load_too_much": ("load_too_much", "load_answers"),
    # Outcomes by who took part (reports/outcomes.py), as the audit reads them.
    "outcome_people": ("outcome_n", None),
    "outcome_share": ("outcome_favourable", "outcome_n"),
}
RATINGS = tuple(f"rating_{k}" for k in range(1, 6))
# What each count is, in words (the audit's report names them).
COUNT_NAMES = {
    "eligible": "people eligible",
    "taking": "people taking part",
    "pairs": "pairs formed",
    "met_pairs": "pairs that met",
    "met_30": "pairs that met within 30 days",
    "sustained": "pairs with 3 or more meetings",
    "ties_department": "ties that met, departments recorded",
    "cross_department": "ties that met across departments",
    "ties_stage": "ties that met, stages recorded",
    "cross_stage": "ties that met across stages",
    "new_ties": "new ties",
    "asked": "check-ins asked",
    "answered": "check-ins answered",
    "unanswered": "check-ins not answered",
    "ratings": "ratings given",
    "useful": "ratings of 4 or 5",
    "met_answers": "“we met” answers",
    "led_to": "meetings that led to something",
    "continuing": "people continuing next term",
    "advised": "trainees with a formal mentor",
    "formal_trainees": "trainees of the formal track",
    "mentors_advising": "mentors with a mentee",
    "mentors": "mentors with this many mentees",
    "over_capacity": "mentors above their stated places",
    "assessor_pairs": "pairs with an assessor as mentor",
    "asks": "asks sent",
    "accepted_asks": "asks answered yes",
    "askers": "people who sent asks",
    "dept_pairs": "pairs of departments",
    "dept_pairs_joined": "pairs of departments joined by a tie that met",
    "met_ties": "ties that met",
    "novel_ties": "ties that met, new to both people",
    "no_rating": "check-ins with no rating",
    "not_useful": "ratings of 1 or 2",
    "survey_invited": "people invited to the term survey",
    "survey_answered": "people who answered the term survey",
    "satisfaction_answers": "people who rated their satisfaction with the track",
    "satisfied": "people satisfied or very satisfied",
    "career_yes": "people with someone for career advice",
    "outside_met": "people who met someone outside their department",
    "survey_led_to": "people for whom a conversation led to something",
    "load_answers": "mentors who answered about their load",
    "load_too_much": "mentors whose load was too much",
    "outcome_n": "people of a group with an outcome value",
    "outcome_favourable": "people of a group giving an outcome's favourable answer",
} | {f"rating_{k}": f"ratings of {k}" for k in range(1, 6)}
# The base each count is a part of (a count never exceeds its base).
BASE = (
    {num: base for num, base in ROW_COUNTS.values() if num and base}
    | dict.fromkeys(RATINGS, "ratings")
    # The survey's question bases are parts of its respondents.
    | dict.fromkeys(("satisfaction_answers", "load_answers"), "survey_answered")
)

# The term survey's counts of who answered and what (reports/survey.py).
SURVEY_ANSWERS = (
    "survey_answered",
    "satisfaction_answers",
    "satisfied",
    "career_yes",
    "outside_met",
    "survey_led_to",
    "load_answers",
    "load_too_much",
)

# Counts that tell what people did or answered: whether a pair met, how soon and how often, whom
# they met, whether they answered a check-in, what they rated, what came of it. These are
# protected. The others are facts of the program's organisation that every member already sees
# (who is on the roster, who enrolled, which pairs were introduced, how many check-ins were
# sent): FERPA counts participation in recognised activities as directory information, and
# hiding them would protect nobody while hiding most of a small program's report.
SENSITIVE = frozenset(
    {
        "met_pairs",
        "met_30",
        "sustained",
        "cross_department",
        "ties_department",
        "cross_stage",
        "ties_stage",
        "answered",
        "unanswered",
        "ratings",
        "useful",
        "met_answers",
        "led_to",
        "accepted_asks",
        "dept_pairs_joined",
        "met_ties",
        "novel_ties",
        "no_rating",
        "not_useful",
        *RATINGS,
        # The term survey: who answered, and every answer (who was invited is the roster's).
        *SURVEY_ANSWERS,
        # Outcomes: the institution's data about people, never published as totals.
        "outcome_n",
        "outcome_favourable",
    }
)

# Counts that add up across breakdown groups (a person is in exactly one group of each kind).
GROUP_ADDITIVE = (
    "eligible",
    "taking",
    "answered",
    "asked",
    "ratings",
    "no_rating",
    "not_useful",
    "rating_3",
    "useful",
)
# The term survey's counts add up across class years (a person is in one).
SURVEY_ADDITIVE = ("survey_invited", *SURVEY_ANSWERS)
# Ties inside others: (part, whole), the part never larger.
NESTED_TIES = (("ties_department", "met_ties"), ("dept_pairs_joined", "cross_department"))
# Counts of ties per track that add up to both tracks'.
BOTH_TRACKS_TIES = ("met_ties", "novel_ties", "ties_department", "cross_department")
# Counts that add up across the coffee chats' origins (a chat began one way only).
ORIGIN_ADDITIVE = ("pairs", "met_pairs", "ratings", "useful", "met_answers", "led_to")


def row_keys(scope: str, row: Row) -> list[Key]:
    """The counts a row publishes when it is shown."""
    if row.group_kind == "term":
        return []  # trend rows are copies of their term's own rows, protected with them
    numerator, base = ROW_COUNTS[row.metric]
    names = [n for n in (numerator, base) if n]
    if row.metric == "rating":
        names += RATINGS  # a median and quartiles of ratings say something about every cell
    return [(scope, row.track, row.group_kind, row.group, n) for n in names]


def row_values(row: Row) -> Iterator[tuple[str, float]]:
    """The counts a row holds (before anything is hidden), by name."""
    numerator, base = ROW_COUNTS[row.metric]
    kind = BY_ID[row.metric].kind
    if kind == "count" and row.value is not None:
        yield numerator, row.value
    elif kind == "proportion" and row.denominator is not None:
        yield numerator, row.numerator
        yield base, row.denominator
    elif kind == "median" and not row.note:
        yield base, row.n
    elif kind == "index":  # resting on the counts of the proportion it restates
        if numerator and row.numerator is not None:
            yield numerator, row.numerator
        if base and row.denominator is not None:
            yield base, row.denominator


def distribution_key(scope: str, track: str, rating: int) -> Key:
    return (scope, track, "all", "All", f"rating_{rating}")


def true_counts(tables: dict[str, Computed]) -> dict[Key, float]:
    """Every count of the term's tables, read before anything is hidden."""
    out: dict[Key, float] = {}
    for scope, computed in tables.items():
        for row in computed.rows:
            for name, value in row_values(row):
                out[(scope, row.track, row.group_kind, row.group, name)] = float(value)
        for track, distribution in computed.distributions.items():
            for rating, count in distribution.items():
                out[distribution_key(scope, track, rating)] = float(count)
    return out


@dataclass(frozen=True)
class Relation:
    """sum(coefficient * count) == 0, or <= 0 when `at_most`."""

    terms: tuple[tuple[Key, float], ...]
    at_most: bool = False

    def holds(self, values: dict[Key, float]) -> bool:
        total = sum(c * values.get(k, 0.0) for k, c in self.terms)
        return total <= 1e-9 if self.at_most else abs(total) <= 1e-9


def _sum(whole: Key, parts: Iterable[Key]) -> Relation:
    return Relation(((whole, -1.0), *((p, 1.0) for p in parts)))


def relations(truth: dict[Key, float], all_scope: str | None) -> list[Relation]:
    """The sums and bounds anyone could write down, kept only where they hold in the data (an
    auditor who knows every exact sum is the strongest one; a sum that does not hold, such as
    people counted once across two programs, gives nothing exact away)."""
    out: list[Relation] = []
    scopes = sorted({k[0] for k in truth})
    for scope in scopes:
        for track in sorted({k[1] for k in truth if k[0] == scope}):

            def key(name: str, kind: str = "all", group: str = "All") -> Key:
                return (scope, track, kind, group, name)  # noqa: B023 (used in this loop only)

            out.append(_sum(key("asked"), [key("answered"), key("unanswered")]))
            out.append(_sum(key("not_useful"), [key("rating_1"), key("rating_2")]))
            # Each line of the satisfaction table: its bands add up to its ratings, and with
            # those without one to its check-ins asked.
            cohorts = sorted({k[3] for k in truth if k[:3] == (scope, track, "cohort")})
            for group in ["All", *cohorts]:
                at = ("all", group) if group == "All" else ("cohort", group)
                bands = [key(r, *at) for r in ("not_useful", "rating_3", "useful")]
                out.append(_sum(key("ratings", *at), bands))
                out.append(_sum(key("asked", *at), [key("ratings", *at), key("no_rating", *at)]))
            out.append(_sum(key("ratings"), [key(r) for r in RATINGS]))
            out.append(_sum(key("useful"), [key("rating_4"), key("rating_5")]))
            for part, whole in (("met_30", "met_pairs"), ("sustained", "met_pairs")):
                out.append(Relation(((key(part), 1.0), (key(whole), -1.0)), at_most=True))
            for kind, _ in BREAKDOWNS:
                groups = sorted({k[3] for k in truth if k[:3] == (scope, track, kind)})
                for name in GROUP_ADDITIVE:
                    out.append(_sum(key(name), [key(name, kind, g) for g in groups]))
            # An outcome's engagement groups are its three taking-part groups' people, split.
            if track.startswith(OUTCOME_TRACK):
                for name in ("outcome_n", "outcome_favourable"):
                    out.append(
                        Relation(
                            (
                                *((key(name, "participation", g), 1.0) for g in TAKING_PART),
                                *((key(name, "engagement", g), -1.0) for g in ENGAGEMENT),
                            )
                        )
                    )
            years = sorted({k[3] for k in truth if k[:3] == (scope, track, "class_year")})
            for name in SURVEY_ADDITIVE:
                out.append(_sum(key(name), [key(name, "class_year", y) for y in years]))
            origins = [group for _, group in ORIGINS]
            for name in ORIGIN_ADDITIVE:
                out.append(_sum(key(name), [key(name, "origin", g) for g in origins]))
            for part, whole in NESTED_TIES:
                out.append(Relation(((key(part), 1.0), (key(whole), -1.0)), at_most=True))
        # Both tracks' ties together are the two tracks' added; the department pairs they join
        # are at least each track's and at most the two added (a pair can be joined in both).
        for name in (*BOTH_TRACKS_TIES, "dept_pairs_joined"):
            both, tracks = (
                (scope, "both", "all", "All", name),
                [(scope, t, "all", "All", name) for t in ("formal", "coffee")],
            )
            if name in BOTH_TRACKS_TIES:
                out.append(_sum(both, tracks))
                continue
            out.append(Relation(((both, 1.0), *((t, -1.0) for t in tracks)), at_most=True))
            out += [Relation(((t, 1.0), (both, -1.0)), at_most=True) for t in tracks]
    for k in truth:
        if k[4] in BASE and (*k[:4], BASE[k[4]]) in truth:
            out.append(Relation(((k, 1.0), ((*k[:4], BASE[k[4]]), -1.0)), at_most=True))
    if all_scope is not None:
        programs = [s for s in scopes if s != all_scope]
        for k in truth:
            if k[0] == all_scope and programs:
                parts = [(p, *k[1:]) for p in programs if (p, *k[1:]) in truth]
                out.append(_sum(k, parts))
    kept = []
    for r in out:
        terms = tuple((k, c) for k, c in r.terms if k in truth)
        if len(terms) > 1 and r.holds(truth):
            kept.append(Relation(terms, r.at_most))
    return kept


def each_row(tables: dict[str, Computed]) -> Iterator[tuple[str, Row]]:
    for scope, computed in tables.items():
        for row in computed.rows:
            yield scope, row
