"""Results kept for as long as what decides them is unchanged: a report under the state of its
data, a coffee round's preview under the state of its pool.

Two levels. Each process keeps its latest few in memory (each app has its own: a test's app
never sees another's); behind them, every process serving the same database shares the
`kept_result` table, so a result one worker built is read, not built again, by the others,
and one the worker built ahead (`hallway worker` after each tick) by all of them.

What is shared is pickled, compressed and signed with the app's secret key (itsdangerous, as
the links are, HMAC-SHA256 under a purpose of its own): a row that does not carry its signature
(written by anyone without the key) is never unpickled, only built again.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import zlib
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import Mapped, mapped_column

from program.db import UTCDateTime, insert_new, utc_now
from program.extensions import db
from program.version import __version__

SHARED_SIZE = 24  # rows kept of each kind in the shared table: the latest


class KeptResult(db.Model):
    """One shared result: `digest` names its kind and key; `payload` is its signed pickle."""

    __tablename__ = "kept_result"

    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


def _signer() -> Signer:
    """The app's secret, kept apart from its other uses (links) by a purpose of its own."""
    return Signer(
        current_app.config["SECRET_KEY"], salt="hallway-kept", digest_method=hashlib.sha256
    )


class Kept:
    """The latest SIZE results of one kind in this process, each under a key that holds
    everything that decides it (its repr is the same in every process), and the shared ones
    behind them."""

    SIZE = 8

    def __init__(self, kind: str, *, shared: bool = True, size: int = SIZE) -> None:
        self.kind = kind
        # Not shared: kept in this process only (what is too large to pickle for the others).
        self.shared = shared
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, key: Hashable) -> str:
        # The version too: another release's objects may not unpickle as this one's.
        return hashlib.sha256(f"{__version__}\n{self.kind}\n{key!r}".encode()).hexdigest()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        if not self.shared:
            return None
        payload = db.session.scalar(
            sa.select(KeptResult.payload).where(KeptResult.digest == self._digest(key))
        )
        if payload is None:
            return None
        try:
            data = _signer().unsign(payload)
        except BadSignature:
            return None
        try:
            value = pickle.loads(zlib.decompress(data))  # noqa: S301  (signed by this app)
        except Exception:  # what cannot be read (another release's class) is built again
            current_app.logger.warning("a kept %s could not be read; building it again", self.kind)
            return None
        self._remember(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self._remember(key, value)
        if not self.shared:
            return
        data = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)
        row = {"digest": self._digest(key), "kind": self.kind, "payload": _signer().sign(data)}
        # Two workers building the same result at once both offer it: the first one stays.
        insert_new(db.session, KeptResult, [row], "digest", KeptResult.digest)
        newest = (
            sa.select(KeptResult.digest)
            .where(KeptResult.kind == self.kind)
            .order_by(KeptResult.created_at.desc(), KeptResult.digest)
            .limit(SHARED_SIZE)
        )
        db.session.execute(
            sa.delete(KeptResult).where(
                KeptResult.kind == self.kind, KeptResult.digest.not_in(newest)
            )
        )

    def _remember(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def kept(kind: str, *, shared: bool = True, size: int = Kept.SIZE) -> Kept:
    """This app's store of `kind` (`shared`: behind this process, in the database too; `size`:
    how many this process keeps)."""
    store = Kept(kind, shared=shared, size=size)
    return current_app.extensions.setdefault(f"hallway.kept_{kind}", store)
