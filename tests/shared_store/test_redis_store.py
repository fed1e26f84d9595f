"""The Redis duplicate store: same contract as the in-process one, shared by replicas (operations.md §5.3–5.4)."""

import asyncio
import time

import pytest

from adapter.idempotency import Claim, InFlightTimeout, RedisStore, StoredAnswer, StoreUnavailable, UncertainAttempt

ANSWER = StoredAnswer(201, '{"url":"u","naam":"Jansen-Ünal"}'.encode(), "u")
UNCERTAIN = UncertainAttempt({"tekst": "x", "contactgegevens": {"telefoonnummer": "0612345678"}}, 1000.5)


@pytest.fixture
async def stores(redis_server):
    first, second = RedisStore(redis_server.url, lock_seconds=5), RedisStore(redis_server.url, lock_seconds=5)
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_the_answer_stored_by_one_replica_is_replayed_by_another(stores):
    first, second = stores
    assert await first.begin("k", 1) == Claim()
    await first.finish("k", ANSWER)
    assert await second.begin("k", 1) == Claim(answer=ANSWER)


async def test_a_second_replica_waits_for_the_lock_of_the_first(stores):
    first, second = stores
    await first.begin("k", 1)
    waiter = asyncio.create_task(second.begin("k", 2))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    await first.finish("k", ANSWER)
    assert await waiter == Claim(answer=ANSWER)


async def test_release_and_uncertain_records_are_shared(stores):
    first, second = stores
    await first.begin("k", 1)
    await first.finish("k", None)
    assert await second.begin("k", 1) == Claim()
    await second.finish("k", None, UNCERTAIN)
    assert await first.begin("k", 1) == Claim(uncertain=UNCERTAIN)
    await first.finish("k", None)  # the search failed too: the record stays
    assert await second.begin("k", 1) == Claim(uncertain=UNCERTAIN)
    await second.finish("k", ANSWER)
    assert await first.begin("k", 1) == Claim(answer=ANSWER)


async def test_waiting_is_bounded(stores):
    first, second = stores
    await first.begin("k", 1)
    with pytest.raises(InFlightTimeout):
        await second.begin("k", 0.1)


async def test_the_lock_of_a_replica_that_died_is_taken_over_as_an_uncertain_outcome(redis_server):
    dead, alive = RedisStore(redis_server.url, lock_seconds=0.2), RedisStore(redis_server.url, lock_seconds=5)
    await dead.begin("k", 1)
    assert await alive.begin("k", 1) == Claim(taken_over=True)
    await dead.aclose()
    await alive.aclose()


async def test_records_expire_with_the_window(redis_server):
    store = RedisStore(redis_server.url, lock_seconds=5, window_seconds=0.2)
    await store.begin("k", 1)
    await store.finish("k", ANSWER)
    await asyncio.sleep(0.3)
    assert await store.begin("k", 1) == Claim()
    await store.aclose()


async def test_unreachable_redis_is_reported_not_hidden(redis_server):
    store = RedisStore(redis_server.url, lock_seconds=5)
    assert await store.ping()
    redis_server.stop()
    assert not await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.begin("k", 1)
    with pytest.raises(StoreUnavailable):
        await store.finish("k", ANSWER)
    await store.aclose()


async def test_a_claim_that_reaches_redis_after_its_expiry_takes_no_lock(redis_server):
    """Issue 14 item 5: a claim with an absolute expiry on Redis's clock does nothing when Redis
    runs it late, so it cannot lock out the retry of a request refused during a stall."""
    import redis.asyncio

    client = redis.asyncio.from_url(redis_server.url)
    script = client.register_script(__import__("adapter.idempotency", fromlist=["_BEGIN"])._BEGIN)
    seconds, micros = await client.time()
    now_ms = seconds * 1000 + micros // 1000
    late = await script(keys=[RedisStore.KEY_PREFIX + "k"], args=[5000, now_ms - 1, 600_000])
    in_time = await script(keys=[RedisStore.KEY_PREFIX + "j"], args=[5000, now_ms + 60_000, 600_000])
    exists = await client.exists(RedisStore.KEY_PREFIX + "k"), await client.exists(RedisStore.KEY_PREFIX + "j")
    await client.aclose()
    assert late == [b"expired", b""]
    assert in_time == [b"acquired", b""]
    assert exists == (0, 1)


async def test_a_claim_refused_during_a_redis_stall_does_not_fire_when_redis_resumes(redis_server):
    import signal

    store = RedisStore(redis_server.url, lock_seconds=60)
    assert await store.ping()  # measures Redis's clock
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(StoreUnavailable):
            await store.begin("k", 1)
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    await asyncio.sleep(0.2)  # Redis runs the queued claim now
    retry = RedisStore(redis_server.url, lock_seconds=60)
    assert await retry.begin("k", 0.1) == Claim()  # not locked out by the stale claim
    await retry.finish("k", ANSWER)
    await retry.aclose()
    await store.aclose()


async def test_the_wait_for_a_held_lock_runs_on_the_injected_monotonic_clock(redis_server):
    """The 10 s wait ends after one poll because the injected clock says 10 s have passed."""
    readings = iter([0.0, 10.0])
    holder = RedisStore(redis_server.url, lock_seconds=5)
    waiter = RedisStore(redis_server.url, lock_seconds=5, monotonic=lambda: next(readings))
    try:
        await holder.begin("k", 1)
        with pytest.raises(InFlightTimeout):
            await asyncio.wait_for(waiter.begin("k", 10), timeout=2)
    finally:
        await holder.aclose()
        await waiter.aclose()


async def test_a_claim_expiry_is_computed_from_the_injected_wall_clock(redis_server):
    """The clock reads true while the store measures Redis's clock, then an hour behind: the
    claim it computes has expired on arrival, which the store reports as unavailable."""
    calls = [0]

    def clock() -> float:
        calls[0] += 1
        return time.time() - (3600 if calls[0] > 2 else 0)

    store = RedisStore(redis_server.url, lock_seconds=5, clock=clock)
    other = RedisStore(redis_server.url, lock_seconds=5)
    try:
        with pytest.raises(StoreUnavailable):
            await store.begin("k", 1)
        assert await other.begin("k", 1) == Claim()  # nothing was claimed
    finally:
        await store.aclose()
        await other.aclose()
