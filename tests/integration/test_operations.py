"""Liveness, readiness and metrics (operations.md §3)."""

import httpx
import pytest

from tests.conftest import Stack, app_client, kiss_headers

pytestmark = pytest.mark.anyio

PROBE = "https://esuite.example.org/contactmomenten-api-provider/api/v1/schema/openapi.yaml"


async def test_healthz_is_plain_healthy_and_calls_nothing(httpx_mock):
    async with app_client() as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.text, response.headers["content-type"]) == (
        200,
        "Healthy",
        "text/plain; charset=utf-8",
    )


async def test_readyz_probes_the_esuite_schema_with_the_esuite_token():
    stack = Stack()
    response = await stack.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"esuite": "ok"}}
    [probe] = stack.upstream_requests("GET", "/schema/openapi.yaml")
    assert probe["claims"]["iss"] == "kiss-adapter"
    await stack.aclose()


@pytest.mark.parametrize(
    "failure, reason",
    [
        (lambda mock: [mock.add_exception(httpx.ConnectError("refused"), url=PROBE) for _ in range(3)], "unreachable"),
        (lambda mock: mock.add_exception(httpx.ReadTimeout("slow"), url=PROBE), "timeout"),
        (lambda mock: mock.add_response(url=PROBE, status_code=500), "error-5xx"),
    ],
)
async def test_readyz_reports_why_the_esuite_is_not_usable(httpx_mock, failure, reason):
    failure(httpx_mock)
    async with app_client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "checks": {"esuite": reason}}


async def test_readyz_counts_any_answer_below_500_as_reachable_and_caches_it(httpx_mock):
    httpx_mock.add_response(url=PROBE, status_code=404)
    async with app_client() as client:
        first = await client.get("/readyz")
        second = await client.get("/readyz")
    assert first.status_code == second.status_code == 200
    assert len(httpx_mock.get_requests()) == 1


async def test_metrics_expose_requests_upstream_calls_and_build_info():
    stack = Stack()
    await stack.client.get(
        "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db", headers=kiss_headers()
    )
    await stack.client.get("/contactmomenten/api/v1/contactmomenten/geen-uuid", headers=kiss_headers())
    text = (await stack.client.get("/metrics")).text
    await stack.aclose()
    assert (
        'kiss_adapter_http_requests_total{method="GET",route="/contactmomenten/api/v1/contactmomenten/{uuid}",status="200"} 1.0'
        in text
    )
    assert (
        'kiss_adapter_http_requests_total{method="GET",route="/contactmomenten/api/v1/contactmomenten/{uuid}",status="404"} 1.0'
        in text
    )
    assert 'kiss_adapter_upstream_requests_total{method="GET",status="200",target="contactmomenten"} 1.0' in text
    assert "kiss_adapter_http_request_duration_seconds_bucket" in text
    assert "kiss_adapter_upstream_request_duration_seconds_bucket" in text
    # The gauge reads the plain count (Metrics.requests_in_flight): the /metrics request itself.
    assert "\nkiss_adapter_http_requests_in_flight 1.0\n" in text
    assert 'kiss_adapter_build_info{version="' in text
    assert "geen-uuid" not in text
