"""The one outbound client: credentials, user header, retries, budget, failures (esuite.md §2, operations.md §5)."""

import time

import httpx
import jwt
import pytest

from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, app_client, fixture_settings, kiss_headers, kiss_token

pytestmark = pytest.mark.anyio

ZAAKTYPEN = "/catalogi/api/v1/zaaktypen"
UPSTREAM_ZAAKTYPEN = "https://esuite.example.org/zgw-apis-provider/ztc/api/v1/zaaktypen"


async def test_outbound_jwt_claims_and_user_header(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={"count": 0, "results": []})
    async with app_client() as client:
        headers = {
            **kiss_headers("kcm@example.org"),
            "X-Esuite-Request-User-Id": "iemand-anders",
            "X-Request-ID": "req-1",
        }
        response = await client.get(ZAAKTYPEN, headers=headers)
    assert response.status_code == 200
    sent = httpx_mock.get_request()
    assert sent.headers["X-Esuite-Request-User-Id"] == "kcm@example.org"
    assert sent.headers.get_list("X-Esuite-Request-User-Id") == ["kcm@example.org"]
    assert sent.headers["X-Request-ID"] == "req-1"
    assert sent.headers["User-Agent"].startswith("kiss-esuite-adapter/")
    assert sent.headers["Accept-Encoding"] == "gzip"
    scheme, token = sent.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, ESUITE_SECRET, algorithms=["HS256"])
    now = time.time()
    assert set(claims) == {"iss", "client_id", "iat", "nbf", "exp"}
    assert claims["iss"] == claims["client_id"] == ESUITE_CLIENT
    assert claims["iat"] == claims["nbf"]
    assert now - 62 <= claims["iat"] <= now - 58
    assert claims["exp"] - claims["iat"] == 3660


async def test_no_user_header_without_user_id_and_client_header_dropped(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={})
    async with app_client() as client:
        await client.get(
            ZAAKTYPEN,
            headers={"Authorization": f"Bearer {kiss_token(user_id='')}", "X-Esuite-Request-User-Id": "spoof"},
        )
    assert "X-Esuite-Request-User-Id" not in httpx_mock.get_request().headers


async def test_invalid_request_id_is_replaced_and_echoed(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={})
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers={**kiss_headers(), "X-Request-ID": "bad id with spaces"})
    request_id = response.headers["X-Request-ID"]
    assert request_id != "bad id with spaces" and len(request_id) == 36
    assert httpx_mock.get_request().headers["X-Request-ID"] == request_id


async def test_the_token_is_reused_across_calls(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={}, is_reusable=True)
    async with app_client() as client:
        for _ in range(3):
            await client.get(ZAAKTYPEN, headers=kiss_headers())
    tokens = {request.headers["Authorization"] for request in httpx_mock.get_requests()}
    assert len(tokens) == 1


async def test_get_is_retried_on_503_then_succeeds(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, status_code=503)
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, status_code=502)
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={"count": 1})
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 200
    assert response.json() == {"count": 1}
    assert len(httpx_mock.get_requests()) == 3
    assert 'kiss_adapter_upstream_retries_total{target="catalogi"} 2.0' in metrics


async def test_get_gives_up_after_three_attempts_with_502(httpx_mock):
    for _ in range(3):
        httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, status_code=503)
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
    assert response.status_code == 502
    assert response.json()["code"] == "upstream-error"
    assert len(httpx_mock.get_requests()) == 3


async def test_get_is_retried_after_a_connection_error(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=UPSTREAM_ZAAKTYPEN)
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={})
    async with app_client() as client:
        assert (await client.get(ZAAKTYPEN, headers=kiss_headers())).status_code == 200


async def test_500_is_not_retried(httpx_mock):
    httpx_mock.add_response(
        url=UPSTREAM_ZAAKTYPEN, status_code=500, json={"code": "INTERNAL", "title": "x", "status": 500}
    )
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
    assert response.status_code == 502
    assert response.json()["code"] == "upstream-error"
    assert len(httpx_mock.get_requests()) == 1


async def test_post_is_not_retried_once_sent(httpx_mock):
    httpx_mock.add_exception(httpx.ReadError("reset after sending"), url=UPSTREAM_ZAAKTYPEN, method="POST")
    async with app_client() as client:
        response = await client.post(ZAAKTYPEN, headers=kiss_headers(), json={"a": 1})
    assert response.status_code == 502
    assert response.json()["code"] == "upstream-unavailable"
    assert len(httpx_mock.get_requests()) == 1


async def test_post_is_not_retried_on_503(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, method="POST", status_code=503)
    async with app_client() as client:
        response = await client.post(ZAAKTYPEN, headers=kiss_headers(), json={"a": 1})
    assert response.status_code == 502
    assert len(httpx_mock.get_requests()) == 1


async def test_post_is_retried_when_the_connection_failed_before_sending(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=UPSTREAM_ZAAKTYPEN, method="POST")
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, method="POST", status_code=201, json={"ok": True})
    async with app_client() as client:
        response = await client.post(ZAAKTYPEN, headers=kiss_headers(), json={"a": 1})
    assert response.status_code == 201
    assert len(httpx_mock.get_requests()) == 2


async def test_unreachable_esuite_is_502_problem(httpx_mock):
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("refused"), url=UPSTREAM_ZAAKTYPEN)
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "upstream-unavailable"
    assert body["title"] == body["detail"] == "De e-Suite is niet bereikbaar."


async def test_timeout_is_504_problem(httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=UPSTREAM_ZAAKTYPEN)
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
    assert response.status_code == 504
    assert response.json()["code"] == "upstream-timeout"
    assert len(httpx_mock.get_requests()) == 1


async def test_the_budget_covers_a_hanging_upstream():
    import asyncio

    async def hang(request):
        await asyncio.sleep(30)

    settings = fixture_settings(ESUITE_TIMEOUT_SECONDS="1")
    started = time.monotonic()
    async with app_client(httpx.MockTransport(hang), settings=settings) as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
    assert response.status_code == 504
    assert time.monotonic() - started < 3


async def test_esuite_401_becomes_502_upstream_unauthorized(httpx_mock):
    httpx_mock.add_response(
        url=UPSTREAM_ZAAKTYPEN,
        status_code=401,
        json={"code": "NOT_AUTHORISED", "title": "Niet geauthenticeerd", "status": 401, "instance": "x"},
    )
    async with app_client() as client:
        response = await client.get(ZAAKTYPEN, headers=kiss_headers())
    assert response.status_code == 502
    assert response.json()["code"] == "upstream-unauthorized"


async def test_credentials_are_never_sent_outside_the_esuite_roots():
    from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
    from adapter.esuite_client.urls import UrlMap
    from adapter.metrics import Metrics
    from adapter.problems import Problem

    seen = []
    client = EsuiteClient(
        EsuiteTokenSource(ESUITE_CLIENT, ESUITE_SECRET),
        Metrics(),
        timeout_seconds=5,
        max_connections=1,
        transport=httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200)),
    )
    call = CallContext("request-1", UrlMap("https://kiss-adapter.example.org", "https://esuite.example.org"))
    with pytest.raises(Problem) as refused:
        await client.send(
            call, "GET", "https://evil.example.org/contactmomenten-api-provider/api/v1/x", target="contactmomenten"
        )
    assert refused.value.code == "upstream-invalid-url"
    assert seen == []


async def test_esuite_cookies_are_never_kept_or_sent_to_the_next_request(httpx_mock):
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={}, headers={"Set-Cookie": "JSESSIONID=user-a; Path=/"})
    httpx_mock.add_response(url=UPSTREAM_ZAAKTYPEN, json={})
    async with app_client() as client:
        first = await client.get(ZAAKTYPEN, headers=kiss_headers("user-a"))
        await client.get(ZAAKTYPEN, headers=kiss_headers("user-b"))
    assert "set-cookie" not in first.headers
    assert "cookie" not in httpx_mock.get_requests()[1].headers
