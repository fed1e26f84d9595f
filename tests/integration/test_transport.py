"""The e-Suite transport behind httpx on real loopback sockets: `EsuiteClient` over H1Transport
(asyncio.Protocol + httptools), the pair the app runs.

What matters for exactly-once creation is that every failure is classified by whether the
request may have reached the e-Suite (operations.md §5.2, §5.4).
"""

import asyncio
import gzip
import json

import httpx
import pytest

from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource, sent_without_answer
from adapter.esuite_client.h1_transport import H1Transport
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics
from adapter.problems import Problem
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET
from tests.servers import free_port, read_request

# A JSON answer larger than this (1 MiB; the old aiohttp transport read smaller ones at once)
# must still arrive whole, as must a chunked one.
EAGER_JSON_BYTES = 1024 * 1024


class RawServer:
    """A loopback HTTP/1.1 server whose behaviour per request the test chooses."""

    def __init__(self, behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                self.requests.append(await read_request(reader))
                if not await self.behaviour(writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def answer(status: int, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def client(timeout: float = 2.0) -> tuple[EsuiteClient, CallContext]:
    esuite = EsuiteClient(
        EsuiteTokenSource(ESUITE_CLIENT, ESUITE_SECRET),
        Metrics(),
        timeout_seconds=timeout,
        max_connections=10,
        transport=H1Transport(10),
    )
    return esuite


async def get_json_once(server: RawServer):
    """One logical GET by a fresh client (its retries included)."""
    esuite = client()
    try:
        return await esuite.get_json(call_for(server.base), f"{server.base}/contactmomenten-api-provider/api/v1/x")
    finally:
        await esuite.aclose()


def call_for(base: str) -> CallContext:
    return CallContext("request-1", UrlMap("https://kiss-adapter.example.org", base))


async def test_json_answers_are_decoded_and_connections_reused():
    body = gzip.compress(json.dumps({"count": 1, "results": ["é"]}).encode())

    async def gzip_json(writer):
        writer.write(answer(200, body, "Content-Type: application/json", "Content-Encoding: gzip"))
        return True

    async with RawServer(gzip_json) as server:
        esuite = client()
        call = call_for(server.base)
        url = f"{server.base}/contactmomenten-api-provider/api/v1/contactmomenten"
        first = await esuite.get_json(call, url, [("klant", "a b")])
        second = await esuite.get_json(call, url)
        await esuite.aclose()
    assert first == second == {"count": 1, "results": ["é"]}
    assert server.connections == 1
    request = server.requests[0].decode()
    assert request.startswith("GET /contactmomenten-api-provider/api/v1/contactmomenten?klant=a%20b HTTP/1.1")
    assert "authorization: bearer " in request.lower()
    assert "accept-encoding: gzip" in request.lower()


async def test_refused_connection_is_a_connect_error_and_retried_for_a_post():
    port = free_port()
    esuite = client()
    url = f"http://127.0.0.1:{port}/contactmomenten-api-provider/api/v1/contactmomenten"
    with pytest.raises(Problem) as refused:
        await esuite.send(call_for(f"http://127.0.0.1:{port}"), "POST", url, target="contactmomenten", content=b"{}")
    await esuite.aclose()
    assert refused.value.code == "upstream-unavailable"
    assert isinstance(refused.value.__cause__, httpx.ConnectError)
    assert not sent_without_answer(refused.value)


async def test_a_connection_closed_after_the_post_is_maybe_processed_and_not_retried():
    async def close_without_answer(writer):
        return False

    async with RawServer(close_without_answer) as server:
        esuite = client()
        url = f"{server.base}/contactmomenten-api-provider/api/v1/contactmomenten"
        with pytest.raises(Problem) as lost:
            await esuite.send(call_for(server.base), "POST", url, target="contactmomenten", content=b'{"a":1}')
        await esuite.aclose()
    assert lost.value.code == "upstream-unavailable"
    assert sent_without_answer(lost.value)
    assert len(server.requests) == 1


async def test_a_get_closed_without_answer_is_retried():
    attempts = []

    async def close_twice_then_answer(writer):
        attempts.append(1)
        if len(attempts) < 3:
            return False
        writer.write(answer(200, b"{}", "Content-Type: application/json"))
        return True

    async with RawServer(close_twice_then_answer) as server:
        result = await get_json_once(server)
    assert result == {}
    assert len(server.requests) == 3


async def test_no_answer_within_the_budget_is_a_timeout_after_sending():
    async def hang(writer):
        await asyncio.sleep(5)
        return False

    async with RawServer(hang) as server:
        esuite = client(timeout=1.0)
        url = f"{server.base}/contactmomenten-api-provider/api/v1/contactmomenten"
        with pytest.raises(Problem) as slow:
            await esuite.send(call_for(server.base), "POST", url, target="contactmomenten", content=b"{}")
        await esuite.aclose()
    assert slow.value.code == "upstream-timeout"
    assert sent_without_answer(slow.value)


async def test_a_body_cut_off_midway_is_a_read_failure_not_a_connect_error():
    async def truncated(writer):
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
            + b"x" * 1000
        )
        await writer.drain()
        return False

    async with RawServer(truncated) as server:
        esuite = client()
        url = f"{server.base}/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten/1/download"
        response = await esuite.send(call_for(server.base), "GET", url, target="documenten", stream=True)
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in response.aiter_raw():
                pass
        await response.aclose()
        await esuite.aclose()


async def test_a_cookie_set_for_one_user_is_never_sent_with_the_next_request():
    """SEC-6: neither the client nor the transport keeps a cookie jar. A host name, not a bare IP
    address, because a jar (aiohttp's, say) would keep the cookie only for a host name."""

    async def set_cookie(writer):
        writer.write(answer(200, b"{}", "Content-Type: application/json", "Set-Cookie: JSESSIONID=user-a; Path=/"))
        return True

    async with RawServer(set_cookie) as server:
        base = server.base.replace("127.0.0.1", "localhost")
        esuite = client()
        url = f"{base}/contactmomenten-api-provider/api/v1/contactmomenten"
        await esuite.get_json(CallContext("r1", UrlMap("https://kiss-adapter.example.org", base), "user-a"), url)
        await esuite.get_json(CallContext("r2", UrlMap("https://kiss-adapter.example.org", base), "user-b"), url)
        await esuite.aclose()
    assert len(server.requests) == 2
    assert b"cookie" not in server.requests[1].lower()


async def test_cookies_set_while_users_share_the_pool_never_ride_along_with_any_request():
    """SEC-6 with the pool shared: each answer sets the cookie of the user who asked, for the
    host name (a cookie a plain httpx client would send back); JSON calls of three users at
    once, then a streamed download and another user's call."""

    async def set_cookie_of_the_asker(writer):
        user = server.requests[-1].lower().split(b"x-esuite-request-user-id: ")[1].split(b"\r\n")[0]
        cookie = b"Set-Cookie: JSESSIONID=" + user + b"; Path=/"
        writer.write(answer(200, b"{}", "Content-Type: application/json", cookie.decode()))
        return True

    async with RawServer(set_cookie_of_the_asker) as server:
        base = server.base.replace("127.0.0.1", "localhost")
        urls = UrlMap("https://kiss-adapter.example.org", base)
        url = f"{base}/contactmomenten-api-provider/api/v1/contactmomenten"
        esuite = client()
        for round_ in range(2):
            await asyncio.gather(
                *(
                    esuite.get_json(CallContext(f"r{round_}{user}", urls, user), url)
                    for user in ("user-a", "user-b", "user-c")
                )
            )
        download = f"{base}/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten/1/download"
        streamed = await esuite.send(
            CallContext("r-d", urls, "user-d"), "GET", download, target="documenten", stream=True
        )
        await streamed.aclose()
        await esuite.get_json(CallContext("r-e", urls, "user-e"), url)
        await esuite.aclose()
    assert len(server.requests) == 8
    assert [request for request in server.requests if b"\r\ncookie:" in request.lower()] == []
    assert server.connections <= 3


async def test_a_json_answer_cut_off_midway_is_maybe_processed_and_retried_for_a_get():
    attempts = []

    async def truncated_json_then_whole(writer):
        attempts.append(1)
        if len(attempts) == 1:
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"count":')
            await writer.drain()
            return False
        writer.write(answer(200, b'{"count":0}', "Content-Type: application/json"))
        return True

    async with RawServer(truncated_json_then_whole) as server:
        result = await get_json_once(server)
    assert result == {"count": 0}
    assert len(server.requests) == 2


async def test_json_above_the_eager_limit_and_chunked_json_still_arrive_whole():
    big = json.dumps({"results": ["x" * (EAGER_JSON_BYTES + 10)]}).encode()
    chunked = b'{"results":[1,2]}'

    async def big_then_chunked(writer):
        if len(server.requests) == 1:
            writer.write(answer(200, big, "Content-Type: application/json"))
        else:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunked), chunked)
            )
        return True

    async with RawServer(big_then_chunked) as server:
        esuite = client()
        call = call_for(server.base)
        first = await esuite.get_json(call, f"{server.base}/contactmomenten-api-provider/api/v1/a")
        second = await esuite.get_json(call, f"{server.base}/contactmomenten-api-provider/api/v1/b")
        await esuite.aclose()
    assert len(first["results"][0]) == EAGER_JSON_BYTES + 10
    assert second == {"results": [1, 2]}
    assert server.connections == 1


async def test_head_and_no_content_json_answers_have_empty_bodies():
    async def head_then_204(writer):
        if len(server.requests) == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Type: application/json\r\n\r\n")
        return True

    async with RawServer(head_then_204) as server:
        esuite = client()
        call = call_for(server.base)
        url = f"{server.base}/zgw-apis-provider/zrc/api/v1/zaken"
        head = await esuite.send(call, "HEAD", url, target="zaken")
        empty = await esuite.send(call, "DELETE", url + "/1", target="zaken")
        await esuite.aclose()
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "120")
    assert (empty.status_code, empty.content) == (204, b"")
    assert server.connections == 1


async def test_a_streamed_upload_arrives_whole_with_its_length():
    chunks = [b"a" * 70_000, b"b" * 70_000, b"c"]

    async def body():
        for chunk in chunks:
            yield chunk

    async def created(writer):
        writer.write(answer(201, b"{}", "Content-Type: application/json"))
        return True

    async with RawServer(created) as server:
        esuite = client()
        url = f"{server.base}/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten/1/upload"
        response = await esuite.send(
            call_for(server.base),
            "PUT",
            url,
            target="documenten",
            content=body(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(sum(map(len, chunks)))},
        )
        await esuite.aclose()
    assert response.status_code == 201
    head, _, sent = server.requests[0].partition(b"\r\n\r\n")
    assert sent == b"".join(chunks)
    assert b"transfer-encoding" not in head.lower()
