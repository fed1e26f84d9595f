"""Issue 17 (bench/README.md, "The ninth pass"): a request leaves no reference cycle behind, on
its errors least of all. `serve` collects the young generation after 7,000 net allocations, not
700, so whatever a cycle holds (the request, its body, up to 64 MiB on a pass-through route)
would wait that much longer; reference counting must free it at the end of the request.

The app is called as an ASGI application, directly (no inbound client, whose own objects
could be in cycles), with the collector off; then one collection with `DEBUG_SAVEALL` keeps
every object it found in a cycle in `gc.garbage`, which must be empty."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from adapter.app import create_app
from adapter.logging import configure_logging
from tests.conftest import INTERNE_TAAK_TYPE, fixture_settings, kiss_headers, load_fixture
from tests.cycles import cycles_left

CONTACTVERZOEK = json.dumps(load_fixture("kiss/post-contactverzoek-early-2024-afdeling.json")).encode()
KLANT = json.dumps({"inhoud": "A" * 100_000}).encode()
CONTACTVERZOEKEN = load_fixture("esuite/contactmomenten-page-1-contactverzoeken.json")
INTERNE_TAKEN = f"type={INTERNE_TAAK_TYPE}".encode()


def _scope(method: str, path: str, query: bytes, body: bytes, authorization: bytes) -> dict[str, Any]:
    headers = [(b"host", b"kiss-adapter.example.org"), (b"authorization", authorization)]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def _status(app: Any, scope: dict[str, Any], body: bytes) -> int:
    messages: Iterator[dict[str, Any]] = iter([{"type": "http.request", "body": body, "more_body": False}])
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        message = next(messages, None)
        if message is None:
            await asyncio.Event().wait()  # the client stays connected
        return message  # type: ignore[return-value]

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


def _answering(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    call_numbers = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response:
        odd_call = next(call_numbers) % 2 == 1
        if kind == "refused" or (kind == "refused-once" and odd_call):
            raise httpx.ConnectError("connection refused", request=request)
        if kind == "read-timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        if kind == "500":
            return httpx.Response(500, json={"detail": "storing failed"})
        if kind == "look-ups-fail":  # the list answers, every klant look-up of the fan-out fails
            if request.url.path.endswith("/klantcontactmomenten"):
                return httpx.Response(401, json={"detail": "not allowed"})
            return httpx.Response(200, json=CONTACTVERZOEKEN)
        return httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})

    return answer


CASES = {
    # name: (e-Suite answer, method, path, query, body, statuses of the five requests)
    "a list read": ("ok", "GET", "/klanten/api/v1/klanten", b"", b"", [200] * 5),
    "an e-Suite 500 on a read": ("500", "GET", "/klanten/api/v1/klanten", b"", b"", [502] * 5),
    "a refused connection, retried, then the open circuit": (
        "refused",
        "GET",
        "/klanten/api/v1/klanten",
        b"",
        b"",
        [502, 503, 503, 503, 503],
    ),
    # The retry path itself: every first attempt refused, every second answered (the circuit
    # stays closed, each call's first error handed to the retry policy).
    "a refused connection, the retry answered": ("refused-once", "GET", "/klanten/api/v1/klanten", b"", b"", [200] * 5),
    "a pass-through POST refused, the retry answered": (
        "refused-once",
        "POST",
        "/klanten/api/v1/klanten",
        b"",
        KLANT,
        [200] * 5,
    ),
    "a read timeout": ("read-timeout", "GET", "/klanten/api/v1/klanten", b"", b"", [504] * 5),
    "a pass-through POST refused": (
        "refused",
        "POST",
        "/klanten/api/v1/klanten",
        b"",
        KLANT,
        [502, 503, 503, 503, 503],
    ),
    "a pass-through POST answered 500": ("500", "POST", "/klanten/api/v1/klanten", b"", KLANT, [502] * 5),
    "a create answered 500, its repeats searching": (
        "500",
        "POST",
        "/contactmomenten/api/v1/contactmomenten",
        b"",
        CONTACTVERZOEK,
        [502] * 5,
    ),
    "a create timing out": (
        "read-timeout",
        "POST",
        "/contactmomenten/api/v1/contactmomenten",
        b"",
        CONTACTVERZOEK,
        [504] * 5,
    ),
    "interne taken whose klant look-ups fail": (
        "look-ups-fail",
        "GET",
        "/api/v2/objects",
        INTERNE_TAKEN,
        b"",
        [502] * 5,
    ),
    "a body that is no JSON": ("ok", "POST", "/contactmomenten/api/v1/contactmomenten", b"", b"{nee", [400] * 5),
    "an invalid query": ("ok", "GET", "/contactmomenten/api/v1/contactmomenten", b"klant=%ZZ&page=x", b"", [400] * 5),
    "an unknown path": ("ok", "GET", "/onbekend", b"", b"", [404] * 5),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_request_leaves_no_reference_cycle(case):
    kind, method, path, query, body, expected = CASES[case]
    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(_answering(kind)))
    authorization = kiss_headers()["Authorization"].encode()
    statuses = [await _status(app, _scope(method, path, query, body, authorization), body)]
    with cycles_left() as in_cycles:  # after the first request: caches filled once are no cycle
        for _ in range(4):
            statuses.append(await _status(app, _scope(method, path, query, body, authorization), body))
    assert statuses == expected
    assert in_cycles == Counter()


async def test_a_fan_out_its_client_left_leaves_no_reference_cycle():
    """The served protocol cancels a safe request whose client left (operations.md §4.2);
    here the request's task is cancelled while its klant look-ups wait on the e-Suite."""
    looking_up = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/klantcontactmomenten"):
            looking_up.set()
            await asyncio.Event().wait()  # the e-Suite never answers a look-up
        return httpx.Response(200, json=CONTACTVERZOEKEN)

    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(answer))
    authorization = kiss_headers()["Authorization"].encode()

    async def left_during_the_look_ups() -> bool:
        looking_up.clear()
        request = asyncio.create_task(
            _status(app, _scope("GET", "/api/v2/objects", INTERNE_TAKEN, b"", authorization), b"")
        )
        await looking_up.wait()
        request.cancel()
        try:
            await request
        except asyncio.CancelledError:
            return True
        return False

    cancelled = [await left_during_the_look_ups()]
    with cycles_left() as in_cycles:
        for _ in range(3):
            cancelled.append(await left_during_the_look_ups())
    assert cancelled == [True] * 4
    assert in_cycles == Counter()


async def test_calls_whose_every_attempt_failed_leave_no_reference_cycle_with_the_circuit_closed():
    """Every attempt of a `fail=1` read refused and retried to the end; each other read answered,
    so the circuit never opens and the measured requests take the retry path, not the 503."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("fail") == "1":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})

    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(answer))
    authorization = kiss_headers()["Authorization"].encode()

    async def read(fail: bool) -> int:
        query = b"fail=1" if fail else b"fail=0"
        return await _status(app, _scope("GET", "/klanten/api/v1/klanten", query, b"", authorization), b"")

    statuses = [await read(True), await read(False)]
    with cycles_left() as in_cycles:
        for _ in range(3):
            statuses += [await read(True), await read(False)]
    assert statuses == [502, 200] * 4
    assert in_cycles == Counter()


class _Document(httpx.AsyncByteStream):
    """A document the e-Suite sends slowly, in 200 KB chunks; `breaks_off`: after its first."""

    def __init__(self, breaks_off: bool) -> None:
        self.breaks_off = breaks_off

    async def __aiter__(self):
        for _ in range(100):
            yield b"%PDF" + b"x" * 200_000
            if self.breaks_off:
                raise httpx.ReadError("connection reset by the e-Suite")
            await asyncio.sleep(0.01)


@pytest.fixture
def json_log_lines():
    """The log as `serve` writes it (JSON): the tests' console renderer builds cycles of its
    own when it formats an error (rich's tracebacks)."""
    configure_logging("INFO", "json", io.StringIO())
    yield
    configure_logging("INFO", "json")


@pytest.mark.parametrize("ending", ["the client leaves", "the e-Suite breaks off"])
async def test_a_download_ended_halfway_leaves_no_reference_cycle(ending, json_log_lines):
    """`DownloadResponse` waits for the client to leave in a task of its own, not in
    Starlette's anyio task group (ASGI spec 2.3, as uvicorn's httptools protocol announces),
    which left a cycle holding the chunk in hand."""
    breaks_off = ending == "the e-Suite breaks off"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/pdf"}, stream=_Document(breaks_off))

    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(answer))
    scope_of = lambda: _scope(  # noqa: E731
        "GET",
        "/documenten/api/v1/enkelvoudiginformatieobjecten/1/download",
        b"",
        b"",
        kiss_headers()["Authorization"].encode(),
    )

    async def download() -> tuple[int, str]:
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            message = next(messages, None)
            if message is None:
                await asyncio.sleep(0.05)
                return {"type": "http.disconnect"}
            return message

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        try:
            await app(scope_of() | {"asgi": {"version": "3.0", "spec_version": "2.3"}}, receive, send)
        except httpx.ReadError:
            return statuses[0], "ReadError"  # the answer had started: the server ends the connection
        return statuses[0], "ended"

    outcome = "ReadError" if breaks_off else "ended"
    outcomes = [await download()]
    with cycles_left() as in_cycles:
        for _ in range(3):
            outcomes.append(await download())
    assert outcomes == [(200, outcome)] * 4
    assert in_cycles == Counter()
