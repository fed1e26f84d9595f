"""Duplicate protection store and key (operations.md §5.3, §5.4)."""

import asyncio
import json

import pytest

from adapter.idempotency import Claim, InFlightTimeout, InProcessStore, StoredAnswer, UncertainAttempt, duplicate_key

pytestmark = pytest.mark.anyio
ANSWER = StoredAnswer(201, b'{"url":"u"}', "u")
UNCERTAIN = UncertainAttempt({"tekst": "x"}, 1000.0)


def test_key_is_per_client_and_ignores_key_order_and_formatting():
    body = {"tekst": "a", "actor": {"naam": "x", "soortActor": "y"}, "n": 1.5}
    same = json.loads('{ "n": 1.5, "actor": {"soortActor":"y","naam":"x"},"tekst":"a" }')
    assert duplicate_key("kiss", body) == duplicate_key("kiss", same)
    assert duplicate_key("kiss", body) != duplicate_key("ita", body)
    assert duplicate_key("kiss", body) != duplicate_key("kiss", {**body, "tekst": "b"})


async def test_first_caller_holds_the_lock_then_the_answer_is_replayed():
    store = InProcessStore()
    assert await store.begin("k", 1) == Claim()
    await store.finish("k", ANSWER)
    assert await store.begin("k", 1) == Claim(answer=ANSWER)


async def test_a_failed_attempt_releases_the_key():
    store = InProcessStore()
    assert await store.begin("k", 1) == Claim()
    await store.finish("k", None)
    assert await store.begin("k", 1) == Claim()


async def test_answers_expire_after_the_window():
    now = [0.0]
    store = InProcessStore(window_seconds=600, clock=lambda: now[0])
    await store.begin("k", 1)
    await store.finish("k", ANSWER)
    now[0] = 599.0
    assert await store.begin("k", 1) == Claim(answer=ANSWER)
    now[0] = 600.0
    assert await store.begin("k", 1) == Claim()


async def test_a_waiting_request_gets_the_in_flight_outcome():
    store = InProcessStore()
    await store.begin("k", 1)
    waiter = asyncio.create_task(store.begin("k", 1))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await store.finish("k", ANSWER)
    assert await waiter == Claim(answer=ANSWER)


async def test_a_waiting_request_takes_over_when_the_first_failed():
    store = InProcessStore()
    await store.begin("k", 1)
    waiter = asyncio.create_task(store.begin("k", 1))
    await asyncio.sleep(0.01)
    await store.finish("k", None)
    assert await waiter == Claim()


async def test_waiting_is_bounded():
    store = InProcessStore()
    await store.begin("k", 1)
    with pytest.raises(InFlightTimeout):
        await store.begin("k", 0.01)


async def test_an_uncertain_attempt_is_handed_to_the_repeat_until_one_succeeds():
    store = InProcessStore()
    await store.begin("k", 1)
    await store.finish("k", None, UNCERTAIN)
    assert await store.begin("k", 1) == Claim(uncertain=UNCERTAIN)
    await store.finish("k", None)  # the search failed too: the record stays
    assert await store.begin("k", 1) == Claim(uncertain=UNCERTAIN)
    await store.finish("k", ANSWER)
    assert await store.begin("k", 1) == Claim(answer=ANSWER)


async def test_uncertain_records_expire_after_the_window():
    now = [0.0]
    store = InProcessStore(window_seconds=600, clock=lambda: now[0])
    await store.begin("k", 1)
    await store.finish("k", None, UNCERTAIN)
    now[0] = 600.0
    assert await store.begin("k", 1) == Claim()
