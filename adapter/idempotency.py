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


@attrs.frozen
class UncertainAttempt:
    """A create that was sent and got no answer (§5.4): the e-Suite may hold the contact."""

    esuite_body: dict
    sent_at: float  # wall-clock seconds


@attrs.frozen
class Claim:
    """What `begin` found: a stored answer to replay, or the lock (perhaps after an uncertain attempt)."""

    answer: StoredAnswer | None = None
    uncertain: UncertainAttempt | None = None


class DuplicateStore(Protocol):
    async def begin(self, key: str, wait_seconds: float) -> Claim:
        """The stored answer for `key`, or the in-flight lock (waiting while another holds it)."""

    async def finish(self, key: str, answer: StoredAnswer | None, uncertain: UncertainAttempt | None = None) -> None:
        """Store a successful answer; or release the lock, remembering an uncertain attempt."""


@attrs.define
class _Entry:
    done: asyncio.Event = attrs.field(factory=asyncio.Event)
    answer: StoredAnswer | None = None
    uncertain: UncertainAttempt | None = None
    in_flight: bool = True
    expires_at: float = float("inf")


class InProcessStore:
    """One replica's store: an in-flight lock per key and answers kept for the window."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def begin(self, key: str, wait_seconds: float) -> Claim:
        deadline = self._clock() + wait_seconds
        while True:
            self._expire()
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry()
                return Claim()
            if entry.answer is not None:
                return Claim(answer=entry.answer)
            if not entry.in_flight:  # only an uncertain attempt is remembered: take the lock
                entry.in_flight, entry.done = True, asyncio.Event()
                return Claim(uncertain=entry.uncertain)
            # Another request with this body is in flight: its outcome decides.
            try:
                await asyncio.wait_for(entry.done.wait(), max(0.0, deadline - self._clock()))
            except TimeoutError:
                raise InFlightTimeout() from None

    async def finish(self, key: str, answer: StoredAnswer | None, uncertain: UncertainAttempt | None = None) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        if answer is not None:
            entry.answer, entry.uncertain = answer, None
            entry.expires_at = self._clock() + self._window
        elif uncertain is not None or entry.uncertain is not None:
            # Keep the first uncertain attempt: it is the one whose contact may exist.
            entry.uncertain = entry.uncertain or uncertain
            if uncertain is not None and entry.expires_at == float("inf"):
                entry.expires_at = self._clock() + self._window
            entry.in_flight = False
        else:
            del self._entries[key]
        entry.done.set()

    def _expire(self) -> None:
        now = self._clock()
        expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in expired:
            del self._entries[key]


class InFlightTimeout(Exception):
    """The first request with this body did not finish within the waiting request's budget."""
