"""`EsuiteClient` drives tenacity's policy through its iteration API (`Retrying.iter`, issue 17),
asked only when the first attempt's outcome may be sent again.

Guards for that trick: the policy still decides every retry (connect failures retried for any
method, a sent POST never), its stop after three attempts holds, its waits are awaited (the
loop keeps running other tasks; tenacity's own blocking sleep is never called), calls that
retry at the same time on one client keep their own counts, and a call cancelled while it
waits is not tried again.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics
from adapter.problems import Problem

BASE = "https://esuite.example.org"
URL = f"{BASE}/contactmomenten-api-provider/api/v1/contactmomenten"


def client_over(handler) -> EsuiteClient:
    return EsuiteClient(
        EsuiteTokenSource("c", "s" * 40),
        Metrics(),
        timeout_seconds=5,
        max_connections=4,
        transport=httpx.MockTransport(handler),
    )


# Two calls failing twice each: four failures, one fewer than opens the breaker.


def call() -> CallContext:
    return CallContext("req-1", UrlMap("https://kiss-adapter.example.org", BASE))


async def test_concurrent_calls_retry_connect_failures_each_on_its_own_count_while_the_loop_runs():
    attempts: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        key = request.url.params["n"]
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] < 3:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"n": key})

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    esuite = client_over(handler)
    ticking = asyncio.create_task(ticker())
    try:
        answers = await asyncio.gather(
            *(
                esuite.send(call(), method, URL, target="contactmomenten", params=[("n", str(n))])
                for n, method in enumerate(("GET", "POST"))
            )
        )
    finally:
        ticking.cancel()
        await esuite.aclose()
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.content for answer in answers] == [b'{"n":"0"}', b'{"n":"1"}']
    assert attempts == {"0": 3, "1": 3}
    assert ticks >= 20  # two waits of at least 0.16 s each passed with the loop running


def refusing(sent: list[str]):
    """An e-Suite that refuses every connection, recording each attempt's method."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        raise httpx.ConnectError("refused")

    return handler


async def test_three_connect_failures_are_the_last_attempts_error_and_nothing_more_is_sent():
    sent: list[str] = []
    esuite = client_over(refusing(sent))
    with pytest.raises(Problem) as failed:
        await esuite.send(call(), "GET", URL, target="contactmomenten")
    await esuite.aclose()
    assert failed.value.code == "upstream-unavailable"
    assert isinstance(failed.value.__cause__, httpx.ConnectError)
    assert sent == ["GET", "GET", "GET"]


async def test_a_post_that_was_sent_is_never_tried_again_and_a_503_get_ends_with_its_last_answer():
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "POST":
            raise httpx.ReadError("reset after sending")
        return httpx.Response(503, content=b"busy")

    esuite = client_over(handler)
    with pytest.raises(Problem):
        await esuite.send(call(), "POST", URL, target="contactmomenten", content=b"{}")
    answer = await esuite.send(call(), "GET", URL, target="contactmomenten")
    await esuite.aclose()
    assert sent == ["POST", "GET", "GET", "GET"]
    assert (answer.status_code, answer.content) == (503, b"busy")


async def test_a_call_cancelled_while_it_waits_to_retry_is_not_sent_again():
    sent: list[str] = []
    esuite = client_over(refusing(sent))
    task = asyncio.create_task(esuite.send(call(), "GET", URL, target="contactmomenten"))
    await asyncio.sleep(0.05)  # the first attempt failed; the call waits at least 0.16 s
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)
    await esuite.aclose()
    assert sent == ["GET"]


@pytest.mark.parametrize(("method", "status"), [("GET", 200), ("GET", 500), ("POST", 503), ("POST", 201)])
async def test_a_first_answer_the_rule_keeps_is_returned_without_the_policy(monkeypatch, method, status):
    """`_retried` asks tenacity only when the first attempt's outcome may be sent again."""
    client = client_over(lambda request: httpx.Response(status))
    monkeypatch.setattr(client._retrying, "iter", lambda state: pytest.fail("the policy was asked"))
    response = await client.send(call(), method, URL, target="contactmomenten", content=b"{}")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("first", "sent", "status"),
    [
        (httpx.ConnectError("refused"), 2, 200),  # the first attempt's error: the policy's attempt 1
        (httpx.Response(503), 2, 200),
        (httpx.ReadError("reset"), 2, 200),
    ],
)
async def test_a_first_outcome_that_may_go_again_is_the_policys_first_attempt(first, sent, status):
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        if len(seen) == 1:
            if isinstance(first, Exception):
                raise first
            return first
        return httpx.Response(200)

    client = client_over(handler)
    client._backoff = lambda exchange, attempt_number: 0.0  # type: ignore[method-assign]
    response = await client.send(call(), "GET", URL, target="contactmomenten")
    assert (len(seen), response.status_code) == (sent, status)
    retries = client._metrics.registry.get_sample_value(
        "kiss_adapter_upstream_retries_total", {"target": "contactmomenten"}
    )
    assert retries == 1  # tenacity's `before_sleep` ran once: it decided the second attempt
