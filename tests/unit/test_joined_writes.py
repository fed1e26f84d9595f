"""Guard of JoinedWrites (adapter/server_protocol.py, bench/README.md "The inbound path"): a
response's head and body leave in one `writelines`, bytes and order unchanged; a lone write
leaves at the end of the event loop's turn; closing writes what waits first."""

import asyncio

import pytest
import uvicorn
from starlette.responses import Response
from uvicorn.server import ServerState

from adapter.server_protocol import HeadLimitedHttpToolsProtocol, JoinedWrites

pytestmark = pytest.mark.anyio


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, parts) -> None:
        self.calls.append(("writelines", tuple(bytes(part) for part in parts)))

    def close(self) -> None:
        self.calls.append(("close",))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort",))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default=None):
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _turns(count: int = 3) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_two_writes_in_one_turn_leave_together():
    transport = RecordingTransport()
    writes = JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(b"HEAD")
    writes.write(b"BODY")
    writes.write(b"LAST")
    assert transport.calls == [("writelines", (b"HEAD", b"BODY"))]
    await _turns()
    assert transport.calls == [("writelines", (b"HEAD", b"BODY")), ("write", b"LAST")]


async def test_closing_writes_what_waits_first_and_a_closed_connection_drops_it():
    transport = RecordingTransport()
    writes = JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(b"HEAD")
    writes.close()
    assert transport.calls == [("write", b"HEAD"), ("close",)]
    writes.write(b"LATE")
    await _turns()
    assert transport.calls == [("write", b"HEAD"), ("close",)]


async def test_the_served_answer_leaves_in_one_send():
    async def app(scope, receive, send):
        await Response(b'{"a":1}', media_type="application/json")(scope, receive, send)

    config = uvicorn.Config(
        app, http=HeadLimitedHttpToolsProtocol, lifespan="off", server_header=False, date_header=False
    )
    protocol = HeadLimitedHttpToolsProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    transport = RecordingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    protocol.data_received(b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n")
    await _turns(10)
    assert transport.calls == [
        (
            "writelines",
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\ncontent-type: application/json\r\n\r\n",
                b'{"a":1}',
            ),
        )
    ]
    protocol.connection_lost(None)
