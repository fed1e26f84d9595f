"""uvicorn's httptools protocol with a bound on the request head (README "Security").

httptools (llhttp) has no limit of its own: uvicorn's protocol collects the request line and
header values in memory until the head ends, so one 40 MB `Authorization` header cost the
served adapter 2.4–3 s of its event loop and 150 MB of peak RSS (measured 2026-12-02 on
loopback, 2 shared cores; with this protocol: 431 in under 10 ms, no RSS growth). Here the bytes of an unfinished head are counted as they arrive; past the limit the
connection gets 431 problem+json and is closed, before the rest is read. The limit is
uvicorn's own `h11_max_incomplete_event_size`, so the h11 implementation is bounded by the
same number (it answers 400 there).

uvicorn has no deadline for a head either: a connection that sends a byte now and then (or
none at all) was held open indefinitely, each one a file descriptor and a protocol object.
Here a head must be complete within REQUEST_HEAD_TIMEOUT_SECONDS of the connection opening or
of the request's first byte, else 408 problem+json and the connection is closed.

uvicorn writes a response's head and its body with two `transport.write` calls, two sends;
here a request's cycle writes through `JoinedWrites`, so they leave in one (2026-12-02,
loopback, the S1 answer: 17.8 -> 12.6 µs a response, the kernel's share included).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapter.problems import Problem

log = structlog.get_logger("adapter.request")

DEFAULT_HEAD_LIMIT = 16 * 1024
DEFAULT_HEAD_SECONDS = 10.0
ABORT_EXTENSION = "kiss_esuite_adapter.abort"
ABORT_KEY = "abort"


def _closing_answer(status_line: bytes, problem: Problem) -> bytes:
    body = orjson.dumps(problem.to_body(f"urn:uuid:{uuid.uuid4()}"))
    return (
        b"HTTP/1.1 " + status_line + b"\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


def head_too_large_answer() -> bytes:
    return _closing_answer(b"431 Request Header Fields Too Large", Problem(431, "request-header-too-large"))


def head_timeout_answer() -> bytes:
    return _closing_answer(
        b"408 Request Timeout", Problem(408, "request-timeout", detail="De verzoekkop kwam niet op tijd binnen.")
    )


class JoinedWrites:
    """A connection's transport as its requests' cycles see it: a write waits for the next
    one, at the latest until the end of this turn of the event loop, so that the response head
    and the body that follows it at once go out in one `writelines` (one send). The bytes and
    their order are unchanged. Anything else asked of it (`close`, `is_closing`, …) first
    writes what waits, then is the transport's; what waits when the connection is already
    closing is dropped, as the transport would drop it."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = data
            self._flush_handle = self._loop.call_soon(self.flush)
            return
        self._held = None
        self._cancel_flush()
        self._transport.writelines((held, data))

    def flush(self) -> None:
        held = self._held
        if held is None:
            return
        self._held = None
        self._cancel_flush()
        if not self._transport.is_closing():
            self._transport.write(held)

    def _cancel_flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._transport, name)


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes received while a request head is unfinished, from the read after the
    one in which the request began (at most one read of excess, ≤ 256 KiB in asyncio and
    uvloop). A head that completes within one read is measured by HeadLimits instead
    (adapter/kiss_api/head_limits.py). The
    read in which a request begins is never counted: with HTTP/1.1 pipelining it also holds
    the whole requests before it, which are no part of this head."""

    def __init__(
        self, *args: Any, head_seconds: float = DEFAULT_HEAD_SECONDS, **kwargs: Any
    ) -> None:  # uvicorn's own, passed through
        super().__init__(*args, **kwargs)
        self._head_limit = self.config.h11_max_incomplete_event_size or DEFAULT_HEAD_LIMIT
        self._head_seconds = head_seconds
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True
        self._began_in_read = False
        self._head_bytes = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._writes = JoinedWrites(transport, self.loop)
        self._head_timer = self.loop.call_later(self._head_seconds, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._writes.flush()
        self._stop_head_timer()
        super().connection_lost(exc)

    # Where the protocol itself writes to or closes the connection, what a cycle's write left
    # waiting goes first.
    def shutdown(self) -> None:
        self._writes.flush()
        super().shutdown()

    def timeout_keep_alive_handler(self) -> None:
        self._writes.flush()
        super().timeout_keep_alive_handler()

    def on_message_begin(self) -> None:
        self._in_head = True
        self._began_in_read = True
        self._head_bytes = 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_seconds, self._head_timed_out)
        super().on_message_begin()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._writes.flush()
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("request_head_timeout", seconds=self._head_seconds)
            self.transport.write(head_timeout_answer())
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        self._in_head = False
        # An ASGI extension: the app may drop this connection at once (a stalled download
        # reader), discarding what the client never took instead of waiting for it to read.
        # Its value is a dict, as ASGI has every extension's: {ABORT_KEY: callable}.
        self.scope.setdefault("extensions", {})[ABORT_EXTENSION] = {ABORT_KEY: self.transport.abort}
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:  # a new cycle, whose task has not run yet
            self.cycle.transport = self._writes  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._writes.flush()
        self._began_in_read = False
        super().data_received(data)
        if self._began_in_read or not self._in_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self._head_limit:
            log.info("request_head_too_large", received=self._head_bytes, limit=self._head_limit)
            self.transport.write(head_too_large_answer())
            self.transport.close()
