"""operations.md §5.6: at most 8 concurrent upstream calls per inbound request."""

import asyncio

import pytest

from adapter.kiss_api.fanout import bounded_gather


async def test_results_in_order_with_never_more_than_8_calls_at_once_and_a_free_slot_reused_at_once():
    running = 0
    peak = 0
    started: list[int] = []

    def call(index: int):
        async def run() -> int:
            nonlocal running, peak
            started.append(index)
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.001 * (index % 3))
            running -= 1
            return index * 10

        return run

    assert await bounded_gather([call(i) for i in range(50)]) == [i * 10 for i in range(50)]
    assert peak == 8
    assert sorted(started) == list(range(50))
    assert await bounded_gather([]) == []


async def test_the_first_failure_fails_the_fan_out_and_cancels_the_calls_in_flight():
    cancelled = []

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(1)
            raise

    async def failing() -> None:
        await asyncio.sleep(0.01)
        raise LookupError("e-Suite down")

    with pytest.raises(LookupError):
        await asyncio.wait_for(bounded_gather([slow, slow, failing, slow]), timeout=5)
    assert len(cancelled) == 3
