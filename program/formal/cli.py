"""`flask formal request-availability|propose|publish --program SLUG --term SLUG`."""

from __future__ import annotations

from typing import TypeVar

import click
from flask.cli import AppGroup

from program.commands import one_transaction, program_and_term
from program.extensions import db
from program.formal.availability import availability_counts, request_availability
from program.formal.matches import propose_matches, publish_matches
from program.people.models import Person
from program.web import plural

T = TypeVar("T")

formal_cli = AppGroup("formal", help="The formal track: availability, matching, publishing.")

program_option = click.option(
    "--program", "program_slug", required=True, help="The program's short name."
)
term_option = click.option("--term", "term_slug", required=True, help="The term's short name.")


@formal_cli.command("request-availability")
@program_option
@term_option
@one_transaction
def request_availability_command(program_slug: str, term_slug: str) -> None:
    """Ask the program's mentors how many mentees they can take this term (once each)."""
    _, term = program_and_term(program_slug, term_slug)
    counts = request_availability(None, term)
    click.echo(
        f"Asked {plural(counts['asked'], 'mentor')} for {term.name}; "
        f"{counts['already_asked']} had been asked before. The requests are in the outbox."
    )


@formal_cli.command("propose")
@program_option
@term_option
@click.option("--seed", default=0, show_default=True, help="Tie-breaking seed (reproducible).")
@one_transaction
def propose_command(program_slug: str, term_slug: str, seed: int) -> None:
    """Propose mentors for every trainee without one (replaces the draft; sends nothing)."""
    _, term = program_and_term(program_slug, term_slug)
    proposal = propose_matches(None, term, seed=seed)
    counts = availability_counts(term)
    click.echo(
        f"Proposed {plural(len(proposal.pairs), 'pair')} for {term.name} "
        f"(total fit {proposal.total_fit:.1f}, {proposal.solver} solver); "
        f"{counts.capacity} places offered for {plural(counts.trainees, 'trainee')}."
    )
    for trainee_id, why in proposal.unmatched.items():
        trainee = db.session.get(Person, trainee_id)
        click.echo(f"  without a mentor: {trainee.name if trainee else trainee_id}: {why}")
    click.echo("Review them on the matches page, then publish.")


@formal_cli.command("publish")
@program_option
@term_option
@one_transaction
def publish_command(program_slug: str, term_slug: str) -> None:
    """Publish the term's proposed pairs and queue both sides' introductions."""
    _, term = program_and_term(program_slug, term_slug)
    count = publish_matches(None, term)
    click.echo(
        f"Published {plural(count, 'pair')} for {term.name}; "
        f"{plural(2 * count, 'introduction')} queued in the outbox."
    )
