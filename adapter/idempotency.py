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
import cattrs.preconf.orjson
import orjson
import redis.asyncio
import redis.exceptions
import structlog

log = structlog.get_logger("adapter.idempotency")

WINDOW_SECONDS = 600.0
MAX_ENTRIES = 20_000
MAX_BYTES = 128 * 1024 * 1024
# Python's own cost of one stored create beyond its key and answer bytes (the entry, the
# StoredAnswer, the dict slot, the expiry tuple, object headers), rounded up: 2026-12-02,
# `python -m bench.duplicate_store` retained 1,327 bytes per create of which 734 answer bytes.
ENTRY_OVERHEAD_BYTES = 500
# At most one `duplicate_store_evicted` warning per minute, with the count since the last one.
EVICTION_WARNING_SECONDS = 60.0
# How long `aclose` waits for claims still being finished (a create cut short at shutdown
# records its uncertain outcome): at least Redis's socket time-out.
CLOSE_WAIT_SECONDS = 3.0


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
    """What `begin` found: a stored answer to replay, or the lock (perhaps after an uncertain attempt).

    `taken_over`: the lock was taken from a holder that died or outlived its lock with a create
    in flight; that create's outcome is unknown, so it counts as uncertain (§5.4).
    """

    answer: StoredAnswer | None = None
    uncertain: UncertainAttempt | None = None
    taken_over: bool = False


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
    size: int = 0


SizeListener = Callable[[int, int], None]


class InProcessStore:
    """One replica's store: an in-flight lock per key and answers kept for the window.

    Bounded in entries and in (accounted) bytes: past either bound the oldest entry that is
    not in flight is evicted, with a warning. A repeat of an evicted body is processed anew.
    Nothing survives a restart of the process (README, "Duplicate protection and its limits").
    """

    def __init__(
        self,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        on_size: SizeListener | None = None,
    ) -> None:
        self._window = window_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._on_size = on_size
        self._bytes = 0
        self._evicted_unreported = 0
        self._warned_at = float("-inf")
        self._entries: dict[str, _Entry] = {}
        # Expiry times in the order they were set; the window is fixed, so they are sorted and
        # expiring is popping from the front rather than scanning every entry on each POST.
        self._expiries: collections.deque[tuple[float, str]] = collections.deque()

    @property
    def size(self) -> tuple[int, int]:
        """(entries, accounted bytes)."""
        return len(self._entries), self._bytes

    async def begin(self, key: str, wait_seconds: float) -> Claim:
        deadline = self._clock() + wait_seconds
        while True:
            self._expire()
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry()
                self._resize(key, self._entries[key], len(key) + ENTRY_OVERHEAD_BYTES)
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
            self._remove(key)
        entry.done.set()
        if entry.answer is not None:
            # Nobody waits on a done entry again (`begin` replays first); an Event costs ~0.8 KB
            # and the store holds every answer for ten minutes.
            entry.done = _ANSWERED
        if key in self._entries:
            self._resize(key, entry, _accounted_bytes(key, entry))
            self._evict()

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        pass

    def _expire_at(self, key: str, entry: _Entry) -> None:
        entry.expires_at = self._clock() + self._window
        self._expiries.append((entry.expires_at, key))

    def _expire(self) -> None:
        now = self._clock()
        expired = False
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, key = self._expiries.popleft()
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at == expires_at:
                self._remove(key, report=False)
                expired = True
        if expired:
            self._report()

    def _evict(self) -> None:
        """Past a bound: drop the oldest entries that nobody holds (insertion order)."""
        if len(self._entries) <= self._max_entries and self._bytes <= self._max_bytes:
            return
        # The oldest come first (insertion order), so this stops after a few entries.
        victims: list[str] = []
        freed = 0
        for key, entry in self._entries.items():
            if len(self._entries) - len(victims) <= self._max_entries and self._bytes - freed <= self._max_bytes:
                break
            if entry.answer is not None or not entry.in_flight:
                victims.append(key)
                freed += entry.size
        for key in victims:
            self._remove(key, report=False)
        if victims:
            self._report()
            self._evicted_unreported += len(victims)
            now = self._clock()
            if now - self._warned_at >= EVICTION_WARNING_SECONDS:  # a full store evicts on every create
                entries, stored_bytes = self.size
                log.warning(
                    "duplicate_store_evicted", evicted=self._evicted_unreported, entries=entries, bytes=stored_bytes
                )
                self._evicted_unreported, self._warned_at = 0, now

    def _resize(self, key: str, entry: _Entry, size: int) -> None:
        self._bytes += size - entry.size
        entry.size = size
        self._report()

    def _remove(self, key: str, report: bool = True) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        if report:
            self._report()

    def _report(self) -> None:
        if self._on_size is not None:
            self._on_size(len(self._entries), self._bytes)


def _accounted_bytes(key: str, entry: _Entry) -> int:
    size = len(key) + ENTRY_OVERHEAD_BYTES
    if entry.answer is not None:
        size += len(entry.answer.body) + len(entry.answer.location or "")
    if entry.uncertain is not None:
        # A parsed dict costs several times its JSON text (2026-12-02: 3.3x for a contactverzoek).
        size += 4 * len(orjson.dumps(entry.uncertain.esuite_body))
    return size


class InFlightTimeout(Exception):
    """The first request with this body did not finish within the waiting request's budget."""


class StoreUnavailable(Exception):
    """The shared store cannot be reached: creating now could create a duplicate."""


# Atomic claim: replay a done answer, wait for a live lock, or take the lock (keeping an
# uncertain record, and taking over a lock whose holder died: `takeover`). Redis's own clock
# decides. ARGV[2] is the claim's absolute expiry on that clock: a claim that reaches Redis
# later (sent during a stall, refused by the adapter's socket time-out, run when Redis
# resumes) does nothing, so it cannot lock out the client's retry.
_BEGIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(ARGV[2]) then return {'expired', ''} end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return {'done', redis.call('HGET', KEYS[1], 'answer')} end
local outcome = 'acquired'
if state == 'inflight' then
  if tonumber(redis.call('HGET', KEYS[1], 'lock_until')) > now then return {'inflight', ''} end
  outcome = 'takeover'
end
redis.call('HSET', KEYS[1], 'state', 'inflight', 'lock_until', now + tonumber(ARGV[1]))
-- The record outlives the lock by the window, so a lock left by a dead holder is seen as one.
local keep = tonumber(ARGV[1]) + tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return {outcome, redis.call('HGET', KEYS[1], 'uncertain') or ''}
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
    uncertain record, so it creates no second e-Suite contact. A lock whose holder died
    (kill -9, OOM, node loss) expires after `lock_seconds`; the next holder is told it took
    the lock over, and searches before it creates. Redis must persist (AOF): a restart
    without it forgets the uncertain records (docs/deployment.md).
    """

    KEY_PREFIX = "kiss-esuite-adapter:duplicates:"
    POLL_SECONDS = 0.05
    SOCKET_TIMEOUT_SECONDS = 2.0

    def __init__(
        self,
        url: str,
        lock_seconds: float,
        window_seconds: float = WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock`: the wall clock compared with Redis's (claim expiry); `monotonic`: the wait."""
        self._clock = clock
        self._monotonic = monotonic
        self._redis = redis.asyncio.from_url(
            url, socket_timeout=self.SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=self.SOCKET_TIMEOUT_SECONDS
        )
        self._lock_ms = int(lock_seconds * 1000)
        self._window_ms = int(window_seconds * 1000)
        self._begin = self._redis.register_script(_BEGIN)
        self._finish = self._redis.register_script(_FINISH)
        self._clock_offset_ms: float | None = None  # Redis's clock minus ours
        self._holders: set[asyncio.Task] = set()  # tasks holding a lock, until they finish

    async def begin(self, key: str, wait_seconds: float) -> Claim:
        deadline = self._monotonic() + wait_seconds
        try:
            while True:
                expiry = await self._claim_expiry_ms()
                state, payload = await self._begin(
                    keys=[self.KEY_PREFIX + key], args=[self._lock_ms, expiry, self._window_ms]
                )
                if state == b"done":
                    return Claim(answer=_answer_from_json(payload))
                if state in (b"acquired", b"takeover"):
                    self._hold(True)
                    uncertain = _uncertain_from_json(payload) if payload else None
                    return Claim(uncertain=uncertain, taken_over=state == b"takeover")
                if state == b"expired":  # answered later than our own time-out: not trusted
                    self._clock_offset_ms = None
                    raise StoreUnavailable()
                if self._monotonic() >= deadline:
                    raise InFlightTimeout()
                await asyncio.sleep(self.POLL_SECONDS)
        except redis.exceptions.RedisError:
            raise StoreUnavailable() from None

    async def finish(self, key: str, answer: StoredAnswer | None, uncertain: UncertainAttempt | None = None) -> None:
        args: list[bytes | str | float]
        if answer is not None:
            args = ["done", _record(answer), self._window_ms]
        else:
            args = ["release", _record(uncertain) if uncertain else "", self._window_ms]
        try:
            await self._finish(keys=[self.KEY_PREFIX + key], args=args)
        except redis.exceptions.RedisError:
            # The contact exists either way; the lock expires by itself after lock_seconds,
            # and the next holder then searches first (a takeover is uncertain).
            raise StoreUnavailable() from None
        finally:
            self._hold(False)

    async def ping(self) -> bool:
        try:
            await self._measure_clock()
            return True
        except redis.exceptions.RedisError:
            return False

    async def aclose(self) -> None:
        # A create cut short at shutdown may still be recording its uncertain outcome.
        current = asyncio.current_task()
        holders = [task for task in self._holders if task is not current and not task.done()]
        if holders:
            await asyncio.wait(holders, timeout=CLOSE_WAIT_SECONDS)
        await self._redis.aclose()

    def _hold(self, holding: bool) -> None:
        task = asyncio.current_task()
        if task is not None:
            (self._holders.add if holding else self._holders.discard)(task)

    async def _claim_expiry_ms(self) -> int:
        offset = self._clock_offset_ms
        if offset is None:
            offset = await self._measure_clock()
        # Expires before our socket time-out (minus the reply's way back): a claim Redis runs
        # in time is one whose answer still reaches us.
        return int(self._clock() * 1000 + offset + (self.SOCKET_TIMEOUT_SECONDS - 0.5) * 1000)

    async def _measure_clock(self) -> float:
        """Redis's clock against ours (TIME, at the middle of the round trip): claims carry an
        absolute expiry on Redis's clock, so the two hosts' clocks need not agree."""
        sent = self._clock()
        seconds, micros = await self._redis.time()
        received = self._clock()
        self._clock_offset_ms = (seconds * 1000 + micros / 1000) - (sent + received) / 2 * 1000
        return self._clock_offset_ms


# The Redis records: a cattrs converter for orjson, with a stored answer's body (UTF-8 JSON
# bytes) kept as text, so a record reads `{"status":201,"body":"{…}","location":"…"}` (the
# preconf converter's default for bytes is base85, which would change every stored record).
_records = cattrs.preconf.orjson.make_converter()
_records.register_unstructure_hook(bytes, bytes.decode)
_records.register_structure_hook(bytes, lambda value, _: value.encode())


def _record(value: StoredAnswer | UncertainAttempt) -> bytes:
    return _records.dumps(value)


def _answer_from_json(raw: bytes) -> StoredAnswer:
    return _records.loads(raw, StoredAnswer)


def _uncertain_from_json(raw: bytes) -> UncertainAttempt:
    return _records.loads(raw, UncertainAttempt)
