"""What `EsuiteClient` puts on the wire, byte for byte, on a real loopback socket (issue 17).

Guard for the client building its `httpx.Request` from one precomputed header list (Host and
Content-Length placed where httpx places them) instead of letting httpx normalise the headers
twice: the request line, every header's name, value and order, and the body must stay exactly
what httpx itself produced before (bodies given as bytes, as nothing, as b"", and streamed).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
from adapter.esuite_client.h1_transport import H1Transport
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
PATH = b"/contactmomenten-api-provider/api/v1/contactmomenten"


class FixedTokens(EsuiteTokenSource):
    def bearer(self) -> str:
        return "Bearer fixed"


async def sent_bytes(method: str, end: bytes, user_id: str | None = "user-1", **send) -> bytes:
    """Everything the client wrote for one call, read up to `end` (the last bytes expected)."""
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await reader.readuntil(end))
            writer.write(OK)
            await reader.read()  # until the client closes its pooled connection
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    esuite = EsuiteClient(
        FixedTokens("c", "s" * 40), Metrics(), timeout_seconds=2, max_connections=2, transport=H1Transport(2)
    )
    try:
        call = CallContext("req-1", UrlMap("https://kiss-adapter.example.org", base), user_id)
        url = f"{base}{PATH.decode()}"
        response = await esuite.send(call, method, url, target="contactmomenten", **send)
        assert response.status_code == 200
    finally:
        await esuite.aclose()
        server.close()
        await server.wait_closed()
    return received[0].replace(base.removeprefix("http://").encode(), b"HOST")


COMMON = (
    b"accept: application/json\r\n"
    b"user-agent: kiss-esuite-adapter/0.1.0\r\n"
    b"accept-encoding: gzip\r\n"
    b"x-request-id: req-1\r\n"
)


async def test_a_get_with_a_query_goes_out_as_httpx_built_it():
    sent = await sent_bytes("GET", b"\r\n\r\n", params=[("klant", "http://x/a b")])
    assert sent == (
        b"GET " + PATH + b"?klant=http%3A%2F%2Fx%2Fa%20b HTTP/1.1\r\n"
        b"Host: HOST\r\n" + COMMON + b"Authorization: Bearer fixed\r\n"
        b"X-Esuite-Request-User-Id: user-1\r\n"
        b"\r\n"
    )


async def test_a_post_with_a_json_body_has_its_length_after_the_callers_headers():
    sent = await sent_bytes("POST", b'{"a":1}', content=b'{"a":1}', headers={"Content-Type": "application/json"})
    assert sent == (
        b"POST " + PATH + b" HTTP/1.1\r\n"
        b"Host: HOST\r\n" + COMMON + b"content-type: application/json\r\n"
        b"Content-Length: 7\r\n"
        b"Authorization: Bearer fixed\r\n"
        b"X-Esuite-Request-User-Id: user-1\r\n"
        b"\r\n"
        b'{"a":1}'
    )


@pytest.mark.parametrize("content", [None, b""])
async def test_a_post_without_a_body_says_length_0_right_after_host(content):
    sent = await sent_bytes("POST", b"\r\n\r\n", user_id=None, content=content)
    assert sent == (
        b"POST " + PATH + b" HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"Content-Length: 0\r\n" + COMMON + b"Authorization: Bearer fixed\r\n"
        b"\r\n"
    )


async def test_a_callers_length_and_raw_bytes_value_are_kept_and_no_second_length_is_added():
    sent = await sent_bytes(
        "PUT",
        b"abc",
        content=b"abc",
        headers={"Content-Length": "3", "X-Naam": "Jos\xc3\xa9".encode("latin-1"), "Accept": "*/*"},
    )
    assert sent == (
        b"PUT " + PATH + b" HTTP/1.1\r\n"
        b"Host: HOST\r\n"
        b"accept: */*\r\n"
        b"user-agent: kiss-esuite-adapter/0.1.0\r\n"
        b"accept-encoding: gzip\r\n"
        b"x-request-id: req-1\r\n"
        b"content-length: 3\r\n"
        b"x-naam: Jos\xc3\xa9\r\n"
        b"Authorization: Bearer fixed\r\n"
        b"X-Esuite-Request-User-Id: user-1\r\n"
        b"\r\n"
        b"abc"
    )


async def test_a_streamed_upload_of_unknown_length_is_chunked_as_before():
    async def body():
        yield b"ab"
        yield b"c"

    sent = await sent_bytes("POST", b"0\r\n\r\n", content=body())
    assert sent == (
        b"POST " + PATH + b" HTTP/1.1\r\n"
        b"Host: HOST\r\n" + COMMON + b"Transfer-Encoding: chunked\r\n"
        b"Authorization: Bearer fixed\r\n"
        b"X-Esuite-Request-User-Id: user-1\r\n"
        b"\r\n"
        b"2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
    )


async def test_a_mock_transport_reads_the_body_and_headers_of_a_request_built_in_memory():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.content, request.headers.raw, list(request.stream)))
        return httpx.Response(201, json={})

    esuite = EsuiteClient(
        FixedTokens("c", "s" * 40),
        Metrics(),
        timeout_seconds=2,
        max_connections=2,
        transport=httpx.MockTransport(handler),
    )
    call = CallContext("req-1", UrlMap("https://kiss-adapter.example.org", "https://esuite.example.org"))
    url = "https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten"
    await esuite.send(
        call, "POST", url, target="contactmomenten", content=b"{}", headers={"Content-Type": "application/json"}
    )
    await esuite.aclose()
    assert seen == [
        (
            b"{}",
            [
                (b"Host", b"esuite.example.org"),
                (b"accept", b"application/json"),
                (b"user-agent", b"kiss-esuite-adapter/0.1.0"),
                (b"accept-encoding", b"gzip"),
                (b"x-request-id", b"req-1"),
                (b"content-type", b"application/json"),
                (b"Content-Length", b"2"),
                (b"Authorization", b"Bearer fixed"),
            ],
            [b"{}"],
        )
    ]
