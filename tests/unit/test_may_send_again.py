"""`may_send_again`: the one rule for a second attempt (operations.md §5.2), and the client's one
retry mechanism asking it. A POST is never sent twice once any byte may have left."""

import asyncio

import httpx
import pytest

from adapter.esuite_client.breaker import CircuitBreaker
from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource, may_send_again
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics
from adapter.problems import Problem

pytestmark = pytest.mark.anyio

BASE = "https://esuite.example.org"
URL = BASE + "/contactmomenten-api-provider/api/v1/contactmomenten"

NOTHING_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("no connection")]
SENT_WITHOUT_ANSWER = [
    httpx.ReadError("reset"),
    httpx.WriteError("broken pipe"),
    httpx.RemoteProtocolError("closed mid-answer"),
    httpx.ReadTimeout("no answer"),
    httpx.WriteTimeout("body stalled"),
    TimeoutError(),
]


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("error", NOTHING_SENT, ids=type)
def test_may_send_again_when_nothing_was_sent(method, error):
    assert may_send_again(method, error=error) is True


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("error", SENT_WITHOUT_ANSWER, ids=type)
def test_may_send_again_never_for_a_write_that_may_have_left(method, error):
    assert may_send_again(method, error=error) is False


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_may_send_again_a_read_after_a_reset_but_not_after_a_read_timeout(method):
    assert may_send_again(method, error=httpx.ReadError("reset")) is True
    assert may_send_again(method, error=httpx.WriteError("broken pipe")) is True
    assert may_send_again(method, error=httpx.RemoteProtocolError("closed")) is True
    # A read timeout had the whole remaining budget; another attempt has none.
    assert may_send_again(method, error=httpx.ReadTimeout("slow")) is False
    assert may_send_again(method, error=TimeoutError()) is False


@pytest.mark.parametrize("status", [502, 503, 504])
def test_may_send_again_a_read_after_a_gateway_status_never_a_write(status):
    assert may_send_again("GET", status=status) is True
    assert may_send_again("HEAD", status=status) is True
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert may_send_again(method, status=status) is False


@pytest.mark.parametrize("status", [200, 201, 204, 400, 401, 404, 409, 429, 500, 501])
def test_may_send_again_not_after_any_other_answer(status):
    assert may_send_again("GET", status=status) is False
    assert may_send_again("POST", status=status) is False


def _client(handler) -> EsuiteClient:
    return EsuiteClient(
        EsuiteTokenSource("adapter", "secret-" * 6),
        Metrics(),
        timeout_seconds=5,
        max_connections=4,
        transport=httpx.MockTransport(handler),
    )


def _call() -> CallContext:
    return CallContext("request-1", UrlMap("https://kiss-adapter.example.org", BASE))


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr("adapter.esuite_client.client.random.uniform", lambda low, high: 0.0)


@pytest.mark.parametrize("error", SENT_WITHOUT_ANSWER, ids=type)
async def test_may_send_again_a_post_is_sent_once_when_it_may_have_left(error):
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise error

    esuite = _client(handler)
    with pytest.raises(Problem) as raised:
        await esuite.send(_call(), "POST", URL, target="contactmomenten", content=b'{"a": 1}')
    await esuite.aclose()
    assert len(sent) == 1
    assert raised.value.status in (502, 504)


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_may_send_again_a_post_answered_by_a_gateway_is_sent_once(status):
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status)

    esuite = _client(handler)
    response = await esuite.send(_call(), "POST", URL, target="contactmomenten", content=b"{}")
    await esuite.aclose()
    assert (response.status_code, len(sent)) == (status, 1)


async def test_may_send_again_a_post_goes_again_only_while_nothing_was_sent():
    outcomes = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow connect"), httpx.Response(201, json={})]
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    esuite = _client(handler)
    response = await esuite.send(_call(), "POST", URL, target="contactmomenten", content=b'{"a": 1}')
    await esuite.aclose()
    assert response.status_code == 201
    assert sent == [b'{"a": 1}'] * 3


async def test_may_send_again_a_post_reset_after_a_refused_connection_is_not_sent_a_third_time():
    outcomes = [httpx.ConnectError("refused"), httpx.ReadError("reset"), httpx.Response(201, json={})]
    sent = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    esuite = _client(handler)
    with pytest.raises(Problem) as raised:
        await esuite.send(_call(), "POST", URL, target="contactmomenten", content=b"{}")
    await esuite.aclose()
    assert (raised.value.status, raised.value.code, sent) == (502, "upstream-unavailable", 2)


async def test_the_one_retry_policy_serves_concurrent_calls_each_with_its_own_attempts():
    """One policy per client: calls that retry at the same time keep their own counts."""
    seen: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.params["n"]
        seen[name] = seen.get(name, 0) + 1
        await asyncio.sleep(0)
        if request.method == "GET" and seen[name] < 3:
            return httpx.Response(503)
        return httpx.Response(200 if request.method == "GET" else 503, json={"n": name})

    esuite = _client(handler)
    esuite.esuite_breaker = CircuitBreaker("esuite", failures_to_open=1000)  # 503s by design here
    calls = [
        esuite.send(
            _call(), "GET" if index % 2 == 0 else "POST", URL, target="contactmomenten", params=[("n", str(index))]
        )
        for index in range(10)
    ]
    statuses = [response.status_code for response in await asyncio.gather(*calls)]
    await esuite.aclose()
    assert statuses == [200, 503] * 5
    assert seen == {str(index): 3 if index % 2 == 0 else 1 for index in range(10)}
