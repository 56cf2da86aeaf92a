"""The term survey's figures (program/surveys), as report rows: for each track, over everyone
who took part in it and per class year (mentors a line of their own), who answered against who
was invited and how many were satisfied or very satisfied; over the whole track, someone for
career advice, someone met outside their department, a conversation that led to something, and
mentors whose load was too much.

Every figure is a count of people, one answer each, with Wilson's interval: the protection and
its audit treat them as every other row (reports/quantities.py ties the class years to the
track's whole and each count to its base)."""

from __future__ import annotations

import pandas as pd

from program.surveys.instrument import SATISFIED
from reports.metrics import Computed, Row, proportion_row

TRACKS = ("formal", "coffee")
CLASS_YEAR = "class_year"


def _lines(track: str, group: str, invited: pd.DataFrame) -> list[Row]:
    """Who answered and how satisfied, for a class year or the whole track; the yes-or-no
    questions for the whole track only (per class year most would be "all but a few", hidden,
    and would hide the response rates with them through the sums)."""
    kind = "all" if group == "All" else CLASS_YEAR
    answered = invited[invited["answered"]]

    def share(metric: str, hits: pd.Series, among: pd.DataFrame) -> Row:
        return proportion_row(
            track, kind, group, metric, int(hits.sum()), len(among), among["person_id"], hits
        )

    rows = [share("survey_response", invited["answered"], invited)]
    rated = answered[answered[f"{track}_satisfaction"].isin([1, 2, 3, 4, 5])]
    rows.append(share("satisfied", rated[f"{track}_satisfaction"].isin(SATISFIED), rated))
    if kind != "all":
        return rows
    rows.append(share("career_person", answered["career_person"].astype(bool), answered))
    rows.append(share("outside_met", answered["outside_people"] != "0", answered))
    rows.append(share("survey_led_to", answered["led_any"].astype(bool), answered))
    if track == "formal":
        loaded = answered[answered["is_mentor"] & answered["mentor_load"].notna()]
        rows.append(share("load_too_much", loaded["mentor_load"] == "too_much", loaded))
    return rows


def survey_rows(out: Computed, survey: pd.DataFrame) -> None:
    """Add the term survey's rows to `out` (none for a term with no survey)."""
    if survey.empty:
        return
    out.survey_targets = tuple(sorted({int(t) for t in survey["target"]}))
    for track in TRACKS:
        invited = survey[survey[f"in_{track}"]]
        if invited.empty:
            continue
        out.rows += _lines(track, "All", invited)
        for year, group in invited.groupby("class_year", sort=True):
            out.rows += _lines(track, str(year), group)
