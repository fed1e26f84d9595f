"""`_Budget`, the budget of one attempt in `EsuiteClient._exchange`: `asyncio.timeout` as a
plain context manager (issue 17, bench/README.md "Performance tricks").

Guard for that trick: in every case below it ends as `asyncio.timeout` ends (the same outcome,
the task's count of cancel requests the same afterwards, the code after the block run or not),
so that a change in asyncio's own rules shows here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from adapter.esuite_client.client import _Budget


def asyncio_timeout(seconds: float) -> contextlib.AbstractAsyncContextManager:
    return asyncio.timeout(seconds)


@contextlib.asynccontextmanager
async def budget(seconds: float):
    with _Budget(seconds):
        yield


Scenario = Callable[[Callable[[float], contextlib.AbstractAsyncContextManager]], Awaitable[str]]


async def in_time(timeout) -> str:
    async with timeout(5):
        await asyncio.sleep(0)
    return "done"


async def past_the_deadline(timeout) -> str:
    async with timeout(0.01):
        await asyncio.sleep(5)
    return "not reached"


async def at_once(timeout) -> str:
    async with timeout(0):
        await asyncio.sleep(5)
    return "not reached"


async def caught_inside(timeout) -> str:
    async with timeout(0.01):
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "swallowed"
    return "not reached"


async def replaced_inside(timeout) -> str:
    async with timeout(0.01):
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            raise ValueError("replaced") from None
    return "not reached"


async def cancelled_by_the_caller(timeout) -> str:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().call_later(0.01, task.cancel)
    async with timeout(5):
        await asyncio.sleep(5)
    return "not reached"


async def caller_cancels_at_the_deadline(timeout) -> str:
    task = asyncio.current_task()
    assert task is not None
    async with timeout(0.01):
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, task.cancel)  # the same moment as the deadline
        await asyncio.sleep(5)
    return "not reached"


async def after_an_earlier_cancel_request(timeout) -> str:
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        pass  # handled, but not uncancelled: one request stays counted
    async with timeout(0.01):
        await asyncio.sleep(5)
    return "not reached"


async def inside_a_shorter_outer_timeout(timeout) -> str:
    async with asyncio.timeout(0.01):
        async with timeout(5):
            await asyncio.sleep(5)
    return "not reached"


async def around_a_shorter_inner_timeout(timeout) -> str:
    async with timeout(5):
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(5)
        except TimeoutError:
            return "inner expired"
    return "not reached"


SCENARIOS = [
    in_time,
    past_the_deadline,
    at_once,
    caught_inside,
    replaced_inside,
    cancelled_by_the_caller,
    caller_cancels_at_the_deadline,
    after_an_earlier_cancel_request,
    inside_a_shorter_outer_timeout,
    around_a_shorter_inner_timeout,
]


async def ended(scenario: Scenario, timeout) -> tuple[str, int, str]:
    """The outcome, the cancel requests still counted, and whether the task ran on after."""
    counted = -1

    async def run() -> str:
        nonlocal counted
        try:
            outcome = await scenario(timeout)
        except BaseException as error:  # noqa: BLE001 (the outcome compared)
            outcome = type(error).__name__
        task = asyncio.current_task()
        assert task is not None
        counted = task.cancelling()
        return outcome

    task = asyncio.ensure_future(run())
    try:
        outcome = await task
    except asyncio.CancelledError:
        return "cancelled before the end", counted, "no"
    return outcome, counted, "yes"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.__name__ for scenario in SCENARIOS])
async def test_the_budget_ends_every_case_as_asyncio_timeout_ends_it(scenario):
    expected = await ended(scenario, asyncio_timeout)
    assert await ended(scenario, budget) == expected


async def test_the_expected_outcomes():
    """What the cases above compare, spelled out for the ones the client relies on."""
    assert await ended(past_the_deadline, budget) == ("TimeoutError", 0, "yes")
    assert await ended(cancelled_by_the_caller, budget) == ("CancelledError", 1, "yes")
    assert await ended(in_time, budget) == ("done", 0, "yes")


async def test_outside_a_task_it_refuses_as_asyncio_timeout_does():
    loop = asyncio.get_running_loop()
    result: asyncio.Future[str] = loop.create_future()

    def callback() -> None:
        try:
            _Budget(1)
        except RuntimeError as error:
            result.set_result(str(error))

    loop.call_soon(callback)
    assert "inside a task" in await result
