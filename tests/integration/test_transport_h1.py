"""Transport behaviour on real loopback sockets, below `EsuiteClient`: httpx directly over
H1Transport. First what any HTTP/1.1 transport under httpx must do (bodies, framing, headers,
errors, cancellation, streaming), then H1Transport's own rules (its pool, phase timeouts, TLS
context parameter, limits on hostile answers).
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import ssl
import subprocess

import httpx
import pytest

from adapter.esuite_client import h1_transport
from adapter.esuite_client.h1_transport import MAX_HEAD_BYTES, H1Transport
from tests.cycles import cycles_left
from tests.servers import free_port

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Server:
    """A loopback server; `handle(reader, writer, server)` serves one connection as the test says."""

    def __init__(self, handle, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handle = handle
        self.ssl_context = ssl_context
        self.connections = 0
        self.open = 0
        self.peak_open = 0
        self.closed_by_client = 0
        self.requests: list[bytes] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        self.open += 1
        self.peak_open = max(self.peak_open, self.open)
        try:
            await self.handle(reader, writer, self)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def read_request(self, reader) -> bytes | None:
        """One request (head and a Content-Length or chunked body), None at the client's EOF."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            self.closed_by_client += 1
            return None
        lower = head.lower()
        body = b""
        if b"transfer-encoding: chunked" in lower:
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        elif b"content-length:" in lower:
            length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
        self.requests.append(head + body)
        return head + body


async def serve_ok(reader, writer, server):
    while await server.read_request(reader) is not None:
        writer.write(OK)


def new_client(transport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=5.0)


async def test_a_chunked_upload_of_unknown_length_arrives_whole():
    parts = [b"a" * 70_000, b"", b"b" * 3, "é".encode()]

    async def body():
        for part in parts:
            yield part

    async with Server(serve_ok) as server, new_client(H1Transport(4)) as http:
        response = await http.post(f"{server.base}/upload", content=body())
    assert response.status_code == 200
    head, _, sent = server.requests[0].partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert sent == b"a" * 70_000 + b"bbb" + b"\xc3\xa9"


async def test_a_close_delimited_body_arrives_whole_and_the_connection_is_not_reused():
    async def close_delimited(reader, writer, server):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"z" * 100_000)
        await writer.drain()

    async with Server(close_delimited) as server, new_client(H1Transport(4)) as http:
        first = await http.get(f"{server.base}/a")
        second = await http.get(f"{server.base}/b")
    assert first.content == second.content == b"z" * 100_000
    assert server.connections == 2


async def test_the_raw_stream_is_the_bytes_as_sent_and_httpx_decodes_gzip():
    packed = gzip.compress(b'{"a": "\xc3\xa9"}')

    async def gzipped(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(packed), packed)
            )

    async with Server(gzipped) as server, new_client(H1Transport(4)) as http:
        async with http.stream("GET", f"{server.base}/raw") as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        decoded = await http.get(f"{server.base}/decoded")
    assert raw == packed
    assert decoded.content == b'{"a": "\xc3\xa9"}'
    assert server.connections == 1


async def test_header_bytes_go_both_ways_unchanged():
    # UTF-8 header values both ways, never decoded and re-encoded (a non-ASCII user id once
    # arrived double-encoded, issue 13).
    async def echo_header(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(b"HTTP/1.1 200 OK\r\nX-Naam: Jos\xc3\xa9\r\nContent-Length: 0\r\n\r\n")

    async with Server(echo_header) as server, new_client(H1Transport(4)) as http:
        response = await http.get(f"{server.base}/h", headers={"X-Medewerker": "Jos\xe9".encode()})
    assert (b"X-Medewerker: Jos\xc3\xa9\r\n" in server.requests[0]) or (
        b"x-medewerker: Jos\xc3\xa9\r\n" in server.requests[0]
    )
    assert response.headers.raw[0] == (b"X-Naam", b"Jos\xc3\xa9")


@pytest.mark.parametrize("fast", [True, False])
async def test_answer_headers_are_the_headers_httpx_builds_from_the_parsed_pairs(fast, monkeypatch):
    # H1Transport hands its parsed (name, lower name, value) triples to httpx as they are
    # (`fast_headers`): the same `Headers` as httpx's own normalising of the pairs, its
    # encoding found alike (Latin-1 here: b"\xe9" alone is no UTF-8), duplicates kept in order.
    monkeypatch.setattr(h1_transport, "FAST_HEADERS", fast)
    head = [(b"X-Naam", b"Jos\xe9"), (b"set-Thing", b"a"), (b"Set-Thing", b"b"), (b"Content-Length", b"0")]

    async def answer(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(b"HTTP/1.1 200 OK\r\n" + b"".join(b"%s: %s\r\n" % pair for pair in head) + b"\r\n")

    async with Server(answer) as server, new_client(H1Transport(4)) as http:
        response = await http.get(f"{server.base}/h")
    expected = httpx.Headers(head)
    assert response.headers.raw == head
    assert response.headers._list == expected._list
    assert (response.headers.encoding, response.headers["x-naam"]) == ("iso-8859-1", "Jos\xe9")
    assert response.headers.get_list("set-thing") == ["a", "b"]


async def test_a_refused_connection_is_a_connect_error():
    async with new_client(H1Transport(4)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post(f"http://127.0.0.1:{free_port()}/x", content=b"{}")


async def test_no_answer_head_within_the_read_timeout_is_a_read_timeout():
    async def silent(reader, writer, server):
        await server.read_request(reader)
        await asyncio.sleep(3)

    async with Server(silent) as server, new_client(H1Transport(4)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(f"{server.base}/x", content=b"{}", timeout=httpx.Timeout(5.0, read=0.3))
    assert len(server.requests) == 1


async def test_a_body_that_stalls_is_a_read_timeout_while_streaming():
    async def stalls(reader, writer, server):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await asyncio.sleep(3)

    async with Server(stalls) as server, new_client(H1Transport(4)) as http:
        async with http.stream("GET", f"{server.base}/x", timeout=httpx.Timeout(5.0, read=0.3)) as response:
            with pytest.raises(httpx.ReadTimeout):
                async for _ in response.aiter_raw():
                    pass


async def test_a_cancelled_request_closes_its_connection_and_frees_its_slot():
    held = asyncio.Event()

    async def hold_first(reader, writer, server):
        while await server.read_request(reader) is not None:
            if len(server.requests) == 1:
                held.set()
                await asyncio.sleep(3)
            writer.write(OK)

    async with Server(hold_first) as server, new_client(H1Transport(1)) as http:
        task = asyncio.create_task(http.get(f"{server.base}/slow"))
        await held.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        response = await http.get(f"{server.base}/next", timeout=httpx.Timeout(2.0, pool=1.0))
        await asyncio.sleep(0.05)
    assert response.content == b"ok"
    assert server.connections == 2  # the cancelled request's connection was not reused


async def test_connection_close_from_the_server_is_honoured():
    async def close_each(reader, writer, server):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.2)  # keeps the socket open: the client must not reuse it anyway

    async with Server(close_each) as server, new_client(H1Transport(4)) as http:
        for _ in range(3):
            assert (await http.get(f"{server.base}/x")).content == b"ok"
    assert server.connections == 3


async def test_a_large_download_is_streamed_and_a_slow_reader_holds_the_server_back():
    size = 64 * 1024 * 1024
    written = []

    async def big(reader, writer, server):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        piece = b"d" * (1024 * 1024)
        for _ in range(size // len(piece)):
            writer.write(piece)
            await writer.drain()
            written.append(len(piece))

    async with Server(big) as server, new_client(H1Transport(4)) as http:
        async with http.stream("GET", f"{server.base}/download") as response:
            chunks = response.aiter_raw()
            first = await chunks.__anext__()
            await asyncio.sleep(0.5)  # the reader stalls: the socket buffers fill, the server waits
            stalled_at = sum(written)
            total = len(first) + sum([len(chunk) async for chunk in chunks])
    assert 0 < len(first) < size
    assert stalled_at < size // 4  # kernel buffers and the transport's bounded buffer only
    assert total == size


async def test_304_and_head_answers_end_without_a_body_and_keep_the_connection():
    async def no_bodies(reader, writer, server):
        while await server.read_request(reader) is not None:
            if len(server.requests) == 1:
                writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n')
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")

    async with Server(no_bodies) as server, new_client(H1Transport(4)) as http:
        cached = await http.get(f"{server.base}/x")
        head = await http.head(f"{server.base}/x")
    assert (cached.status_code, cached.content) == (304, b"")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "5000")
    assert server.connections == 1


async def test_aclose_closes_every_pooled_connection():
    async with Server(serve_ok) as server:
        http = new_client(H1Transport(4))
        await asyncio.gather(*(http.get(f"{server.base}/{n}") for n in range(4)))
        await http.aclose()
        for _ in range(100):
            if server.open == 0:
                break
            await asyncio.sleep(0.01)
    assert server.connections >= 1
    assert server.open == 0
    assert server.closed_by_client == server.connections


# H1Transport's own: its pool rules


async def test_the_pool_never_opens_more_than_its_limit_and_serves_everyone():
    async def slow_ok(reader, writer, server):
        while await server.read_request(reader) is not None:
            await asyncio.sleep(0.02)
            writer.write(OK)

    async with Server(slow_ok) as server, new_client(H1Transport(2)) as http:
        answers = await asyncio.gather(*(http.get(f"{server.base}/{n}") for n in range(12)))
    assert [answer.content for answer in answers] == [b"ok"] * 12
    assert server.peak_open == 2


async def test_waiting_for_a_connection_is_first_come_first_served():
    release = asyncio.Event()

    async def held_then_in_order(reader, writer, server):
        while await server.read_request(reader) is not None:
            if len(server.requests) == 1:
                await release.wait()
            writer.write(OK)

    async with Server(held_then_in_order) as server, new_client(H1Transport(1)) as http:
        first = asyncio.create_task(http.get(f"{server.base}/0"))
        await asyncio.sleep(0.1)
        waiting = []
        for n in range(1, 6):
            waiting.append(asyncio.create_task(http.get(f"{server.base}/{n}")))
            await asyncio.sleep(0.01)  # each starts waiting after the one before
        release.set()
        await asyncio.gather(first, *waiting)
    paths = [request.split(b" ")[1] for request in server.requests]
    assert paths == [b"/0", b"/1", b"/2", b"/3", b"/4", b"/5"]
    assert server.connections == 1


async def test_no_free_connection_within_the_pool_timeout_is_a_pool_timeout():
    async def hold(reader, writer, server):
        await server.read_request(reader)
        await asyncio.sleep(3)

    async with Server(hold) as server, new_client(H1Transport(1)) as http:
        busy = asyncio.create_task(http.get(f"{server.base}/busy"))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(f"{server.base}/x", timeout=httpx.Timeout(5.0, pool=0.2))
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
    assert len(server.requests) == 1


async def test_a_pooled_connection_closed_by_the_peer_is_replaced_before_anything_is_sent():
    async def one_answer_then_close(reader, writer, server):
        await server.read_request(reader)
        writer.write(OK)  # keep-alive by default, and yet closed
        await writer.drain()

    async with Server(one_answer_then_close) as server, new_client(H1Transport(1)) as http:
        assert (await http.get(f"{server.base}/first")).content == b"ok"
        await asyncio.sleep(0.1)  # the peer's close reaches the idle connection
        created = await http.post(f"{server.base}/create", content=b'{"once": true}')
    assert created.content == b"ok"
    assert [request.split(b" ")[1] for request in server.requests] == [b"/first", b"/create"]
    assert server.connections == 2


async def test_a_request_sent_and_then_cut_off_is_never_sent_again_by_the_transport():
    async def read_then_close(reader, writer, server):
        await server.read_request(reader)

    async with Server(read_then_close) as server, new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{server.base}/create", content=b'{"once": true}')
    assert len(server.requests) == 1


async def test_a_reset_after_sending_is_a_read_error():
    async def reset(reader, writer, server):
        await server.read_request(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = reset
        writer.transport.abort()

    async with Server(reset) as server, new_client(H1Transport(1)) as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await http.post(f"{server.base}/create", content=b"{}")


def reset_at_once(writer) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = reset
    writer.transport.abort()


@pytest.mark.parametrize("anyio_backend", ["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"])
async def test_a_new_connection_reset_before_its_first_byte_is_a_connect_error_so_a_post_may_be_sent_again(
    monkeypatch,
):
    async def reset(reader, writer, server):
        reset_at_once(writer)

    connect = H1Transport._connect

    async def connect_then_wait(self, *args):
        connection = await connect(self, *args)
        await asyncio.sleep(0.1)  # the reset reaches the new connection before the request is written
        return connection

    monkeypatch.setattr(H1Transport, "_connect", connect_then_wait)
    transport = H1Transport(1)
    async with Server(reset) as server, new_client(transport) as http:
        with pytest.raises(httpx.ConnectError) as refused:
            await http.post(f"{server.base}/create", content=b'{"once": true}')
        assert transport._pool.open == 0
    assert str(refused.value) == f"the connection to 127.0.0.1:{server.port} closed before the request was sent"
    assert isinstance(refused.value.__cause__, httpx.WriteError)
    assert server.requests == []


async def test_a_server_that_reads_nothing_is_a_write_timeout_for_a_streamed_upload():
    async def never_reads(reader, writer, server):
        await asyncio.sleep(3)

    async def endless():
        for _ in range(256):
            yield b"u" * (1024 * 1024)

    async with Server(never_reads) as server, new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.WriteTimeout):
            await http.put(f"{server.base}/upload", content=endless(), timeout=httpx.Timeout(5.0, write=0.3))


async def test_no_connection_within_the_connect_timeout_is_a_connect_timeout(monkeypatch):
    loop = asyncio.get_running_loop()

    async def never_connects(*args, **kwargs):
        await asyncio.sleep(3)

    monkeypatch.setattr(loop, "create_connection", never_connects)
    async with new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get("http://127.0.0.1:9/x", timeout=httpx.Timeout(5.0, connect=0.2))
        monkeypatch.undo()
        async with Server(serve_ok) as server:  # the slot of the failed attempt was freed
            assert (await http.get(f"{server.base}/x", timeout=httpx.Timeout(2.0, pool=0.5))).content == b"ok"


async def test_an_answer_before_the_upload_ended_is_returned_and_the_connection_closed():
    async def early_413(reader, writer, server):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.3)  # closing at once would reset the connection and could drop the answer

    async def big():
        for _ in range(64):
            yield b"u" * (1024 * 1024)
            await asyncio.sleep(0.001)

    async with Server(early_413) as server, new_client(H1Transport(1)) as http:
        response = await http.put(f"{server.base}/upload", content=big())
    assert response.status_code == 413


async def test_interim_answers_are_skipped():
    async def continue_then_ok(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK)

    async with Server(continue_then_ok) as server, new_client(H1Transport(1)) as http:
        answers = [await http.get(f"{server.base}/{n}") for n in range(2)]
    assert [(a.status_code, a.content, list(a.headers.keys())) for a in answers] == [
        (200, b"ok", ["content-length"])
    ] * 2
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"h" * (MAX_HEAD_BYTES + 10) + b"\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ],
    ids=["head-too-large", "garbage", "two-lengths", "upgrade"],
)
async def test_a_hostile_answer_is_a_protocol_error(answer):
    async def hostile(reader, writer, server):
        await server.read_request(reader)
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(0.5)

    async with Server(hostile) as server, new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{server.base}/x")


async def test_bytes_after_the_answer_make_the_connection_unusable():
    async def extra(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(OK + b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfake")

    async with Server(extra) as server, new_client(H1Transport(1)) as http:
        first = await http.get(f"{server.base}/a")
        await asyncio.sleep(0.05)
        second = await http.get(f"{server.base}/b")
    assert first.content == second.content == b"ok"  # "fake" was never taken as an answer
    assert server.connections == 2


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b"])
async def test_a_header_with_a_control_character_is_refused_before_anything_is_sent(value):
    async with Server(serve_ok) as server, new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.get(f"{server.base}/x", headers={"X-Test": value})
    assert server.requests == []


async def test_an_idle_connection_older_than_the_keepalive_expiry_is_not_reused():
    async with Server(serve_ok) as server, new_client(H1Transport(1, keepalive_expiry=0.1)) as http:
        await http.get(f"{server.base}/a")
        await http.get(f"{server.base}/b")
        await asyncio.sleep(0.2)
        await http.get(f"{server.base}/c")
    assert server.connections == 2


async def test_an_unsupported_scheme_is_refused():
    async with new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("ftp://127.0.0.1/x")


# Only H1Transport: TLS with the context given at start-up


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


async def test_tls_with_the_given_trust_store_verifies_the_host_name(certificate):
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    async with Server(serve_ok, _server_context(certificate)) as server:
        async with new_client(H1Transport(1, ssl_context=trusting)) as http:
            answer = await http.get(f"https://localhost:{server.port}/x")
            with pytest.raises(httpx.ConnectError):  # the certificate names localhost, not the IP address
                await http.get(f"https://127.0.0.1:{server.port}/x")
    assert answer.content == b"ok"


async def test_tls_without_a_context_uses_the_system_trust_store_and_refuses_an_unknown_ca(certificate):
    async with Server(serve_ok, _server_context(certificate)) as server, new_client(H1Transport(1)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"https://localhost:{server.port}/x")
    assert server.requests == []


async def test_a_whole_answer_left_unread_still_frees_its_connection_for_the_next_call():
    body = b"w" * (1024 * 1024)

    async def big_answers(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    async with Server(big_answers) as server, new_client(H1Transport(1)) as http:
        async with http.stream("GET", f"{server.base}/unread"):
            await asyncio.sleep(0.2)  # the whole answer arrives; nobody reads it
        again = await http.get(f"{server.base}/read", timeout=httpx.Timeout(2.0))
    assert again.content == body


async def test_one_limit_over_two_origins_an_idle_connection_of_the_other_gives_way():
    async with Server(serve_ok) as esuite, Server(serve_ok) as smoelenboek, new_client(H1Transport(1)) as http:
        assert (await http.get(f"{esuite.base}/a")).content == b"ok"
        answer = await http.get(f"{smoelenboek.base}/b", timeout=httpx.Timeout(2.0, pool=0.5))
        await asyncio.sleep(0.05)
        assert (answer.content, esuite.open, smoelenboek.open) == (b"ok", 0, 1)


async def test_an_http_1_0_answer_without_keep_alive_closes_the_connection():
    async def http_1_0(reader, writer, server):
        while await server.read_request(reader) is not None:
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    async with Server(http_1_0) as server, new_client(H1Transport(2)) as http:
        answers = [await http.get(f"{server.base}/{n}") for n in range(2)]
    assert [answer.content for answer in answers] == [b"ok", b"ok"]
    assert server.connections == 2


async def test_aclose_fails_the_callers_still_waiting_for_a_connection():
    async def hold(reader, writer, server):
        await server.read_request(reader)
        await asyncio.sleep(3)

    async with Server(hold) as server:
        transport = H1Transport(1)
        http = new_client(transport)
        busy = asyncio.create_task(http.get(f"{server.base}/busy"))
        await asyncio.sleep(0.1)
        waiting = asyncio.create_task(http.get(f"{server.base}/waiting"))
        await asyncio.sleep(0.05)
        await transport.aclose()
        with pytest.raises(httpx.PoolTimeout):
            await waiting
        with pytest.raises(httpx.TransportError):
            await busy


async def test_without_a_context_an_extra_ca_bundle_in_ssl_cert_file_is_trusted(certificate, monkeypatch):
    """docs/deployment.md (SEC-10): operators add their CA with SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    async with Server(serve_ok, _server_context(certificate)) as server, new_client(H1Transport(1)) as http:
        answer = await http.get(f"https://localhost:{server.port}/x")
    assert answer.content == b"ok"


async def test_a_wait_ends_at_an_event_at_its_timeout_with_the_phases_error_or_when_cancelled():
    """`_Connection.wait` times out with a timer of its own instead of `asyncio.timeout` (issue
    17): the phase's error at the timeout, nothing once woken (a late timer must not fire into
    the next wait), and a cancelled caller is cancelled, not timed out."""
    from adapter.esuite_client.h1_transport import _Connection

    loop = asyncio.get_running_loop()
    connection = _Connection((b"http", b"127.0.0.1", 80), loop)
    loop.call_later(0.01, connection._wake)
    started = loop.time()
    await connection.wait(0.05, httpx.ReadTimeout)  # woken after 0.01 s
    await asyncio.sleep(0.08)  # the first wait's timer would have fired by now
    loop.call_later(0.01, connection._wake)
    await connection.wait(1.0, httpx.ReadTimeout)  # a fresh wait, not ended by an old timer
    assert loop.time() - started < 0.5
    with pytest.raises(httpx.WriteTimeout):
        await connection.wait(0.02, httpx.WriteTimeout)
    assert connection._waiter is None
    waiting = asyncio.ensure_future(connection.wait(0.05, httpx.ReadTimeout))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.08)  # its timer cancelled: nothing fires into a finished wait
    assert connection._waiter is None


async def _cut_short(reader, writer, server):
    await server.read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
    await writer.drain()


async def _closes(reader, writer, server):
    await server.read_request(reader)


async def _garbage(reader, writer, server):
    await server.read_request(reader)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(0.5)


async def _silent(reader, writer, server):
    await server.read_request(reader)
    await asyncio.sleep(1)


async def failed_exchange(transport: H1Transport, url: str) -> str:
    """One exchange straight through the transport, as `EsuiteClient` makes it; the error's name."""
    request = httpx.Request("GET", url, extensions={"timeout": {"connect": 2, "read": 0.2, "write": 2, "pool": 2}})
    try:
        response = await transport.handle_async_request(request)
        try:
            async for _ in response.stream:
                pass
        finally:
            await response.aclose()
    except httpx.TransportError as error:
        return type(error).__name__
    return "answered"


@pytest.mark.parametrize("anyio_backend", [("asyncio", {"use_uvloop": True})], ids=["uvloop"])
@pytest.mark.parametrize(
    ("handle", "error"),
    [
        (_closes, "RemoteProtocolError"),
        (_garbage, "RemoteProtocolError"),
        (_silent, "ReadTimeout"),
        (_cut_short, "RemoteProtocolError"),
    ],
    ids=["closed-unanswered", "garbage", "no-answer", "body-cut-short"],
)
async def test_a_failed_exchange_leaves_no_reference_cycle_so_its_connection_is_freed_at_once(handle, error):
    """The connection lets its parser (which holds it) and its error (whose traceback holds
    frames that hold it) go when dropped; `serve` runs the collector rarely (issue 17, ninth
    pass), and reference counting must free a failed connection and its buffers. On uvloop,
    as served: asyncio's own selector transport keeps a bound method of itself (a stdlib cycle)."""
    async with Server(handle) as server:
        transport = H1Transport(1)
        errors = [await failed_exchange(transport, f"{server.base}/x")]
        with cycles_left() as in_cycles:
            for _ in range(3):
                errors.append(await failed_exchange(transport, f"{server.base}/x"))
        await transport.aclose()
    assert errors == [error] * 4
    assert in_cycles == {}
