"""Duplicate protection for `POST /contactmomenten` (operations.md §5.3).

KISS retries, double clicks and BFF retries must not create two e-Suite contacts: two
contactverzoeken mean two employees call the same citizen. The store is behind a small
interface so a shared store (Redis, several replicas) can replace the in-process one.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import time
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import orjson
import redis.asyncio
import redis.exceptions

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

    async def ping(self) -> bool:
        """Whether the store can be used (readiness)."""

    async def aclose(self) -> None: ...


_ANSWERED = asyncio.Event()
_ANSWERED.set()


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
        # Expiry times in the order they were set; the window is fixed, so they are sorted and
        # expiring is popping from the front rather than scanning every entry on each POST.
        self._expiries: collections.deque[tuple[float, str]] = collections.deque()

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
            self._expire_at(key, entry)
        elif uncertain is not None or entry.uncertain is not None:
            # Keep the first uncertain attempt: it is the one whose contact may exist.
            entry.uncertain = entry.uncertain or uncertain
            if uncertain is not None and entry.expires_at == float("inf"):
                self._expire_at(key, entry)
            entry.in_flight = False
        else:
            del self._entries[key]
        entry.done.set()
        if entry.answer is not None:
            # Nobody waits on a done entry again (`begin` replays first); an Event costs ~0.8 KB
            # and the store holds every answer for ten minutes.
            entry.done = _ANSWERED

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        pass

    def _expire_at(self, key: str, entry: _Entry) -> None:
        entry.expires_at = self._clock() + self._window
        self._expiries.append((entry.expires_at, key))

    def _expire(self) -> None:
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, key = self._expiries.popleft()
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at == expires_at:
                del self._entries[key]


class InFlightTimeout(Exception):
    """The first request with this body did not finish within the waiting request's budget."""


class StoreUnavailable(Exception):
    """The shared store cannot be reached: creating now could create a duplicate."""


# Atomic claim: replay a done answer, wait for a live lock, or take the lock (keeping an
# uncertain record, and taking over a lock whose holder died). Redis's own clock decides.
_BEGIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return {'done', redis.call('HGET', KEYS[1], 'answer')} end
if state == 'inflight' and tonumber(redis.call('HGET', KEYS[1], 'lock_until')) > now then return {'inflight', ''} end
redis.call('HSET', KEYS[1], 'state', 'inflight', 'lock_until', now + tonumber(ARGV[1]))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {'acquired', redis.call('HGET', KEYS[1], 'uncertain') or ''}
"""
_FINISH = """
if ARGV[1] == 'done' then
  redis.call('HSET', KEYS[1], 'state', 'done', 'answer', ARGV[2])
  redis.call('HDEL', KEYS[1], 'uncertain', 'lock_until')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if ARGV[2] ~= '' and redis.call('HSETNX', KEYS[1], 'uncertain', ARGV[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if redis.call('HEXISTS', KEYS[1], 'uncertain') == 1 then
  redis.call('HSET', KEYS[1], 'state', 'uncertain')
  redis.call('HDEL', KEYS[1], 'lock_until')
else
  redis.call('DEL', KEYS[1])
end
return 1
"""


class RedisStore:
    """The store shared by several replicas (IDEMPOTENCY_REDIS_URL, operations.md §5.3).

    A retry that lands on another replica finds the first replica's lock, answer or
    uncertain record, so it creates no second e-Suite contact.
    """

    KEY_PREFIX = "kiss-esuite-adapter:duplicates:"
    POLL_SECONDS = 0.05

    def __init__(self, url: str, lock_seconds: float, window_seconds: float = WINDOW_SECONDS) -> None:
        self._redis = redis.asyncio.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._lock_ms = int(lock_seconds * 1000)
        self._window_ms = int(window_seconds * 1000)
        self._begin = self._redis.register_script(_BEGIN)
        self._finish = self._redis.register_script(_FINISH)

    async def begin(self, key: str, wait_seconds: float) -> Claim:
        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                state, payload = await self._begin(keys=[self.KEY_PREFIX + key], args=[self._lock_ms])
                if state == b"done":
                    return Claim(answer=_answer_from_json(payload))
                if state == b"acquired":
                    return Claim(uncertain=_uncertain_from_json(payload) if payload else None)
                if time.monotonic() >= deadline:
                    raise InFlightTimeout()
                await asyncio.sleep(self.POLL_SECONDS)
        except redis.exceptions.RedisError:
            raise StoreUnavailable() from None

    async def finish(self, key: str, answer: StoredAnswer | None, uncertain: UncertainAttempt | None = None) -> None:
        if answer is not None:
            args = ["done", orjson.dumps(attrs.asdict(answer, value_serializer=_bytes_as_text)), self._window_ms]
        else:
            args = ["release", orjson.dumps(attrs.asdict(uncertain)) if uncertain else "", self._window_ms]
        try:
            await self._finish(keys=[self.KEY_PREFIX + key], args=args)
        except redis.exceptions.RedisError:
            # The contact exists either way; the lock expires by itself after lock_seconds.
            raise StoreUnavailable() from None

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except redis.exceptions.RedisError:
            return False

    async def aclose(self) -> None:
        await self._redis.aclose()


def _bytes_as_text(instance: Any, field: Any, value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _answer_from_json(raw: bytes) -> StoredAnswer:
    data = orjson.loads(raw)
    return StoredAnswer(data["status"], data["body"].encode(), data["location"])


def _uncertain_from_json(raw: bytes) -> UncertainAttempt:
    data = orjson.loads(raw)
    return UncertainAttempt(data["esuite_body"], data["sent_at"])
