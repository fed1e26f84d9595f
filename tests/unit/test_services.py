"""The clocks the app factory injects are the ones its parts read (issue 15: no direct clock
reads outside the composition root): the readiness cache and the klant look-up warning."""

import httpx
import pytest

from adapter.app import create_app
from adapter.idempotency import InProcessStore
from adapter.services import RateLimitedWarning, services_of
from tests.conftest import ADAPTER, fixture_settings

pytestmark = pytest.mark.anyio


class PingCountingStore(InProcessStore):
    def __init__(self) -> None:
        super().__init__()
        self.pings = 0

    async def ping(self) -> bool:
        self.pings += 1
        return True


async def test_readiness_caches_both_probes_for_ten_seconds_of_the_injected_monotonic_clock():
    now = [1000.0]
    probes: list[str] = []

    def esuite(request: httpx.Request) -> httpx.Response:
        probes.append(request.url.path)
        return httpx.Response(200, text="openapi: 3.0.0\n")

    store = PingCountingStore()
    app = create_app(
        fixture_settings(IDEMPOTENCY_REDIS_URL="redis://127.0.0.1:1/0"),
        esuite_transport=httpx.MockTransport(esuite),
        monotonic=lambda: now[0],
        duplicates=store,
    )
    seen = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as client:
        for moment in (1000.0, 1009.9, 1010.0, 1019.9, 1020.0):
            now[0] = moment
            answer = await client.get("/readyz")
            assert answer.json() == {"status": "ready", "checks": {"esuite": "ok", "idempotencyStore": "ok"}}
            seen.append((len(probes), store.pings))
    await services_of(app).esuite.aclose()
    assert seen == [(1, 1), (1, 1), (2, 2), (2, 2), (3, 3)]


def test_a_rate_limited_warning_is_due_once_per_interval_of_its_clock():
    now = [50.0]
    warning = RateLimitedWarning(60.0, lambda: now[0])
    due = []
    for moment in (50.0, 50.0, 109.9, 110.0, 110.1, 170.0):
        now[0] = moment
        due.append(warning.due())
    assert due == [True, False, False, True, False, True]


def test_the_factory_gives_the_klant_lookup_warning_its_monotonic_clock():
    now = [0.0]
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    services = services_of(create_app(fixture_settings(), esuite_transport=transport, monotonic=lambda: now[0]))
    assert services.klant_lookup_warning.due() is True
    now[0] = 59.9
    assert services.klant_lookup_warning.due() is False
    now[0] = 60.0
    assert services.klant_lookup_warning.due() is True
