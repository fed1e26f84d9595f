"""Duplicate protection for `POST /contactmomenten` (operations.md §5.3).

KISS retries, double clicks and BFF retries must not create two e-Suite contacts: two
contactverzoeken mean two employees call the same citizen. The store is behind a small
interface so a shared store (Redis, several replicas) can replace the in-process one.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import orjson

WINDOW_SECONDS = 600.0


def duplicate_key(client_id: str, body: Any) -> str:
    """SHA-256 of the client id and the canonical JSON of the parsed body (sorted keys)."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(client_id.encode() + b"\n" + canonical).hexdigest()


@attrs.frozen
class StoredAnswer:
    status: int
    body: bytes
    location: str | None


class DuplicateStore(Protocol):
    async def begin(self, key: str, wait_seconds: float) -> StoredAnswer | None:
        """The stored answer for `key`, or None once the caller holds the in-flight lock."""

    async def finish(self, key: str, answer: StoredAnswer | None) -> None:
        """Store a successful answer under `key`, or (None) release the lock for a retry."""


@attrs.define
class _Entry:
    done: asyncio.Event = attrs.field(factory=asyncio.Event)
    answer: StoredAnswer | None = None
    expires_at: float = float("inf")


class InProcessStore:
    """One replica's store: an in-flight lock per key and answers kept for the window."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def begin(self, key: str, wait_seconds: float) -> StoredAnswer | None:
        deadline = self._clock() + wait_seconds
        while True:
            self._expire()
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry()
                return None
            if entry.answer is not None:
                return entry.answer
            # Another request with this body is in flight: its outcome decides.
            try:
                await asyncio.wait_for(entry.done.wait(), max(0.0, deadline - self._clock()))
            except TimeoutError:
                raise InFlightTimeout() from None

    async def finish(self, key: str, answer: StoredAnswer | None) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        if answer is None:
            del self._entries[key]
        else:
            entry.answer = answer
            entry.expires_at = self._clock() + self._window
        entry.done.set()

    def _expire(self) -> None:
        now = self._clock()
        expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in expired:
            del self._entries[key]


class InFlightTimeout(Exception):
    """The first request with this body did not finish within the waiting request's budget."""
