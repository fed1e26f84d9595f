"""`EsuiteClient._sent`: a request sent as `httpx.AsyncClient.send(…, stream=True)` sends it,
without that client (issue 17, bench/README.md "Performance tricks").

Guards for that trick: every `httpx.Auth` flow (one step or several, synchronous or with its own
`async_auth_flow`, reading request or answer bodies, httpx's own `DigestAuth`) sends and answers
exactly what `AsyncClient.send` sends and answers over the same transport; an auth that raises
sends nothing or closes the answer it was given; a transport's error carries its request; an
answer is closed whenever the call fails after it arrived; a closed client refuses.
"""

from __future__ import annotations

import gc
import io
import json
import weakref
from collections.abc import AsyncGenerator, Generator

import httpx
import pytest
import structlog

from adapter.config import Limits
from adapter.esuite_client import client as client_module
from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
from adapter.esuite_client.urls import UrlMap
from adapter.logging import configure_logging
from adapter.metrics import Metrics
from adapter.problems import Problem

BASE = "https://esuite.example.org"
URL = f"{BASE}/contactmomenten-api-provider/api/v1/contactmomenten"


class TrackedStream(httpx.AsyncByteStream):
    """An answer's body that records whether it was closed."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.closed = False

    async def __aiter__(self):
        yield self.body

    async def aclose(self) -> None:
        self.closed = True


class Challenge:
    """A transport that answers 401 until a request carries `Authorization: Second`."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None, bytes]] = []
        self.streams: list[TrackedStream] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.seen.append((request.method, str(request.url), request.headers.get("authorization"), body))
        status, answer = (200, b'{"ok": true}') if request.headers.get("authorization") == "Second" else (401, b"no")
        stream = TrackedStream(answer)
        self.streams.append(stream)
        return httpx.Response(status, headers={"content-type": "application/json"}, stream=stream)


class TwoStep(httpx.Auth):
    """A synchronous flow of two steps that reads both bodies, as a challenge auth would."""

    requires_request_body = True
    requires_response_body = True

    def __init__(self) -> None:
        self.answers: list[bytes] = []

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "First"
        response = yield request
        self.answers.append(response.content)  # readable: `requires_response_body`
        if response.status_code == 401:
            request.headers["Authorization"] = "Second"
            response = yield request
            self.answers.append(response.content)


class AsyncTwoStep(httpx.Auth):
    """A flow with its own `async_auth_flow` (an auth that does I/O)."""

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = "First"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = "Second"
            yield request


class RefusesAnswer(httpx.Auth):
    """Raises on the answer to its first request."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield request
        raise RuntimeError("refused by the auth")


def client_over(transport: httpx.AsyncBaseTransport, limits: Limits | None = None) -> EsuiteClient:
    return EsuiteClient(
        EsuiteTokenSource("c", "s" * 40),
        Metrics(),
        timeout_seconds=5,
        max_connections=4,
        limits=limits,
        transport=transport,
    )


def call() -> CallContext:
    return CallContext("req-1", UrlMap("https://kiss-adapter.example.org", BASE))


async def through_httpx(auth: httpx.Auth, method: str, content: bytes | None) -> tuple[Challenge, httpx.Response]:
    """What `httpx.AsyncClient.send` makes of the same call: the reference."""
    transport = Challenge()
    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
        request = httpx.Request(method, URL, content=content)
        response = await client.send(request, auth=auth, stream=True)
        await response.aread()
        await response.aclose()
    return transport, response


@pytest.mark.parametrize("make_auth", [TwoStep, AsyncTwoStep])
@pytest.mark.parametrize(("method", "content"), [("GET", None), ("POST", b'{"a": 1}')])
async def test_every_auth_flow_sends_and_answers_what_httpx_asyncclient_send_does(make_auth, method, content):
    expected_transport, expected = await through_httpx(make_auth(), method, content)

    transport = Challenge()
    esuite = client_over(httpx.MockTransport(transport))
    auth = make_auth()
    response = await esuite.send(call(), method, URL, target="contactmomenten", content=content, auth=auth)

    assert transport.seen == expected_transport.seen
    assert len(transport.seen) == 2
    assert [stream.closed for stream in transport.streams] == [True, True]
    assert (response.status_code, response.content) == (expected.status_code, expected.content)
    assert response.request.headers.get("authorization") == expected.request.headers.get("authorization")
    if isinstance(auth, TwoStep):
        assert auth.answers == [b"no", b'{"ok": true}']


@pytest.mark.parametrize("make_auth", [TwoStep, AsyncTwoStep])
async def test_the_answers_before_the_last_are_read_and_kept_in_its_history_as_httpx_keeps_them(make_auth):
    _, expected = await through_httpx(make_auth(), "GET", None)

    transport = Challenge()
    esuite = client_over(httpx.MockTransport(transport))
    request = httpx.Request("GET", URL)
    auth = make_auth()
    response = await esuite._sent(request, auth)

    assert response.request is request
    # The last answer is the caller's to read, unless the flow had to read it.
    assert transport.streams[1].closed == response.is_closed == auth.requires_response_body
    assert [(h.status_code, h.content, h.is_closed) for h in response.history] == [
        (h.status_code, h.content, h.is_closed) for h in expected.history
    ]
    assert response.history[0].request is request


async def test_a_digest_challenge_is_answered_as_httpx_answers_it():
    transport = Challenge()
    digest = httpx.DigestAuth("user", "pass")

    async def challenge(request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization", "")
        transport.seen.append((request.method, str(request.url), header, b""))
        if header.startswith("Digest "):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, headers={"www-authenticate": 'Digest realm="e", nonce="abc", qop="auth"'})

    response = await client_over(httpx.MockTransport(challenge)).send(
        call(), "GET", URL, target="contactmomenten", auth=digest
    )
    assert response.status_code == 200
    assert [seen[2].split(" ")[0] for seen in transport.seen] == ["", "Digest"]
    assert 'username="user"' in transport.seen[1][2]


async def test_an_auth_that_raises_on_an_answer_closes_that_answer():
    transport = Challenge()
    esuite = client_over(httpx.MockTransport(transport))
    with pytest.raises(RuntimeError, match="refused by the auth"):
        await esuite.send(call(), "GET", URL, target="contactmomenten", auth=RefusesAnswer())
    assert len(transport.seen) == 1
    assert transport.streams[0].closed


async def test_an_auth_that_refuses_the_url_sends_nothing():
    transport = Challenge()
    foreign = "https://elsewhere.example.org/contactmomenten-api-provider/api/v1/contactmomenten"
    with pytest.raises(Problem) as raised:
        await client_over(httpx.MockTransport(transport)).send(call(), "GET", foreign, target="contactmomenten")
    assert raised.value.status == 502
    assert transport.seen == []


async def test_a_transport_error_carries_the_request_it_was_sending():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset")

    with pytest.raises(Problem) as raised:
        await client_over(httpx.MockTransport(refuse)).send(
            call(), "POST", URL, target="contactmomenten", content=b"{}"
        )
    cause = raised.value.__cause__
    assert isinstance(cause, httpx.ReadError)
    assert cause.request.method == "POST"
    assert cause.request.url == URL
    assert cause.request.headers["authorization"].startswith("Bearer ")


async def test_an_answer_over_its_cap_is_closed():
    stream = TrackedStream(b"x" * 2000)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=stream)

    esuite = client_over(httpx.MockTransport(answer), Limits(answer_bytes=1000, answer_compressed_bytes=1000))
    with pytest.raises(Problem) as raised:
        await esuite.send(call(), "GET", URL, target="contactmomenten")
    assert raised.value.status == 502
    assert stream.closed


async def test_a_closed_client_refuses_to_send():
    esuite = client_over(httpx.MockTransport(lambda request: httpx.Response(200)))
    await esuite.aclose()
    await esuite.aclose()  # twice: no error, as `AsyncClient.aclose`
    with pytest.raises(RuntimeError, match="closed"):
        await esuite.send(call(), "GET", URL, target="contactmomenten")


@pytest.mark.parametrize("stream", [False, True])
async def test_an_answer_is_freed_by_reference_counting_alone(stream):
    """No answer waits for the cyclic collector: `AsyncClient.send` tied each `Response` to
    the `BoundAsyncStream` around its stream, a cycle per call that only the collector freed
    (bench/README.md, the collector after the third pass: ~27 -> ~5 µs a request)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=TrackedStream(b"{}"))

    esuite = client_over(httpx.MockTransport(answer))
    gc.collect()
    gc.disable()
    try:
        response = await esuite.send(call(), "GET", URL, target="contactmomenten", stream=stream)
        freed = weakref.ref(response)
        if stream:
            await response.aclose()
        del response
        assert freed() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("cache", [True, False])
async def test_the_upstream_debug_line_follows_the_logging_configuration_cached_or_not(cache, monkeypatch):
    """`_bound_logger`: bound once when structlog caches loggers, else anew on every call."""
    # A proxy of this test's own: a cached one stays bound to its first configuration.
    monkeypatch.setattr(client_module, "log", structlog.get_logger("adapter.upstream"))
    esuite = client_over(httpx.MockTransport(lambda request: httpx.Response(200)))
    try:
        stream = io.StringIO()
        configure_logging("DEBUG", "json", stream, cache=cache)
        await esuite.send(call(), "GET", URL, target="contactmomenten")
        quiet = io.StringIO()
        configure_logging("INFO", "json", quiet, cache=cache)
        await esuite.send(call(), "GET", URL, target="contactmomenten")
    finally:
        configure_logging("INFO", "json")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    # Cached, the logger bound first stays (as structlog's own cached proxy stays): `serve`
    # configures logging once, before any client exists. Not cached, each call binds anew.
    assert [(line["event"], line["status"], line["path"]) for line in lines] == [
        ("upstream", "200", "/contactmomenten-api-provider/api/v1/contactmomenten")
    ] * (2 if cache else 1)
    assert not quiet.getvalue()
