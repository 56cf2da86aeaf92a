"""The CSV bundle: tidy `metrics.csv`, a Frictionless `datapackage.json` describing every column
and metric, and a README.txt, zipped with fixed timestamps so the same data gives the same bytes."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from reports.build import Report
from reports.metrics import ALL_METRICS, Row

COLUMNS = [
    ("term", "string", "The term (semester) the row is about."),
    ("program", "string", "The program, or “All programs”."),
    ("track", "string", "formal (assigned mentors) or coffee (opt-in coffee chats)."),
    ("group", "string", "“All”, or a breakdown group as kind:value (cohort, department, stage)."),
    ("metric", "string", "The metric's identifier; see the metrics list in this package."),
    ("numerator", "number", "For proportions and counts: the count. Empty when suppressed."),
    ("denominator", "number", "For proportions: the base; for medians: the people or ratings."),
    ("value", "number", "The proportion (0-1), count or median. Empty when suppressed."),
    ("ci_low", "number", "Lower limit of the 95% Wilson interval (proportions)."),
    ("ci_high", "number", "Upper limit of the 95% Wilson interval (proportions)."),
    ("suppressed", "boolean", "true when hidden by the small-cell rule."),
    (
        "note",
        "string",
        "Why a value is hidden (“small count”, “small base”, “small complement”, “protects "
        "another cell”); “unstable” for 20 or fewer events; otherwise why a value is missing.",
    ),
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value == value else ""
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_row(report: Report, row: Row, program: str | None = None) -> list[str]:
    group = "All" if row.group_kind == "all" else f"{row.group_kind}:{row.group}"
    term = row.group if row.group_kind == "term" else report.scope.term_name
    # A hidden value's note says why: small count, small base, small complement, or that it
    # protects another cell.
    note = row.hidden_reason if row.suppressed else row.note or ("unstable" if row.unstable else "")
    values: list[Any] = [
        term,
        program or report.scope.label,
        row.track,
        "All" if row.group_kind == "term" else group,
        row.metric,
        row.numerator,
        row.denominator,
        row.value,
        row.ci_low,
        row.ci_high,
        row.suppressed,
        note,
    ]
    return [_safe(v) for v in values]


def metrics_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in COLUMNS])
    ordering = {m.id: i for i, m in enumerate(ALL_METRICS)}
    rows = sorted(
        report.computed.rows,
        key=lambda r: (r.track, r.group_kind != "all", r.group_kind, r.group, ordering[r.metric]),
    )
    for row in rows:
        writer.writerow(_csv_row(report, row))
    trend_rows = [r for r in report.trend_rows if r.group != report.scope.term_name]
    for row in trend_rows:
        writer.writerow(_csv_row(report, row))
    # An all-programs report: each program's own figures ("All" groups), side by side.
    for name, computed in report.programs:
        for row in sorted(
            (r for r in computed.rows if r.group_kind == "all"),
            key=lambda r: (r.track, ordering[r.metric]),
        ):
            writer.writerow(_csv_row(report, row, program=name))
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


OUTCOME_COLUMNS = [
    ("measure", "string", "The outcome measure's name (its definition is under `outcomes`)."),
    ("compared", "string", "participation (who took part in which track) or engagement."),
    ("group", "string", "The group: formal only, coffee only, both, neither; met 3+ or fewer."),
    ("n", "integer", "People of the group with a value (blank when hidden)."),
    ("value", "number", "A number's mean, or the share giving the favourable answer."),
    ("ci_low", "number", "95% interval, low: t for a mean, Wilson for a share."),
    ("ci_high", "number", "95% interval, high."),
    ("favourable", "integer", "How many gave the favourable answer (answers only)."),
    ("note", "string", "Why the group is hidden, if it is."),
]


def _resource(name: str, columns: list[tuple[str, str, str]]) -> dict[str, Any]:
    """A CSV file of the bundle as the data package describes it."""
    return {
        "name": name,
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "schema": {
            "fields": [
                {"name": column, "type": kind, "description": description}
                for column, kind, description in columns
            ],
            "missingValues": [""],
        },
    }


def datapackage(report: Report) -> dict[str, Any]:
    package = {
        "profile": "tabular-data-package",
        "name": "hallway-semester-report",
        "title": report.title,
        "version": report.version,
        "created": report.as_of.isoformat(),
        "hallway": {
            "institution": report.institution,
            "program": report.scope.label,
            "term": report.scope.term_name,
            "data_sha256": report.digest,
            "suppression": report.suppression_rule,
        },
        "resources": [
            _resource("metrics", COLUMNS),
        ],
        "metrics": [
            {
                "id": m.id,
                "label": m.label,
                "kind": m.kind,
                "definition": m.definition,
                "standards": list(m.standards),
            }
            for m in ALL_METRICS
        ],
    }
    if report.computed.outcomes:
        package["resources"].append(_resource("outcomes", OUTCOME_COLUMNS))
        package["outcomes"] = [
            {
                "name": c.name,
                "kind": "number" if c.numeric else "answers",
                "definition": c.definition,
                "source": c.source,
                "better": c.better,
                "favourable": c.favourable,
                "fewest_people_per_group": c.minimum,
                "participation_test": c.participation_test,
                "engagement_difference": c.engagement_difference,
            }
            for c in report.computed.outcomes
        ]
    return package


def readme(report: Report) -> str:
    lines = [
        report.title,
        "=" * len(report.title),
        "",
        f"Institution: {report.institution}",
        f"Data as of: {report.as_of:%Y-%m-%d %H:%M} UTC; Hallway {report.version}",
        f"Input data SHA-256: {report.digest}",
        "",
        "metrics.csv: one row per track, group and metric (tidy, long form); UTF-8 with a BOM.",
        "datapackage.json: the data dictionary (Frictionless), with every metric's definition.",
        *(
            ["outcomes.csv: the outcomes compared by who took part, one row per group."]
            if report.computed.outcomes
            else []
        ),
        "",
        "Privacy: " + report.suppression_rule,
        "",
        "Metrics:",
        *[f"- {m.id}: {m.label}. {m.definition}" for m in ALL_METRICS],
        "",
        "Limitations:",
        *[f"- {text}" for text in report.limitations],
        "",
    ]
    return "\r\n".join(lines)


def outcomes_csv(report: Report) -> bytes:
    """The outcomes compared by who took part, one row per group (a hidden group's figures
    blank, with why)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in OUTCOME_COLUMNS])
    for c in report.computed.outcomes:
        for compared, groups in (
            ("participation", c.participation),
            ("engagement", c.engagement),
        ):
            for g in groups:
                shown = not g.hidden
                figures = [g.n, g.value, g.low, g.high, g.favourable] if shown else [None] * 5
                writer.writerow([_safe(v) for v in (c.name, compared, g.label, *figures, g.hidden)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def build_bundle(report: Report) -> bytes:
    """The zip, byte-identical for the same data and filters."""
    out = io.BytesIO()
    files = {
        "metrics.csv": metrics_csv(report),
        "datapackage.json": (
            json.dumps(datapackage(report), indent=2, ensure_ascii=False) + "\n"
        ).encode(),
        "README.txt": readme(report).encode("utf-8"),
    }
    if report.computed.outcomes:
        files["outcomes.csv"] = outcomes_csv(report)
    stamp = report.as_of.timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()
