"""`DownloadResponse` runs the answer and the wait for the client's leaving as two tasks of its
own (not Starlette's anyio task group, bench/README.md "The ninth pass"); like that group it
returns only once both have ended, whatever cancels it, and the download slot is freed."""

from __future__ import annotations

import asyncio
import gc

import httpx
import pytest
from starlette.requests import ClientDisconnect

from adapter.kiss_api.passthrough import DownloadResponse
from adapter.metrics import Metrics


class _Endless(httpx.AsyncByteStream):
    """A document that never ends; its close takes a while, as a real connection's may;
    `on_cancel`: what it raises when cancelled while reading."""

    def __init__(self, on_cancel: BaseException | None = None) -> None:
        self.on_cancel = on_cancel

    async def __aiter__(self):
        try:
            while True:
                await asyncio.sleep(0.01)
                yield b"x" * 10
        except asyncio.CancelledError:
            if self.on_cancel is not None:
                raise self.on_cancel from None
            raise

    async def aclose(self) -> None:
        await asyncio.sleep(0.05)


def _download(stream: httpx.AsyncByteStream) -> tuple[DownloadResponse, list[int]]:
    released: list[int] = []
    response = DownloadResponse(httpx.Response(200, stream=stream), {}, 5.0, Metrics(), lambda: released.append(1))
    return response, released


async def _client_stays() -> dict:
    await asyncio.Event().wait()
    return {}


async def _taken(message: dict) -> None:
    pass


async def test_cancelled_twice_while_the_upstream_closes_it_ends_both_tasks_and_frees_the_slot():
    response, released = _download(_Endless())
    started = set(asyncio.all_tasks())
    request = asyncio.create_task(response({"type": "http"}, _client_stays, _taken))
    await asyncio.sleep(0.05)
    request.cancel()  # the client left
    await asyncio.sleep(0.02)  # the answer's task is still closing the upstream
    request.cancel()  # shutdown's grace ended
    with pytest.raises(asyncio.CancelledError):
        await request
    assert released == [1]
    assert set(asyncio.all_tasks()) - started == set()  # nothing left running


async def test_an_error_of_the_answer_while_cancelled_is_read_and_the_cancellation_raised():
    unread: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda loop, context: unread.append(context))
    try:
        response, released = _download(_Endless(on_cancel=httpx.ReadError("connection reset")))
        request = asyncio.create_task(response({"type": "http"}, _client_stays, _taken))
        await asyncio.sleep(0.05)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        del request, response
        await asyncio.sleep(0.01)
        gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert released == [1]
    assert unread == []  # no "Task exception was never retrieved"


async def test_under_asgi_2_4_a_send_that_fails_with_os_error_is_a_client_disconnect():
    response, released = _download(_Endless())

    async def gone(message: dict) -> None:
        if message["type"] == "http.response.body":
            raise OSError("the client left")

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}}
    with pytest.raises(ClientDisconnect):
        await response(scope, _client_stays, gone)
    assert released == [1]
