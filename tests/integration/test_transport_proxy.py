"""The egress proxy (operations.md §2, "Egress proxy") on real loopback sockets: H1Transport
under httpx through a forward proxy as squid is one, and the served adapter configured by
HTTP_PROXY as the podiumd-adapter is. The proxy records every head it is sent."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time

import httpx
import pytest
import trustme

from adapter.config import EgressProxies, ProxyServer
from adapter.esuite_client import h1_transport
from adapter.esuite_client.h1_transport import H1Transport
from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, fixture_env, kiss_headers
from tests.cycles import cycles_left
from tests.integration.test_transport_h1 import Server, failed_exchange, reset_at_once, serve_ok
from tests.servers import free_port, running_server, served_adapter

# base64("user:geheim") == "dXNlcjpnZWhlaW0="
USER_GEHEIM = b"Basic dXNlcjpnZWhlaW0="
ZAAKTYPE_UUID = "d66b54da-6b63-41af-b84c-e8e9c0349f20"  # the simulator's seeded zaaktype
REFUSED = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 6\r\n\r\nnee!!\n"


class Proxy:
    """A loopback forward proxy as squid is one: CONNECT opens a tunnel; any other request is
    sent on in origin form, without Proxy-Authorization, to the host of its absolute-form target.
    `answer` replaces the tunnel's 200; `hold` answers nothing until the test ends."""

    def __init__(self, answer: bytes | None = None, hold: bool = False) -> None:
        self.heads: list[bytes] = []
        self.answer = answer
        self.hold = hold
        self.release = asyncio.Event()
        self.clients: list[asyncio.StreamWriter] = []

    def drop(self) -> None:
        """Closes every client connection, as a proxy does to a tunnel it finds idle too long."""
        for writer in self.clients:
            writer.transport.abort()

    async def __aenter__(self) -> Proxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.release.set()
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.append(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            if self.hold:
                await self.release.wait()
            elif self.answer is not None:
                writer.write(self.answer)
                await writer.drain()
            elif head.startswith(b"CONNECT "):
                host, _, port = head.split(b" ")[1].rpartition(b":")
                up_reader, up_writer = await asyncio.open_connection(host.decode(), int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            else:
                await self._forward(head, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _forward(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Request by request (Content-Length bodies), over one upstream connection."""
        url = httpx.URL(head.split(b" ")[1].decode())
        up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
        try:
            while True:
                line, rest = head.split(b"\r\n", 1)
                method, target, version = line.split(b" ")
                kept = [h for h in rest.split(b"\r\n") if not h.lower().startswith(b"proxy-authorization:")]
                origin_form = httpx.URL(target.decode()).raw_path
                up_writer.write(b"%s %s %s\r\n%s" % (method, origin_form, version, b"\r\n".join(kept)))
                up_writer.write(await reader.readexactly(_length(head)))
                answer = await up_reader.readuntil(b"\r\n\r\n")
                writer.write(answer + await up_reader.readexactly(_length(answer)))
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
        finally:
            up_writer.close()


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA) -> Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return Server(serve_ok, ssl_context=context)


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def via(proxy: Proxy, no_proxy: tuple[str, ...] = ()) -> EgressProxies:
    server = ProxyServer("127.0.0.1", proxy.port, USER_GEHEIM)
    return EgressProxies(http=server, https=server, no_proxy=no_proxy)


# The served adapter runs on uvloop (uvicorn takes it when installed): its start_tls as well.
BOTH_LOOPS = pytest.mark.parametrize(
    "anyio_backend", ["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)


@BOTH_LOOPS
async def test_https_goes_through_one_connect_tunnel_with_tls_to_the_esuite_inside_it(ca):
    async with tls_server(ca) as esuite, Proxy() as proxy:
        transport = H1Transport(4, ssl_context=trusting(ca), proxies=via(proxy))
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
            first = await http.get(f"https://127.0.0.1:{esuite.port}/zaken?x=1")
            second = await http.get(f"https://127.0.0.1:{esuite.port}/klanten")
    assert (first.status_code, first.content, second.content) == (200, b"ok", b"ok")
    authority = b"127.0.0.1:%d" % esuite.port
    # One tunnel, kept alive for both requests; the proxy's credentials go to the proxy alone.
    assert proxy.heads == [
        b"CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: %s\r\n\r\n" % (authority, authority, USER_GEHEIM)
    ]
    assert [request.split(b"\r\n")[0] for request in esuite.requests] == [
        b"GET /zaken?x=1 HTTP/1.1",
        b"GET /klanten HTTP/1.1",
    ]
    assert not any(b"proxy-authorization" in request.lower() for request in esuite.requests)
    assert esuite.connections == 1


async def test_http_goes_to_the_proxy_in_absolute_form_with_its_credentials():
    async with Server(serve_ok) as esuite, Proxy() as proxy:
        async with httpx.AsyncClient(transport=H1Transport(4, proxies=via(proxy)), timeout=5.0) as http:
            response = await http.get(f"{esuite.base}/zaken?x=1")
            again = await http.post(f"{esuite.base}/klanten", content=b"{}")
    assert (response.status_code, response.content, again.status_code) == (200, b"ok", 200)
    authority = b"127.0.0.1:%d" % esuite.port
    assert [head.split(b"\r\n")[0] for head in proxy.heads] == [
        b"GET http://%s/zaken?x=1 HTTP/1.1" % authority,
        b"POST http://%s/klanten HTTP/1.1" % authority,
    ]
    assert all(b"\r\nHost: %s\r\n" % authority in head for head in proxy.heads)
    assert all(b"\r\nProxy-Authorization: %s\r\n" % USER_GEHEIM in head for head in proxy.heads)
    assert esuite.requests[1].endswith(b"\r\n\r\n{}")
    assert esuite.connections == 1  # one kept-alive connection to the proxy, and from it


async def test_a_host_in_no_proxy_is_called_directly(ca):
    async with tls_server(ca) as esuite, Proxy() as proxy:
        transport = H1Transport(4, ssl_context=trusting(ca), proxies=via(proxy, no_proxy=("127.0.0.1",)))
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
            response = await http.get(f"https://127.0.0.1:{esuite.port}/zaken")
    assert response.status_code == 200
    assert proxy.heads == []


async def test_a_refused_tunnel_is_a_connect_error_without_credentials_and_frees_its_slot(ca):
    async with tls_server(ca) as esuite, Proxy(answer=REFUSED) as proxy:
        transport = H1Transport(1, ssl_context=trusting(ca), proxies=via(proxy))
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
            for _ in range(2):  # the one slot is free again: a second refusal, not a pool timeout
                with pytest.raises(httpx.ConnectError) as refused:
                    await http.get(f"https://127.0.0.1:{esuite.port}/zaken")
                assert str(refused.value) == (
                    f"the proxy 127.0.0.1:{proxy.port} refused the tunnel to 127.0.0.1:{esuite.port} (407)"
                )
            assert transport._pool.open == 0
            assert transport._pool.connections == set()
    assert esuite.connections == 0
    assert len(proxy.heads) == 2


async def test_a_proxy_that_never_answers_connect_is_a_connect_timeout(ca):
    async with Proxy(hold=True) as proxy:
        transport = H1Transport(1, ssl_context=trusting(ca), proxies=via(proxy))
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, connect=0.3)) as http:
            started = time.monotonic()
            with pytest.raises(httpx.ConnectTimeout) as timed_out:
                await http.get("https://127.0.0.1:9/zaken")
            took = time.monotonic() - started
            assert transport._pool.open == 0
    assert 0.3 <= took < 2.0
    assert str(timed_out.value) == (
        f"no connection to 127.0.0.1:9 through the proxy 127.0.0.1:{proxy.port} within the connect timeout"
    )


async def test_a_proxy_that_is_down_is_a_connect_error_naming_it():
    port = free_port()  # nothing listens there
    proxies = EgressProxies(http=ProxyServer("127.0.0.1", port, USER_GEHEIM), https=None)
    async with httpx.AsyncClient(transport=H1Transport(1, proxies=proxies), timeout=5.0) as http:
        with pytest.raises(httpx.ConnectError) as refused:
            await http.get("http://127.0.0.1:9/zaken")
    message = str(refused.value)
    assert message.startswith(f"connecting to 127.0.0.1:9 through the proxy 127.0.0.1:{port} failed: ")
    assert "geheim" not in message and "dXNlcjpnZWhlaW0" not in message


@BOTH_LOOPS
@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_a_proxy_that_resets_before_the_request_is_written_is_a_connect_error(ca, scheme, monkeypatch):
    async def reset(reader, writer):
        reset_at_once(writer)

    open_tunnel, connect = h1_transport._open_tunnel, H1Transport._connect

    async def wait_then_open_tunnel(*args):
        await asyncio.sleep(0.1)  # the proxy's reset arrives before CONNECT is written
        await open_tunnel(*args)

    async def connect_then_wait(self, *args):
        connection = await connect(self, *args)
        await asyncio.sleep(0.1)  # the proxy's reset arrives before the request is written
        return connection

    monkeypatch.setattr(h1_transport, "_open_tunnel", wait_then_open_tunnel)
    monkeypatch.setattr(H1Transport, "_connect", connect_then_wait)
    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxies = EgressProxies(
        http=ProxyServer("127.0.0.1", port, USER_GEHEIM), https=ProxyServer("127.0.0.1", port, None)
    )
    transport = H1Transport(1, ssl_context=trusting(ca), proxies=proxies)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
            with pytest.raises(httpx.ConnectError) as refused:
                await http.post(f"{scheme}://127.0.0.1:9/create", content=b"{}")
            assert transport._pool.open == 0
    finally:
        server.close()
    if scheme == "https":
        assert str(refused.value) == (
            f"the proxy 127.0.0.1:{port} closed the connection before the tunnel was up: the connection is closed"
        )
    else:
        assert str(refused.value) == (
            f"the connection to 127.0.0.1:9 through the proxy 127.0.0.1:{port} closed before the request was sent"
        )


@BOTH_LOOPS
async def test_a_pooled_tunnel_the_proxy_closes_while_idle_is_replaced_before_anything_is_sent(ca):
    async with tls_server(ca) as esuite, Proxy() as proxy:
        transport = H1Transport(1, ssl_context=trusting(ca), proxies=via(proxy))
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
            first = await http.get(f"https://127.0.0.1:{esuite.port}/zaken")
            proxy.drop()
            await asyncio.sleep(0.1)  # the close reaches the idle tunnel
            created = await http.post(f"https://127.0.0.1:{esuite.port}/create", content=b'{"once": true}')
            assert transport._pool.open == 1
    assert (first.content, created.content) == (b"ok", b"ok")
    assert [head.split(b" ")[0] for head in proxy.heads] == [b"CONNECT", b"CONNECT"]  # a new tunnel
    assert [request.split(b" ")[1] for request in esuite.requests] == [b"/zaken", b"/create"]  # sent once


@BOTH_LOOPS
async def test_a_host_the_resolver_cannot_encode_is_a_connect_error_not_a_unicode_error():
    proxies = EgressProxies(http=ProxyServer("a" * 64, 3128), https=None)  # a DNS label over 63
    transport = H1Transport(1, proxies=proxies)
    async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
        with pytest.raises(httpx.ConnectError) as refused:
            await http.get("http://127.0.0.1:9/zaken")
        assert transport._pool.open == 0
    assert str(refused.value).startswith(f"connecting to 127.0.0.1:9 through the proxy {'a' * 64}:3128 failed: ")
    assert isinstance(refused.value.__cause__, UnicodeError)


@BOTH_LOOPS
async def test_the_esuite_certificate_is_still_verified_inside_the_tunnel(ca):
    async with tls_server(ca) as esuite, Proxy() as proxy:
        transport = H1Transport(1, ssl_context=ssl.create_default_context(), proxies=via(proxy))  # CA not trusted
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"https://127.0.0.1:{esuite.port}/zaken")
            assert transport._pool.open == 0
    assert esuite.requests == []


@contextlib.contextmanager
def proxy_in_a_thread():
    """The proxy on its own event loop, for a served adapter in another process."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Proxy] = {}

    async def run() -> None:
        async with Proxy() as proxy:
            holder["proxy"] = proxy
            started.set()
            await proxy.release.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield holder["proxy"]
    finally:
        loop.call_soon_threadsafe(holder["proxy"].release.set)
        thread.join(10)
        loop.close()


def test_the_served_adapter_reaches_the_esuite_through_http_proxy_as_the_podiumd_adapter_does():
    sim_port = free_port()
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}"))
    with running_server(sim, port=sim_port) as sim_url, proxy_in_a_thread() as proxy:
        env = fixture_env(
            ESUITE_BASE_URL=sim_url, LOG_LEVEL="WARNING", http_proxy=f"http://user:geheim@127.0.0.1:{proxy.port}"
        )
        with served_adapter(env) as (base, _):
            response = httpx.get(
                f"{base}/catalogi/api/v1/zaaktypen/{ZAAKTYPE_UUID}", headers=kiss_headers(), timeout=10
            )
    assert response.status_code == 200
    # RW-4 as ever: the fixture's ADAPTER_BASE_URL
    assert response.json()["url"] == f"https://kiss-adapter.example.org/catalogi/api/v1/zaaktypen/{ZAAKTYPE_UUID}"
    assert [(entry["method"], entry["path"]) for entry in sim.state.store.requests] == [
        ("GET", f"/zgw-apis-provider/ztc/api/v1/zaaktypen/{ZAAKTYPE_UUID}")
    ]
    lines = proxy.heads[0].split(b"\r\n")
    assert lines[0] == f"GET {sim_url}/zgw-apis-provider/ztc/api/v1/zaaktypen/{ZAAKTYPE_UUID} HTTP/1.1".encode()
    assert b"Proxy-Authorization: " + USER_GEHEIM in lines


@pytest.mark.parametrize("anyio_backend", [("asyncio", {"use_uvloop": True})], ids=["uvloop"])
@pytest.mark.parametrize("refusal", ["407", "certificate"])
async def test_a_tunnel_that_failed_leaves_no_reference_cycle(ca, refusal):
    """A connection that never reached the pool lets its parser and error go as a pooled one
    does when dropped (tests/integration/test_transport_h1.py, the same check)."""
    trust = trusting(ca) if refusal == "407" else ssl.create_default_context()  # the CA not trusted
    async with tls_server(ca) as esuite, Proxy(answer=REFUSED if refusal == "407" else None) as proxy:
        transport = H1Transport(1, ssl_context=trust, proxies=via(proxy))
        url = f"https://127.0.0.1:{esuite.port}/zaken"
        errors = [await failed_exchange(transport, url)]
        with cycles_left() as in_cycles:
            for _ in range(3):
                errors.append(await failed_exchange(transport, url))
        await transport.aclose()
    assert errors == ["ConnectError"] * 4
    assert in_cycles == {}
