"""A report: the scope, its suppressed metrics and trend, and what the outputs print about it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from program.programs.models import Program, Term
from reports.actions import Carried, carried_actions
from reports.audit import Audit, audit
from reports.data import TRACKS, Scope, find_scope, has_next_term, load, outcome_measures
from reports.metrics import (
    ALL_METRICS,
    ALL_UNRATED,
    BY_ID,
    IN_WORDS,
    LOADS,
    METRICS,
    ORIGINS,
    SATISFACTION_BANDS,
    SATISFACTION_TABLE,
    TREND,
    Computed,
    Difference,
    Row,
    compute,
    trend,
)
from reports.outcomes import (
    FEW,
    FEW_FAVOURABLE,
    FEW_OTHER,
    GIVES_AWAY,
    OUTCOME_TRACK,
    OutcomeComparison,
    outcome_tables,
    who_took_part,
    written_group,
)
from reports.quantities import relations, true_counts
from reports.stats import UNSTABLE_EVENTS, decimals, newcombe, p_value, signed_points
from reports.suppress import (
    DISTRIBUTION_FEW_PEOPLE,
    DISTRIBUTION_FEW_RESPONDENTS,
    DISTRIBUTION_PROTECTS,
    DISTRIBUTION_SMALL,
    DOMINATED,
    FEW_PEOPLE,
    MINIMUM_THRESHOLD,
    PROTECTS,
    SMALL_BASE,
    SMALL_COMPLEMENT,
    SMALL_COUNT,
    Protection,
    protect,
)
from reports.survey import survey_rows

LIMITATIONS = [
    "The coffee-chat track is opt-in: people who choose it may differ from those who do not, so "
    "a difference between the tracks is not evidence that either track causes it.",
    "The tracks overlap: one person can be in both, so the two groups are not independent "
    "samples and the comparisons are descriptive.",
    "Meetings are self-reported in check-ins; a meeting nobody reported is not counted, and "
    "the response rate says how much of the picture the answers cover.",
    "Ratings and outcomes are optional; they describe those who gave them.",
    f"Estimates resting on {UNSTABLE_EVENTS} or fewer events are marked unstable (†).",
    "Pairs that must never happen were ruled out before any pairing: a faculty member recorded "
    "as assessing or grading a trainee is never that trainee's formal mentor (LCME element "
    "11.1: advisors have no role in assessing the student), and nobody is paired with someone "
    "on their private “please don't pair me with” list.",
]


TRACK_NAMES_SHORT = {"formal": "Formal mentoring", "coffee": "Coffee chats"}


def change_against(now: Row, before: Row, term: str) -> str:
    """ "up 7 points from Spring 2026's 55%, beyond chance": a change between terms, and
    whether the 95% interval of the difference (Newcombe's) leaves out no change at all."""
    d, low, high = newcombe(
        int(now.numerator or 0),
        int(now.denominator or 0),
        int(before.numerator or 0),
        int(before.denominator or 0),
    )
    points = round(100 * d)
    if not points:
        return f"as in {term}, {percent(before.value)}"
    chance = "beyond chance" if low > 0 or high < 0 else "within chance"
    direction = "up" if points > 0 else "down"
    return f"{direction} {abs(points)} points from {term}'s {percent(before.value)}, {chance}"


# The breakdown columns about what people did (the others are the program's organisation).
BEHAVIOUR_METRICS = ("meetings_per_participant", "response_rate")


@dataclass
class Report:
    scope: Scope
    institution: str
    threshold: int
    as_of: datetime
    version: str
    computed: Computed
    trend_rows: list[Row]
    hidden_cells: int
    digest: str
    record_counts: dict[str, int]
    # Each program's actions from its previous term, and what came of them.
    carried: list[Carried] = field(default_factory=list)
    limitations: list[str] = field(default_factory=lambda: list(LIMITATIONS))
    # Terms of the trend that had not ended at the data's "as of" time.
    in_progress: frozenset[str] = frozenset()
    # In an all-programs report: each program's own figures for the term, side by side, each
    # protected by the same rule as the rest.
    programs: list[tuple[str, Computed]] = field(default_factory=list)
    # Each term's outcome comparisons (its own report's, as protected there), oldest first.
    outcome_trend: list[tuple[str, list[OutcomeComparison]]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Mentoring and coffee chats: {self.scope.label}, {self.scope.term_name}"

    @property
    def metrics(self) -> list:
        """The metrics of the side-by-side table."""
        return METRICS

    @property
    def definitions(self) -> list:
        """Every metric the report publishes, for its methods and crosswalk."""
        return ALL_METRICS

    @property
    def mentors_by_load(self) -> str:
        """ "1 mentee: 12 · 2 mentees: 5 · …", as every output prints it."""
        return " · ".join(
            f"{group}: {written(self, self.row('formal', 'mentors_by_load', 'load', group))}"
            for group in LOADS
        )

    @property
    def has_asks(self) -> bool:
        """Whether the coffee chats are split by origin: any chat or ask began with an ask."""
        return any(
            r.group_kind == "origin" and r.group == ORIGINS[1][1] and (r.value or r.denominator)
            for r in self.computed.rows
            if r.metric in ("pairs_formed", "asks_sent")
        )

    def row(self, track: str, metric: str, kind: str = "all", group: str = "All") -> Row:
        return self.computed.get(track, metric, kind, group)

    def difference(self, metric: str) -> Difference | None:
        return next((d for d in self.computed.differences if d.metric == metric), None)

    def groups(self, kind: str) -> list[str]:
        return sorted({r.group for r in self.computed.rows if r.group_kind == kind})

    def listed_groups(self, kind: str, track: str) -> list[str]:
        """The groups of a breakdown with something to show of what their people did: a row
        that would read "hidden" in every such column is left out of the table (its size is
        in `size_only`), rather than a page of "hidden"."""
        left_out = {group for group, _ in self.size_only(kind, track)}
        return [g for g in self.groups(kind) if g not in left_out]

    def size_only(self, kind: str, track: str) -> list[tuple[str, str]]:
        """The groups with nothing but their size to show, each with its eligible people."""
        out = []
        for group in self.groups(kind):
            eligible = self.row(track, "eligible", kind, group)
            if not eligible.value:
                continue
            shown = [
                r
                for m in BEHAVIOUR_METRICS
                if not (r := self.row(track, m, kind, group)).suppressed and r.value is not None
            ]
            if not shown:
                out.append((group, written(self, eligible)))
        return out

    def size_only_line(self, kind: str, track: str, kind_label: str) -> str:
        """The sentence under a breakdown's table naming the groups it leaves out."""
        groups = self.size_only(kind, track)
        if not groups:
            return ""
        listed = "; ".join(f"{group} ({eligible} eligible)" for group, eligible in groups)
        return (
            f"Not in the table, with nothing but their size to show (fewer than "
            f"{self.threshold} people, or every figure hidden): {listed}."
        )

    @property
    def findings(self) -> list[str]:
        """What a dean reads first, each sentence from a figure shown in the body: each track's
        headline figures against the last term (up or down, and whether beyond chance), the
        actions carried from last term, and what the report cannot show. A hidden figure is
        left out of it, never hinted at."""
        terms = self.trend_terms
        previous = terms[-2] if len(terms) > 1 and terms[-1] == self.scope.term_name else None
        out = []
        if self.scope.term_name in self.in_progress:
            out.append(
                f"{self.scope.term_name} is still in progress: its figures are those so far "
                "and will change until the term ends."
            )
        for track in ("formal", "coffee"):
            parts = []
            for metric in (*TREND, "useful"):
                now = self.row(track, metric)
                if now.suppressed or now.value is None:
                    continue
                text = f"{BY_ID[metric].label.lower()} {percent(now.value)}"
                before = self.trend_row(track, metric, previous) if previous else None
                if before is not None and not before.suppressed and before.denominator:
                    text += f" ({change_against(now, before, previous)})"  # type: ignore[arg-type]
                parts.append(text)
            if parts:
                out.append(f"{TRACK_NAMES_SHORT[track]}: " + "; ".join(parts) + ".")
        out += self.standing_out
        out += self.survey_findings
        if self.carried:
            done = sum(1 for a in self.carried if a.status.lower() == "done")
            out.append(
                f"Actions carried from last term: {len(self.carried)}, of which {done} done; "
                "their outcomes are in the table that follows."
            )
        out.append(
            "What this report cannot show: the tracks overlap and the coffee chats are opt-in, "
            "so a difference between them describes who took part as much as what either track "
            "did; and a change between terms is among partly the same people."
        )
        return out

    @property
    def survey_findings(self) -> list[str]:
        """The term survey's headline: each track's satisfied share with its interval, and how
        many answered against the target; a hidden figure left out, never hinted at."""
        if not self.computed.survey_targets:
            return []
        parts = []
        for track in ("formal", "coffee"):
            satisfied = self.row(track, "satisfied")
            if satisfied.suppressed or satisfied.value is None:
                continue
            parts.append(
                f"{TRACK_NAMES_SHORT[track].lower()} {percent(satisfied.value)} satisfied or "
                f"very satisfied (95% CI {percent(satisfied.ci_low)}–"
                f"{percent(satisfied.ci_high)}; n={int(satisfied.denominator)})"
            )
        answered = [
            self.row(track, "survey_response")
            for track in ("formal", "coffee")
            if not self.row(track, "survey_response").suppressed
        ]
        out = []
        if parts:
            out.append("Term survey: " + "; ".join(parts) + ".")
        if answered:
            rates = "; ".join(
                f"{TRACK_NAMES_SHORT[r.track].lower()} {percent(r.value)} "
                f"({int(r.numerator)} of {int(r.denominator)})"
                for r in answered
                if r.value is not None
            )
            out.append(
                f"Answered the term survey: {rates}, against a target of "
                f"{survey_target(self)} per class year."
            )
        return out

    @property
    def standing_out(self) -> list[str]:
        """What a dean should look into, from figures the breakdowns show: a department where
        at least half the people taking part in a track reported no meeting while the track as
        a whole met, and a cohort whose meetings nobody rated. A hidden figure makes no
        sentence (and so is not hinted at by one missing)."""
        out = []
        for track in ("formal", "coffee"):
            name = TRACK_NAMES_SHORT[track].lower()
            overall = self.row(track, "meetings_per_participant")
            if not overall.suppressed and overall.value:
                silent = [
                    f"{group} ({written(self, self.row(track, 'taking_part', 'department', group))}"
                    " taking part)"
                    for group in self.listed_groups("department", track)
                    if not (
                        r := self.row(track, "meetings_per_participant", "department", group)
                    ).suppressed
                    and r.value == 0
                ]
                if silent:
                    out.append(
                        f"Gone quiet in {name}: in {_listed(silent)}, at least half of those "
                        "taking part reported no meeting this term (a median of 0 meetings, "
                        f"against {decimals(overall.value)} across the track)."
                    )
            if track in self.computed.by_cohort_withheld:
                continue
            unrated = [
                group
                for group in self.groups("cohort")
                if self.row(track, "no_rating", "cohort", group).note == ALL_UNRATED
            ]
            if unrated:
                cohorts = "cohort" if len(unrated) == 1 else "cohorts"
                out.append(
                    f"Unrated in {name}: nobody in the {cohorts} {_listed(unrated)} rated a "
                    "meeting this term, so how useful they found them is unknown (the "
                    "satisfaction table)."
                )
        return out

    @property
    def reading_guide(self) -> list[str]:
        """How to read the breakdowns, said once before them, in every output."""
        t = self.threshold
        return [
            "Each row is a group of the people eligible for the track (a cohort, a department, "
            "a career stage). Eligible and taking part describe the program's organisation and "
            "are always shown; the other columns are what the group's people did.",
            f"What fewer than {t} people did, or what one person did most of, is never shown: "
            "the cell says why it is hidden. A group with nothing but its size to show is not "
            "listed in the table; the line under it names the group and its size.",
            "A percentage is followed by its count and its 95% interval, the range of rates "
            "consistent with the group's answers: two groups whose intervals overlap widely may "
            "not differ at all. A median is followed by the middle half of the values.",
        ]

    @property
    def trend_terms(self) -> list[str]:
        seen: list[str] = []
        for r in self.trend_rows:
            if r.group not in seen:
                seen.append(r.group)
        return seen

    def term_label(self, term: str) -> str:
        """A term's name in the trend, marked when its figures are not final yet."""
        return f"{term} (in progress)" if term in self.in_progress else term

    def trend_row(self, track: str, metric: str, term: str) -> Row:
        for r in self.trend_rows:
            if (r.track, r.metric, r.group) == (track, metric, term):
                return r
        return Row(track, "term", term, metric, note="no data")

    @property
    def suppression_rule(self) -> str:
        t = self.threshold
        return (
            "Protected are the figures that tell what people did or answered: whether pairs "
            "met, how soon and how often, whom people met, whether check-ins were answered, "
            "ratings and what came of a meeting. Who was eligible, who took part and which "
            "pairs were formed are facts of the program's organisation that its members already "
            f"see, and are shown as they are. Such a count from 1 to {t - 1} reads “fewer than "
            f"{t}”; a rate on fewer than {t} reads “hidden: based on fewer than {t}”; a rate "
            f"where all but 1 to {t - 1} did the same reads “hidden: all but fewer than {t}”; "
            f"medians need {t} people or answers, rating summaries {t} ratings. A figure of "
            f"check-ins, answers or ratings also needs {t} different people (“hidden: fewer "
            f"than {t} people”: nine answers of one person are that person's), and one in which "
            "a single person gave more than half of the count, or of the rest, is that "
            "person's too (“hidden: mostly one person's”). Every report "
            "of this term (each program's, all programs', and the trend rows of later terms) "
            "is protected together, and a linear-programming audit of all of them checks that "
            "no hidden count can be worked out from the rest more closely than its label says: "
            f"every hidden count of 1 to {t - 1} can still be at least {t - 1} different "
            "values. Values hidden to make that so read “hidden ‡”. No person is named. "
            f"{self.hidden_cells} {'cell was' if self.hidden_cells == 1 else 'cells were'} "
            "hidden in this report."
        )

    @property
    def footnotes(self) -> str:
        return (
            f"† an estimate from {UNSTABLE_EVENTS} or fewer events. ‡ hidden so that no hidden "
            "value can be worked out from this report or another one (it says nothing about "
            "its own size)."
        )


ALL = "*"  # the all-programs table among a term's tables (program slugs never contain it)


@dataclass
class TermTables:
    """Every table published about one term, protected together: each program's (by slug)
    and all programs' (ALL), with what the protection hid and its audit."""

    scopes: dict[str, Scope]
    tables: dict[str, Computed]
    # Each table's input data: its SHA-256 and how many records of each kind (the frames
    # themselves are not kept: a term's tables are kept between requests, its rows need not be).
    digests: dict[str, str]
    record_counts: dict[str, dict[str, int]]
    hidden_cells: dict[str, int]
    protection: Protection
    names: dict[str, str]  # program slug -> name

    def audit(self) -> Audit:
        """The audit of the term's published tables, read from the tables as they now read
        (each hidden row's label, each shown count), with every hidden count's interval; and
        of the outcomes compared by who took part, with what ties their groups together."""
        found = audit(
            self.protection.tables,
            self.protection.truth,
            self.protection.relations,
            self.protection.threshold,
        )
        outcomes = outcome_audit_tables(self.tables)
        if not any(table.rows for table in outcomes.values()):
            return found
        truth = true_counts(outcomes)
        more = audit(
            outcomes,
            truth,
            relations(truth, ALL if len(outcomes) > 1 else None),
            self.protection.threshold,
        )
        return Audit(
            found.hidden_counts + more.hidden_counts,
            found.findings + more.findings,
            {**found.intervals, **more.intervals},
        )


# How the audit reads why an outcome's group is hidden (see reports/outcomes.py).
OUTCOME_REASONS = {
    FEW: FEW_PEOPLE,  # fewer than the measure's minimum: its label bounds nothing the audit uses
    FEW_FAVOURABLE: SMALL_COUNT,
    FEW_OTHER: SMALL_COMPLEMENT,
    GIVES_AWAY: PROTECTS,
}


def outcome_audit_tables(tables: dict[str, Computed]) -> dict[str, Computed]:
    """Each table's outcome comparisons as rows the audit reads: per measure (track
    "outcome:<id>") and group, its people with a value and, for answers, the favourable ones,
    hidden where the report hides them."""
    out = {}
    for scope, computed in tables.items():
        rows = []
        for c in computed.outcomes:
            for kind, groups in (("participation", c.participation), ("engagement", c.engagement)):
                for g in groups:
                    track = f"{OUTCOME_TRACK}{c.measure_id}"
                    if c.numeric:
                        row = Row(track, kind, g.label, "outcome_people", g.n, None, g.n, n=g.n)
                    else:
                        x = g.favourable or 0
                        row = Row(
                            track, kind, g.label, "outcome_share", x, g.n, x / g.n if g.n else None
                        )
                    row.suppressed = bool(g.hidden)
                    row.hidden_reason = OUTCOME_REASONS.get(g.reason, PROTECTS) if g.hidden else ""
                    rows.append(row)
        out[scope] = Computed(rows=rows)
    return out


def term_tables(conn: Connection, term_slug: str, threshold: int) -> TermTables | None:
    """Compute and protect every report of a term at once, so no file can be subtracted from
    another: the protection sees each program's figures and all programs' together."""
    whole = find_scope(conn, term_slug, None)
    if whole is None:
        return None
    names = dict(
        conn.execute(
            sa.select(Program.slug, Program.name)
            .join(Term, Term.program_id == Program.id)
            .where(Term.slug == term_slug)
            .order_by(Program.name)
        ).all()
    )
    scopes = {slug: find_scope(conn, term_slug, slug) for slug in names}
    if len(names) > 1:
        scopes[ALL] = whole
    tables, digests, counts = {}, {}, {}
    values_of, groups_of = {}, {}
    for key, scope in scopes.items():
        frames = load(conn, scope)
        values_of[key] = frames.outcomes
        groups_of[key] = who_took_part(frames.people, frames.check_ins)
        tables[key] = compute(frames, has_next_term(conn, scope))
        survey_rows(tables[key], frames.survey)
        digests[key] = frames.digest()
        counts[key] = {
            "people (per track)": len(frames.people),
            "pairs and chats": len(frames.pairs),
            "check-ins": len(frames.check_ins),
        }
    for key, computed in tables.items():
        _cohort_lines(computed, threshold, all_programs=key == ALL)
    hidden, protection = protect(dict(tables), threshold, ALL if ALL in tables else None)
    compared = outcome_tables(
        outcome_measures(conn), values_of, groups_of, threshold, ALL if ALL in tables else None
    )
    for key, found in compared.items():
        tables[key].outcomes = found
    if ALL not in scopes:
        # One program: all programs together is that program, published twice identically.
        (only,) = names
        scopes[ALL], digests[ALL], counts[ALL] = whole, digests[only], counts[only]
        tables[ALL], hidden[ALL] = copy.deepcopy(tables[only]), hidden[only]
    return TermTables(scopes, tables, digests, counts, hidden, protection, names)


def _cohort_lines(computed: Computed, threshold: int, *, all_programs: bool) -> None:
    """Keep a track's satisfaction lines per cohort only where every cohort has at least the
    threshold's ratings (or none), and never in the all-programs table, whose cohorts are each
    program's own classes. A line of one to four ratings would hide its bands and, through the
    sums, the track's own ratings; mixing programs' cohorts tied every program's table to every
    other's."""
    for track in TRACKS:
        given = [
            r.denominator
            for r in computed.rows
            if (r.track, r.group_kind, r.metric) == (track, "cohort", "rated_high")
        ]
        if not all_programs and not any(n is not None and 0 < n < threshold for n in given):
            continue
        computed.by_cohort_withheld.add(track)
        computed.rows = [
            r
            for r in computed.rows
            if not (
                r.track == track and r.group_kind == "cohort" and r.metric in SATISFACTION_TABLE
            )
        ]


def build_report(
    conn: Connection,
    scope: Scope,
    *,
    institution: str,
    threshold: int,
    as_of: datetime,
    version: str,
    program_slug: str | None,
    tables_of: Callable[[str], TermTables | None] | None = None,
) -> Report:
    """The report of `scope`. Its term's tables (and its trend terms') are every program's,
    protected together: `tables_of(slug)`, where given, finds them already protected (the app
    keeps them, so that forty programs' reports protect their term once, not forty times);
    else they are worked out here."""
    threshold = max(threshold, MINIMUM_THRESHOLD)
    own = program_slug or ALL
    cache: dict[str, TermTables | None] = {}

    def worked_out(slug: str) -> TermTables | None:
        if slug not in cache:
            found = tables_of(slug) if tables_of else term_tables(conn, slug, threshold)
            cache[slug] = found
        return cache[slug]

    term = worked_out(scope.term_slug)
    if term is None:  # the scope was just found; only a concurrent delete gets here
        raise LookupError(f"no term {scope.term_slug!r}")
    computed = term.tables[own]
    # The trend: the same headline figures for every earlier term of the same scope, as that
    # term's own report shows them.
    slugs = conn.execute(
        sa.select(Term.slug, Term.starts_on)
        .where(Term.program_id.in_(scope.program_ids), Term.starts_on <= scope.starts)
        .order_by(Term.starts_on)
    ).all()
    by_term: list[tuple[str, Computed]] = []
    outcome_trend: list[tuple[str, list[OutcomeComparison]]] = []
    in_progress = {scope.term_name} if scope.ends >= as_of.date() else set()
    seen: set[str] = set()
    for slug, _ in slugs:
        if slug in seen:
            continue
        seen.add(slug)
        other = worked_out(slug)
        if other is None or own not in other.tables:
            continue
        by_term.append((other.scopes[own].term_name, other.tables[own]))
        outcome_trend.append((other.scopes[own].term_name, other.tables[own].outcomes))
        if other.scopes[own].ends >= as_of.date():
            in_progress.add(other.scopes[own].term_name)
    programs: list[tuple[str, Computed]] = []
    if program_slug is None and len(scope.program_ids) > 1:
        programs = [(name, term.tables[slug]) for slug, name in term.names.items()]
    return Report(
        scope=scope,
        programs=programs,
        institution=institution,
        threshold=threshold,
        as_of=as_of,
        version=version,
        computed=computed,
        trend_rows=trend(by_term),
        in_progress=frozenset(in_progress),
        hidden_cells=term.hidden_cells[own],
        digest=term.digests[own],
        carried=carried_actions(conn, scope),
        record_counts=dict(term.record_counts[own]),
        outcome_trend=outcome_trend,
    )


# --- how values are written, the same in every output -------------------------------------


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def hidden_label(threshold: int, reason: str) -> str:
    """What a hidden value reads, saying honestly why it is hidden."""
    return {
        SMALL_COUNT: f"fewer than {threshold}",
        SMALL_BASE: f"hidden: based on fewer than {threshold}",
        SMALL_COMPLEMENT: f"hidden: all but fewer than {threshold}",
        PROTECTS: "hidden ‡",
        FEW_PEOPLE: f"hidden: fewer than {threshold} people",
        DOMINATED: "hidden: mostly one person's",
    }.get(reason, "hidden")


def distribution_cell(threshold: int, count: int) -> str:
    """One cell of a rating distribution, as every output prints it."""
    if count == DISTRIBUTION_SMALL:
        return f"fewer than {threshold}"
    if count == DISTRIBUTION_PROTECTS:
        return "hidden ‡"
    if count == DISTRIBUTION_FEW_RESPONDENTS:
        return f"hidden: fewer than {threshold} respondents"
    if count == DISTRIBUTION_FEW_PEOPLE:
        return f"hidden: fewer than {threshold} people rated"
    return str(count)


SATISFACTION_HEADER = [
    "Not useful (1–2)",
    "Neutral (3)",
    "Useful (4–5)",
    "Ratings (n)",
    "No rating",
    "Check-ins asked",
    "Response rate",
]


def cohorts_withheld(report: Report, track: str) -> str:
    """Why a track's satisfaction table has no cohort lines, or "" when it has them."""
    if track not in report.computed.by_cohort_withheld:
        return ""
    if report.programs:
        return "Cohorts are each program's own classes: each program's report gives its own."
    return (
        f"By cohort only when every cohort has at least {report.threshold} ratings (or none): "
        f"here one has fewer, and its figures would show through the others."
    )


def satisfaction_lines(report: Report, track: str) -> list[list[str]]:
    """The usefulness rating by cohort as the LCME Independent Student Analysis lays out its
    items: per cohort, then all, each band's count and share of the ratings given, n, "no
    rating" as its own column (its share: of the check-ins asked), the check-ins asked and the
    response rate; hidden cells labelled as everywhere else."""
    lines = []
    cohorts = sorted(
        {
            r.group
            for r in report.computed.rows
            if (r.track, r.group_kind, r.metric) == (track, "cohort", "checkins_asked")
        }
    )
    for group in [*cohorts, "All"]:
        kind = "all" if group == "All" else "cohort"

        def row(metric: str) -> Row:
            return report.row(track, metric, kind, group)  # noqa: B023 (used in this loop only)

        def cell(metric: str) -> str:
            shown = row(metric)
            if BY_ID[metric].kind != "proportion" or shown.suppressed or shown.value is None:
                return written(report, shown)
            return f"{int(shown.numerator)} ({percent(shown.value)})"

        bands = [m for m, _ in SATISFACTION_BANDS]
        n = row(bands[0])
        given = (
            written(report, n) if n.suppressed or n.denominator is None else str(int(n.denominator))
        )
        rate = written(report, row("response_rate")).split(" (")[0]
        lines.append(
            [group, *map(cell, bands), given, cell("no_rating"), cell("checkins_asked"), rate]
        )
    return lines


SURVEY_HEADER = ["Answered / invited", "Target reached", "Satisfied or very satisfied"]
SURVEY_SHOWN = ("survey_response", "satisfied")
# The survey's figures over a whole track (per class year most would be hidden).
SURVEY_TRACK = ("career_person", "outside_met", "survey_led_to", "load_too_much")


def survey_target(report: Report) -> str:
    """The response target the report's survey lines are read against, in words."""
    targets = report.computed.survey_targets
    if len(targets) == 1:
        return f"{targets[0]}%"
    return f"{targets[0]}–{targets[-1]}% (each program's own)"


def survey_intro(report: Report) -> str:
    """What the survey section says before its tables, the same on the page and in the PDF."""
    return (
        "Everyone taking part was asked the same short survey near the term's end (fixed "
        "wording, so terms and programs compare): satisfaction with the mentoring received in "
        "each track, whether they have someone to go to for career advice, whom they met "
        "outside their department and whether it led to something concrete. Each line gives "
        "who answered of who was invited, against the response target of "
        f"{survey_target(report)} per class year, and each figure's share of those who "
        "answered (satisfaction: of those to whom the track applied, with its 95% interval). "
        "Nobody's own answers are shown anywhere; a figure resting on fewer people than the "
        f"threshold ({report.threshold}) is hidden. These are associations with taking part, "
        "not effects of it: people chose the coffee track, and many took part in both."
    )


def survey_lines(report: Report, track: str) -> list[list[str]]:
    """The term survey for a track as accreditors read it: per class year (mentors a line of
    their own), then all, who answered of who was invited with the rate against the target,
    then each figure's share with its count and base (satisfaction with its 95% interval);
    hidden cells labelled as everywhere else."""
    years = report.groups("class_year")
    lines = []
    for group in [*years, "All"]:
        kind = "all" if group == "All" else "class_year"
        rows = [report.row(track, m, kind, group) for m in SURVEY_SHOWN]
        if rows[0].note == "not computed":
            continue  # a class year with nobody in this track
        answered, satisfied = rows
        if answered.suppressed or answered.value is None:
            lines.append([group, written(report, answered), "–", written(report, satisfied)])
            continue
        reached = all(100 * answered.value >= t for t in report.computed.survey_targets)
        share = f"{int(answered.numerator)}/{int(answered.denominator)}"
        lines.append(
            [
                group,
                f"{percent(answered.value)} ({share})",
                "yes" if reached else "no",
                written(report, satisfied),
            ]
        )
    return lines


OUTCOMES_INTRO = (
    "Outcomes the institution keeps about people, brought in for this term, compared across "
    "who took part: by participation (formal mentoring only, coffee chats only, both, neither) "
    "and, among those taking part, by engagement (met three times or more, against fewer). A "
    "number is given as each group's mean with its 95% interval; one of several answers as the "
    "share giving the favourable one. A group resting on fewer people than its measure's "
    "minimum is hidden, and so is any group that would give a hidden one away. These are "
    "associations, not effects: people chose the coffee track, the tracks overlap, and those "
    "who met more often may differ in other ways."
)


def outcome_lines(comparison: OutcomeComparison) -> list[list[str]]:
    """One measure's groups as table rows: (comparison, group, figure)."""
    rows = [
        ["By participation", g.label, written_group(g, comparison.numeric)]
        for g in comparison.participation
    ]
    rows += [
        ["By engagement", g.label, written_group(g, comparison.numeric)]
        for g in comparison.engagement
    ]
    return rows


def outcome_trend_lines(report: Report, comparison: OutcomeComparison) -> list[list[str]]:
    """A measure across the terms it was imported for: each term's participation groups, as
    that term's report shows them (a term without it left out)."""
    lines = []
    for term, found in report.outcome_trend:
        mine = next((c for c in found if c.measure_id == comparison.measure_id), None)
        if mine is not None:
            lines.append(
                [report.term_label(term)]
                + [written_group(g, mine.numeric).split(" (")[0] for g in mine.participation]
            )
    return lines


def outcome_notes(comparison: OutcomeComparison) -> list[str]:
    """What a measure is, and its tests, in sentences under its table."""
    what = (
        f"{comparison.definition} Source: {comparison.source}. "
        + {"higher": "Higher is better.", "lower": "Lower is better.", "neither": ""}[
            comparison.better
        ]
    ).strip()
    if not comparison.numeric:
        what += f" Favourable answer: “{comparison.favourable}”."
    notes = [what]
    if comparison.participation_test:
        notes.append(f"Across participation: {comparison.participation_test}.")
    if comparison.engagement_difference:
        notes.append(f"Met 3 times or more against fewer: {comparison.engagement_difference}.")
    return notes


def survey_track_lines(report: Report) -> list[list[str]]:
    """The survey's yes-or-no figures over each whole track, side by side (a figure a track
    does not have, such as the mentors' load for the coffee chats, is a dash)."""
    lines = []
    for metric in SURVEY_TRACK:
        cells = []
        for track in ("formal", "coffee"):
            row = report.row(track, metric)
            cells.append("–" if row.note == "not computed" else written(report, row))
        if cells != ["–", "–"]:
            lines.append([BY_ID[metric].label, *cells])
    return lines


def written(report: Report, row: Row) -> str:
    """A row's value as every output prints it."""
    if row.suppressed:
        return hidden_label(report.threshold, row.hidden_reason)
    if row.value is None:
        return row.note if row.note in IN_WORDS else "–"
    kind = BY_ID[row.metric].kind
    mark = " †" if row.unstable else ""
    if kind == "count":
        return f"{int(row.value)}"
    if kind == "share":
        return percent(row.value)
    if kind == "index":
        return f"{decimals(row.value, fixed=True)} (n={row.n} ties){mark}"
    if kind == "proportion":
        return (
            f"{percent(row.value)} ({int(row.numerator)}/{int(row.denominator)}; "
            f"95% CI {percent(row.ci_low)}–{percent(row.ci_high)}){mark}"
        )
    return f"{decimals(row.value)} (IQR {decimals(row.q1)}–{decimals(row.q3)}; n={row.n}){mark}"


def _listed(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def written_difference(report: Report, metric: str) -> str:
    d = report.difference(metric)
    if d is None:
        return "–"
    if d.suppressed:
        return "hidden: one track's value is hidden"
    if d.low is None:
        return f"P(formal > coffee) = {d.estimate:.2f}; Mann–Whitney {p_value(d.p_value)}"
    return (
        f"{signed_points(d.estimate)} points "
        f"(95% CI {signed_points(d.low)} to {signed_points(d.high)})"
    )
