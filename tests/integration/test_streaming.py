"""A document download streams through: the first MiB reaches the client before the e-Suite sent the rest (RW-9)."""

import asyncio
import threading

import httpx

from adapter.app import create_app
from tests.conftest import fixture_settings, kiss_headers
from tests.servers import running_server

MIB = 1024 * 1024


class WaitingStream(httpx.AsyncByteStream):
    """One MiB, then nothing until the client has confirmed it holds that MiB, then 19 more."""

    def __init__(self, first_mib_received: threading.Event) -> None:
        self.first_mib_received = first_mib_received
        self.finished = False

    async def __aiter__(self):
        yield b"a" * MIB
        released = await asyncio.to_thread(self.first_mib_received.wait, 10)
        assert released, "the client never saw the first MiB: the download was buffered"
        for _ in range(19):
            yield b"b" * MIB
        self.finished = True


def test_download_is_streamed_not_buffered():
    first_mib_received = threading.Event()
    stream = WaitingStream(first_mib_received)

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/octet-stream"}, stream=stream)

    app = create_app(fixture_settings(ESUITE_TIMEOUT_SECONDS="20"), esuite_transport=httpx.MockTransport(upstream))
    received = 0
    with running_server(app) as base_url:
        url = f"{base_url}/documenten/api/v1/enkelvoudiginformatieobjecten/1/download"
        with httpx.stream("GET", url, headers=kiss_headers(), timeout=20) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                received += len(chunk)
                if received >= MIB and not first_mib_received.is_set():
                    assert not stream.finished
                    first_mib_received.set()
    assert received == 20 * MIB
    assert stream.finished
