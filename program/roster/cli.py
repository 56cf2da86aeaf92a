"""`flask roster import FILE --program SLUG --term SLUG [--dry-run]`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from program.commands import one_transaction, program_and_term
from program.roster.parsing import RosterFileError
from program.roster.services import ImportPlan, apply_import, plan_import, read_roster

roster_cli = AppGroup("roster", help="Import a term's roster from a CSV or XLSX file.")


def _print_plan(plan: ImportPlan) -> None:
    counts = plan.counts()
    click.echo(
        f"{counts['rows']} rows: {counts['added']} to add, {counts['joined']} joining from other "
        f"programs, {counts['changed']} to change, {counts['unchanged']} unchanged; "
        f"{counts['blank_rows']} blank rows skipped."
    )
    for problem in plan.errors:
        where = f"row {problem.row}" if problem.row else "file"
        click.echo(f"  error   {where}, {problem.column_label}: {problem.message}", err=True)
    for problem in plan.warnings:
        click.echo(f"  warning {problem.message}")
    if plan.not_in_file:
        click.echo(f"{len(plan.not_in_file)} current members are not in this file (kept):")
        for missing in plan.not_in_file[:50]:
            click.echo(f"  {missing.name} <{missing.email}>")


@roster_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--program", "program_slug", required=True, help="The program's short name.")
@click.option("--term", "term_slug", required=True, help="The term's short name.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@one_transaction
def import_command(file: Path, program_slug: str, term_slug: str, dry_run: bool) -> None:
    """Import FILE into a term: all of it, or nothing if any row has a problem."""
    program, term = program_and_term(program_slug, term_slug)
    try:
        parsed = read_roster(file.read_bytes(), file.name)
    except RosterFileError as exc:
        raise click.ClickException(str(exc)) from exc
    plan = plan_import(program, term, parsed)
    _print_plan(plan)
    if plan.errors:
        raise click.ClickException(f"{len(plan.errors)} problem(s) to fix; nothing was imported.")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    if not plan.has_changes:
        click.echo("No changes: nothing was written.")
        return
    work = len(plan.to_add) + len(plan.to_join) + len(plan.to_change)
    with click.progressbar(length=work, label="Importing", file=sys.stderr) as bar:
        result = apply_import(None, program, term, parsed, progress=bar.update)
    c = result.counts
    click.echo(
        f"Imported into {program.name}, {term.name}: {c['added']} added, {c['joined']} joined, "
        f"{c['changed']} changed, {c['unchanged']} unchanged."
    )
