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


# --- bounds (issue 13 item 5): entries and bytes, a size gauge, a warning on eviction ---------

from adapter.idempotency import ENTRY_OVERHEAD_BYTES  # noqa: E402


async def stored(store: InProcessStore, *keys: str, answer: StoredAnswer = ANSWER) -> None:
    for key in keys:
        await store.begin(key, 1)
        await store.finish(key, answer)


async def test_past_the_entry_bound_the_oldest_answer_is_evicted_with_a_warning():
    from structlog.testing import capture_logs

    sizes: list[tuple[int, int]] = []
    store = InProcessStore(max_entries=2, on_size=lambda entries, size: sizes.append((entries, size)))
    await stored(store, "a", "b")
    with capture_logs() as logs:
        await stored(store, "c")
    assert await store.begin("b", 1) == Claim(answer=ANSWER)
    assert await store.begin("c", 1) == Claim(answer=ANSWER)
    assert await store.begin("a", 1) == Claim()  # evicted: processed anew
    evictions = [entry for entry in logs if entry["event"] == "duplicate_store_evicted"]
    assert evictions == [
        {"event": "duplicate_store_evicted", "evicted": 1, "entries": 2, "bytes": sizes[-2][1], "log_level": "warning"}
    ]
    assert sizes[-1][0] == 3  # a's new lock


async def test_the_byte_bound_counts_key_answer_and_overhead():
    answer = StoredAnswer(201, b"x" * 1000, "u")
    one_entry = 1 + 1000 + 1 + ENTRY_OVERHEAD_BYTES
    store = InProcessStore(max_bytes=2 * one_entry)
    await stored(store, "a", "b", answer=answer)
    assert store.size == (2, 2 * one_entry)
    await stored(store, "c", answer=answer)
    assert store.size == (2, 2 * one_entry)
    assert await store.begin("a", 1) == Claim()


async def test_a_lock_in_flight_is_never_evicted():
    store = InProcessStore(max_entries=1)
    assert await store.begin("held", 1) == Claim()
    await stored(store, "a", "b")
    waiter = asyncio.create_task(store.begin("held", 1))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # still locked
    await store.finish("held", ANSWER)
    assert await waiter == Claim(answer=ANSWER)


async def test_expired_and_released_entries_leave_the_byte_count():
    now = [0.0]
    store = InProcessStore(window_seconds=10, clock=lambda: now[0])
    await stored(store, "a")
    await store.begin("b", 1)
    await store.finish("b", None)
    assert store.size == (1, 1 + len(ANSWER.body) + 1 + ENTRY_OVERHEAD_BYTES)
    now[0] = 11.0
    await store.begin("c", 1)
    assert store.size == (1, 1 + ENTRY_OVERHEAD_BYTES)


async def test_the_size_is_a_prometheus_gauge():
    from tests.conftest import Stack, kiss_headers, load_fixture

    stack = Stack()
    body = load_fixture("kiss/post-contactverzoek-groep-known-klant-v1.json")
    created = await stack.client.post("/contactmomenten/api/v1/contactmomenten", json=body, headers=kiss_headers())
    assert created.status_code == 201
    text = (await stack.client.get("/metrics")).text
    entries = [line for line in text.splitlines() if line.startswith("kiss_adapter_duplicate_store_entries ")]
    size = [line for line in text.splitlines() if line.startswith("kiss_adapter_duplicate_store_bytes ")]
    assert entries == ["kiss_adapter_duplicate_store_entries 1.0"]
    key_bytes = 64  # a SHA-256 in hex
    expected = key_bytes + len(created.content) + len(created.headers["location"]) + ENTRY_OVERHEAD_BYTES
    assert size == [f"kiss_adapter_duplicate_store_bytes {float(expected)}"]
    await stack.aclose()


async def test_a_full_store_warns_at_most_once_a_minute_with_the_count_since():
    from structlog.testing import capture_logs

    now = [0.0]
    store = InProcessStore(max_entries=1, clock=lambda: now[0])
    with capture_logs() as logs:
        await stored(store, "a", "b", "c")
        now[0] = 61.0
        await stored(store, "d")
    counts = [entry["evicted"] for entry in logs if entry["event"] == "duplicate_store_evicted"]
    assert counts == [1, 2]  # b's eviction of a at once; c's and d's together a minute later


def _gauges(text: str) -> tuple[str, str]:
    lines = text.splitlines()
    (entries,) = [line for line in lines if line.startswith("kiss_adapter_duplicate_store_entries ")]
    (size,) = [line for line in lines if line.startswith("kiss_adapter_duplicate_store_bytes ")]
    return entries, size


async def test_the_size_gauges_read_the_store_at_scrape_time_and_nothing_is_set_per_create():
    """Trick (issue 17, fourth pass): the gauges are the store's `size` read when scraped,
    not set on every change. Every change the store makes shows, creates set no gauge, and an
    injected store (not built by the app) is not reported, as before."""
    from prometheus_client import generate_latest

    from adapter.app import create_app
    from adapter.metrics import Metrics
    from adapter.services import services_of
    from tests.conftest import fixture_settings

    sets: list[float] = []
    original = Metrics.watch_duplicate_store

    def watch(self, size):
        self.duplicate_store_entries.set = sets.append  # a set per change would land here
        self.duplicate_store_bytes.set = sets.append
        original(self, size)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Metrics, "watch_duplicate_store", watch)
        metrics_app = create_app(fixture_settings())
    services = services_of(metrics_app)
    store = services.duplicates
    assert isinstance(store, InProcessStore)
    registry_text = lambda: generate_latest(services.metrics.registry).decode()  # noqa: E731
    assert _gauges(registry_text()) == (
        "kiss_adapter_duplicate_store_entries 0.0",
        "kiss_adapter_duplicate_store_bytes 0.0",
    )
    await store.begin("k" * 64, 1)  # a lock: the key and the overhead
    assert _gauges(registry_text()) == (
        "kiss_adapter_duplicate_store_entries 1.0",
        f"kiss_adapter_duplicate_store_bytes {float(64 + 500)}",
    )
    await store.finish("k" * 64, StoredAnswer(201, b"x" * 100, "u" * 10))
    assert _gauges(registry_text()) == (
        "kiss_adapter_duplicate_store_entries 1.0",
        f"kiss_adapter_duplicate_store_bytes {float(64 + 500 + 100 + 10)}",
    )
    await store.begin("r" * 64, 1)
    await store.finish("r" * 64, None)  # released: gone again
    assert _gauges(registry_text())[0] == "kiss_adapter_duplicate_store_entries 1.0"
    assert sets == []

    injected = create_app(fixture_settings(), duplicates=InProcessStore())
    await services_of(injected).duplicates.begin("k" * 64, 1)
    assert _gauges(generate_latest(services_of(injected).metrics.registry).decode()) == (
        "kiss_adapter_duplicate_store_entries 0.0",
        "kiss_adapter_duplicate_store_bytes 0.0",
    )
