"""The inbound transport with a response's head and body in one send (issue 17).

uvicorn writes a response's head and its body with two `transport.write` calls; on a TCP
socket with Nagle off each is its own `send`, its own packet and, on the client's side, its
own wake-up. `CoalescingTransport` holds a small write back until the next write, the end of
the event-loop turn or a close, whichever comes first, and passes what it held and the new
bytes on together (`writelines`: one vectored send in uvloop, no copy). At most one small
write is held (`HELD_WRITE_LIMIT`), so flow control and memory are as before: a large write
is passed on at once, after whatever was held.
"""

from __future__ import annotations

import asyncio
from typing import Any

HELD_WRITE_LIMIT = 16 * 1024  # a response head; bodies above it are not held


class CoalescingTransport:
    """Wraps the server's transport for one connection; everything but writing is delegated."""

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))
        elif len(data) <= HELD_WRITE_LIMIT and not self._transport.is_closing():
            self._held = bytes(data)  # the caller may reuse a bytearray
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def writelines(self, list_of_data: Any) -> None:
        self.flush()
        self._transport.writelines(list_of_data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():  # the peer went away meanwhile
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        # Asked twice a request (uvicorn, the head limit): __getattr__ costs 0.7 µs more (2026-12-02).
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + (len(self._held) if self._held is not None else 0)

    def __getattr__(self, name: str) -> Any:
        # get_extra_info, pause_reading, resume_reading, set_write_buffer_limits, …
        return getattr(self._transport, name)
