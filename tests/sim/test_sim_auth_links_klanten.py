"""Authentication (§8.2), link resources (§3.5), klanten (§4) and the minimal zrc (§8.5)."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.sim.conftest import BASE, CLIENT_ID, CM, KC, KLANT_URL, ZRC, client_for, token

CONTACT = f"{CM}/contactmomenten/141a574c-6013-48f9-9d3d-db0e887e2603"
ZAAK = f"{ZRC}/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Token abc",
        "Bearer not-a-jwt",
        f"Bearer {token(secret='x' * 40)}",
        f"Bearer {token(exp=int(time.time()) - 120)}",
        f"Bearer {token(iss='someone-else', client_id='someone-else')}",
        f"Bearer {jwt.encode({'iss': CLIENT_ID, 'client_id': CLIENT_ID}, None, algorithm='none')}",
    ],
)
async def test_401(sim, authorization):
    async with client_for(sim) as c:
        headers = {"Authorization": authorization} if authorization is not None else {}
        if authorization is None:
            c.headers.pop("Authorization")
        r = await c.get(f"{CM}/contactmomenten", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert list(problem) == ["code", "title", "status", "detail", "instance"]
    assert problem["code"] == "NOT_AUTHORISED" and problem["status"] == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": -30},  # 30 s ago (relative to the test's run time): within the 60 s leeway
        {"iss": "other"},  # client_id matches
        {"client_id": None},  # iss matches
        {"exp": None},
    ],
)
async def test_accepted_tokens(sim, claims):
    if "exp" in claims and claims["exp"] is not None:
        claims = {**claims, "exp": int(time.time()) + claims["exp"]}
    async with client_for(sim) as c:
        r = await c.get(f"{CM}/contactmomenten", headers={"Authorization": f"Bearer {token(**claims)}"})
    assert r.status_code == 200


async def test_request_log(client):
    await client.get(
        f"{CM}/contactmomenten?klant=https%3A%2F%2Fa.example%2Fk&type=A&type=B", headers={"X-Request-ID": "req-1"}
    )
    await client.post(f"{CM}/contactmomenten", json={"tekst": "x"}, headers={"X-Esuite-Request-User-Id": "kcc01"})
    log = (await client.get(f"{BASE}/_sim/state")).json()["requests"]
    first, second = log
    assert first["method"] == "GET"
    assert first["path"] == "/contactmomenten-api-provider/api/v1/contactmomenten"
    assert first["query"] == [["klant", "https://a.example/k"], ["type", "A"], ["type", "B"]]
    assert first["body"] is None and first["user_id"] == "jjansen" and first["status"] == 200
    assert first["claims"]["iss"] == CLIENT_ID and first["headers"]["x-request-id"] == "req-1"
    assert second["body"] == {"tekst": "x"} and second["user_id"] == "kcc01" and second["status"] == 400


# --- links ---------------------------------------------------------------------------------


async def test_klantcontactmoment_post(client):
    r = await client.post(
        f"{CM}/klantcontactmomenten",
        json={"klant": KLANT_URL, "contactmoment": CONTACT, "rol": "belanghebbende", "x": 1},
    )
    assert r.status_code == 201
    link = r.json()
    assert list(link) == ["url", "contactmoment", "klant", "rol"]
    assert link["rol"] == "gesprekspartner" and r.headers["location"] == link["url"]
    assert link["url"].startswith(f"{CM}/klantcontactmomenten/")
    dup = await client.post(f"{CM}/klantcontactmomenten", json={"klant": KLANT_URL, "contactmoment": CONTACT})
    assert dup.status_code == 409
    assert dup.headers["content-type"] == "application/json"
    assert dup.json()["code"] == "CONFLICT"
    listed = await client.get(f"{CM}/klantcontactmomenten", params={"klant": KLANT_URL})
    assert listed.json()["count"] == 4 and listed.json()["results"][0] == link
    klant_list = await client.get(f"{CM}/contactmomenten", params={"klant": KLANT_URL})
    assert CONTACT in [c["url"] for c in klant_list.json()["results"]]


@pytest.mark.parametrize(
    "payload",
    [
        {"contactmoment": CONTACT},
        {"klant": KLANT_URL},
        {"klant": f"{KC}/klanten/00000000-0000-4000-8000-000000000000", "contactmoment": CONTACT},
        {"klant": "https://elders.example.org/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4", "contactmoment": CONTACT},
        {"klant": KLANT_URL, "contactmoment": f"{CM}/contactmomenten/00000000-0000-4000-8000-000000000000"},
        {"klant": KLANT_URL, "contactmoment": 5},
    ],
)
async def test_klantcontactmoment_post_invalid(client, payload):
    r = await client.post(f"{CM}/klantcontactmomenten", json=payload)
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION"


async def test_strict_klantcontactmomenten(make_sim):
    async with client_for(make_sim(strict_klantcontactmomenten=True)) as c:
        r = await c.get(f"{CM}/klantcontactmomenten", params={"contactmoment": CONTACT})
        assert r.status_code == 400
        assert (await c.get(f"{CM}/klantcontactmomenten", params={"klant": KLANT_URL})).json()["count"] == 3


async def test_objectcontactmoment_post(client):
    r = await client.post(f"{CM}/objectcontactmomenten", json={"contactmoment": CONTACT, "object": ZAAK})
    assert r.status_code == 201
    assert list(r.json()) == ["url", "contactmoment", "object", "objectType"]
    assert r.json()["objectType"] == "zaak"
    dup = await client.post(
        f"{CM}/objectcontactmomenten", json={"contactmoment": CONTACT, "object": ZAAK, "objectType": "zaak"}
    )
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/json"
    for bad in (
        {"contactmoment": CONTACT, "object": ZAAK, "objectType": "document"},
        {"contactmoment": CONTACT, "object": "https://elders.example.org/zaken/1"},
        {"object": ZAAK},
    ):
        assert (await client.post(f"{CM}/objectcontactmomenten", json=bad)).status_code == 400
    listed = await client.get(f"{CM}/objectcontactmomenten", params={"object": ZAAK})
    assert [x["contactmoment"] for x in listed.json()["results"]] == [
        CONTACT,
        f"{CM}/contactmomenten/cb7b21e1-708d-4ea3-8d81-147dd041f296",
    ]


# --- klanten -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"subjectType": "natuurlijk_persoon"},
        {"subjectNatuurlijkPersoon__inpBsn": "999993653", "subjectNietNatuurlijkPersoon__innNnpId": "69599084"},
        {"subjectNatuurlijkPersoon__inpBsn": ""},
    ],
)
async def test_klanten_list_needs_exactly_one_filter(client, query):
    r = await client.get(f"{KC}/klanten", params=query)
    assert r.status_code == 400


async def test_klanten_list_no_match(client):
    r = await client.get(f"{KC}/klanten", params={"subjectVestiging__vestigingsNummer": "000012345678"})
    assert r.json() == {"count": 0, "results": []}


async def test_klant_post_rules(client):
    r = await client.post(
        f"{KC}/klanten",
        json={
            "subjectIdentificatie": {"inpBsn": "999990627"},
            "telefoonnummer": "0699999999",
            "klantnummer": "x",
            "voornaam": "Y",
        },
    )
    assert r.status_code == 201
    klant = r.json()
    assert (klant["voornaam"], klant["voorvoegselAchternaam"], klant["achternaam"]) == ("Kees", "van", "Dijk")
    assert klant["klantnummer"] == "10000232" and klant["telefoonnummer"] == "0699999999"
    assert klant["emailadres"] is None and klant["subjectType"] == "natuurlijk_persoon"
    assert (await client.get(klant["url"])).json() == klant
    again = await client.post(f"{KC}/klanten", json={"subjectIdentificatie": {"inpBsn": "999990627"}})
    assert again.status_code == 409 and again.json()["code"] == "CONFLICT"
    seeded = await client.post(f"{KC}/klanten", json={"subjectIdentificatie": {"inpBsn": "999993653"}})
    assert seeded.status_code == 409
    unknown = await client.post(f"{KC}/klanten", json={"subjectIdentificatie": {"inpBsn": "123456782"}})
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
    vestiging = await client.post(f"{KC}/klanten", json={"subjectIdentificatie": {"vestigingsNummer": "000012345678"}})
    assert vestiging.status_code == 201
    assert vestiging.json()["bedrijfsnaam"] == "Bakkerij De Korenschoof"
    assert vestiging.json()["subjectType"] == "vestiging"
    for bad in (
        {},
        {"subjectIdentificatie": {"inpBsn": "12"}},
        {"subjectIdentificatie": {"inpBsn": "999990627", "innNnpId": "69599084"}},
        {"subjectIdentificatie": {"innNnpId": "69599084"}, "emailadres": "nope"},
    ):
        assert (await client.post(f"{KC}/klanten", json=bad)).status_code == 400


async def test_klant_patch(client):
    r = await client.patch(
        KLANT_URL,
        json={
            "emailadres": "anna.vandijk@example.org",
            "telefoonnummer": "0687654321",
            "voornaam": "Ignored",
            "url": "x",
        },
    )
    assert r.status_code == 200
    assert r.json()["telefoonnummer"] == "0687654321" and r.json()["voornaam"] == "Anna"
    r = await client.patch(KLANT_URL, json={"telefoonnummerAlternatief": "0101111111"})
    assert r.json()["telefoonnummerAlternatief"] == "0101111111"
    bad = await client.patch(KLANT_URL, json={"telefoonnummer": None})  # alternative needs a primary
    assert bad.status_code == 400
    assert (await client.patch(KLANT_URL, json={"telefoonnummer": None, "telefoonnummerAlternatief": None})).json()[
        "telefoonnummer"
    ] is None
    assert (await client.patch(KLANT_URL, json={"emailadres": "x"})).status_code == 400
    assert (await client.patch(f"{KC}/klanten/00000000-0000-4000-8000-000000000000", json={})).status_code == 404
    assert (await client.put(KLANT_URL, json={})).status_code == 405


# --- zrc -----------------------------------------------------------------------------------


async def test_zaken_filters_and_ordering(client, sim):
    from adapter.esuite_sim.records import Zaak

    store = sim.state.store
    store.zaken["b0000000-0000-4000-8000-000000000001"] = Zaak(
        "b0000000-0000-4000-8000-000000000001",
        {
            "url": f"{ZRC}/zaken/b0000000-0000-4000-8000-000000000001",
            "identificatie": "ZAAK-2024-0000001",
            "identificatieIntern": "Z24.000001",
            "registratiedatum": "2024-02-01",
            "startdatum": "2024-02-01",
        },
        ("999993653",),
    )

    async def ids(**query):
        r = await client.get(f"{ZRC}/zaken", params=query)
        assert r.status_code == 200, r.text
        return [z["identificatie"] for z in r.json()["results"]]

    assert await ids() == ["ZAAK-2025-0000123", "ZAAK-2024-0000001"]
    assert await ids(ordering="startdatum_oplopend") == ["ZAAK-2024-0000001", "ZAAK-2025-0000123"]
    assert await ids(ordering="identificatie_aflopend") == ["ZAAK-2025-0000123", "ZAAK-2024-0000001"]
    assert await ids(identificatie="ZAAK-2024-0000001") == ["ZAAK-2024-0000001"]
    assert await ids(rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn="999990627") == []
    for bad in ("-startdatum", "startdatum", "omschrijving_oplopend"):
        r = await client.get(f"{ZRC}/zaken", params={"ordering": bad})
        assert r.status_code == 400
    assert (await client.get(f"{ZRC}/zaken/00000000-0000-4000-8000-000000000000")).status_code == 404
