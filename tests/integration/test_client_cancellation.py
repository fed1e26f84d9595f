"""A call whose inbound request is cancelled mid-call (the client went away, or the server cut
it short) on a real socket: the cancellation passes out as itself (not a 504 or a Problem),
the e-Suite connection is closed rather than left checked out, the breaker is not charged, and
the pool's one connection serves the next call at once. Probes `_sent`, `_Budget` and
`_closed` (issue 17) where a fake transport cannot: the H1 pool and the socket."""

from __future__ import annotations

import asyncio

import pytest

from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
from adapter.esuite_client.h1_transport import H1Transport
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET
from tests.servers import read_request

pytestmark = pytest.mark.anyio

BODY = b'{"url": "x", "count": 0}'


class Upstream:
    """Answers `/hang` never, `/drip` with a head and then a byte every 0.1 s, anything else
    at once; counts the connections still open."""

    def __init__(self) -> None:
        self.open = 0
        self.closed = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            while True:
                path = (await read_request(reader)).split(b" ", 2)[1]
                if b"/hang" in path:
                    await reader.read()  # until the adapter closes its end
                    return
                if b"/drip" in path:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n")
                    while not reader.at_eof():
                        writer.write(b" ")
                        await writer.drain()
                        await asyncio.sleep(0.1)
                    return
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                )
                writer.write(BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            self.closed.set()
            writer.close()


@pytest.mark.parametrize("path", ["hang", "drip"])
async def test_a_call_cancelled_mid_call_is_a_cancellation_and_frees_its_connection(path):
    upstream = Upstream()
    server = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    client = EsuiteClient(
        EsuiteTokenSource(ESUITE_CLIENT, ESUITE_SECRET),
        Metrics(),
        timeout_seconds=5,
        max_connections=1,
        transport=H1Transport(1),
    )
    urls = UrlMap("https://kiss-adapter.example.org", base)
    root = urls.esuite_root("zaken")
    try:
        call = asyncio.create_task(client.send(CallContext("r-1", urls), "GET", f"{root}/{path}", target="zaken"))
        await asyncio.sleep(0.3)
        assert upstream.open == 1
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(upstream.closed.wait(), 2)
        assert upstream.open == 0
        assert client.esuite_breaker._consecutive_failures == 0  # abandoned, not a failure
        # The pool's one connection is free again: the next call is answered at once.
        answer = await asyncio.wait_for(client.send(CallContext("r-2", urls), "GET", f"{root}/x", target="zaken"), 2)
        assert (answer.status_code, answer.content) == (200, BODY)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
