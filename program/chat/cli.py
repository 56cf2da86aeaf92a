"""`hallway slack manifest` writes the Slack app's manifest; `hallway slack connect` receives
button presses over Socket Mode (Hallway dials out: no inbound port through the firewall);
`hallway teams manifest` writes the Teams app package a tenant admin uploads."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from slack_bolt.adapter.socket_mode import SocketModeHandler

from program.chat.bolt import bolt_app
from program.chat.manifest import slack_manifest, teams_manifest, teams_package
from program.institution import get_settings
from program.version import __version__

slack_cli = AppGroup("slack", help="Delivery in Slack.")


@slack_cli.command("manifest")
@click.option(
    "--http",
    "http_mode",
    is_flag=True,
    help="Button presses posted to this server's /slack/events (else Socket Mode).",
)
@click.option("--out", type=click.File("w"), default="-", show_default=True)
def manifest_command(http_mode: bool, out: click.utils.LazyFile) -> None:
    """Write the Slack app manifest (JSON) to paste into "Create an app > From a manifest"."""
    manifest = slack_manifest(
        get_settings().name, current_app.config["BASE_URL"], socket_mode=not http_mode
    )
    out.write(json.dumps(manifest, indent=2) + "\n")


@slack_cli.command("connect")
def connect_command() -> None:
    """Receive button presses over Socket Mode until stopped (run it beside the worker)."""
    config = current_app.config
    missing = [
        f"HALLWAY_{name}" for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") if not config[name]
    ]
    if missing:
        raise click.ClickException(f"Set {' and '.join(missing)} first (see the README's “Slack”).")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo("Connected to Slack over Socket Mode; button presses are recorded. Ctrl-C stops.")
    SocketModeHandler(bolt_app(app), config["SLACK_APP_TOKEN"]).start()


teams_cli = AppGroup("teams", help="Delivery in Microsoft Teams.")


@teams_cli.command("manifest")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default="hallway-teams.zip",
    show_default=True,
)
def teams_manifest_command(out: str) -> None:
    """Write the Teams app package (manifest.json and icons, zipped) for the tenant admin to
    upload in the Teams admin center."""
    config = current_app.config
    if not config["TEAMS_APP_ID"]:
        raise click.ClickException(
            "Set HALLWAY_TEAMS_APP_ID to the Azure bot's Microsoft App ID first (see the "
            "README's “Microsoft Teams”)."
        )
    manifest = teams_manifest(
        get_settings().name, config["BASE_URL"], config["TEAMS_APP_ID"], __version__
    )
    with open(out, "wb") as package:
        package.write(teams_package(manifest))
    click.echo(f"Wrote {out}: upload it in the Teams admin center (Teams apps > Manage apps).")
