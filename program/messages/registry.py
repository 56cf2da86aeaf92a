"""What each domain mails, registered with the outbox when the app is built.

The outbox knows no domain: each one declares its e-mail kinds, which of them a person may turn
off, and the composers that write its templates when they are sent, in its own
`notifications.py`; the app factory registers them all (`program.register_notifications`), so
a new domain's e-mails work by being listed there, and a typo in a kind is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from program.messages.models import Message

Composer = Callable[[Sequence[Message]], dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class Notifications:
    """One domain's e-mails.

    `kinds`: every kind it queues; `optional`: those a person may turn off (the setting "only
    what I must act on"; they carry one-click unsubscribe headers); `composers`: for each
    composer, the templates it writes when a message is sent (several domains may write the
    same template, each the messages about its own subjects: a coffee chat's intro, a formal
    pair's)."""

    kinds: frozenset[str]
    optional: frozenset[str] = frozenset()
    composers: tuple[tuple[Composer, tuple[str, ...]], ...] = field(default=())


_kinds: set[str] = set()
_optional: set[str] = set()
_composers: dict[str, list[Composer]] = {}


def register(*every: Notifications) -> None:
    """Add these domains' e-mails (again is harmless: each app built registers them)."""
    for notifications in every:
        _kinds.update(notifications.kinds)
        _optional.update(notifications.optional)
        for compose, templates in notifications.composers:
            for template in templates:
                found = _composers.setdefault(template, [])
                if compose not in found:
                    found.append(compose)


def is_kind(kind: str) -> bool:
    return kind in _kinds


def is_optional(kind: str) -> bool:
    return kind in _optional


def composers_of(template: str) -> list[Composer]:
    return _composers.get(template, [])
