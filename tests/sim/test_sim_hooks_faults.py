"""Test hooks and fault injection (esuite.md §8.7)."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from adapter.esuite_sim import SimulatedConnectionReset
from tests.sim.conftest import BASE, CM, client_for

CV = "6b49ddb3-f8be-452d-92ba-f780ee8d49db"
POST_CM = "POST /contactmomenten-api-provider/api/v1/contactmomenten"
BODY = {"tekst": "Vraag", "antwoord": "Antwoord", "status": "afgehandeld", "kanaal": "Telefoon"}


async def state(client):
    return (await client.get(f"{BASE}/_sim/state")).json()


async def test_reset(client):
    created = (await client.post(f"{CM}/contactmomenten", json=BODY)).json()
    assert len((await state(client))["contacts"]) == 7
    assert (await client.post(f"{BASE}/_sim/reset")).status_code == 204
    snapshot = await state(client)
    assert len(snapshot["contacts"]) == 6 and snapshot["requests"] == []
    assert created["url"] not in [c["url"] for c in snapshot["contacts"]]
    assert [len(snapshot[k]) for k in ("klantcontactmomenten", "objectcontactmomenten", "klanten", "zaken")] == [
        3,
        1,
        1,
        1,
    ]
    # the id sequence restarts too
    assert (await client.post(f"{CM}/contactmomenten", json=BODY)).json()["url"] == created["url"]


async def test_hooks_are_unauthenticated(sim):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sim), base_url=BASE) as c:
        assert (await c.get("/_sim/state")).status_code == 200


async def test_voorlopig_antwoord_hook(client):
    url = f"{BASE}/_sim/contactmomenten/b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3/voorlopige-antwoorden"
    r = await client.post(url, json={"antwoord": "Gebeld", "gebruikersnaam": "pdvries"})
    assert r.status_code == 201
    assert r.json() == {
        "antwoord": "Gebeld",
        "registratiedatum": "2025-05-20T11:30:00+02:00",
        "gebruikersnaam": "pdvries",
        "volledigeNaam": "Piet de Vries",
        "afdeling": "Vergunningen",
    }
    page = await client.get(f"{CM}/contactmomenten", params={"identificatie": "1187-2025"})
    contact = page.json()["results"][0]
    assert contact["recentsteVoorlopigAntwoord"] == r.json()
    assert [va["antwoord"] for va in contact["voorlopigeAntwoorden"]][0] == "Gebeld"
    older = await client.post(
        url, json={"antwoord": "Oud", "gebruikersnaam": "kcc01", "registratiedatum": "2025-03-04T10:00:00Z"}
    )
    assert older.json()["registratiedatum"] == "2025-03-04T10:00:00Z"
    page = await client.get(f"{CM}/contactmomenten", params={"identificatie": "1187-2025"})
    assert [va["antwoord"] for va in page.json()["results"][0]["voorlopigeAntwoorden"]][-1] == "Oud"
    for bad in (
        {"antwoord": "x", "gebruikersnaam": "gh0st"},
        {"gebruikersnaam": "pdvries"},
        {"antwoord": "x", "gebruikersnaam": "pdvries", "registratiedatum": "morgen"},
    ):
        assert (await client.post(url, json=bad)).status_code == 400
    missing = f"{BASE}/_sim/contactmomenten/00000000-0000-4000-8000-000000000000/voorlopige-antwoorden"
    assert (await client.post(missing, json={"antwoord": "x", "gebruikersnaam": "pdvries"})).status_code == 404


async def test_status_hook(client):
    url = f"{BASE}/_sim/contactmomenten/141a574c-6013-48f9-9d3d-db0e887e2603/status"
    r = await client.post(url, json={"status": "in_behandeling", "behandelaar": {"gebruikersnaam": "mbakker"}})
    assert r.status_code == 200
    assert r.json()["behandelaar"] == {"gebruikersnaam": "mbakker", "volledigeNaam": "Mila Bakker"}
    assert (await client.post(url, json={"status": "gesloten"})).status_code == 400
    assert (await client.post(url, json={"status": "afgehandeld", "antwoord": " "})).status_code == 400
    r = await client.post(url, json={"status": "afgehandeld", "antwoord": "Klant teruggebeld."})
    assert (r.json()["status"], r.json()["antwoord"]) == ("afgehandeld", "Klant teruggebeld.")
    detail = await client.get(f"{CM}/contactmomenten/141a574c-6013-48f9-9d3d-db0e887e2603")
    assert detail.json()["status"] == "afgehandeld"


async def put_faults(client, config):
    r = await client.put(f"{BASE}/_sim/faults", json=config)
    assert r.status_code == 200, r.text
    return r.json()


async def test_error5xx(client):
    await put_faults(
        client, {"routes": {"GET /contactmomenten-api-provider/api/v1/contactmomenten/{uuid}": {"error5xx": 1}}}
    )
    statuses = set()
    for _ in range(12):
        r = await client.get(f"{CM}/contactmomenten/{CV}")
        statuses.add(r.status_code)
    assert statuses <= {500, 502, 503} and len(statuses) > 1
    assert (await client.get(f"{CM}/contactmomenten")).status_code == 200  # other routes unaffected


async def test_reset_before_stores_nothing(client):
    await put_faults(client, {"routes": {POST_CM: {"reset_before": 1}}})
    with pytest.raises(SimulatedConnectionReset) as info:
        await client.post(f"{CM}/contactmomenten", json=BODY)
    assert isinstance(info.value, httpx.TransportError) and info.value.kind == "reset_before"
    snapshot = await state(client)
    assert len(snapshot["contacts"]) == 6
    assert snapshot["requests"][-1]["faults"] == ["reset_before"] and snapshot["requests"][-1]["status"] is None


async def test_lost_response_stores_the_contact(client):
    await put_faults(client, {"routes": {POST_CM: {"lost_response": 1}}})
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(f"{CM}/contactmomenten", json=BODY)
    contacts = (await state(client))["contacts"]
    assert len(contacts) == 7 and contacts[0]["tekst"] == "Vraag"


async def test_hang(client):
    await put_faults(client, {"hang_seconds": 0.2, "routes": {"* *": {"hang": 1}}})
    started = time.monotonic()
    r = await client.get(f"{CM}/contactmomenten")
    assert r.status_code == 200 and time.monotonic() - started >= 0.2
    with pytest.raises(TimeoutError), anyio.fail_after(0.05):  # ASGITransport ignores httpx timeouts
        await client.get(f"{CM}/contactmomenten")


async def test_faults_are_reproducible(make_sim):
    outcomes = []
    for _ in range(2):
        async with client_for(
            make_sim(
                fault_seed=3,
                faults={"routes": {"GET /contactmomenten-api-provider/api/v1/contactmomenten": {"error5xx": 0.5}}},
            )
        ) as c:
            outcomes.append([(await c.get(f"{CM}/contactmomenten")).status_code for _ in range(20)])
    assert outcomes[0] == outcomes[1] and 200 in outcomes[0] and set(outcomes[0]) - {200}


async def test_reset_restores_configured_faults(client):
    config = await put_faults(client, {"routes": {"* /zgw-apis-provider/zrc/api/v1/zaken": {"error5xx": 1}}})
    assert config["routes"] == {"* /zgw-apis-provider/zrc/api/v1/zaken": {"error5xx": 1.0}}
    await client.post(f"{BASE}/_sim/reset")
    assert (await client.get(f"{BASE}/_sim/faults")).json() == {"hang_seconds": 60.0, "routes": {}}


@pytest.mark.parametrize(
    "config",
    [
        [],
        {"routes": {"GET": {"error5xx": 1}}},
        {"routes": {"GET /x": {"boom": 1}}},
        {"routes": {"GET /x": {"hang": 2}}},
        {"hang_seconds": -1},
        {"other": 1},
    ],
)
async def test_bad_fault_config(client, config):
    r = await client.put(f"{BASE}/_sim/faults", json=config)
    assert r.status_code == 400
