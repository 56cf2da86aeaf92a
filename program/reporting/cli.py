"""`flask report --program SLUG|--all --term SLUG --format pdf|csv|html --out PATH`, and
`flask report-audit --term SLUG`."""

from __future__ import annotations

import math
from pathlib import Path

import click
from flask.cli import with_appcontext

from program.commands import one_transaction, program_named
from program.reporting.services import audit_term, download, make_report
from reports.audit import Target
from reports.build import ALL
from reports.quantities import COUNT_NAMES

EXTENSIONS = {"pdf": "pdf", "csv": "zip", "html": "html"}


@click.group("report", invoke_without_command=True)
@click.option("--program", "program_slug", help="The program's short name.")
@click.option("--all", "all_programs", is_flag=True, help="Every program's term of that name.")
@click.option("--term", "term_slug", help="The term's short name.")
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "csv", "html"]), default="pdf", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def report_command(
    ctx: click.Context,
    program_slug: str | None,
    all_programs: bool,
    term_slug: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Write a semester report (the CSV format is the zip bundle); `report audit` audits a
    term's reports before they are published."""
    if ctx.invoked_subcommand is not None:
        return
    if term_slug is None or out is None:
        raise click.UsageError("Give --term SLUG and --out PATH (or use `report audit`).")
    ctx.invoke(write_report, program_slug, all_programs, term_slug, fmt, out)


@with_appcontext
@one_transaction
def write_report(
    program_slug: str | None, all_programs: bool, term_slug: str, fmt: str, out: Path
) -> None:
    if bool(program_slug) == all_programs:
        raise click.UsageError("Give either --program SLUG or --all.")
    program = None
    if program_slug:
        program = program_named(program_slug)
    report = make_report(program, term_slug)
    if report is None:
        raise click.ClickException(f"No term “{term_slug}” for {program_slug or 'any program'}.")
    data = download(None, report, EXTENSIONS[fmt], program)
    out.write_bytes(data)
    click.echo(
        f"Wrote {out} ({len(data):,} bytes): {report.title}; "
        f"{report.hidden_cells} cells hidden; data SHA-256 {report.digest[:16]}…"
    )


def _what(target: Target, names: dict[str, str]) -> str:
    """Where a promised value is and what it counts, in words."""
    scope, track, kind, group, count = target.keys[-1]
    place = "All programs" if scope == ALL else names.get(scope, scope)
    within = "" if kind == "all" else f", {kind} {group}"
    what = COUNT_NAMES.get(count, count)
    if target.label == "small complement":
        what = f"{COUNT_NAMES.get(target.keys[0][4], target.keys[0][4])} minus {what}"
    return f"{place}, {track} track{within}: {what} ({target.label})"


def _interval(low: float, high: float) -> str:
    def one(x: float) -> str:
        return "no limit" if math.isinf(x) else f"{x:g}"

    return f"{one(low)} to {one(high)}"


@report_command.command("audit")
@click.option("--term", "term_slug", required=True, help="The term's short name.")
@with_appcontext
def audit_command(term_slug: str) -> None:
    """Audit everything published about a term (every program's report, all programs', the
    trend rows of later terms) for hidden counts that could be worked out from the rest."""
    result = audit_term(term_slug)
    if result is None:
        raise click.ClickException(f"No term “{term_slug}”.")
    tables, audited = result
    programs = len(tables.names)
    extreme = [f for f in audited.findings if f.by_extreme]
    click.echo(
        f"Audited {term_slug}: {programs} program{'s' if programs != 1 else ''} and all "
        f"programs together, at a threshold of {tables.protection.threshold}. "
        f"{audited.hidden_counts} counts are hidden; {len(audited.findings)} promises checked "
        "(small counts, small complements and counts on a small base)"
        + (
            f", {len(extreme)} of them narrowed only by a shown 0% or 100% of their group."
            if extreme
            else "."
        )
    )
    if narrowest := audited.narrowest:
        click.echo(
            f"Narrowest: {_what(narrowest.target, tables.names)} can be "
            f"{_interval(narrowest.low, narrowest.high)}."
        )
    for finding in audited.failures:
        click.echo(
            f"NARROWED: {_what(finding.target, tables.names)} can only be "
            f"{_interval(finding.low, finding.high)}.",
            err=True,
        )
    if audited.failures:
        raise click.ClickException(
            f"{len(audited.failures)} hidden values can be narrowed beyond what the methods "
            "promise: do not publish this term's reports until this is fixed."
        )
    click.echo("Passed: no hidden count can be worked out more closely than its label says.")
