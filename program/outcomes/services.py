"""Outcome measures and their import: a dean or admin defines a measure (what it is, where it
comes from, which way is better), uploads a term's file, reads its preview (who matched, every
problem, what it replaces), and applies it whole or not at all. A re-import of a measure for a
term replaces that term's values of it. Every import is in the audit log."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from program.audit.services import record
from program.db import DomainError, insert_rows, name_key, utc_now
from program.extensions import db
from program.outcomes.models import Better, Measure, MeasureKind, OutcomeUpload, OutcomeValue
from program.outcomes.parsing import (
    MAX_PROBLEMS,
    MeasureColumn,
    OutcomesFileError,
    ParsedOutcomes,
    parse_outcomes,
)
from program.people.models import Person
from program.programs.models import Term, TermRosterEntry

MAX_BYTES = 10 * 1024 * 1024


def measures() -> list[Measure]:
    return list(db.session.scalars(sa.select(Measure).order_by(Measure.name_key)))


def define_measure(
    actor: Person,
    *,
    name: str,
    kind: MeasureKind,
    definition: str,
    source: str,
    better: Better,
    favourable: str | None,
    minimum_group: int,
    threshold: int,
) -> Measure:
    """A new measure; refused (with the field) when its name is taken or a part is missing.
    `threshold`: the institution's, below which no group may be set."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("Name the measure.", field="name")
    if db.session.scalar(sa.select(Measure.id).where(Measure.name_key == name_key(name))):
        raise DomainError(f"A measure named “{name}” exists already.", field="name")
    if not definition.strip():
        raise DomainError("Say what the measure is and how it is taken.", field="definition")
    if not source.strip():
        raise DomainError("Say where the values come from.", field="source")
    favourable = " ".join((favourable or "").split()) or None
    if kind is MeasureKind.CATEGORICAL and favourable is None:
        raise DomainError(
            "Name the favourable answer (the report gives its share in each group).",
            field="favourable",
        )
    if minimum_group < threshold:
        raise DomainError(
            f"A group may rest on no fewer than the institution's threshold, {threshold}.",
            field="minimum_group",
        )
    measure = Measure(
        name=name,
        kind=kind,
        definition=definition.strip(),
        source=source.strip(),
        better=better,
        favourable=favourable if kind is MeasureKind.CATEGORICAL else None,
        minimum_group=minimum_group,
    )
    db.session.add(measure)
    db.session.flush()
    record(actor, "outcomes.measure_defined", measure, summary=f"Outcome measure “{name}” defined")
    return measure


def term_slugs() -> list[tuple[str, str]]:
    """The terms outcomes can be imported for: (slug, name), the newest first."""
    rows = db.session.execute(
        sa.select(Term.slug, sa.func.min(Term.name), sa.func.max(Term.starts_on))
        .group_by(Term.slug)
        .order_by(sa.func.max(Term.starts_on).desc())
    ).all()
    return [(slug, name) for slug, name, _ in rows]


@dataclass(frozen=True)
class Preview:
    upload: OutcomeUpload
    people: int  # rows matched to someone on the term's rosters
    values: dict[str, int]  # per measure's name: how many values the file gives
    replaces: dict[str, int]  # per measure's name: values of the term it replaces
    problems: list[str]
    more_problems: int

    @property
    def can_apply(self) -> bool:
        return not self.problems and self.upload.applied_at is None


def _columns() -> dict[str, MeasureColumn]:
    return {
        m.name_key: MeasureColumn(m.id, m.name, m.kind is MeasureKind.NUMERIC) for m in measures()
    }


def _checked(upload: OutcomeUpload) -> tuple[ParsedOutcomes, dict[str, int]]:
    """The file read, and every address matched to someone on a roster of the term; a row
    whose person is not there is a problem."""
    try:
        parsed = parse_outcomes(upload.content, upload.filename, _columns())
    except OutcomesFileError as exc:
        raise DomainError(str(exc), field="file") from exc
    emails = [email for _, email, _ in parsed.rows]
    on_roster: dict[str, int] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        on_roster.update(
            db.session.execute(
                sa.select(Person.email, Person.id)
                .join(TermRosterEntry, TermRosterEntry.person_id == Person.id)
                .join(Term, Term.id == TermRosterEntry.term_id)
                .where(Term.slug == upload.term_slug, Person.email.in_(chunk))
                .distinct()
            ).all()
        )
    for number, email, _ in parsed.rows:
        if email not in on_roster:
            parsed.refuse(
                f"Row {number}: no one with the address {email} is on this term's rosters."
            )
    return parsed, on_roster


def upload_outcomes(actor: Person, term_slug: str, data: bytes, filename: str) -> OutcomeUpload:
    """Keep the file for its preview; refused at once if it cannot be read at all."""
    if term_slug not in {slug for slug, _ in term_slugs()}:
        raise DomainError("Choose a term.", field="term")
    if not data:
        raise DomainError("Choose a file.", field="file")
    if len(data) > MAX_BYTES:
        raise DomainError("The file is larger than 10 MB; split it.", field="file")
    upload = OutcomeUpload(
        term_slug=term_slug,
        filename=filename[-255:] or "outcomes.csv",
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by_id=actor.id,
    )
    _checked(upload)  # a file that cannot be read is refused before it is kept
    db.session.add(upload)
    db.session.flush()
    return upload


def preview(upload: OutcomeUpload) -> Preview:
    if upload.applied_at is not None:
        summary = upload.summary or {}
        return Preview(upload, summary.get("people", 0), summary.get("values", {}), {}, [], 0)
    parsed, on_roster = _checked(upload)
    names = {m.id: m.name for m in parsed.measures}
    counts = {name: 0 for name in names.values()}
    for _, _, values in parsed.rows:
        for measure_id in values:
            counts[names[measure_id]] += 1
    replaced = dict(
        db.session.execute(
            sa.select(OutcomeValue.measure_id, sa.func.count())
            .where(
                OutcomeValue.term_slug == upload.term_slug,
                OutcomeValue.measure_id.in_(list(names)),
            )
            .group_by(OutcomeValue.measure_id)
        ).all()
    )
    return Preview(
        upload,
        sum(1 for _, email, _ in parsed.rows if email in on_roster),
        counts,
        {names[k]: n for k, n in replaced.items()},
        parsed.problems[:MAX_PROBLEMS],
        max(0, len(parsed.problems) - MAX_PROBLEMS),
    )


def apply_outcomes(actor: Person, upload: OutcomeUpload, now: datetime | None = None) -> Preview:
    """Write the file's values, replacing the term's values of its measures: all of it, or
    nothing when any row has a problem."""
    if upload.applied_at is not None:
        raise DomainError("This file has been imported already.")
    parsed, on_roster = _checked(upload)
    if parsed.problems:
        raise DomainError(
            f"Nothing was imported: the file has {len(parsed.problems)} "
            f"problem{'s' if len(parsed.problems) != 1 else ''} (listed below)."
        )
    found = preview(upload)
    measure_ids = [m.id for m in parsed.measures]
    db.session.execute(
        sa.delete(OutcomeValue).where(
            OutcomeValue.term_slug == upload.term_slug, OutcomeValue.measure_id.in_(measure_ids)
        )
    )
    numeric = {m.id for m in parsed.measures if m.numeric}
    insert_rows(
        db.session,
        OutcomeValue,
        [
            {
                "measure_id": measure_id,
                "person_id": on_roster[email],
                "term_slug": upload.term_slug,
                "number": value if measure_id in numeric else None,
                "answer": None if measure_id in numeric else value,
                "upload_id": upload.id,
            }
            for _, email, values in parsed.rows
            for measure_id, value in values.items()
        ],
    )
    upload.applied_at = now or utc_now()
    upload.summary = {"people": found.people, "values": found.values, "replaced": found.replaces}
    upload.content = b""  # the values are in their table; the file is not kept
    record(
        actor,
        "outcomes.imported",
        upload,
        details={
            "term": upload.term_slug,
            "file_sha256": upload.sha256,
            "people": found.people,
            "values": found.values,
            "replaced": found.replaces,
        },
        summary=f"Outcomes for {upload.term_slug} imported: {found.people} people, "
        + ", ".join(f"{name} ({n})" for name, n in found.values.items()),
    )
    db.session.flush()
    return found


def recent_uploads(limit: int = 20) -> list[OutcomeUpload]:
    return list(
        db.session.scalars(sa.select(OutcomeUpload).order_by(OutcomeUpload.id.desc()).limit(limit))
    )
