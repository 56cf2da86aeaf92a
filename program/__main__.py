"""`hallway` (and `python -m program`): the Flask CLI with Hallway's app, from any folder."""

from __future__ import annotations

from flask.cli import FlaskGroup

from program import create_app


def main() -> None:
    """The `hallway` command: the Flask CLI with Hallway's app, from any folder."""
    FlaskGroup(create_app=create_app, help="Hallway: mentoring and coffee chats.").main(
        prog_name="hallway"
    )


if __name__ == "__main__":
    main()
