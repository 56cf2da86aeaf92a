"""Results kept by this process for as long as what decides them is unchanged: a report under
the state of its data, a coffee round's preview under the state of its pool. Each app has its
own store (a test's app never sees another's), and each store keeps its latest few."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import current_app


class Kept:
    """The latest SIZE results, each under a key that holds everything that decides it."""

    SIZE = 8

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.SIZE:
                self._entries.popitem(last=False)


def kept(name: str) -> Kept:
    """This app's store of `name`."""
    return current_app.extensions.setdefault(f"hallway.kept_{name}", Kept())
