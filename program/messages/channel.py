"""What a chat tool's refusal means for a message, whatever the tool: the outbox
(`program.messages.sending`) acts on these the same way for Slack and for Teams."""

from __future__ import annotations


class Unreachable(Exception):
    """This person cannot be reached in the chat tool: their message goes by e-mail."""


# What every refusal says, after the tool's name: the Mail page finds the latest by it.
REFUSED = "refused Hallway's"


class Refused(Exception):
    """The chat tool refused Hallway (its token, its installation): e-mail until fixed.
    Says "<who> refused Hallway's <what> (<detail>): <what to do>"."""

    def __init__(self, who: str, what: str, detail: str, fix: str) -> None:
        super().__init__(f"{who} {REFUSED} {what} ({detail}): {fix}")


class RateLimited(Exception):
    """The chat tool asked Hallway to slow down for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"asked to slow down for {retry_after} s")
        self.retry_after = retry_after
