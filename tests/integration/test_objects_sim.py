"""The Objects API facade as KISS uses it, through the real app in front of the e-Suite simulator.

Every KISS generation's filter style and both auth styles; contactverzoeken created through
the contactmomenten front come back as interne taken; paging is followed like KISS does.
"""

import copy
from urllib.parse import quote

import httpx
import pytest

from adapter.mapping.common import parse_datetime
from tests.conftest import (
    ADAPTER,
    ESUITE,
    FIXTURES,
    INTERNE_TAAK_TYPE,
    OBJECTS_TOKEN,
    Stack,
    kiss_headers,
    load_fixture,
    ordered,
)

pytestmark = pytest.mark.anyio

KLANT = f"{ADAPTER}/klanten/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
ESUITE_KLANT = f"{ESUITE}/klanten-api-provider/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
CM_PATH = "/contactmomenten-api-provider/api/v1"
TYPES = [["type", "Terugbelverzoek"], ["type", "Contactverzoek"]]
REQUESTS_GET = {case["case"]: case for case in load_fixture("kiss/requests-get.json")}
KLANT_FILTER = f"betrokkene__klant__exact__{KLANT}"
PHONE_FILTER = "betrokkene__digitaleAdressen__icontains__{}"

# (inbound headers, X-Esuite-Request-User-Id the e-Suite gets)
AUTHS = {
    "jwt": (lambda: kiss_headers(), "jjansen"),
    "token": (lambda: {"Authorization": f"Token {OBJECTS_TOKEN}"}, None),
}


@pytest.fixture
async def small_stack():
    """The simulator paging at 3, so that a handful of contacts spans several pages."""
    stack = Stack(page_size=3)
    yield stack
    await stack.aclose()


def kiss_query(style: str, expression: str, page: int | None = 1) -> str:
    """The query KISS builds (kiss-front.md §5.3): 2024 … v0.5.2 `data_attrs`, v0.6+ `data_attr`."""
    parts = ["ordering=-record__data__registratiedatum", "pageSize=10"]
    if style == "2024":
        parts += [f"page={page}", f"data_attrs={quote(expression, safe='')}"]
    else:
        parts += [f"data_attr={quote(expression, safe='')}"] + ([f"page={page}"] if page is not None else [])
    return "/api/v2/objects?" + "&".join(parts + [f"type={quote(INTERNE_TAAK_TYPE, safe='')}"])


def decoded_query(url: str) -> tuple[str, list[tuple[str, str]]]:
    url = httpx.URL(url)
    return f"{url.scheme}://{url.host}{url.path}", list(url.params.multi_items())


def without_page(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [pair for pair in pairs if pair[0] != "page"]


async def follow_like_kiss(stack: Stack, first: str, headers: dict) -> list[dict]:
    """KISS loops `page=1,2,…` until `next` is null; here the `next` links are followed."""
    pages, url = [], first
    while url is not None:
        response = await stack.client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-crs"] == "EPSG:4326"
        pages.append(response.json())
        url = pages[-1]["next"]
        assert len(pages) < 10
    return pages


async def create_contactverzoek(stack: Stack, body: dict | bytes) -> str:
    """POST through the contactmomenten front, as KISS does; the adapter URL of the contact."""
    content = body if isinstance(body, bytes) else None
    response = await stack.client.post(
        "/contactmomenten/api/v1/contactmomenten",
        content=content,
        json=None if content is not None else body,
        headers={**kiss_headers(), "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    return response.json()["url"]


async def link_klant(stack: Stack, contactmoment: str, klant: str = KLANT) -> None:
    response = await stack.client.post(
        "/contactmomenten/api/v1/klantcontactmomenten",
        json={"klant": klant, "contactmoment": contactmoment, "rol": "gesprekspartner"},
        headers=kiss_headers(),
    )
    assert response.status_code == 201, response.text


def sim_hooks(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(stack.sim), base_url=ESUITE)


def searches(stack: Stack) -> list[dict]:
    return stack.upstream_requests("GET", f"{CM_PATH}/contactmomenten")


# --- klant and phone filters, every generation, both auth styles ------------------------------


@pytest.mark.parametrize("style", ["2024", "v1"])
@pytest.mark.parametrize("auth", AUTHS)
async def test_contactverzoeken_of_the_seeded_klant(stack, style, auth):
    headers, user_id = AUTHS[auth]
    response = await stack.client.get(
        kiss_query(style, KLANT_FILTER, page=1 if style == "2024" else None), headers=headers()
    )
    assert response.status_code == 200
    assert response.headers["content-crs"] == "EPSG:4326"
    # The simulator holds the fixture contacts: the e-Suite's answer is the fixture's.
    assert ordered(response.json()) == ordered(load_fixture("expected/get-interne-taken-by-klant-v1.response.json"))
    [search] = searches(stack)
    assert search["query"] == TYPES + [["klant", ESUITE_KLANT]] + ([["page", "1"]] if style == "2024" else [])
    assert search["user_id"] == user_id
    assert stack.upstream_requests(path_suffix="/klantcontactmomenten") == []  # klant from the filter (I-8)


async def test_search_by_phone_v1_over_two_pages_matches_the_fixtures(small_stack):
    """W9 through the simulator, newest first over both e-Suite pages (C-5): 9202e9b2 of the
    e-Suite's page 2 (2025-04-01) comes before b54a7b40 of its page 1 (2025-03-04). Rows as the
    fixtures, 6b49ddb3 with its newest voorlopig antwoord (the simulator holds its full history)."""
    stack = small_stack
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    pages = await follow_like_kiss(stack, case["target"], kiss_headers())
    expected_1 = load_fixture(case["expectedResponse"])
    expected_2 = load_fixture("expected/get-interne-taken-search-v1-page-2.response.json")
    detail = load_fixture("expected/get-interne-taak-detail.response.json")
    rows = {row["uuid"][:8]: row for row in expected_1["results"] + expected_2["results"]}
    rows["6b49ddb3"] = detail
    expected_1["results"] = [rows["6b49ddb3"], rows["141a574c"], rows["9202e9b2"]]
    expected_2["results"] = [rows["b54a7b40"]]
    assert ordered(pages) == ordered([expected_1, expected_2])
    # Each of KISS's two requests reads both e-Suite pages.
    query = TYPES + [["telefoonnummerOfEmailadres", "0612345678"]]
    assert [entry["query"] for entry in searches(stack)] == [query + [["page", "1"]], query + [["page", "2"]]] * 2
    # One klant look-up per row served, each once.
    look_ups = [
        dict(entry["query"])["contactmoment"] for entry in stack.upstream_requests("GET", "/klantcontactmomenten")
    ]
    assert sorted(look_ups) == sorted(
        f"{ESUITE}{CM_PATH}/contactmomenten/{row['uuid']}" for page in pages for row in page["results"]
    )


@pytest.mark.parametrize("style", ["2024", "v1"])
@pytest.mark.parametrize("auth", AUTHS)
async def test_search_by_email_known_and_anonymous_rows(stack, style, auth):
    headers, user_id = AUTHS[auth]
    pages = await follow_like_kiss(stack, kiss_query(style, PHONE_FILTER.format("example.org")), headers())
    rows = {row["uuid"][:8]: row["record"]["data"]["betrokkene"] for page in pages for row in page["results"]}
    # b54a7b40 is linked to the seeded klant; 141a574c (f.bakker@…) is anonymous: no `klant` key.
    assert rows["b54a7b40"]["klant"] == KLANT
    assert "klant" not in rows["141a574c"]
    assert set(rows) == {"b54a7b40", "141a574c"}
    assert {entry["user_id"] for entry in stack.upstream_requests()} == {user_id}


# --- behandelaars, voorlopig antwoord, detail -------------------------------------------------


@pytest.mark.parametrize(
    "name, actor, persoonsnaam, organisatie",
    [
        (
            "post-contactverzoek-groep-known-klant-v1",
            {
                "naam": "groep:Team Afval",
                "soortActor": "organisatorische eenheid",
                "identificatie": "groep:Team Afval",
                "typeOrganisatorischeEenheid": "groep",
                "naamOrganisatorischeEenheid": "Team Afval",
            },
            "Anna van Dijk",
            None,
        ),
        (
            "post-contactverzoek-afdeling-anonymous-v0.6",
            {
                "naam": "afdeling:Beheer openbare ruimte",
                "soortActor": "organisatorische eenheid",
                "identificatie": "afdeling:Beheer openbare ruimte",
                "typeOrganisatorischeEenheid": "afdeling",
                "naamOrganisatorischeEenheid": "Beheer openbare ruimte",
            },
            "Fatima Bakker",
            None,
        ),
        (
            "post-contactverzoek-early-2024-groep-prefix",
            {
                "naam": "groep:Team Handhaving",
                "soortActor": "organisatorische eenheid",
                "identificatie": "groep:Team Handhaving",
                "typeOrganisatorischeEenheid": "groep",
                "naamOrganisatorischeEenheid": "Team Handhaving",
            },
            "Sem Visser",
            None,
        ),
        (
            "post-contactverzoek-early-2024-medewerker",
            {"naam": "Piet de Vries", "soortActor": "medewerker", "identificatie": "pdvries"},
            "Lotte de Boer",
            None,
        ),
        (
            "post-contactverzoek-medewerker-in-afdeling-known-klant-v1",
            {
                "naam": "Piet de Vries",
                "soortActor": "medewerker",
                "identificatie": "pdvries",
                "typeOrganisatorischeEenheid": "afdeling",
                "naamOrganisatorischeEenheid": "Vergunningen",
            },
            "Kees van Dijk",
            "Van Dijk Bouw B.V.",
        ),
        (
            "post-contactverzoek-medewerker-in-groep-mid-2024",
            {
                "naam": "Mila Bakker",
                "soortActor": "medewerker",
                "identificatie": "mbakker",
                "typeOrganisatorischeEenheid": "groep",
                "naamOrganisatorischeEenheid": "Team Vergunningen Wabo",
            },
            "",
            "Bakkerij De Korenschoof",
        ),
        (
            "post-contactverzoek-medewerker-email-v0.6",
            {
                "naam": "Piet de Vries",
                "soortActor": "medewerker",
                "identificatie": "p.devries@example.org",
                "typeOrganisatorischeEenheid": "afdeling",
                "naamOrganisatorischeEenheid": "Vergunningen",
            },
            "Noah Mulder",
            None,
        ),
    ],
)
async def test_behandelaars_of_created_contactverzoeken(stack, name, actor, persoonsnaam, organisatie):
    contactmoment = await create_contactverzoek(stack, (FIXTURES / "kiss" / f"{name}.json").read_bytes())
    uuid = contactmoment.rsplit("/", 1)[1]
    response = await stack.client.get(f"/api/v2/objects/{uuid}", headers=kiss_headers())
    assert response.status_code == 200, response.text
    data = response.json()["record"]["data"]
    assert ordered(data["actor"]) == ordered(actor)
    betrokkene = data["betrokkene"]
    assert "klant" not in betrokkene  # not linked (yet): anonymous
    assert betrokkene["persoonsnaam"] == {"voornaam": "", "voorvoegselAchternaam": "", "achternaam": persoonsnaam}
    assert betrokkene.get("organisatie") == organisatie
    sent = load_fixture(f"expected/{name}.esuite-request.json")
    assert [a["adres"] for a in betrokkene["digitaleAdressen"]] == list(sent["contactgegevens"].values())
    assert data["toelichting"] == sent["toelichting"].strip()
    assert data["contactmoment"] == contactmoment


async def test_voorlopig_antwoord_is_printed_in_amsterdam_time(stack):
    uuid = "141a574c-6013-48f9-9d3d-db0e887e2603"  # seeded: empty toelichting, no voorlopig antwoord
    before = await stack.client.get(f"/api/v2/objects/{uuid}", headers=kiss_headers())
    assert before.json()["record"]["data"]["toelichting"] == ""
    async with sim_hooks(stack) as sim:
        added = await sim.post(
            f"/_sim/contactmomenten/{uuid}/voorlopige-antwoorden",
            json={
                "antwoord": "Stoeptegels worden deze week gelegd.",
                "gebruikersnaam": "mbakker",
                "registratiedatum": "2025-07-01T10:05:00Z",
            },
        )
        assert added.status_code == 201
        summer = (await stack.client.get(f"/api/v2/objects/{uuid}", headers=kiss_headers())).json()
        await sim.post(
            f"/_sim/contactmomenten/{uuid}/voorlopige-antwoorden",
            json={
                "antwoord": "Aannemer ingepland.",
                "gebruikersnaam": "kcc01",
                "registratiedatum": "2025-12-31T23:30:00Z",
            },
        )
    winter = (await stack.client.get(f"/api/v2/objects/{uuid}", headers=kiss_headers())).json()
    line = "Laatste voorlopige antwoord: {} ({})"
    assert summer["record"]["data"]["toelichting"] == line.format(
        "Stoeptegels worden deze week gelegd.", "01-07-2025, 12:05, Mila Bakker"
    )
    # The newest wins; CET, and the date rolls over.
    assert winter["record"]["data"]["toelichting"] == line.format(
        "Aannemer ingepland.", "01-01-2026, 00:30, KCC Medewerker"
    )
    # The list shows the same row as the detail.
    pages = await follow_like_kiss(stack, kiss_query("v1", PHONE_FILTER.format("f.bakker@")), kiss_headers())
    [row] = [row for page in pages for row in page["results"]]
    assert ordered(row) == ordered(winter)


async def test_detail_of_seeded_contacts(stack):
    case = REQUESTS_GET["interne-taak-detail"]
    response = await stack.client.get(case["target"], headers=kiss_headers())
    assert response.status_code == 200
    assert ordered(response.json()) == ordered(load_fixture(case["expectedResponse"]))
    [read] = stack.upstream_requests("GET", f"/contactmomenten/{case['target'].rsplit('/', 1)[1]}")
    assert read["user_id"] == "jjansen"
    # The simulator only shows this contact to pdvries and jjansen: a Token has no user.
    forbidden = await stack.client.get(case["target"], headers=AUTHS["token"][0]())
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "permission_denied")
    # A plain contactmoment is no interne taak; an unknown uuid is the e-Suite's 404.
    for uuid in ("cb7b21e1-708d-4ea3-8d81-147dd041f296", "00000000-0000-4000-8000-000000000000"):
        missing = await stack.client.get(f"/api/v2/objects/{uuid}", headers=kiss_headers())
        assert (missing.status_code, missing.json()["code"], missing.headers["content-crs"]) == (
            404,
            "not_found",
            "EPSG:4326",
        )


# --- paging across three pages -----------------------------------------------------------------

PAGING_PHONE = "0699887766"


async def create_paging_contactverzoeken(stack: Stack, count: int) -> list[str]:
    template = load_fixture("kiss/post-contactverzoek-afdeling-anonymous-v0.6.json")
    uuids = []
    for index in range(count):
        body = copy.deepcopy(template)
        body["registratiedatum"] = body["einddatum"] = f"2025-08-{index + 1:02d}T09:00:00.000Z"
        body["toelichting"] = f"Verzoek {index + 1}"
        body["betrokkene"]["digitaleAdressen"][1]["adres"] = PAGING_PHONE
        uuids.append((await create_contactverzoek(stack, body)).rsplit("/", 1)[1])
    return uuids


@pytest.mark.parametrize("style", ["2024", "v1"])
@pytest.mark.parametrize("auth", AUTHS)
async def test_paging_across_three_pages_like_kiss(small_stack, style, auth):
    stack = small_stack
    created = await create_paging_contactverzoeken(stack, 8)
    headers, user_id = AUTHS[auth]
    first = kiss_query(style, PHONE_FILTER.format(PAGING_PHONE))
    pages = await follow_like_kiss(stack, first, headers())

    assert [len(page["results"]) for page in pages] == [3, 3, 2]
    assert {page["count"] for page in pages} == {8}
    seen = [row["uuid"] for page in pages for row in page["results"]]
    assert sorted(seen) == sorted(created) and len(set(seen)) == len(seen)  # every row exactly once
    _, inbound = decoded_query(f"{ADAPTER}{first}")
    for number, page in enumerate(pages, start=1):
        for link, target in (("next", number + 1), ("previous", number - 1)):
            if not 1 <= target <= 3:
                assert page[link] is None
                continue
            origin_and_path, pairs = decoded_query(page[link])
            assert origin_and_path == f"{ADAPTER}/api/v2/objects"
            # The same query, in the same order, with `page` replaced in place.
            assert pairs == [("page", str(target)) if name == "page" else (name, value) for name, value in inbound]
        assert all("klant" not in row["record"]["data"]["betrokkene"] for row in page["results"])
    # ordering=-record__data__registratiedatum over all pages (C-5): created 2025-08-01 … 08-08.
    assert seen == created[::-1]
    # Every one of KISS's three requests reads the three e-Suite pages, the first one first.
    pages_read = [entry["query"][-1] for entry in searches(stack)]
    assert [pages_read[index] for index in (0, 3, 6)] == [["page", "1"]] * 3
    assert sorted(pages_read) == sorted([["page", "1"], ["page", "2"], ["page", "3"]] * 3)
    assert {entry["user_id"] for entry in stack.upstream_requests("GET")} == {user_id}


async def test_next_is_appended_when_kiss_sent_no_page(small_stack):
    """KISS v0.6+ asks the klant's list without `page`; `next` then gets one appended (C-6)."""
    stack = small_stack
    for uuid in await create_paging_contactverzoeken(stack, 4):
        await link_klant(stack, f"{ADAPTER}/contactmomenten/api/v1/contactmomenten/{uuid}")
    first = kiss_query("v1", KLANT_FILTER, page=None)
    pages = await follow_like_kiss(stack, first, kiss_headers())
    _, inbound = decoded_query(f"{ADAPTER}{first}")
    assert decoded_query(pages[0]["next"]) == (f"{ADAPTER}/api/v2/objects", inbound + [("page", "2")])
    assert decoded_query(pages[1]["previous"]) == (f"{ADAPTER}/api/v2/objects", inbound + [("page", "1")])
    # 4 created + the seeded contactverzoek of the klant; every row carries the filter's klant.
    assert [len(page["results"]) for page in pages] == [3, 2]
    assert {row["record"]["data"]["betrokkene"]["klant"] for page in pages for row in page["results"]} == {KLANT}


# --- a contactverzoek made through the contactmomenten front --------------------------------


async def test_created_contactverzoek_is_an_interne_taak_of_its_klant_and_phone(stack):
    name = "post-contactverzoek-groep-known-klant-v1"
    contactmoment = await create_contactverzoek(stack, (FIXTURES / "kiss" / f"{name}.json").read_bytes())
    uuid = contactmoment.rsplit("/", 1)[1]
    await link_klant(stack, contactmoment)  # as KISS does after the POST
    calls_before = len(stack.store.requests)
    interne_taak = load_fixture("kiss/post-interne-taak-v1.json")
    interne_taak["record"]["data"]["contactmoment"] = contactmoment
    posted = await stack.client.post("/api/v2/objects", json=interne_taak, headers=kiss_headers())
    assert (posted.status_code, posted.json()["uuid"]) == (201, uuid)
    assert len(stack.store.requests) == calls_before  # answered locally (T-5)

    by_klant = await stack.client.get(kiss_query("v1", KLANT_FILTER, page=None), headers=kiss_headers())
    by_phone = await follow_like_kiss(stack, kiss_query("v1", PHONE_FILTER.format("0612345678")), kiss_headers())
    detail = await stack.client.get(f"/api/v2/objects/{uuid}", headers=kiss_headers())
    assert by_klant.status_code == detail.status_code == 200

    [klant_row] = [row for row in by_klant.json()["results"] if row["uuid"] == uuid]
    [phone_row] = [row for page in by_phone for row in page["results"] if row["uuid"] == uuid]
    assert posted.json()["url"] == klant_row["url"] == f"{ADAPTER}/api/v2/objects/{uuid}"

    # The expected row: the seeded contact of the same klant (same P-rule input), normalised
    # for what the e-Suite assigns and for the voorlopig antwoord only the seeded one has.
    expected = copy.deepcopy(load_fixture("expected/get-interne-taken-by-klant-v1.response.json")["results"][0])
    registratiedatum = klant_row["record"]["data"]["registratiedatum"]
    sent = load_fixture(f"kiss/{name}.json")
    assert parse_datetime(registratiedatum) == parse_datetime(sent["registratiedatum"])
    expected.update(url=f"{ADAPTER}/api/v2/objects/{uuid}", uuid=uuid)
    expected["record"].update(startAt="2025-09-02", registrationAt="2025-09-02")
    expected["record"]["data"].update(
        contactmoment=contactmoment,
        registratiedatum=registratiedatum,
        toelichting=load_fixture(f"expected/{name}.esuite-request.json")["toelichting"],
    )
    assert ordered(klant_row) == ordered(expected)
    assert ordered(phone_row) == ordered(expected)  # klant found by the look-up (I-8)
    assert ordered(detail.json()) == ordered(expected)
    # Newest first: the new contactverzoek heads the klant's list.
    assert [row["uuid"] for row in by_klant.json()["results"]] == [uuid, "b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3"]


async def test_a_page_past_the_end_is_the_esuites_404(stack):
    response = await stack.client.get(
        kiss_query("2024", PHONE_FILTER.format("0612345678"), page=9), headers=kiss_headers()
    )
    assert (response.status_code, response.json()["code"], response.headers["content-crs"]) == (
        404,
        "not_found",
        "EPSG:4326",
    )
    # C-5: the first e-Suite page says there is one page; page 9 is not asked for.
    assert [(entry["status"], entry["query"][-1]) for entry in stack.upstream_requests()] == [(200, ["page", "1"])]
