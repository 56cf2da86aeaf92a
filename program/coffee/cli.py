"""`flask coffee round --program SLUG [--publish] [--seed N]`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from program.coffee.rounds import preview_round, publish_round
from program.commands import one_transaction, program_named

coffee_cli = AppGroup("coffee", help="Coffee-chat rounds.")


@coffee_cli.command("round")
@click.option("--program", "program_slug", required=True, help="The program's short name.")
@click.option("--publish", is_flag=True, help="Publish it (without this: a preview only).")
@click.option("--seed", type=int, default=None, help="Seed (default: fixed per round number).")
@one_transaction
def round_command(program_slug: str, publish: bool, seed: int | None) -> None:
    """Preview the program's next coffee round, or publish it with --publish."""
    program = program_named(program_slug)
    preview = preview_round(program, seed)
    plan = preview.plan
    q = plan.quality
    trios = sum(1 for chat in plan.chats if len(chat) == 3)
    click.echo(
        f"Round {preview.number} (seed {preview.seed}): {len(plan.chats)} chats "
        f"({trios} trio) for {len(preview.people)} people; cross-department "
        f"{q.cross_department:.0%}, stage gap 1-2 {q.stage_gap_1_2:.0%}, repeats {q.repeats}."
    )
    for a, b, ago in plan.relaxed:
        click.echo(
            f"  repeat: {preview.people[a].name} and {preview.people[b].name} "
            f"({ago} rounds ago): no new partner was possible"
        )
    for person_id, why in plan.left_out.items():
        click.echo(f"  left out: {preview.people[person_id].name}: {why}")
    if not publish:
        click.echo("Preview only; add --publish to publish it.")
        return
    round_ = publish_round(None, program, preview.seed)
    click.echo(f"Published round {round_.number}; introductions queued in the outbox.")
