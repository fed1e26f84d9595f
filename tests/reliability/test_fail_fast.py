"""With the e-Suite down, answers are 503 at once; serving resumes by itself (operations.md §5.5)."""

import time

import httpx
import pytest

from adapter.services import services_of
from tests.conftest import app_client, kiss_headers, load_fixture

pytestmark = pytest.mark.anyio

DETAIL = "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"


class Switchable:
    """An e-Suite that is down until switched on; counts what reaches it."""

    def __init__(self) -> None:
        self.up = False
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.up:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json=load_fixture("esuite/contactmoment-detail-contactverzoek.json"))


async def test_breaker_opens_answers_fast_reports_and_recovers():
    now = [1000.0]
    esuite = Switchable()
    async with app_client(httpx.MockTransport(esuite)) as client:
        app = client._transport.app
        services_of(app).esuite.esuite_breaker._clock = lambda: now[0]
        # A GET makes three attempts: the fifth consecutive failure, in the second GET, opens
        # the breaker, and that GET's last attempt is already refused.
        statuses = [(await client.get(DETAIL, headers=kiss_headers())).status_code for _ in range(2)]
        assert statuses == [502, 503]
        calls_when_open = esuite.calls
        assert calls_when_open == 5

        started = time.perf_counter()
        response = await client.get(DETAIL, headers=kiss_headers())
        elapsed = time.perf_counter() - started
        assert response.status_code == 503
        assert response.json()["code"] == "upstream-circuit-open"
        assert response.headers["retry-after"] == "10"
        assert elapsed < 0.05
        assert esuite.calls == calls_when_open

        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()["checks"]["esuite"]) == (503, "circuit-open")
        metrics = (await client.get("/metrics")).text
        assert 'kiss_adapter_circuit_open{target="contactmomenten"} 1.0' in metrics

        # Local routes are never affected.
        assert (await client.post("/zaken/api/v1/zaakcontactmomenten", headers=kiss_headers())).status_code == 204

        esuite.up = True
        now[0] += 10.0
        assert (await client.get(DETAIL, headers=kiss_headers())).status_code == 200
        assert (await client.get(DETAIL, headers=kiss_headers())).status_code == 200
        metrics = (await client.get("/metrics")).text
        assert 'kiss_adapter_circuit_open{target="contactmomenten"} 0.0' in metrics
