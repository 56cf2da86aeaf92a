"""How a formal pair is doing, from its dates alone: no Flask, no database.

A pair is *silent* when nobody has recorded a meeting for `silent_after_days` (counted from the
last meeting, or from the start when they have never met). A pair *does not answer* when the
latest check-ins the two were asked, at least `UNANSWERED_AFTER_DAYS` ago, are unanswered by both:
silence we cannot even measure, which is the earliest sign a pair has stopped. Days are calendar
days in UTC, as the days quiet are: what a pair's health says changes only when its data does
or the day turns, so a page may keep it for the day (program/formal/pairs.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

UNANSWERED_AFTER_DAYS = 14


class Flag(enum.Enum):
    """Ordered by how soon a coordinator should act."""

    # The mentor assesses or grades the trainee (recorded after the pair began): an advisor
    # may have no part in assessing (LCME 11.1), so the pair must end.
    ASSESSOR = "assessor"
    REMATCH_REQUESTED = "rematch_requested"
    SILENT = "silent"
    NO_ANSWERS = "no_answers"

    @property
    def label(self) -> str:
        return {
            Flag.ASSESSOR: "Must be rematched: the mentor assesses the trainee",
            Flag.REMATCH_REQUESTED: "Rematch asked",
            Flag.SILENT: "Silent",
            Flag.NO_ANSWERS: "No answers",
        }[self]


@dataclass(frozen=True)
class Asked:
    """One check-in of the pair: the period it is about, when it was asked, if it was answered."""

    period_start: date
    asked_at: datetime
    answered: bool
    met_on: date | None = None


@dataclass(frozen=True)
class Health:
    last_meeting: date | None
    days_quiet: int
    flags: tuple[Flag, ...]
    # The day this quiet spell began (the last meeting, or the start): a nudge is once per spell.
    quiet_since: date

    @property
    def worst(self) -> Flag | None:
        return self.flags[0] if self.flags else None

    @property
    def must_end(self) -> bool:
        """The pair must be rematched whatever the two want (the mentor assesses the trainee)."""
        return Flag.ASSESSOR in self.flags

    @property
    def quiet(self) -> bool:
        """Silent or not answering: the pair a gentle nudge is for."""
        return Flag.SILENT in self.flags or Flag.NO_ANSWERS in self.flags


def assess(
    started_at: datetime,
    check_ins: list[Asked],
    now: datetime,
    silent_after_days: int,
    rematch_requested: bool = False,
    assessed: bool = False,
) -> Health:
    """The pair's last meeting, days without one, and its flags in order of urgency."""
    met = [c.met_on for c in check_ins if c.met_on is not None]
    due = [c for c in check_ins if (now.date() - c.asked_at.date()).days >= UNANSWERED_AFTER_DAYS]
    latest_answered = None
    if due:
        latest = max(c.period_start for c in due)
        latest_answered = any(c.answered for c in check_ins if c.period_start == latest)
    return judge(
        started_at,
        max(met) if met else None,
        latest_answered,
        now,
        silent_after_days,
        rematch_requested,
        assessed,
    )


def judge(
    started_at: datetime,
    last_meeting: date | None,
    latest_due_answered: bool | None,
    now: datetime,
    silent_after_days: int,
    rematch_requested: bool = False,
    assessed: bool = False,
) -> Health:
    """`assess` from what it needs of the check-ins: the last meeting, and whether the latest
    period asked about at least UNANSWERED_AFTER_DAYS ago was answered (None: none is that old).
    A database computes both in one aggregate query for thousands of pairs."""
    quiet_since = max(last_meeting, started_at.date()) if last_meeting else started_at.date()
    days_quiet = max(0, (now.date() - quiet_since).days)
    flags = []
    if assessed:
        flags.append(Flag.ASSESSOR)
    if rematch_requested:
        flags.append(Flag.REMATCH_REQUESTED)
    if days_quiet >= silent_after_days:
        flags.append(Flag.SILENT)
    if latest_due_answered is False:
        flags.append(Flag.NO_ANSWERS)
    return Health(last_meeting, days_quiet, tuple(flags), quiet_since)
