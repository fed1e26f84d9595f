"""The abort extension between the adapter's server protocol and a stalled download
(adapter/server_protocol.py, DownloadResponse in adapter/kiss_api/passthrough.py): the two
must agree on its shape, or a stalled reader's connection is only closed, not dropped."""

import asyncio
import contextlib
import gc
import socket
import weakref

import httpx
import pytest
import uvicorn

from adapter.kiss_api.passthrough import DownloadResponse
from adapter.metrics import Metrics
from adapter.server_protocol import ABORT_EXTENSION, CANCEL_KEY, GONE_KEY, HeadLimitedHttpToolsProtocol

pytestmark = pytest.mark.anyio


async def test_the_served_protocol_offers_an_abort_callable_in_a_dict_as_asgi_has_extensions():
    offered: list[object] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        offered.append(dict(scope.get("extensions", {}).get(ABORT_EXTENSION)))  # as the request saw it
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with _served(app) as port, httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert answer.status_code == 204
    [extension] = offered
    assert isinstance(extension, dict)
    assert list(extension) == ["abort", "cancel_on_disconnect"]
    assert callable(extension["abort"])
    assert callable(extension["cancel_on_disconnect"])


async def test_a_stalled_download_calls_the_abort_the_server_offers_once():
    aborted: list[str] = []
    upstream = httpx.Response(200, stream=httpx.ByteStream(b"x" * 1024))
    response = DownloadResponse(upstream, {}, 0.05, Metrics(), None)
    scope = {"type": "http", "extensions": {ABORT_EXTENSION: {"abort": lambda: aborted.append("abort")}}}

    async def receive():
        await asyncio.Event().wait()  # the client says nothing

    async def send(message):
        await asyncio.Event().wait()  # and never takes a byte

    await response(scope, receive, send)
    assert aborted == ["abort"]


@contextlib.asynccontextmanager
async def _served(app):
    """The app behind the adapter's server protocol on a real socket; yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=HeadLimitedHttpToolsProtocol, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def _request_and_leave(port: int, after: float, path: str = "/") -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    await asyncio.sleep(after)
    writer.close()
    await writer.wait_closed()


async def test_a_handed_over_task_is_cancelled_when_its_client_leaves_before_the_answer():
    seen: list[object] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        extension = scope["extensions"][ABORT_EXTENSION]
        extension[CANCEL_KEY]()
        try:
            await asyncio.sleep(30)  # waiting for the e-Suite
        except asyncio.CancelledError:
            seen.append(extension.get(GONE_KEY))
            raise

    async with _served(app) as port:
        await _request_and_leave(port, 0.1)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
    assert seen == [True]


async def test_a_task_is_not_cancelled_once_its_answer_is_complete_nor_one_never_handed_over():
    finished: list[str] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/":
            scope["extensions"][ABORT_EXTENSION][CANCEL_KEY]()
        else:
            await asyncio.sleep(0.3)  # not handed over: the client leaves before the answer
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await asyncio.sleep(0.3)  # after the answer: the client leaves meanwhile
        finished.append(scope["path"])

    async with _served(app) as port:
        await _request_and_leave(port, 0.05)
        await _request_and_leave(port, 0.05, "/kept")
        for _ in range(300):  # each ends ~0.3–0.6 s after it began
            if len(finished) == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # a cancellation would have landed by now
    assert sorted(finished) == ["/", "/kept"]


async def test_a_closed_connections_protocol_is_freed_without_the_cycle_collector():
    """The extension's callables point back at the protocol; once the connection is closed
    they are taken out, so nothing keeps the protocol (and its last scope) alive."""
    protocols: list[weakref.ref] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        protocols.append(weakref.ref(scope["extensions"][ABORT_EXTENSION]["abort"].__self__))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with _served(app) as port:
        gc.disable()
        try:
            alive = await _closed_connections_left_alive(port, protocols)
        finally:
            gc.enable()
    assert (len(protocols), alive) == (20, 0)


async def _closed_connections_left_alive(port: int, protocols: list[weakref.ref]) -> int:
    """Twenty requests, each on its own connection closed after the answer; then how many of
    their protocols are still alive."""
    for _ in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        writer.close()
        await writer.wait_closed()
    for _ in range(100):
        if len(protocols) == 20 and not any(ref() for ref in protocols):
            break
        await asyncio.sleep(0.01)
    return sum(ref() is not None for ref in protocols)
