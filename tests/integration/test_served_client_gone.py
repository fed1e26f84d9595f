"""A client that goes away before its answer, against the served adapter and the hostile
e-Suite's `hold` (adapter/server_protocol.py CANCEL_KEY, adapter/kiss_api/problem_rendering.py):
a safe request's work stops at once (its e-Suite connection is closed, the request counted as
499), while a create, or any other unsafe request, runs to its end: its e-Suite call is never
dropped halfway, so a retry finds what the first one did."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from tests.conftest import fixture_env, kiss_headers, load_fixture
from tests.hostile_esuite import HOLD_SECONDS
from tests.servers import metric, served_adapter

BUDGET = 10  # ESUITE_TIMEOUT_SECONDS: far past every wait here, so no call ends by the budget
CONTACT = "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"
GONE = 'kiss_adapter_client_aborts_total{reason="disconnect"}'


class Served:
    def __init__(self, base: str) -> None:
        self.base = base
        self.port = int(base.rsplit(":", 1)[1])

    def metric(self, line_start: str) -> float:
        return metric(self.base, line_start)


@pytest.fixture(scope="module")
def adapter(hostile):
    env = fixture_env(ESUITE_BASE_URL=hostile.base, ESUITE_TIMEOUT_SECONDS=str(BUDGET), LOG_LEVEL="WARNING")
    with served_adapter(env) as (base, _):
        yield Served(base)


def send_and_leave(served: Served, hostile, method: str, path: str, body: bytes = b"") -> None:
    """One request on a raw socket, closed without reading the answer once the e-Suite has
    received the call it makes (so the call is surely under way when the client leaves)."""
    token = kiss_headers()["Authorization"].encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + b"Authorization: " + token + b"\r\n"
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"

    def calls() -> int:  # the readiness probe's schema look-ups left out
        return sum(b"openapi.yaml" not in request.split(b"\r\n", 1)[0] for request in hostile.requests)

    received_before = calls()
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.sendall(head + b"\r\n" + body)
    wait_for(lambda: calls() > received_before, 5.0, "the e-Suite call never came")
    time.sleep(0.05)
    sock.close()


def wait_for(condition, seconds: float, what: str) -> float:
    """Seconds until `condition()` held; fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, what
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize(
    "path, route",
    [
        ("/zaken/api/v1/hostile-hold", "/zaken/api/v1/{path}"),  # pass-through
        (CONTACT, "/contactmomenten/api/v1/contactmomenten/{uuid}"),  # mapped
    ],
)
def test_a_read_whose_client_left_stops_its_esuite_call_and_counts_499(adapter, hostile, path, route):
    hostile.mode = "hold"
    gone_before, abandoned_before = adapter.metric(GONE), hostile.abandoned
    status_499 = f'kiss_adapter_http_requests_total{{method="GET",route="{route}",status="499"}}'
    counted_before = adapter.metric(status_499)
    try:
        send_and_leave(adapter, hostile, "GET", path)
        # The e-Suite connection is closed well before the hold or the budget would end it.
        seconds = wait_for(lambda: hostile.abandoned > abandoned_before, 2.0, "the e-Suite call went on")
    finally:
        hostile.mode = "json"
    assert seconds < HOLD_SECONDS - 1
    assert hostile.abandoned == abandoned_before + 1
    wait_for(lambda: adapter.metric(GONE) == gone_before + 1, 2.0, "the client's leaving was not counted")
    assert adapter.metric(status_499) == counted_before + 1
    assert 'status="500"' not in httpx.get(adapter.base + "/metrics", timeout=5).text
    # The adapter serves on: the next read is answered.
    assert httpx.get(adapter.base + "/zaken/api/v1/hostile-json", headers=kiss_headers(), timeout=5).status_code == 200


def test_a_pass_through_post_whose_client_left_still_gets_its_esuite_answer(adapter, hostile):
    answered_before, abandoned_before = hostile.held_answered, hostile.abandoned
    send_and_leave(adapter, hostile, "POST", "/klanten/api/v1/hostile-hold", b'{"a": 1}')
    wait_for(lambda: hostile.held_answered > answered_before, HOLD_SECONDS + 2, "the e-Suite never answered")
    assert hostile.abandoned == abandoned_before
    assert len(hostile.requests_for(b"POST /klanten-api-provider/api/v1/hostile-hold")) == 1
    # Logged and counted with the e-Suite's answer, not as a client gone.
    answered = 'kiss_adapter_http_requests_total{method="POST",route="/klanten/api/v1/{path}",status="200"}'
    wait_for(lambda: adapter.metric(answered) == 1, 2.0, "the POST's answer was not counted")
    assert (
        adapter.metric('kiss_adapter_http_requests_total{method="POST",route="/klanten/api/v1/{path}",status="499"}')
        == 0
    )


def test_a_create_whose_client_left_runs_to_its_end_with_one_esuite_call(adapter, hostile):
    body = json.dumps(load_fixture("kiss/post-contactmoment-plain-v1.json")).encode()
    creates = b"POST /contactmomenten-api-provider/api/v1/contactmomenten"
    sent_before, answered_before, abandoned_before = (
        len(hostile.requests_for(creates)),
        hostile.held_answered,
        hostile.abandoned,
    )
    hostile.mode = "hold"
    try:
        send_and_leave(adapter, hostile, "POST", "/contactmomenten/api/v1/contactmomenten", body)
        wait_for(lambda: hostile.held_answered > answered_before, HOLD_SECONDS + 2, "the create was cut short")
    finally:
        hostile.mode = "json"
    assert hostile.abandoned == abandoned_before
    assert len(hostile.requests_for(creates)) == sent_before + 1  # created once, never sent again
