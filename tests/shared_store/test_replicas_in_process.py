"""Two app replicas sharing one Redis and one e-Suite, in process (operations.md §5.3, §4.2, §3)."""

import asyncio
import json
import time

import httpx
import pytest

from adapter.app import create_app
from adapter.esuite_sim import SimulatorConfig, create_simulator
from adapter.kiss_api.health import READINESS_CACHE_SECONDS
from adapter.services import services_of
from tests.conftest import ADAPTER, ESUITE_CLIENT, ESUITE_SECRET, FIXTURES, fixture_settings, kiss_headers

CM_PATH = "/contactmomenten-api-provider/api/v1/contactmomenten"
BODY = (FIXTURES / "kiss/post-contactverzoek-groep-known-klant-v1.json").read_bytes()


class Replicas:
    def __init__(self, redis_url: str) -> None:
        settings = fixture_settings(IDEMPOTENCY_REDIS_URL=redis_url)
        self.sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=settings.esuite_base_url))
        self.skew = 0.0  # added to the replicas' monotonic clock: a test moves their time on
        self.apps = [
            create_app(
                settings, esuite_transport=httpx.ASGITransport(self.sim), monotonic=lambda: time.monotonic() + self.skew
            )
            for _ in range(2)
        ]
        self.clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) for app in self.apps]

    def creates(self) -> list:
        return [e for e in self.sim.state.store.requests if e["method"] == "POST" and e["path"].endswith(CM_PATH)]

    async def post(self, replica: int):
        return await self.clients[replica].post(
            "/contactmomenten/api/v1/contactmomenten", content=BODY, headers=kiss_headers()
        )

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        for app in self.apps:
            await services_of(app).duplicates.aclose()


@pytest.fixture
async def replicas(redis_server):
    replicas = Replicas(redis_server.url)
    yield replicas
    await replicas.aclose()


async def test_the_same_post_to_both_replicas_at_once_creates_one_contact(replicas):
    answers = await asyncio.gather(*(replicas.post(replica) for replica in (0, 1, 0, 1)))
    assert [answer.status_code for answer in answers] == [201] * 4
    assert len({answer.content for answer in answers}) == 1
    assert len(replicas.creates()) == 1


async def test_a_lost_response_on_one_replica_is_found_by_the_other(replicas):
    faults = replicas.sim.state.faults
    faults.configure({"routes": {"POST /contactmomenten-api-provider/api/v1/contactmomenten": {"lost_response": 1.0}}})
    assert (await replicas.post(0)).status_code == 502
    faults.configure({"routes": {}})
    second = await replicas.post(1)
    assert second.status_code == 201
    assert len(replicas.creates()) == 1
    assert (await replicas.post(0)).headers["idempotent-replayed"] == "true"


async def test_redis_down_refuses_creates_before_the_esuite_and_reports_degraded(replicas, redis_server):
    assert (await replicas.clients[0].get("/readyz")).json() == {
        "status": "ready",
        "checks": {"esuite": "ok", "idempotencyStore": "ok"},
    }
    redis_server.stop()
    replicas.skew += READINESS_CACHE_SECONDS  # a fresh probe, not the cached one
    ready = await replicas.clients[1].get("/readyz")
    assert ready.status_code == 200  # the pod stays in the Service: the reads keep working
    assert ready.json() == {"status": "degraded", "checks": {"esuite": "ok", "idempotencyStore": "unreachable"}}
    refused = await replicas.post(1)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["code"] == "idempotency-store-unavailable"
    assert refused.json()["title"] == "Dubbele registraties kunnen nu niet worden uitgesloten."
    assert replicas.creates() == []
    detail = await replicas.clients[1].get(
        "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db", headers=kiss_headers()
    )
    assert detail.status_code == 200  # every other route keeps working


async def test_a_replica_that_died_after_creating_leaves_a_lock_the_other_takes_over_by_searching(redis_server):
    """Issue 14 item 1: the holder's create reached the e-Suite, then the holder died (kill -9)
    before it recorded the answer. The next holder searches instead of creating again."""
    from adapter.idempotency import RedisStore

    settings = fixture_settings(IDEMPOTENCY_REDIS_URL=redis_server.url)
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=settings.esuite_base_url))
    dying_store = RedisStore(redis_server.url, lock_seconds=0.3)

    async def dies_before_recording(key, answer, uncertain=None) -> None:
        return None

    dying_store.finish = dies_before_recording
    dying = create_app(settings, esuite_transport=httpx.ASGITransport(sim), duplicates=dying_store)
    alive = create_app(settings, esuite_transport=httpx.ASGITransport(sim))
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) for app in (dying, alive)]
    path = "/contactmomenten/api/v1/contactmomenten"
    first = await clients[0].post(path, content=BODY, headers=kiss_headers())
    second = await clients[1].post(path, content=BODY, headers=kiss_headers())
    creates = [e for e in sim.state.store.requests if e["method"] == "POST" and e["path"].endswith(CM_PATH)]
    searches = [e for e in sim.state.store.requests if e["method"] == "GET" and e["path"].endswith(CM_PATH)]
    for client in clients:
        await client.aclose()
    await services_of(alive).duplicates.aclose()
    await dying_store.aclose()
    assert first.status_code == 201 and second.status_code == 201
    assert second.json()["url"] == first.json()["url"]
    assert len(creates) == 1
    assert len(searches) == 1


async def test_a_takeover_whose_search_fails_stays_uncertain_for_the_next_repeat(redis_server):
    from adapter.idempotency import RedisStore, duplicate_key

    settings = fixture_settings(IDEMPOTENCY_REDIS_URL=redis_server.url)
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=settings.esuite_base_url))
    dead = RedisStore(redis_server.url, lock_seconds=0.2)
    await dead.begin(duplicate_key("kiss", json.loads(BODY)), 1)  # a holder that never comes back
    app = create_app(settings, esuite_transport=httpx.ASGITransport(sim))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER)
    sim.state.faults.configure(
        {"routes": {"GET /contactmomenten-api-provider/api/v1/contactmomenten": {"error5xx": 1.0}}}
    )
    failed = await client.post("/contactmomenten/api/v1/contactmomenten", content=BODY, headers=kiss_headers())
    sim.state.faults.configure({"routes": {}})
    repeat = await client.post("/contactmomenten/api/v1/contactmomenten", content=BODY, headers=kiss_headers())
    requests = [e["method"] for e in sim.state.store.requests if e["path"].endswith(CM_PATH)]
    await client.aclose()
    await services_of(app).duplicates.aclose()
    await dead.aclose()
    assert failed.status_code == 502
    assert repeat.status_code == 201
    # the takeover's search failed (GETs, retried by the client), the repeat searched again, then one create
    assert requests.count("POST") == 1
    assert requests[-2:] == ["GET", "POST"]
