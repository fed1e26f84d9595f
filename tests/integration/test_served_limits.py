"""Issue 13 items 2, 3 and 5 against the served adapter (`python -m adapter serve` on 127.0.0.1)
and the hostile e-Suite: every attack answered fast, within budget + 2 s, never a 500, the
adapter's RSS (from /proc) growing less than 100 MB, the breaker closed and /readyz ready."""

from __future__ import annotations

import re
import socket
import threading
import time

import httpx
import orjson
import pytest

from tests.conftest import fixture_env, kiss_headers
from tests.servers import metric, rss_mib, served_adapter

BUDGET = 1.0  # ESUITE_TIMEOUT_SECONDS of these tests
MIB = 1024 * 1024
CONTACT = "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"
UUID_HEADER = re.compile(rb"\r\nx-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\r\n")


class Served:
    def __init__(self, base: str, pid: int) -> None:
        self.base, self.pid = base, pid
        self.port = int(base.rsplit(":", 1)[1])
        self.start_rss = rss_mib(pid)

    def growth_mib(self) -> float:
        """Peak RSS (VmHWM) since start-up over the RSS right after start-up."""
        return rss_mib(self.pid, "VmHWM") - self.start_rss

    def metric(self, line_start: str) -> float:
        return metric(self.base, line_start)

    def assert_healthy(self) -> None:
        """Breaker closed, /readyz ready, and not one 5xx counted on the inbound side."""
        assert self.metric('kiss_adapter_circuit_open{target="zaken"}') == 0
        assert self.metric('kiss_adapter_circuit_open{target="contactmomenten"}') == 0
        ready = httpx.get(self.base + "/readyz", timeout=5)
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
        text = httpx.get(self.base + "/metrics", timeout=5).text
        assert 'status="500"' not in text
        assert self.growth_mib() < 100


@pytest.fixture(scope="module")
def adapter(hostile):
    env = fixture_env(
        ESUITE_BASE_URL=hostile.base,
        ESUITE_TIMEOUT_SECONDS=str(int(BUDGET)),
        ESUITE_MAX_CONNECTIONS="4",  # downloads may hold 2
        MAX_UPSTREAM_ANSWER_BYTES=str(MIB),
        MAX_UPSTREAM_COMPRESSED_ANSWER_BYTES=str(MIB),
        DOWNLOAD_CHUNK_TIMEOUT_SECONDS="1",
        LOG_LEVEL="WARNING",
    )
    with served_adapter(env) as (base, pid):
        yield Served(base, pid)


def raw_exchange(
    served: Served, head: bytes, body: bytes = b"", receive_buffer: int | None = None
) -> tuple[bytes, float]:
    """Sends head and body from a thread (the adapter may answer and close before it has all
    of it) and returns the first bytes of the answer and the seconds until they came."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", served.port))
    sock.settimeout(BUDGET + 10)

    def send_all() -> None:
        try:
            sock.sendall(head + body)
        except OSError:
            pass  # refused and closed before the whole request was read: the point

    started = time.monotonic()
    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        # the rest of a short problem+json body
        if b"content-length:" in answer.lower():
            length = int(answer.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(answer.split(b"\r\n\r\n", 1)[1]) < length:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
    except ConnectionResetError:
        pass
    elapsed = time.monotonic() - started
    sock.close()
    sender.join(5)
    return answer, elapsed


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), orjson.loads(body)


@pytest.mark.parametrize("size", [1_000_000, 40_000_000])
def test_a_huge_authorization_header_is_431_at_once_and_healthz_answers_meanwhile(adapter, size):
    head = b"GET /zaken/api/v1/zaken HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + b"a" * size + b"\r\n\r\n"
    healthz: dict[str, float] = {}

    def probe() -> None:
        started = time.monotonic()
        assert httpx.get(adapter.base + "/healthz", timeout=5).status_code == 200
        healthz["seconds"] = time.monotonic() - started

    prober = threading.Thread(target=probe)
    prober.start()
    answer, seconds = raw_exchange(adapter, head)
    prober.join(5)
    status, body = status_and_body(answer)
    assert (status, body["code"]) == (431, "request-header-too-large")
    assert b"content-type: application/problem+json" in answer.lower()
    assert UUID_HEADER.search(answer.partition(b"\r\n\r\n")[0])  # answered before any request: an own id
    assert seconds < 0.5
    assert healthz["seconds"] < 1
    adapter.assert_healthy()


def test_an_authorization_header_over_8_kib_is_refused_before_decoding(adapter):
    answer = httpx.get(
        adapter.base + "/zaken/api/v1/zaken", headers={"Authorization": "Bearer " + "a" * 9000}, timeout=5
    )
    assert answer.status_code == 431
    assert answer.json()["code"] == "request-header-too-large"
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_head_over_16_kib_in_one_read_is_431(adapter):
    headers = {**kiss_headers(), **{f"X-Filler-{n}": "f" * 2000 for n in range(9)}}
    answer = httpx.get(adapter.base + "/zaken/api/v1/zaken", headers=headers, timeout=5)
    assert (answer.status_code, answer.json()["code"]) == (431, "request-header-too-large")


def test_a_64_mib_pass_through_body_of_small_values_is_413_fast_and_small(adapter, hostile):
    body = b"[" + b"0," * (32 * MIB - 1) + b"0]"
    token = kiss_headers()["Authorization"].encode()
    head = (
        b"POST /klanten/api/v1/klanten HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: " + token + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    answer, seconds = raw_exchange(adapter, head, body)
    status, problem = status_and_body(answer)
    assert (status, problem["code"]) == (413, "request-too-large")
    assert seconds < BUDGET + 2
    assert hostile.requests_for(b"/klanten-api-provider/") == []
    adapter.assert_healthy()


HOSTILE_ANSWERS = [
    ("drip", 504, "upstream-timeout"),
    ("error-drip", 504, "upstream-timeout"),
    ("slow-headers", 504, "upstream-timeout"),
    ("endless", 502, "upstream-invalid-response"),
    ("huge", 502, "upstream-invalid-response"),
    ("gzip-bomb", 502, "upstream-invalid-response"),
    ("deep", 502, "upstream-invalid-response"),
]


@pytest.mark.parametrize("route", ["pass-through", "mapped"])
@pytest.mark.parametrize("mode, status, code", HOSTILE_ANSWERS)
def test_a_hostile_answer_is_502_or_504_within_the_budget(adapter, hostile, route, mode, status, code):
    path = f"/zaken/api/v1/hostile-{mode}" if route == "pass-through" else CONTACT
    hostile.mode = mode
    try:
        started = time.monotonic()
        answer = httpx.get(adapter.base + path, headers=kiss_headers(), timeout=BUDGET + 10)
        seconds = time.monotonic() - started
    finally:
        hostile.mode = "json"
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert seconds < BUDGET + 2
    # A well-behaved answer right after: one bad answer never takes the pod out of service.
    assert httpx.get(adapter.base + "/zaken/api/v1/hostile-json", headers=kiss_headers(), timeout=5).status_code == 200
    adapter.assert_healthy()


def test_stalled_download_readers_are_cut_off_and_never_starve_the_json_routes(adapter, hostile):
    stalled_before = adapter.metric('kiss_adapter_client_aborts_total{reason="stalled"}')
    disconnects_before = adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}')
    token = kiss_headers()["Authorization"].encode()
    head = (
        b"GET /documenten/api/v1/hostile-download HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + token + b"\r\n\r\n"
    )
    readers = []
    for _ in range(2):  # MAX_CONCURRENT_DOWNLOADS: half of ESUITE_MAX_CONNECTIONS=4
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", adapter.port))
        sock.sendall(head)
        assert sock.recv(12) == b"HTTP/1.1 200"  # then never read again
        readers.append(sock)
    busy = httpx.get(adapter.base + "/documenten/api/v1/hostile-download", headers=kiss_headers(), timeout=5)
    assert (busy.status_code, busy.json()["code"], busy.headers["retry-after"]) == (503, "downloads-busy", "5")
    for _ in range(6):  # more JSON calls than the pool has connections: they always get one
        started = time.monotonic()
        answer = httpx.get(adapter.base + "/zaken/api/v1/hostile-json", headers=kiss_headers(), timeout=BUDGET + 5)
        assert answer.status_code == 200
        assert time.monotonic() - started < 1
    deadline = time.monotonic() + 1 + 2  # DOWNLOAD_CHUNK_TIMEOUT_SECONDS + 2 s
    while hostile.active_downloads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hostile.active_downloads == 0  # both e-Suite connections released
    assert adapter.metric('kiss_adapter_client_aborts_total{reason="stalled"}') == stalled_before + 2
    # The adapter's own abort ends them as stalled, never also as a client gone (server_protocol.py).
    assert adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}') == disconnects_before
    for sock in readers:  # the adapter dropped their connections: what is left ends at once
        sock.settimeout(3)
        received, ended = 0, False
        try:
            while received < 64 * MIB:
                data = sock.recv(1 << 20)
                if not data:
                    ended = True
                    break
                received += len(data)
        except ConnectionResetError:
            ended = True
        sock.close()
        assert ended
    adapter.assert_healthy()


def test_a_client_leaving_mid_download_frees_its_esuite_connection_and_its_slot_at_once(adapter, hostile):
    """KISS's user closes the tab while a document streams: the e-Suite connection is dropped as
    soon as the write to the client fails (not after DOWNLOAD_CHUNK_TIMEOUT_SECONDS), counted as
    a client gone, and the download slot is free for the next one."""
    stalled_before = adapter.metric('kiss_adapter_client_aborts_total{reason="stalled"}')
    disconnects_before = adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}')
    token = kiss_headers()["Authorization"].encode()
    head = (
        b"GET /documenten/api/v1/hostile-download HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + token + b"\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", adapter.port))
    sock.sendall(head)
    received = 0
    while received < 4 * MIB:  # well into the 256 MiB body
        data = sock.recv(1 << 20)
        assert data, "the download ended early"
        received += len(data)
    assert hostile.active_downloads == 1
    sock.close()
    started = time.monotonic()
    while hostile.active_downloads and time.monotonic() - started < 3:
        time.sleep(0.02)
    assert hostile.active_downloads == 0
    assert time.monotonic() - started < 0.9  # the stall cut-off (1 s) did not do it
    deadline = time.monotonic() + 2
    while adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}') == disconnects_before:
        assert time.monotonic() < deadline, "the client's leaving was never counted"
        time.sleep(0.05)
    assert adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}') == disconnects_before + 1
    assert adapter.metric('kiss_adapter_client_aborts_total{reason="stalled"}') == stalled_before
    # Both download slots (MAX_CONCURRENT_DOWNLOADS = 2) are free again.
    again = [socket.create_connection(("127.0.0.1", adapter.port)) for _ in range(2)]
    for other in again:
        other.sendall(head)
    for other in again:
        assert other.recv(12) == b"HTTP/1.1 200"
        other.close()
    # Their leaving is counted too before the next test reads the counter.
    deadline = time.monotonic() + 3
    while (
        hostile.active_downloads
        or adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}') < disconnects_before + 3
    ):
        assert time.monotonic() < deadline, "the two later downloads were not ended"
        time.sleep(0.05)
    adapter.assert_healthy()


def test_a_client_leaving_mid_body_is_counted_apart_from_5xx(adapter, hostile):
    before = adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}')
    token = kiss_headers()["Authorization"].encode()
    sock = socket.create_connection(("127.0.0.1", adapter.port))
    sock.sendall(
        b"POST /klanten/api/v1/klanten HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: " + token + b"\r\nContent-Length: 100000\r\n\r\n" + b'{"a": "' + b"x" * 100
    )
    time.sleep(0.2)
    sock.close()
    deadline = time.monotonic() + 2
    while adapter.metric('kiss_adapter_client_aborts_total{reason="disconnect"}') == before:
        assert time.monotonic() < deadline, "the disconnect was never counted"
        time.sleep(0.05)
    assert (
        adapter.metric('kiss_adapter_http_requests_total{method="POST",route="/klanten/api/v1/{path}",status="499"}')
        == 1
    )
    assert hostile.requests_for(b"/klanten-api-provider/") == []
    adapter.assert_healthy()


def test_stalled_uploads_are_408_within_the_budget_and_never_open_the_breaker(adapter, hostile):
    """The served adapter's transport (aiohttp) writes a streamed body from a task of its own:
    the budget ends while that task waits for the client, and that is the client's fault.
    Six in all, two at a time (the streamed transfers' share of the pool): one more than the
    breaker's five failures."""
    token = kiss_headers()["Authorization"].encode()
    head = (
        b"POST /documenten/api/v1/enkelvoudiginformatieobjecten HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/pdf\r\nAuthorization: " + token + b"\r\nContent-Length: 100000\r\n\r\n%PDF"
    )
    answers: list[tuple[bytes, float]] = []
    for _ in range(3):
        senders = [threading.Thread(target=lambda: answers.append(raw_exchange(adapter, head))) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(BUDGET + 10)
    assert len(answers) == 6
    for answer, elapsed in answers:
        assert (status_and_body(answer)[0], status_and_body(answer)[1]["code"]) == (408, "request-timeout")
        assert elapsed < BUDGET + 2
    adapter.assert_healthy()


def test_pipelined_requests_are_answered_and_never_count_as_one_long_head(adapter):
    """HTTP/1.1 pipelining (RFC 9112, section 9.3): 500 small requests (44 bytes each, 22 KB in all,
    more than the 16 KiB head limit together), sent so that a read ends inside a head: every
    one gets its 200, in order."""
    one = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    requests = one * 500
    cut = len(one) * 450 + 10  # 450 whole requests and the start of the next one
    with socket.create_connection(("127.0.0.1", adapter.port), timeout=10) as sock:
        sock.sendall(requests[:cut])
        time.sleep(0.3)
        sock.sendall(requests[cut:])
        received = b""
        deadline = time.monotonic() + 10
        while received.count(b"HTTP/1.1 ") < 500 and time.monotonic() < deadline:
            data = sock.recv(1 << 20)
            if not data:
                break
            received += data
    assert b" 431 " not in received
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 500


@pytest.mark.parametrize(
    "target, content_type",
    [
        ("/contactmomenten/api/v1/contactmomenten", "application/json"),  # mapped (1 MiB)
        ("/api/v2/objects", "application/json"),  # answered locally
        ("/zaken/api/v1/zaakobjecten", "application/json"),  # pass-through JSON (64 MiB)
    ],
)
def test_a_buffered_body_that_stalls_is_408_within_the_budget(adapter, hostile, target, content_type):
    """Slowloris on the body: a body the adapter reads whole must arrive within
    ESUITE_TIMEOUT_SECONDS, as a streamed upload must; nothing is sent."""
    token = kiss_headers()["Authorization"].encode()
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n".encode()
        + b"Authorization: "
        + token
        + b"\r\nContent-Length: 1000\r\n\r\n"
    )
    before = len(hostile.requests)
    answer, elapsed = raw_exchange(adapter, head, b'{"type": "')
    assert (status_and_body(answer)[0], status_and_body(answer)[1]["code"]) == (408, "request-timeout")
    assert elapsed < BUDGET + 2
    assert hostile.requests[before:] == []
    adapter.assert_healthy()


@pytest.fixture(scope="module")
def one_second_heads(hostile):
    """An adapter whose request heads must arrive within 1 s (one start for the tests below)."""
    env = fixture_env(ESUITE_BASE_URL=hostile.base, REQUEST_HEAD_TIMEOUT_SECONDS="1", LOG_LEVEL="WARNING")
    with served_adapter(env) as (base, pid):
        yield Served(base, pid)


@pytest.mark.parametrize("start", [b"", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "])
def test_a_head_that_does_not_arrive_in_time_is_408_and_the_connection_closed(one_second_heads, start):
    """Slowloris on the head (and a connection that never sends a byte): uvicorn has no
    deadline for a request head; REQUEST_HEAD_TIMEOUT_SECONDS is one."""
    started = time.monotonic()  # before connecting: the deadline runs from the accept
    with socket.create_connection(("127.0.0.1", one_second_heads.port), timeout=5) as sock:
        sock.sendall(start)
        received = b""
        try:
            while data := sock.recv(65536):
                received += data
                if start:
                    sock.sendall(b"a")  # one byte after each read attempt: never a whole head
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            pass
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3  # asyncio may run a timer up to its clock resolution early
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"request-timeout"' in received
    assert UUID_HEADER.search(received.partition(b"\r\n\r\n")[0])


def test_a_later_heads_deadline_runs_from_its_own_first_byte_on_a_kept_alive_connection(one_second_heads):
    """One head timer per connection, left running when a head completes (server_protocol.py):
    the timer armed at the accept ends 1 s after it, while the second head, begun 0.6 s in,
    has until 1.6 s; it is 408 then, not when the first timer ends, and not never."""
    with socket.create_connection(("127.0.0.1", one_second_heads.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.6)
        began = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        received = b""
        try:
            while data := sock.recv(65536):
                received += data
                sock.sendall(b"a")
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            pass
        elapsed = time.monotonic() - began
    assert 0.9 <= elapsed < 3
    assert received.startswith(b"HTTP/1.1 408 ")


def test_stalled_uploads_never_take_every_connection_from_the_json_routes(adapter, hostile):
    """Four stalled uploads against a pool of four: they may hold only the streamed transfers'
    share (MAX_CONCURRENT_DOWNLOADS, 2 here); the others get 503 at once, and a JSON call made
    meanwhile is answered at once instead of waiting for a connection (a steady stream of
    stalled uploads starved the JSON routes, and their pool timeouts counted as e-Suite failures)."""
    token = kiss_headers()["Authorization"].encode()
    head = (
        b"POST /documenten/api/v1/enkelvoudiginformatieobjecten HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/pdf\r\nAuthorization: " + token + b"\r\nContent-Length: 100000\r\n\r\n%PDF"
    )
    answers: list[tuple[bytes, float]] = []
    senders = [threading.Thread(target=lambda: answers.append(raw_exchange(adapter, head))) for _ in range(4)]
    for sender in senders:
        sender.start()
    time.sleep(0.3)
    meanwhile = httpx.get(adapter.base + "/catalogi/api/v1/zaaktypen", headers=kiss_headers(), timeout=BUDGET + 5)
    for sender in senders:
        sender.join(BUDGET + 10)
    # At once, not once a stalled upload's budget (1 s, 0.3 s of it gone) ends and frees a connection.
    assert (meanwhile.status_code, meanwhile.elapsed.total_seconds() < 0.4) == (200, True)
    assert sorted(status_and_body(answer)[1]["code"] for answer, _ in answers) == [
        "request-timeout",
        "request-timeout",
        "uploads-busy",
        "uploads-busy",
    ]
    adapter.assert_healthy()
