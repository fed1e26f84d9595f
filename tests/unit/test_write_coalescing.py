"""adapter/write_coalescing.py: a response's head and body leave in one send (issue 17)."""

from __future__ import annotations

import asyncio

import pytest

from adapter.write_coalescing import HELD_WRITE_LIMIT, CoalescingTransport

pytestmark = pytest.mark.anyio


class Recorded:
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, chunks) -> None:
        self.calls.append(("writelines", tuple(chunks)))

    def close(self) -> None:
        self.calls.append(("close",))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort",))
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append(("write_eof",))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default=None):
        return ("127.0.0.1", 8000) if name == "sockname" else default


async def test_head_and_body_go_out_together():
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert inner.calls == []
    assert transport.get_write_buffer_size() == 7 + 19
    transport.write(b'{"a":1}')
    assert inner.calls == [("writelines", (b"HTTP/1.1 200 OK\r\n\r\n", b'{"a":1}'))]
    await asyncio.sleep(0)  # the scheduled flush finds nothing held
    assert len(inner.calls) == 1


async def test_a_lone_write_leaves_at_the_end_of_the_loop_turn():
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    await asyncio.sleep(0)
    assert inner.calls == [("write", b"HTTP/1.1 204 No Content\r\n\r\n")]


async def test_a_large_write_is_not_held():
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    body = b"x" * (HELD_WRITE_LIMIT + 1)
    transport.write(body)
    transport.write(body)
    assert inner.calls == [("write", body), ("write", body)]


async def test_close_and_eof_send_what_is_held_first_abort_drops_it():
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"a")
    transport.write_eof()
    transport.write(b"b")
    transport.close()
    assert inner.calls == [("write", b"a"), ("write_eof",), ("write", b"b"), ("close",)]
    other = Recorded()
    aborted = CoalescingTransport(other, asyncio.get_running_loop())  # type: ignore[arg-type]
    aborted.write(b"c")
    aborted.abort()
    await asyncio.sleep(0)
    assert other.calls == [("abort",)]


async def test_nothing_is_written_after_the_peer_went_away():
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"head")
    inner.closing = True  # connection_lost meanwhile
    await asyncio.sleep(0)
    assert inner.calls == []


async def test_writelines_and_a_held_bytearray_keep_their_order_and_bytes():
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    reused = bytearray(b"head")
    transport.write(reused)  # type: ignore[arg-type]
    reused[:] = b"XXXX"  # the caller reuses its buffer
    transport.writelines([b"1", b"2"])
    assert inner.calls == [("write", b"head"), ("writelines", (b"1", b"2"))]
    assert transport.get_extra_info("sockname") == ("127.0.0.1", 8000)  # the rest is delegated


def test_the_served_protocol_wraps_its_transport():
    from unittest import mock

    import uvicorn

    from adapter.server_protocol import HeadLimitedHttpToolsProtocol

    loop = asyncio.new_event_loop()
    try:
        config = uvicorn.Config(app=lambda scope, receive, send: None)
        config.load()
        protocol = HeadLimitedHttpToolsProtocol(config=config, server_state=mock.MagicMock(), app_state={}, _loop=loop)
        protocol.connection_made(Recorded())  # type: ignore[arg-type]
        assert isinstance(protocol.transport, CoalescingTransport)
        protocol.connection_lost(None)
    finally:
        loop.close()


def test_is_closing_is_the_transports_and_asked_without_the_attribute_fallback():
    """Asked twice a request: a method of its own, not `__getattr__` (0.7 µs more a call)."""
    inner = Recorded()
    transport = CoalescingTransport(inner, None)  # type: ignore[arg-type]
    assert "is_closing" in vars(CoalescingTransport)
    assert transport.is_closing() is False
    inner.closing = True
    assert transport.is_closing() is True
