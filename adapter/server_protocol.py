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

uvicorn notices a client that goes away only when the app next reads or writes: a GET waiting
for the e-Suite (or fanning out 51 look-ups, S3) ran to its end for nobody, holding e-Suite
connections and CPU. Here the app may hand over its task (CANCEL_KEY); when the connection is
lost before that request's answer is complete, the task is cancelled. ProblemRendering hands
over only safe methods: a create is never cut short (its duplicate key must see it finish).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable
from typing import Any, cast

import orjson
import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapter.kiss_api.request_context import new_request_id
from adapter.problems import Problem
from adapter.write_coalescing import CoalescingTransport

log = structlog.get_logger("adapter.request")

DEFAULT_HEAD_LIMIT = 16 * 1024
DEFAULT_HEAD_SECONDS = 10.0
ABORT_EXTENSION = "kiss_esuite_adapter.abort"
ABORT_KEY = "abort"
# In the same extension dict: `extension[CANCEL_KEY]()` asks the protocol to cancel the
# calling task should the client go away before the answer is complete, and the protocol
# then sets `extension[GONE_KEY] = True` first, so the app knows whose cancellation it is.
# The protocol finds the task with its own loop: in Python 3.11 `asyncio.current_task()`
# without one is also a getpid system call (255 ns, 2026-12-03).
CANCEL_KEY = "cancel_on_disconnect"
GONE_KEY = "client_gone"


def _closing_answer(status_line: bytes, problem: Problem, request_id: str) -> bytes:
    """An answer written before any request exists (its head is not whole): the request id is
    the adapter's own, as every answer carries one (kiss-front.md §3.3), and is in the log line."""
    body = orjson.dumps(problem.to_body(f"urn:uuid:{uuid.uuid4()}"))
    return (
        b"HTTP/1.1 " + status_line + b"\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"x-request-id: " + request_id.encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


def head_too_large_answer(request_id: str) -> bytes:
    return _closing_answer(b"431 Request Header Fields Too Large", Problem(431, "request-header-too-large"), request_id)


def head_timeout_answer(request_id: str) -> bytes:
    problem = Problem(408, "request-timeout", detail="De verzoekkop kwam niet op tijd binnen.")
    return _closing_answer(b"408 Request Timeout", problem, request_id)


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
        # The head being read must be complete by `_head_deadline` (None: no head being read).
        # One timer at a time, not one per request: it is left to run out when a head
        # completes, and when it fires checks the deadline of the head then being read, if
        # any, and runs on until that. Arming and cancelling a timer for every request cost
        # 1.0–1.2 µs (2026-12-02); a deadline always lies at or after the timer's end, so the
        # timer never fires late.
        self._head_deadline: float | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True
        self._began_in_read = False
        self._head_bytes = 0
        # The request whose task is to be cancelled if the connection is lost before its answer
        # is complete: (its cycle, the task); see CANCEL_KEY.
        self._cancellable: tuple[Any, asyncio.Task[Any]] | None = None

    def connection_made(self, transport) -> None:
        # A response's head and body in one send (adapter/write_coalescing.py).
        # It is duck-typed (everything but writing is delegated), not an asyncio.Transport.
        super().connection_made(cast(asyncio.Transport, CoalescingTransport(transport, self.loop)))
        self._head_begins()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        cancellable, self._cancellable = self._cancellable, None
        super().connection_lost(exc)
        self._drop_callables()
        if cancellable is not None:
            cycle, task = cancellable
            if not cycle.response_complete and not task.done():
                # Nobody is left to read the answer: the work for it stops (ProblemRendering).
                cycle.scope["extensions"][ABORT_EXTENSION][GONE_KEY] = True
                task.cancel()

    def _drop_callables(self) -> None:
        """The extension's callables point back at this protocol, which holds the last scope and
        the queued ones: taken out, so a closed connection is freed at once, not by the cyclic
        collector. An app still running has what it read; GONE_KEY stays for it to see."""
        scopes = [self.scope, self.cycle.scope if self.cycle else None, *(cycle.scope for cycle, _ in self.pipeline)]
        for scope in scopes:
            extension = scope.get("extensions", {}).get(ABORT_EXTENSION) if scope is not None else None
            if extension is not None:
                extension.pop(ABORT_KEY, None)
                extension.pop(CANCEL_KEY, None)

    def _abort_connection(self) -> None:
        """ABORT_KEY: the app ends the connection itself and has decided how its request ends
        (a stalled download, counted as such): its task is no longer to be cancelled for it."""
        self._cancellable = None
        self.transport.abort()

    def _cancel_on_disconnect(self, cycle: Any) -> None:
        task = asyncio.current_task(self.loop)
        if task is not None:
            self._cancellable = (cycle, task)

    def on_response_complete(self) -> None:
        self._cancellable = None  # before a pipelined request is started
        super().on_response_complete()

    def on_message_begin(self) -> None:
        self._in_head = True
        self._began_in_read = True
        self._head_bytes = 0
        if self._head_deadline is None:  # else the connection's opening set it
            self._head_begins()
        super().on_message_begin()

    def _head_begins(self) -> None:
        self._head_deadline = self.loop.time() + self._head_seconds
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_seconds, self._head_timer_ends)

    def _head_timer_ends(self) -> None:
        self._head_timer = None
        if self._head_deadline is None:
            return  # no head being read: the next one starts a timer
        remaining = self._head_deadline - self.loop.time()
        if remaining > 0:
            self._head_timer = self.loop.call_later(remaining, self._head_timer_ends)
        else:
            self._head_timed_out()

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self._refuse_head(head_timeout_answer, "request_head_timeout", seconds=self._head_seconds)

    def on_headers_complete(self) -> None:
        self._head_deadline = None
        self._in_head = False
        # An ASGI extension: the app may drop this connection at once (a stalled download
        # reader), discarding what the client never took instead of waiting for it to read.
        # Its value is a dict, as ASGI has every extension's: {ABORT_KEY: callable, CANCEL_KEY: …}.
        extension: dict[object, object] = {ABORT_KEY: self._abort_connection}
        self.scope.setdefault("extensions", {})[ABORT_EXTENSION] = extension
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # this request's own cycle, not an upgrade
            extension[CANCEL_KEY] = functools.partial(self._cancel_on_disconnect, cycle)

    def data_received(self, data: bytes) -> None:
        self._began_in_read = False
        super().data_received(data)
        if self._began_in_read or not self._in_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self._head_limit:
            self._refuse_head(
                head_too_large_answer, "request_head_too_large", received=self._head_bytes, limit=self._head_limit
            )

    def _refuse_head(self, answer: Callable[[str], bytes], event: str, **fields: Any) -> None:
        """The answer to a head that is not whole, with a request id of its own (also in the log
        line), and the connection closed after it."""
        request_id = new_request_id()
        log.info(event, request_id=request_id, **fields)
        self.transport.write(answer(request_id))
        self.transport.close()
