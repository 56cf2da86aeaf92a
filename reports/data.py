"""Read one term's data (one program, or several programs' terms of the same name) into pandas
frames, with a handful of aggregate queries: never one query per person."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from program.asks.models import Ask, AskStatus
from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.models import Chat, ChatMember, Enrollment, Round
from program.db import utc_date
from program.formal.models import Assessor, Assignment, Availability
from program.outcomes.models import Measure, OutcomeValue
from program.people.models import Person
from program.people.stages import CareerStage
from program.programs.models import Program, Term, TermRosterEntry
from program.reporting.models import ActionItem
from program.surveys.models import Survey, SurveyResponse

TRACKS = ("formal", "coffee")


@dataclass
class Scope:
    """What a report covers: some programs' terms, all with the same name (one term each)."""

    terms: list[tuple[int, int, str, date, date]]  # (term id, program id, name, starts, ends)
    label: str  # "Internal Medicine Residency" or "All programs"
    term_name: str
    term_slug: str = ""

    @property
    def term_ids(self) -> list[int]:
        return [t[0] for t in self.terms]

    @property
    def program_ids(self) -> list[int]:
        return sorted({t[1] for t in self.terms})

    @property
    def starts(self) -> date:
        return min(t[3] for t in self.terms)

    @property
    def ends(self) -> date:
        return max(t[4] for t in self.terms)


@dataclass
class Frames:
    """The term's data, one row per thing, with no names in it."""

    people: pd.DataFrame  # person_id, track, eligible, enrolled, cohort, department, stage
    pairs: pd.DataFrame  # pair, track, started (date), new_tie, origin ("round" or "ask")
    members: pd.DataFrame  # pair, person_id
    check_ins: pd.DataFrame  # pair, track, person_id, period, status, met_on, rating, led_to
    next_term: pd.DataFrame  # person_id, track: taking part in the following term
    # Advising (the formal track): each trainee of the track with the mentors they had in the
    # term and from when (trainee_id, mentor_id, started: empty for one with none), each
    # mentor's stated places, and how many pairs set an assessor as mentor (the rule: none).
    advising: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"trainee_id": [], "mentor_id": [], "started": [], "waited": []}
        )
    )
    places: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"mentor_id": [], "capacity": []})
    )
    assessor_pairs: int = 0
    # Asks sent in the term (self-initiated chats): asker_id, accepted.
    asks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"asker_id": [], "accepted": []})
    )
    # The network across terms: the ties people had before this term (a chat or a formal pair
    # together; `key` as `tie_key` makes it), the people each met before it (track, person_id,
    # other_id: the other members of pairs in which they answered "we met"), the check-in
    # months each was asked about before it (track "formal", "coffee" or "both"; person_id,
    # months) and the department of everyone on a roster so far (person_id, department).
    earlier_ties: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"key": []}))
    met_before: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"track": [], "person_id": [], "other_id": []})
    )
    months_before: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"track": [], "person_id": [], "months": []})
    )
    departments: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"person_id": [], "department": []})
    )
    # The term survey: one row per person invited (their class year and tracks as invited),
    # with their answers where they answered (see program/surveys/instrument.py).
    survey: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SURVEY_COLUMNS))
    # Outcomes brought in for the term (program/outcomes): person_id, measure_id, number, answer
    # for the people on the scope's rosters.
    outcomes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VALUE_COLUMNS))

    def digest(self) -> str:
        """SHA-256 of the input data, the same whatever order its rows were read in: of each
        frame's name and columns and its rows' 64-bit hashes (pandas' SipHash of every value,
        vectorised: writing 200,000 check-ins out as CSV to hash them took two seconds),
        sorted."""
        h = hashlib.sha256()
        for name in (
            "people",
            "pairs",
            "members",
            "check_ins",
            "next_term",
            "advising",
            "asks",
            "earlier_ties",
            "met_before",
            "months_before",
            "departments",
            "survey",
            "outcomes",
        ):
            frame = getattr(self, name)
            h.update("\x1f".join([name, *frame.columns]).encode())
            rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
            h.update(np.sort(rows).astype("<u8").tobytes())
        return h.hexdigest()


def find_scope(conn: Connection, term_slug: str, program_slug: str | None) -> Scope | None:
    """The terms a report covers: one program's term, or every program's term with that slug."""
    stmt = (
        sa.select(Term.id, Term.program_id, Term.name, Term.starts_on, Term.ends_on, Program.name)
        .join(Program, Program.id == Term.program_id)
        .where(Term.slug == term_slug)
        .order_by(Program.name)
    )
    if program_slug is not None:
        stmt = stmt.where(Program.slug == program_slug)
    rows = conn.execute(stmt).all()
    if not rows:
        return None
    label = rows[0][5] if program_slug is not None else "All programs"
    return Scope([tuple(r[:5]) for r in rows], label, rows[0][2], term_slug)


def _read(
    conn: Connection, stmt: sa.Select, columns: list[str], *, as_stored: bool = False
) -> pd.DataFrame:
    """A query's rows as a frame. `as_stored` takes the driver's tuples as they come (for a
    query whose columns need no conversion): building 200,000 result rows was a second of a
    large report."""
    result = conn.execute(stmt)
    if as_stored:
        rows = result.cursor.fetchall()
        result.close()
    else:
        rows = result.all()
    if not rows:
        return pd.DataFrame(columns=columns)
    # From the rows as tuples in one step: a third of the time of transposing them in Python.
    return pd.DataFrame(rows if as_stored else [tuple(r) for r in rows], columns=columns)


def formal_key(ids: pd.Series) -> pd.Series:
    """A formal pair's key among a report's pairs: even numbers (a chat's are odd). Numbers,
    not text such as "f12": grouping 200,000 check-ins by a text key was a tenth of a large
    report."""
    return ids.astype("int64") * 2


def coffee_key(ids: pd.Series) -> pd.Series:
    """A coffee chat's key among a report's pairs: odd numbers."""
    return ids.astype("int64") * 2 + 1


def tie_key(a: pd.Series, b: pd.Series) -> pd.Series:
    """One number per tie between two people, whichever comes first."""
    a, b = a.astype("int64"), b.astype("int64")
    return a.where(a < b, b) * 10**12 + b.where(a < b, a)


def _each_value(column: pd.Series, convert: Callable[[Any], object]) -> pd.Series:
    """`convert` applied once per distinct value (a round's date is on thousands of chats),
    missing values left missing."""
    values = column.dropna().unique()
    return column.map(dict(zip(values, map(convert, values), strict=True)))


def _as_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def chats_between(program_ids: list[int], starts: date | None, ends: date) -> sa.Select[tuple[int]]:
    """The ids of the chats of these programs dated from `starts` (None: from the beginning) to
    `ends`: a published round's, by the round's date, and those people started with an ask, by
    the day of the yes."""
    rounds = sa.select(Round.id).where(
        Round.program_id.in_(program_ids),
        Round.published_at.is_not(None),
        Round.scheduled_for <= ends,
        *([Round.scheduled_for >= starts] if starts is not None else []),
    )
    started = sa.select(Chat.id).where(
        Chat.round_id.is_(None),
        Chat.program_id.in_(program_ids),
        utc_date(Chat.created_at) <= ends,
        *([utc_date(Chat.created_at) >= starts] if starts is not None else []),
    )
    return sa.select(Chat.id).where(sa.or_(Chat.round_id.in_(rounds), Chat.id.in_(started)))


def _chat_members(chats: sa.Select[tuple[int]]) -> sa.Select[Any]:
    """Each member of these chats with the chat's date, and whether a round made it."""
    return (
        sa.select(
            ChatMember.chat_id,
            ChatMember.person_id,
            sa.func.coalesce(Round.scheduled_for, utc_date(Chat.created_at)),
            Chat.round_id.is_(None),
        )
        .join(Chat, Chat.id == ChatMember.chat_id)
        .outerjoin(Round, Round.id == Chat.round_id)
        .where(ChatMember.chat_id.in_(chats))
    )


def load(conn: Connection, scope: Scope) -> Frames:
    term_ids, program_ids = scope.term_ids, scope.program_ids
    starts, ends = scope.starts, scope.ends
    start_dt = datetime.combine(starts, time.min, UTC)
    end_dt = datetime.combine(ends, time.max, UTC)
    # Who could take part, as they were in the term: its roster entries (recorded at import,
    # on joining, on a cohort change and at closing), never today's person records.
    entries = _read(
        conn,
        sa.select(
            TermRosterEntry.person_id,
            TermRosterEntry.is_trainee,
            TermRosterEntry.is_mentor,
            TermRosterEntry.formal_track,
            TermRosterEntry.coffee_track,
            TermRosterEntry.department,
            TermRosterEntry.stage,
            TermRosterEntry.cohort,
        )
        .where(TermRosterEntry.term_id.in_(term_ids))
        .order_by(TermRosterEntry.term_id, TermRosterEntry.person_id),
        [
            "person_id",
            "is_trainee",
            "is_mentor",
            "formal_track",
            "coffee_track",
            "department",
            "stage",
            "cohort",
        ],
        as_stored=True,
    )
    # Truth values as the driver stores them (SQLite: 0 and 1), made booleans once.
    flags = ["is_trainee", "is_mentor", "formal_track", "coffee_track"]
    entries[flags] = entries[flags].astype(bool)
    base = pd.concat(
        [
            entries[entries[flag]].assign(role=role)
            for flag, role in (("is_trainee", "trainee"), ("is_mentor", "mentor"))
        ],
        ignore_index=True,
    )[["person_id", "role", "formal_track", "coffee_track", "department", "stage"]]
    cohorts = entries[["person_id", "cohort"]].dropna().drop_duplicates("person_id")
    the_pairs = sa.and_(Assignment.term_id.in_(term_ids), Assignment.started_at.is_not(None))
    assignments = _read(
        conn,
        sa.select(
            Assignment.id,
            Assignment.mentor_id,
            Assignment.trainee_id,
            # Only its day is used: read as the database gives it and converted once per
            # distinct day below (a timestamp per row was a tenth of a large report on SQLite).
            sa.type_coerce(utc_date(Assignment.started_at), sa.String),
        ).where(the_pairs),
        ["id", "mentor_id", "trainee_id", "started"],
        as_stored=True,
    )
    assignments["started"] = _each_value(assignments["started"], _as_date)
    offered = _read(
        conn,
        sa.select(Availability.person_id, Availability.capacity).where(
            Availability.term_id.in_(term_ids), Availability.accepting.is_(True)
        ),
        ["person_id", "capacity"],
    )
    enrolled = _read(
        conn,
        sa.select(Enrollment.person_id)
        .where(
            Enrollment.program_id.in_(program_ids),
            Enrollment.enrolled_at <= end_dt,
            sa.or_(Enrollment.withdrawn_at.is_(None), Enrollment.withdrawn_at >= start_dt),
        )
        .distinct(),
        ["person_id"],
    )
    the_chats = chats_between(program_ids, starts, ends)
    # As stored: a day (text on SQLite) is converted once per distinct day below, and
    # "self-started" is read as a truth value wherever it is used.
    chat_rows = _read(
        conn,
        _chat_members(the_chats),
        ["chat_id", "person_id", "scheduled_for", "self_started"],
        as_stored=True,
    )
    # Ties formed before this term, to tell new ties from repeats.
    earlier_chats = chats_between(program_ids, None, starts - timedelta(days=1))
    earlier = _read(
        conn,
        sa.select(ChatMember.chat_id, ChatMember.person_id).where(
            ChatMember.chat_id.in_(earlier_chats)
        ),
        ["chat_id", "person_id"],
        as_stored=True,
    )
    earlier_pairs = sa.select(Assignment.id).where(
        Assignment.term_id.in_(
            sa.select(Term.id).where(Term.program_id.in_(program_ids), Term.starts_on < starts)
        ),
        Assignment.started_at.is_not(None),
    )
    earlier_formal = _read(
        conn,
        sa.select(Assignment.mentor_id, Assignment.trainee_id).where(
            Assignment.id.in_(earlier_pairs)
        ),
        ["a", "b"],
    )
    # (A first term has nothing before it: three scans of the check-ins spared.)
    before: dict[str, pd.DataFrame] = {}
    if len(earlier) or len(earlier_formal):
        before["met_before"], before["months_before"] = _before(conn, earlier_pairs, earlier_chats)
        before["departments"] = _read(
            conn,
            sa.select(TermRosterEntry.person_id, TermRosterEntry.department)
            .join(Term, Term.id == TermRosterEntry.term_id)
            .where(Term.program_id.in_(program_ids), Term.starts_on <= starts)
            .order_by(Term.starts_on),
            ["person_id", "department"],
        ).drop_duplicates("person_id", keep="last")
    check_ins = _read(
        conn,
        sa.select(
            CheckIn.assignment_id,
            CheckIn.chat_id,
            CheckIn.person_id,
            # Read as stored (the enums' values, dates as the driver gives them) and converted
            # a column at a time below: converting 200,000 rows one value at a time was most
            # of a large report's reading.
            sa.type_coerce(CheckIn.period_start, sa.String),
            sa.type_coerce(CheckIn.status, sa.String),
            sa.type_coerce(CheckIn.met_on, sa.String),
            CheckIn.rating,
            sa.type_coerce(CheckIn.led_to, sa.String),
        ).where(
            # The pairs and chats read above, as subqueries: tens of thousands of ids bound
            # one by one took most of a second to send.
            sa.or_(
                CheckIn.assignment_id.in_(sa.select(Assignment.id).where(the_pairs)),
                CheckIn.chat_id.in_(the_chats),
            )
        ),
        ["assignment_id", "chat_id", "person_id", "period", "status", "met_on", "rating", "led_to"],
        as_stored=True,
    )
    next_term = _next_term(conn, scope)

    # --- people per track -----------------------------------------------------------------
    base = base.merge(cohorts, on="person_id", how="left")
    base["stage"] = _each_value(base["stage"], _stage_label)
    attributes = (
        base.sort_values(["person_id", "role"])
        .groupby("person_id")
        .agg({"department": "first", "stage": "first", "cohort": "first"})
    )
    formal_people = set(assignments["mentor_id"]) | set(assignments["trainee_id"])
    # The formal track's eligible: its trainees, and the mentors who offered places this term
    # (a mentor who said "not this term" is not counted as a non-participant).
    formal_eligible = set(
        base.loc[(base["formal_track"]) & (base["role"] == "trainee"), "person_id"]
    ) | set(offered["person_id"])
    coffee_eligible = set(base.loc[base["coffee_track"], "person_id"])
    # Guests are in the chats, never among the people of the track. Read apart (they are few):
    # joining every chat member to their person doubled the time of reading the chats.
    guests = set(conn.scalars(sa.select(Person.id).where(Person.is_guest.is_(True))))
    coffee_people = set(enrolled["person_id"]) | (set(chat_rows["person_id"]) - guests)
    rows = []
    for track, eligible, taking_part in (
        ("formal", formal_eligible | formal_people, formal_people),
        ("coffee", coffee_eligible | coffee_people, coffee_people),
    ):
        for pid in sorted(eligible):
            rows.append((pid, track, pid in taking_part))
    people = pd.DataFrame(rows, columns=["person_id", "track", "enrolled"])
    # Typed even when empty: pandas reads an empty object column used as a mask as a list of
    # column names, and a term nobody is in yet would lose every column.
    people = people.astype({"person_id": "int64", "enrolled": bool})
    people = people.join(attributes, on="person_id")
    for column in ("department", "stage", "cohort"):
        # A column nobody has a value in (no cohorts yet) comes back as float NaN, which a
        # coming pandas refuses to fill with text: filled as objects, then typed as text.
        people[column] = people[column].astype(object).fillna("Not recorded").astype("str")

    # --- pairs, members, new ties ---------------------------------------------------------
    def chat_ties(rows: pd.DataFrame) -> pd.DataFrame:
        both = rows[["chat_id", "person_id"]].merge(rows[["chat_id", "person_id"]], on="chat_id")
        both = both[both["person_id_x"] < both["person_id_y"]]
        return pd.DataFrame(
            {"chat_id": both["chat_id"], "key": tie_key(both["person_id_x"], both["person_id_y"])}
        )

    seen = set(tie_key(earlier_formal["a"], earlier_formal["b"])) | set(chat_ties(earlier)["key"])
    formal_pairs = pd.DataFrame(
        {
            "pair": formal_key(assignments["id"]),
            "track": "formal",
            "started": assignments["started"],
            "new_tie": ~tie_key(assignments["mentor_id"], assignments["trainee_id"]).isin(seen),
            "origin": "formal",
        }
    )
    ties = chat_ties(chat_rows)
    repeated = set(ties.loc[ties["key"].isin(seen), "chat_id"])
    firsts = chat_rows.drop_duplicates("chat_id")
    coffee_pairs = pd.DataFrame(
        {
            "pair": coffee_key(firsts["chat_id"]),
            "track": "coffee",
            "started": _each_value(firsts["scheduled_for"], _as_date),
            "new_tie": ~firsts["chat_id"].isin(repeated),
            "origin": np.where(firsts["self_started"].astype(bool), "ask", "round"),
        }
    )
    pairs = pd.concat([formal_pairs, coffee_pairs], ignore_index=True)
    pairs["new_tie"] = pairs["new_tie"].astype(bool)
    members = pd.concat(
        [
            pd.DataFrame({"pair": formal_key(assignments["id"]), "person_id": assignments[column]})
            for column in ("mentor_id", "trainee_id")
        ]
        + [
            pd.DataFrame(
                {
                    "pair": coffee_key(chat_rows["chat_id"]),
                    "person_id": chat_rows["person_id"],
                }
            )
        ],
        ignore_index=True,
    )
    members["person_id"] = members["person_id"].astype("int64")

    formal_check = check_ins["assignment_id"].notna()
    check_ins["pair"] = formal_key(check_ins["assignment_id"].fillna(0)).where(
        formal_check, coffee_key(check_ins["chat_id"].fillna(0))
    )
    check_ins["track"] = np.where(formal_check, "formal", "coffee")
    for column in ("status", "led_to"):
        check_ins[column] = check_ins[column].astype(object).where(check_ins[column].notna(), None)
    for column in ("met_on", "period"):
        check_ins[column] = pd.to_datetime(check_ins[column].astype(object), format="ISO8601")
    check_ins = check_ins.drop(columns=["assignment_id", "chat_id"])
    asks = _read(
        conn,
        sa.select(Ask.asker_id, Ask.status == AskStatus.ACCEPTED).where(
            Ask.program_id.in_(program_ids),
            Ask.created_at >= start_dt,
            Ask.created_at <= end_dt,
            Ask.status != AskStatus.WITHDRAWN,
        ),
        ["asker_id", "accepted"],
    ).astype({"asker_id": "int64", "accepted": bool})
    # Advising: every trainee of the formal track, with their pairs of the term (if any).
    formal_trainees = pd.DataFrame(
        {
            "trainee_id": sorted(
                set(base.loc[base["formal_track"] & (base["role"] == "trainee"), "person_id"])
                | set(assignments["trainee_id"])
            )
        },
        dtype="int64",
    )
    advising = formal_trainees.merge(
        assignments[["trainee_id", "mentor_id", "started"]], on="trainee_id", how="left"
    )
    # Days each trainee waited, from the term's start to their first mentor of the term.
    advising["waited"] = [
        max(0, (day - starts).days) if isinstance(day, date) and not pd.isna(day) else None
        for day in advising["started"]
    ]
    places = offered.groupby("person_id")["capacity"].sum().rename_axis("mentor_id").reset_index()
    assessor_pairs = conn.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .join(
            Assessor,
            sa.and_(
                Assessor.assessor_id == Assignment.mentor_id,
                Assessor.trainee_id == Assignment.trainee_id,
                Assessor.program_id.in_(program_ids),
            ),
        )
        .where(the_pairs)
    )
    # The few values of these columns, as categories: comparing and grouping 200,000 rows of
    # text was a third of computing a large report.
    people = people.astype({"track": "category"})
    check_ins = check_ins.astype({"track": "category", "status": "category"})
    return Frames(
        people,
        pairs,
        members,
        check_ins,
        next_term,
        advising=advising,
        places=places,
        assessor_pairs=int(assessor_pairs or 0),
        asks=asks,
        earlier_ties=pd.DataFrame({"key": sorted(seen)}, dtype="int64"),
        survey=survey_answers(conn, term_ids),
        outcomes=outcome_values(conn, scope),
        **before,
    )


VALUE_COLUMNS = ["person_id", "measure_id", "number", "answer"]


def outcome_values(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The outcomes imported for the scope's term of the people on its rosters."""
    on_roster = sa.select(TermRosterEntry.person_id).where(
        TermRosterEntry.term_id.in_(scope.term_ids)
    )
    v = OutcomeValue
    return _read(
        conn,
        sa.select(v.person_id, v.measure_id, v.number, v.answer)
        .where(v.term_slug == scope.term_slug, v.person_id.in_(on_roster))
        .order_by(v.measure_id, v.person_id),
        VALUE_COLUMNS,
    )


def outcome_measures(conn: Connection) -> pd.DataFrame:
    """Every outcome measure defined, its kind and direction as their values."""
    m = Measure
    frame = _read(
        conn,
        sa.select(
            m.id, m.name, m.kind, m.definition, m.source, m.better, m.favourable, m.minimum_group
        ).order_by(m.name_key),
        ["id", "name", "kind", "definition", "source", "better", "favourable", "minimum_group"],
    )
    for column in ("kind", "better"):
        frame[column] = [getattr(v, "value", v) for v in frame[column]]
    return frame


SURVEY_COLUMNS = [
    "person_id",
    "class_year",
    "in_formal",
    "in_coffee",
    "is_mentor",
    "answered",
    "formal_satisfaction",
    "coffee_satisfaction",
    "career_person",
    "outside_people",
    "led_any",
    "mentor_load",
    "target",
]


def survey_answers(conn: Connection, term_ids: list[int]) -> pd.DataFrame:
    """The term survey's responses (see `Frames.survey`): whether any conversation led to
    something concrete is read as one yes or no, as the report counts it."""
    r = SurveyResponse
    rows = conn.execute(
        sa.select(
            r.person_id,
            r.class_year,
            r.in_formal,
            r.in_coffee,
            r.is_mentor,
            r.answered_at.is_not(None),
            r.formal_satisfaction,
            r.coffee_satisfaction,
            r.career_person,
            r.outside_people,
            r.led_to,
            r.mentor_load,
            Survey.target_percent,
        )
        .join(Survey, Survey.id == r.survey_id)
        .where(Survey.term_id.in_(term_ids))
        .order_by(r.person_id, Survey.term_id)
    ).all()
    frame = pd.DataFrame(
        [
            (*row[:10], bool(row[10]) and row[10] != ["none"] if row[5] else None, *row[11:])
            for row in rows
        ],
        columns=SURVEY_COLUMNS,
    )
    flags = ["in_formal", "in_coffee", "is_mentor", "answered"]
    frame[flags] = frame[flags].astype(bool)
    return frame


def _before(
    conn: Connection, earlier_pairs: sa.Select[Any], earlier_chats: sa.Select[tuple[int]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Whom each person met before the term, per track, and the check-in months they were
    asked about before it (per track and across both): aggregates, one row per person and
    partner or per person."""
    met = CheckIn.status == CheckInStatus.MET
    other = aliased(ChatMember)
    coffee = _read(
        conn,
        sa.select(CheckIn.person_id, other.person_id)
        .join(
            other, sa.and_(other.chat_id == CheckIn.chat_id, other.person_id != CheckIn.person_id)
        )
        .where(CheckIn.chat_id.in_(earlier_chats), met)
        .distinct(),
        ["person_id", "other_id"],
    )
    formal = _read(
        conn,
        sa.select(
            CheckIn.person_id,
            sa.case(
                (Assignment.mentor_id == CheckIn.person_id, Assignment.trainee_id),
                else_=Assignment.mentor_id,
            ),
        )
        .join(Assignment, Assignment.id == CheckIn.assignment_id)
        .where(CheckIn.assignment_id.in_(earlier_pairs), met)
        .distinct(),
        ["person_id", "other_id"],
    )
    met_before = pd.concat(
        [formal.assign(track="formal"), coffee.assign(track="coffee")], ignore_index=True
    )[["track", "person_id", "other_id"]].astype({"person_id": "int64", "other_id": "int64"})
    asked = sa.or_(CheckIn.assignment_id.in_(earlier_pairs), CheckIn.chat_id.in_(earlier_chats))
    months = sa.func.count(sa.distinct(CheckIn.period_start))
    per_track = _read(
        conn,
        sa.select(CheckIn.person_id, CheckIn.assignment_id.is_not(None), months)
        .where(asked)
        .group_by(CheckIn.person_id, CheckIn.assignment_id.is_not(None)),
        ["person_id", "formal", "months"],
    )
    both = _read(
        conn,
        sa.select(CheckIn.person_id, months).where(asked).group_by(CheckIn.person_id),
        ["person_id", "months"],
    )
    months_before = pd.concat(
        [
            pd.DataFrame(
                {
                    "track": np.where(per_track["formal"].astype(bool), "formal", "coffee"),
                    "person_id": per_track["person_id"],
                    "months": per_track["months"],
                }
            ),
            both.assign(track="both")[["track", "person_id", "months"]],
        ],
        ignore_index=True,
    ).astype({"person_id": "int64", "months": "int64"})
    return met_before, months_before


def _stage_label(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        return CareerStage(value).label
    except ValueError:
        return str(value)


def _next_term(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Who takes part in each track in the term after this one (same programs), if there is one."""
    following = conn.execute(
        sa.select(Term.id, Term.program_id, Term.starts_on, Term.ends_on)
        .where(Term.program_id.in_(scope.program_ids), Term.starts_on > scope.ends)
        .order_by(Term.starts_on)
    ).all()
    firsts: dict[int, tuple[int, date, date]] = {}
    for term_id, program_id, starts, ends in following:
        firsts.setdefault(program_id, (term_id, starts, ends))
    if not firsts:
        return pd.DataFrame(columns=["person_id", "track"])
    term_ids = [t[0] for t in firsts.values()]
    formal = conn.execute(
        sa.select(Assignment.mentor_id, Assignment.trainee_id).where(
            Assignment.term_id.in_(term_ids), Assignment.started_at.is_not(None)
        )
    ).all()
    starts = min(t[1] for t in firsts.values())
    ends = max(t[2] for t in firsts.values())
    coffee = conn.scalars(
        sa.select(ChatMember.person_id)
        .where(ChatMember.chat_id.in_(chats_between(list(firsts), starts, ends)))
        .distinct()
    ).all()
    rows = {(int(p), "formal") for pair in formal for p in pair}
    rows |= {(int(p), "coffee") for p in coffee}
    return pd.DataFrame(sorted(rows), columns=["person_id", "track"])


def data_as_of(conn: Connection, scope: Scope) -> datetime:
    """The time of the latest change to the data a report reads, so that the same data gives
    the same report (and the same bytes) whenever it is built (see `data_state`)."""
    return data_state(conn, scope)[0]


# The tables `data_state` reads. A committed write to any of them moves `program.changes`'
# generation, under which a process keeps each state it found (see reporting/services.py).
STATE_TABLES = tuple(
    model.__tablename__
    for model in (
        Term,
        TermRosterEntry,
        Enrollment,
        Round,
        ActionItem,
        Ask,
        Assignment,
        Chat,
        ChatMember,
        CheckIn,
        Survey,
        SurveyResponse,
        OutcomeValue,
        Measure,
    )
)


def data_state(conn: Connection, scope: Scope) -> tuple[datetime, tuple[int, ...]]:
    """The time of the latest change to the data a report reads, and how many rows of each
    kind it reads: together they change whenever that data does, even when rows come in
    with times of their own in the past (a late import of history), so a report kept under
    them is never out of date.

    Only what the report reads counts: the rosters, pairs, rounds, enrollments and check-ins of
    this term and the earlier ones (its trend and its new ties), and who is paired in the next
    term (continuation). Activity in later terms or other programs leaves it unchanged, so a
    closed term's report keeps its date and its bytes.
    """
    program_ids = scope.program_ids
    end_dt = datetime.combine(scope.ends, time.max, UTC)
    terms_so_far = sa.select(Term.id).where(
        Term.program_id.in_(program_ids), Term.starts_on <= scope.starts
    )
    next_terms = sa.select(Term.id).where(
        Term.program_id.in_(program_ids), Term.starts_on > scope.ends
    )
    rounds_so_far = sa.select(Round.id).where(
        Round.program_id.in_(program_ids), Round.scheduled_for <= scope.ends
    )
    chats_so_far = chats_between(program_ids, None, scope.ends)
    read_check_ins = sa.or_(
        CheckIn.assignment_id.in_(
            sa.select(Assignment.id).where(Assignment.term_id.in_(terms_so_far))
        ),
        CheckIn.chat_id.in_(chats_so_far),
    )
    count = sa.func.count()
    candidates = [
        # The rosters as recorded (memberships changing after a term closed do not count).
        sa.select(sa.func.max(TermRosterEntry.recorded_at), count).where(
            TermRosterEntry.term_id.in_(terms_so_far)
        ),
        sa.select(sa.func.max(Enrollment.enrolled_at), count).where(
            Enrollment.program_id.in_(program_ids), Enrollment.enrolled_at <= end_dt
        ),
        sa.select(sa.func.max(Enrollment.withdrawn_at), count).where(
            Enrollment.program_id.in_(program_ids), Enrollment.withdrawn_at <= end_dt
        ),
        sa.select(sa.func.max(Round.published_at), count).where(Round.id.in_(rounds_so_far)),
        # Action plans of the terms so far (the next term's report follows them up).
        sa.select(
            sa.func.max(sa.func.coalesce(ActionItem.updated_at, ActionItem.created_at)), count
        ).where(ActionItem.term_id.in_(terms_so_far)),
        # Asks: sent, and answered (an answer changes what the report says of them).
        sa.select(sa.func.max(sa.func.coalesce(Ask.answered_at, Ask.created_at)), count).where(
            Ask.program_id.in_(program_ids), Ask.created_at <= end_dt
        ),
        sa.select(sa.func.max(Assignment.started_at), count).where(
            sa.or_(Assignment.term_id.in_(terms_so_far), Assignment.term_id.in_(next_terms))
        ),
        # The term survey: invited, answered, changed.
        sa.select(
            sa.func.max(
                sa.func.coalesce(
                    SurveyResponse.updated_at, SurveyResponse.answered_at, SurveyResponse.invited_at
                )
            ),
            count,
        )
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.term_id.in_(terms_so_far)),
    ]
    found: list[Any] = []
    sizes: list[int] = []
    for stmt in candidates:
        latest, rows = conn.execute(stmt).one()
        found.append(latest)
        sizes.append(rows)
    # Chats have no time of their own: their members, counted, and the newest.
    sizes += conn.execute(
        sa.select(count, sa.func.coalesce(sa.func.max(ChatMember.id), 0)).where(
            ChatMember.chat_id.in_(chats_so_far)
        )
    ).one()
    # The check-ins' three times in one pass over them (the largest table by far).
    *latest_times, rows = conn.execute(
        sa.select(
            sa.func.max(CheckIn.asked_at),
            sa.func.max(CheckIn.answered_at),
            sa.func.max(CheckIn.updated_at),
            count,
        ).where(read_check_ins)
    ).one()
    found += latest_times
    sizes.append(rows)
    # Outcomes: a re-import deletes and inserts, so the newest id moves with every import.
    sizes += conn.execute(
        sa.select(count, sa.func.coalesce(sa.func.max(OutcomeValue.id), 0)).where(
            OutcomeValue.term_slug == scope.term_slug
        )
    ).one()
    sizes += conn.execute(sa.select(count, sa.func.coalesce(sa.func.max(Measure.id), 0))).one()
    times = [_aware(t) for t in found if t is not None]
    return (max(times) if times else datetime(1970, 1, 1, tzinfo=UTC)), tuple(sizes)


def _aware(value: datetime | str) -> datetime:
    # Aggregates over SQLite come back as text or naive values: every time here is UTC.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def has_next_term(conn: Connection, scope: Scope) -> bool:
    return (
        conn.scalar(
            sa.select(sa.func.count())
            .select_from(Term)
            .where(Term.program_id.in_(scope.program_ids), Term.starts_on > scope.ends)
        )
        > 0
    )


__all__ = ["TRACKS", "Frames", "Scope", "find_scope", "has_next_term", "load"]
