"""Career stages: an ordered scale from first-year student to senior faculty (plain Python, so
the pure pairing, matching and roster modules can use it without the database)."""

from __future__ import annotations

import enum
import re


class CareerStage(enum.Enum):
    """Career stages, declared in career order: the order is the scale used for stage gaps."""

    MS1 = "MS1"
    MS2 = "MS2"
    MS3 = "MS3"
    MS4 = "MS4"
    PGY1 = "PGY1"
    PGY2 = "PGY2"
    PGY3 = "PGY3"
    PGY4 = "PGY4"
    PGY5 = "PGY5"
    PGY6 = "PGY6"
    PGY7 = "PGY7"
    FELLOW = "fellow"
    JUNIOR_FACULTY = "junior_faculty"
    MID_CAREER_FACULTY = "mid_career_faculty"
    SENIOR_FACULTY = "senior_faculty"
    STAFF = "staff"

    @property
    def rank(self) -> int:
        return _STAGE_RANK[self]

    @property
    def label(self) -> str:
        return _STAGE_LABELS.get(self, self.value)

    def gap(self, other: CareerStage) -> int:
        """How many steps apart two stages are on the scale (always >= 0)."""
        return abs(self.rank - other.rank)


_STAGE_RANK = {stage: index for index, stage in enumerate(CareerStage)}
_STAGE_LABELS = {
    CareerStage.FELLOW: "Fellow",
    CareerStage.JUNIOR_FACULTY: "Junior faculty",
    CareerStage.MID_CAREER_FACULTY: "Mid-career faculty",
    CareerStage.SENIOR_FACULTY: "Senior faculty",
    CareerStage.STAFF: "Staff",
}


_SPELLINGS = {
    "fellow": CareerStage.FELLOW,
    "fellowship": CareerStage.FELLOW,
    "clinical fellow": CareerStage.FELLOW,
    "research fellow": CareerStage.FELLOW,
    "intern": CareerStage.PGY1,
    "junior faculty": CareerStage.JUNIOR_FACULTY,
    "instructor": CareerStage.JUNIOR_FACULTY,
    "assistant professor": CareerStage.JUNIOR_FACULTY,
    "mid career faculty": CareerStage.MID_CAREER_FACULTY,
    "midcareer faculty": CareerStage.MID_CAREER_FACULTY,
    "associate professor": CareerStage.MID_CAREER_FACULTY,
    "senior faculty": CareerStage.SENIOR_FACULTY,
    "professor": CareerStage.SENIOR_FACULTY,
    "full professor": CareerStage.SENIOR_FACULTY,
    "staff": CareerStage.STAFF,
}
_EXACT = {
    **{stage.value.casefold(): stage for stage in CareerStage},
    **{" ".join(re.sub(r"[^a-z0-9-]+", " ", s.label.casefold()).split()): s for s in CareerStage},
    **_SPELLINGS,
}
_NUMBERED = re.compile(r"\b(pgy|ms|m|r)\s*-?\s*(\d)\b")


def parse_stage(text: str) -> CareerStage | None:
    """Read a career stage from the ways registrars write it: "PGY-2", "pgy2", "Resident, PGY 2",
    "MS3", "M3", "R1", "Fellow", "Assistant Professor". None when it cannot be read."""
    cleaned = " ".join(re.sub(r"[^a-z0-9-]+", " ", text.casefold().replace("_", " ")).split())
    if not cleaned:
        return None
    if cleaned in _EXACT:
        return _EXACT[cleaned]
    match = _NUMBERED.search(cleaned)
    if match:
        kind, number = match.group(1), int(match.group(2))
        if kind in ("ms", "m") and 1 <= number <= 4:
            return CareerStage[f"MS{number}"]
        if kind in ("pgy", "r") and 1 <= number <= 7:
            return CareerStage[f"PGY{number}"]
    for words, stage in _SPELLINGS.items():
        if words in cleaned:
            return stage
    return None
