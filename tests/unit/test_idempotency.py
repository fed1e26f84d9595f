"""Duplicate protection store and key (operations.md §5.3)."""

import asyncio
import json

import pytest

from adapter.idempotency import InFlightTimeout, InProcessStore, StoredAnswer, duplicate_key

pytestmark = pytest.mark.anyio
ANSWER = StoredAnswer(201, b'{"url":"u"}', "u")


def test_key_is_per_client_and_ignores_key_order_and_formatting():
    body = {"tekst": "a", "actor": {"naam": "x", "soortActor": "y"}, "n": 1.5}
    same = json.loads('{ "n": 1.5, "actor": {"soortActor":"y","naam":"x"},"tekst":"a" }')
    assert duplicate_key("kiss", body) == duplicate_key("kiss", same)
    assert duplicate_key("kiss", body) != duplicate_key("ita", body)
    assert duplicate_key("kiss", body) != duplicate_key("kiss", {**body, "tekst": "b"})


async def test_first_caller_holds_the_lock_then_the_answer_is_replayed():
    store = InProcessStore()
    assert await store.begin("k", 1) is None
    await store.finish("k", ANSWER)
    assert await store.begin("k", 1) == ANSWER


async def test_a_failed_attempt_releases_the_key():
    store = InProcessStore()
    assert await store.begin("k", 1) is None
    await store.finish("k", None)
    assert await store.begin("k", 1) is None


async def test_answers_expire_after_the_window():
    now = [0.0]
    store = InProcessStore(window_seconds=600, clock=lambda: now[0])
    await store.begin("k", 1)
    await store.finish("k", ANSWER)
    now[0] = 599.0
    assert await store.begin("k", 1) == ANSWER
    now[0] = 600.0
    assert await store.begin("k", 1) is None


async def test_a_waiting_request_gets_the_in_flight_outcome():
    store = InProcessStore()
    await store.begin("k", 1)
    waiter = asyncio.create_task(store.begin("k", 1))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await store.finish("k", ANSWER)
    assert await waiter == ANSWER


async def test_a_waiting_request_takes_over_when_the_first_failed():
    store = InProcessStore()
    await store.begin("k", 1)
    waiter = asyncio.create_task(store.begin("k", 1))
    await asyncio.sleep(0.01)
    await store.finish("k", None)
    assert await waiter is None


async def test_waiting_is_bounded():
    store = InProcessStore()
    await store.begin("k", 1)
    with pytest.raises(InFlightTimeout):
        await store.begin("k", 0.01)
