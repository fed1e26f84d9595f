"""POST /contactmomenten rules, lists, pagination and routing (esuite.md §3.3, §8.3)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import BASE, CM, client_for

VALID: dict[str, Any] = {
    "registratiedatum": "2025-05-20T09:14:03.512Z",
    "kanaal": "Telefoon",
    "type": "Terugbelverzoek",
    "tekst": "Vraag",
    "antwoord": "Antwoord",
    "status": "nieuw",
    "toelichting": "Bel na 17:00",
    "afdeling": "Burgerzaken",
    "contactgegevens": {"emailadres": "x.y@example.org", "telefoonnummer": "0611111111"},
    "medewerkerIdentificatie": {"identificatie": "jjansen"},
}


def body(**changes: Any) -> dict[str, Any]:
    out = {**VALID, **changes}
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(bronorganisatie="001234567"), "bronorganisatie"),
        (body(url=f"{CM}/contactmomenten/x"), "url"),
        (body(klant="https://kiss.example.org/klanten/1"), "klant"),
        (body(medewerkerIdentificatie={"identificatie": "jjansen", "achternaam": "Jan Jansen"}), "achternaam"),
        (body(tekst=None), "tekst"),
        (body(kanaal=5), "kanaal"),
        (body(kanaal="T" * 256), "kanaal"),
        (body(afdeling="A" * 129), "afdeling"),
        (body(status="open"), "status"),
        (body(registratiedatum="gisteren"), "registratiedatum"),
        (body(registratiedatum="2025-05-20"), "registratiedatum"),
        (body(contactgegevens={"emailadres": "geen-adres"}), "emailadres"),
        (body(contactgegevens={"telefoonnummerAlternatief": "0622222222"}), "telefoonnummerAlternatief"),
        (body(behandelaar={}), "gebruikersnaam"),
        (body(behandelaar="pdvries"), "behandelaar"),
        (body(onderwerp="Burgerzaken"), "onderwerp"),
        (body(kanaal="Chat"), "Kanaal"),
        (body(type="Klacht"), "Type"),
        (body(afdeling="Nergens"), "Afdeling"),
        (body(afdeling=None, groep="Team Nergens"), "Groep"),
        (body(afdeling=None, onderwerp="grp:Team Nergens"), "Groep"),
        (body(behandelaar={"gebruikersnaam": "gh0st"}), "behandelaar"),
        (body(medewerkerIdentificatie={"identificatie": "gh0st"}), "medewerkerIdentificatie"),
        # E-3
        (body(status="afgehandeld", toelichting=None, antwoord="  "), "antwoord"),
        (body(status="afgehandeld", toelichting=None, behandelaar={"gebruikersnaam": "pdvries"}), "behandelaar"),
        (body(status="afgehandeld"), "toelichting"),
        # E-4 makes it afgehandeld, which needs an antwoord
        (body(afdeling=None, antwoord=None), "antwoord"),
    ],
)
async def test_validation(client, payload, field):
    r = await client.post(f"{CM}/contactmomenten", json=payload)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert list(problem) == ["type", "code", "title", "status", "detail", "instance"]
    assert (problem["code"], problem["status"]) == ("VALIDATION", 400)
    assert field in problem["detail"]
    for value in ("0622222222", "geen-adres", "gisteren", "Chat", "Klacht", "Nergens", "gh0st", "TTTT"):
        assert value not in problem["detail"]  # never echo submitted values
    state = (await client.get(f"{BASE}/_sim/state")).json()
    assert len(state["contacts"]) == 6  # nothing stored


async def test_not_json(client):
    for content in (b"{", b"[]", b""):
        r = await client.post(f"{CM}/contactmomenten", content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == 400


async def test_e4_verzoek_without_actor_is_stored_afgehandeld(client):
    r = await client.post(f"{CM}/contactmomenten", json=body(afdeling=None))
    assert r.status_code == 201
    created = r.json()
    assert created["status"] == "afgehandeld"
    assert "onderwerp" not in created and "afdeling" not in created
    assert created["toelichting"] == "Bel na 17:00"


async def test_create_and_read_back(client):
    r = await client.post(
        f"{CM}/contactmomenten",
        json=body(behandelaar={"gebruikersnaam": "p.devries@example.org"}, afdeling=None, onderwerp="grp:Team Afval"),
    )
    assert r.status_code == 201
    created = r.json()
    assert list(created) == [
        "url",
        "bronorganisatie",
        "identificatie",
        "registratiedatum",
        "kanaal",
        "type",
        "onderwerp",
        "tekst",
        "antwoord",
        "status",
        "toelichting",
        "behandelaar",
        "groep",
        "contactgegevens",
        "medewerkerIdentificatie",
    ]
    assert created["identificatie"] == "2045-2025"
    assert created["registratiedatum"] == "2025-05-20T11:14:03.512+02:00"
    assert created["onderwerp"] == "grp:Team Afval" and created["groep"] == "Team Afval"
    assert created["behandelaar"] == {"gebruikersnaam": "p.devries@example.org", "volledigeNaam": "Piet de Vries"}
    assert created["medewerkerIdentificatie"] == {"identificatie": "jjansen", "achternaam": "Jan Jansen"}
    assert r.headers["location"] == created["url"]
    detail = await client.get(created["url"])
    assert detail.json() == created
    # newest first: a 2025-05-20 contact comes before the seeded ones
    listed = await client.get(f"{CM}/contactmomenten", params={"telefoonnummerOfEmailadres": "X.Y@EXAMPLE"})
    assert [c["url"] for c in listed.json()["results"]] == [created["url"]]
    r2 = await client.post(f"{CM}/contactmomenten", json=body(registratiedatum="2025-05-21T10:00:00Z"))
    listed = await client.get(f"{CM}/contactmomenten", params={"telefoonnummerOfEmailadres": "x.y@example"})
    assert [c["url"] for c in listed.json()["results"]] == [r2.json()["url"], created["url"]]
    assert r2.json()["identificatie"] == "2046-2025"


async def test_explicit_unit_wins_over_onderwerp(client):
    r = await client.post(f"{CM}/contactmomenten", json=body(onderwerp="afd:Onbekend", afdeling="Afval"))
    assert r.status_code == 201
    assert (r.json()["onderwerp"], r.json()["afdeling"]) == ("afd:Afval", "Afval")


@pytest.mark.parametrize(
    ("sent", "printed"),
    [
        ("2025-05-20T09:14:03.512Z", "2025-05-20T11:14:03.512+02:00"),
        ("2025-01-10T08:00:00Z", "2025-01-10T09:00:00+01:00"),
        ("2025-01-10T08:00:00.5+00:00", "2025-01-10T09:00:00.5+01:00"),
        ("2025-05-20T09:14:03", "2025-05-20T09:14:03+02:00"),
        ("2025-05-20T09:14:03.123456789-01:00", "2025-05-20T12:14:03.123456789+02:00"),
        (None, "2025-05-20T11:30:00+02:00"),  # clock
    ],
)
async def test_registratiedatum_printed_in_amsterdam(client, sent, printed):
    r = await client.post(f"{CM}/contactmomenten", json=body(registratiedatum=sent))
    assert r.json()["registratiedatum"] == printed


async def test_no_updates(client):
    url = f"{CM}/contactmomenten/b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3"
    for method, target in (
        ("PUT", url),
        ("PATCH", url),
        ("DELETE", url),
        ("DELETE", f"{CM}/contactmomenten"),
        ("PUT", f"{CM}/klantcontactmomenten/09a14ded-6881-4261-a842-fd5fe7ee547f"),
        ("POST", url),
    ):
        r = await client.request(method, target, json={"tekst": "x"})
        assert r.status_code == 405, (method, target)


async def test_unknown_paths_404(client):
    for path in (
        "/zgw-apis-provider/ztc/api/v1/zaaktypen",
        "/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten",
        "/zgw-apis-provider/zrc/api/v1/statussen/x",
        "/contactmomenten-api-provider/api/v1/contactmomenten/nope",
        "/contactmomenten-api-provider/api/v1/klantcontactmomenten/09a14ded-6881-4261-a842-fd5fe7ee547f",
        "/elders",
    ):
        r = await client.get(f"{BASE}{path}")
        assert r.status_code == 404, path
        assert r.json()["code"] == "NOT_FOUND"


async def test_schema_endpoint(client, sim):
    r = await client.get(f"{CM}/schema/openapi.yaml")
    assert r.status_code == 200 and r.text.startswith("openapi:")
    async with client_for(sim) as c:
        r = await c.get(f"{CM}/schema/openapi.yaml", headers={"Authorization": ""})
    assert r.status_code == 401


async def test_pagination_links_under_path_prefix(make_sim):
    base = "http://127.0.0.1:8081/esuite"
    app = make_sim(base_url=base + "/", page_size=1)
    async with client_for(app, base_url="http://testserver") as c:
        root = "/esuite/contactmomenten-api-provider/api/v1"
        r = await c.get(f"{root}/contactmomenten?type=Terugbelverzoek&page=2&expand=x")
        page = r.json()
        assert page["count"] == 3
        listing = f"{base}/contactmomenten-api-provider/api/v1/contactmomenten"
        assert page["previous"] == f"{listing}?expand=x&type=Terugbelverzoek"
        assert page["next"] == f"{listing}?expand=x&page=3&type=Terugbelverzoek"
        assert page["results"][0]["url"].startswith(f"{listing}/")
        r = await c.get(page["next"].removeprefix("http://127.0.0.1:8081"))
        assert r.json()["next"] is None
        assert r.json()["previous"].endswith("page=2&type=Terugbelverzoek")
        assert (await c.get(f"{root}/contactmomenten?page=0")).status_code == 400
        assert (await c.get(f"{root}/contactmomenten?page=x")).status_code == 400
        assert (await c.get("/contactmomenten-api-provider/api/v1/contactmomenten")).status_code == 404
        assert (await c.get(f"{root}/contactmomenten?telefoonnummerOfEmailadres=none")).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }


async def test_id_seed_is_deterministic(make_sim):
    urls = []
    for _ in range(2):
        async with client_for(make_sim(id_seed=42)) as c:
            r = await c.post(f"{CM}/contactmomenten", json=VALID)
            urls.append(r.json()["url"])
    assert urls[0] == urls[1]


def test_bad_config(make_sim):
    for base_url in ("ftp://x", "http://x/?a=1", "esuite"):
        with pytest.raises(ValueError):
            make_sim(base_url=base_url)
