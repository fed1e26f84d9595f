"""uvicorn's httptools protocol with a bound on the request head (README "Security").

httptools (llhttp) has no limit of its own: uvicorn's protocol collects the request line and
header values in memory until the head ends, so one 40 MB `Authorization` header cost the
served adapter 2.4–3 s of its event loop and 150 MB of peak RSS (measured 2026-12-02 on
loopback, 2 shared cores; with this protocol: 431 in under 10 ms, no RSS growth). Here the bytes of an unfinished head are counted as they arrive; past the limit the
connection gets 431 problem+json and is closed, before the rest is read. The limit is
uvicorn's own `h11_max_incomplete_event_size`, so the h11 implementation is bounded by the
same number (it answers 400 there).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapter.problems import Problem

log = structlog.get_logger("adapter.request")

DEFAULT_HEAD_LIMIT = 16 * 1024
ABORT_EXTENSION = "kiss_esuite_adapter.abort"
ABORT_KEY = "abort"


def head_too_large_answer() -> bytes:
    body = orjson.dumps(Problem(431, "request-header-too-large").to_body(f"urn:uuid:{uuid.uuid4()}"))
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes received while a request head is unfinished (at most one read of
    excess: a read that starts in a body and ends in the next head is counted from its next
    read on). A head that completes within one read is measured by the pipeline instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # uvicorn's own, passed through
        super().__init__(*args, **kwargs)
        self._head_limit = self.config.h11_max_incomplete_event_size or DEFAULT_HEAD_LIMIT
        self._in_head = True
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        self._in_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        # An ASGI extension: the app may drop this connection at once (a stalled download
        # reader), discarding what the client never took instead of waiting for it to read.
        # Its value is a dict, as ASGI has every extension's: {ABORT_KEY: callable}.
        self.scope.setdefault("extensions", {})[ABORT_EXTENSION] = {ABORT_KEY: self.transport.abort}
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        counting = self._in_head
        super().data_received(data)
        if not counting or not self._in_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self._head_limit:
            log.info("request_head_too_large", received=self._head_bytes, limit=self._head_limit)
            self.transport.write(head_too_large_answer())
            self.transport.close()
