"""Bounded fan-out of upstream calls for one inbound request (operations.md §5.6)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
MAX_CONCURRENT_CALLS = 8


async def bounded_gather(calls: Sequence[Callable[[], Awaitable[T]]], limit: int = MAX_CONCURRENT_CALLS) -> list[T]:
    """Results in order; the first failure fails the whole fan-out and cancels the rest.

    `limit` workers take the next call as soon as one of theirs is done (a window of `limit`
    calls, not waves), and a page of 50 look-ups costs 8 tasks instead of 50."""
    if not calls:
        return []
    results: list[Any] = [None] * len(calls)
    indexes = iter(range(len(calls)))

    async def worker() -> None:
        for index in indexes:
            results[index] = await calls[index]()

    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(limit, len(calls))):
                group.create_task(worker())
    except BaseExceptionGroup as failures:
        failure = failures.exceptions[0]
        # Python 3.11's TaskGroup keeps the group it raised in its own frame, which the group's
        # traceback holds: a cycle, broken here by dropping that traceback.
        failures.__traceback__ = None
    except asyncio.CancelledError as cancelled:  # the client left (operations.md §4.2)
        # The same for the cancellation 3.11's TaskGroup.__aexit__ keeps in its own frame.
        cancelled.__traceback__ = None
        raise
    if failure is not None:
        # Raised outside the `except`: inside it the failure would take its group as context,
        # and the group holds it, a reference cycle keeping the request's pages until the
        # cyclic collector ran. `del`: this frame, in the failure's traceback, lets it go.
        # Cause and context suppressed, as `raise … from None` did.
        failure.__cause__ = None
        failure.__suppress_context__ = True
        try:
            raise failure
        finally:
            del failure
    return results
