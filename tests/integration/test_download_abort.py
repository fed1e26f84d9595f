"""The abort extension between the adapter's server protocol and a stalled download
(adapter/server_protocol.py, DownloadResponse in adapter/kiss_api/passthrough.py): the two
must agree on its shape, or a stalled reader's connection is only closed, not dropped."""

import asyncio
import socket

import httpx
import pytest
import uvicorn

from adapter.kiss_api.passthrough import DownloadResponse
from adapter.metrics import Metrics
from adapter.server_protocol import ABORT_EXTENSION, HeadLimitedHttpToolsProtocol

pytestmark = pytest.mark.anyio


async def test_the_served_protocol_offers_an_abort_callable_in_a_dict_as_asgi_has_extensions():
    offered: list[object] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        offered.append(scope.get("extensions", {}).get(ABORT_EXTENSION))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=HeadLimitedHttpToolsProtocol, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = listener.getsockname()[1]
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        server.should_exit = True
        await serving
        listener.close()
    assert answer.status_code == 204
    [extension] = offered
    assert isinstance(extension, dict)
    assert list(extension) == ["abort"]
    assert callable(extension["abort"])


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
