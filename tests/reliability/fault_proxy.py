"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1 between the adapter and the simulator (issue 14).

Each request is read whole; `policy(method, path)` names the fault for it (None: none):

| fault | what the adapter sees | did the e-Suite process it? |
|---|---|---|
| `reset_before` | the connection closed after it sent the request | no |
| `drop_after` | the connection closed after it sent the request | yes |
| `delay` | the answer after `delay_seconds` (past the adapter's budget) | yes |
| `gateway_before_502/503/504` | a gateway error page | no |
| `gateway_after_502/503/504` | a gateway error page | yes |

`slow` holds a create's answer for `slow_seconds` (a slow e-Suite, within the budget).
Counts of faults and of creates forwarded are kept for the report.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable

import httpx

GATEWAY_BEFORE = {f"gateway_before_{s}": s for s in (502, 503, 504)}
GATEWAY_AFTER = {f"gateway_after_{s}": s for s in (502, 503, 504)}
KINDS = ("reset_before", "drop_after", "delay", *GATEWAY_BEFORE, *GATEWAY_AFTER)
_HOP_BY_HOP = {"host", "connection", "keep-alive", "content-length", "transfer-encoding", "content-encoding"}
_MAX_HEAD = 64 * 1024
_MAX_BODY = 8 * 1024 * 1024

Policy = Callable[[str, str], "str | None"]


class FaultProxy:
    def __init__(
        self, upstream: str, policy: Policy, delay_seconds: float = 3.0, slow_seconds: float = 1.0, port: int = 0
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = port
        self.policy = policy
        self.delay_seconds = delay_seconds
        self.slow_seconds = slow_seconds
        self.faults: collections.Counter[str] = collections.Counter()
        self.in_flight = 0  # forwarded requests whose answer is still held back
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._connections: set[asyncio.Task] = set()
        self.url = ""

    def start(self) -> str:
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._open())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self.url

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    async def _open(self) -> None:
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=60)
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _close(self) -> None:
        self._server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._client.aclose()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _MAX_HEAD:
            raise ValueError("request head too large")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines if ":" in line]
        body = await _read_body(reader, {name.lower(): value for name, value in headers})
        fault = self.policy(method, target.split("?", 1)[0])
        if fault is not None:
            self.faults[fault] += 1
        if fault == "reset_before":
            writer.transport.abort()
            return False
        if fault in GATEWAY_BEFORE:
            await _write(writer, GATEWAY_BEFORE[fault], [("Content-Type", "text/html")], b"<html>Bad Gateway</html>")
            return True
        forwarded = [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP]
        response = await self._client.request(method, target, headers=forwarded, content=body)
        if fault == "drop_after":
            writer.transport.abort()
            return False
        hold = self.delay_seconds if fault == "delay" else self.slow_seconds if fault == "slow" else 0.0
        if hold:
            self.in_flight += 1
            try:
                await asyncio.sleep(hold)
            finally:
                self.in_flight -= 1
        if fault in GATEWAY_AFTER:
            await _write(writer, GATEWAY_AFTER[fault], [("Content-Type", "text/html")], b"<html>Gateway</html>")
            return True
        answer_headers = [(n, v) for n, v in response.headers.items() if n.lower() not in _HOP_BY_HOP]
        await _write(writer, response.status_code, answer_headers, response.content)
        return True


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(chunks)
            if sum(map(len, chunks)) + size > _MAX_BODY:
                raise ValueError("request body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0"))
    if length > _MAX_BODY:
        raise ValueError("request body too large")
    return await reader.readexactly(length) if length else b""


async def _write(writer: asyncio.StreamWriter, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
        *(f"{n}: {v}" for n, v in headers),
        f"Content-Length: {len(body)}",
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
