"""`flask report --program SLUG|--all --term SLUG --format pdf|csv|html --out PATH`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from program.cli import one_transaction, program_named
from program.reporting.services import download, make_report

EXTENSIONS = {"pdf": "pdf", "csv": "zip", "html": "html"}


@click.command("report")
@click.option("--program", "program_slug", help="The program's short name.")
@click.option("--all", "all_programs", is_flag=True, help="Every program's term of that name.")
@click.option("--term", "term_slug", required=True, help="The term's short name.")
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "csv", "html"]), default="pdf", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
@one_transaction
def report_command(
    program_slug: str | None, all_programs: bool, term_slug: str, fmt: str, out: Path
) -> None:
    """Write a semester report (the CSV format is the zip bundle)."""
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
