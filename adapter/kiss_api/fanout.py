"""Bounded fan-out of upstream calls for one inbound request (operations.md §5.6)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
MAX_CONCURRENT_CALLS = 8


async def bounded_gather(calls: Sequence[Callable[[], Awaitable[T]]], limit: int = MAX_CONCURRENT_CALLS) -> list[T]:
    """Results in order; the first failure fails the whole fan-out and cancels the rest."""
    if not calls:
        return []
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await call()

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(run(call)) for call in calls]
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]
