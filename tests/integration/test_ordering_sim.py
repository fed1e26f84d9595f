"""C-5: newest first on KISS's first page, whatever order the e-Suite lists in (issue 14, items 6 and 5).

The simulator lists oldest first (as the one real e-Suite sample does) with 3 contacts a page,
and the seeded klant has 3 or more e-Suite pages in both of KISS's lists. KISS reads only the
first page of each; it must hold the klant's newest contacts.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from urllib.parse import quote

import httpx
import pytest
import structlog

from tests.conftest import ADAPTER, INTERNE_TAAK_TYPE, Stack, app_client, fixture_settings, kiss_headers

pytestmark = pytest.mark.anyio

KLANT = f"{ADAPTER}/klanten/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
ESUITE_KLANT = "https://esuite.example.org/klanten-api-provider/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
CM_LIST = "/contactmomenten/api/v1/contactmomenten"
# KISS v1.0 … v3.0.0, first page only (kiss-front.md §4.2, §5.3)
KISS_CONTACTMOMENTEN = (
    f"{CM_LIST}??klant={quote(KLANT, safe='')}&ordering=-registratiedatum&expand=objectcontactmomenten"
)
KISS_CONTACTVERZOEKEN = (
    "/api/v2/objects?ordering=-record__data__registratiedatum&pageSize=10"
    f"&data_attr={quote('betrokkene__klant__exact__' + KLANT, safe='')}&type={quote(INTERNE_TAAK_TYPE, safe='')}"
)

# (uuid, registratiedatum, contactverzoek?) added to the seed's b2272f29 (2025-01-15, plain),
# b54a7b40 (2025-03-04, contactverzoek) and cb7b21e1 (2025-05-20, plain) of the same klant.
ADDED = (
    ("e1000000-0000-4000-8000-000000000001", "2025-07-01T09:00:00+02:00", True),
    ("e1000000-0000-4000-8000-000000000003", "2025-07-03T09:00:00+02:00", True),
    ("e1000000-0000-4000-8000-000000000005", "2025-07-05T09:00:00+02:00", True),
    ("e1000000-0000-4000-8000-000000000007", "2025-07-07T09:00:00+02:00", True),
    ("e1000000-0000-4000-8000-000000000009", "2025-07-09T09:00:00+02:00", True),
    ("e1000000-0000-4000-8000-000000000010", "2025-07-10T09:00:00+02:00", False),
    ("e1000000-0000-4000-8000-000000000011", "2025-07-11T09:00:00+02:00", True),
    ("e1000000-0000-4000-8000-000000000012", "2025-07-12T09:00:00+02:00", False),
)


def add_contacts(stack: Stack) -> None:
    """Contacts of the seeded klant, stored under the uuids above (the simulator's own rules
    check each one), and linked to the klant."""
    store = stack.store
    for uuid, registratiedatum, contactverzoek in ADDED:
        body = {"registratiedatum": registratiedatum, "kanaal": "Telefoon", "tekst": "Vraag", "afdeling": "Burgerzaken"}
        if contactverzoek:
            body |= {
                "type": "Terugbelverzoek",
                "antwoord": "N.v.t.",
                "status": "nieuw",
                "contactgegevens": {"telefoonnummer": "0611111111"},
            }
        else:
            body |= {"antwoord": "Beantwoord.", "status": "afgehandeld"}
        contact = store.create_contact(body)
        del store.contacts[contact.uuid]
        contact.uuid = uuid
        store.contacts[uuid] = contact
        store.create_link("klantcontactmomenten", {"klant": ESUITE_KLANT, "contactmoment": store.contact_url(uuid)})


@pytest.fixture
async def oldest_first():
    stack = Stack(page_size=3, list_order="oldest-first")
    add_contacts(stack)
    yield stack
    await stack.aclose()


def esuite_contact_searches(stack: Stack) -> list[dict]:
    return stack.upstream_requests("GET", "/contactmomenten-api-provider/api/v1/contactmomenten")


async def test_kiss_first_page_of_contactmomenten_holds_the_newest(oldest_first):
    stack = oldest_first
    # The e-Suite's own first page: the three oldest (what a per-page sort would have shown).
    response = await stack.client.get(KISS_CONTACTMOMENTEN, headers=kiss_headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(item["url"].rsplit("/", 1)[1], item["registratiedatum"]) for item in body["results"]] == [
        ("e1000000-0000-4000-8000-000000000012", "2025-07-12T09:00:00+02:00"),
        ("e1000000-0000-4000-8000-000000000011", "2025-07-11T09:00:00+02:00"),
        ("e1000000-0000-4000-8000-000000000010", "2025-07-10T09:00:00+02:00"),
    ]
    assert body["count"] == 11
    assert body["previous"] is None
    assert (
        body["next"]
        == f"{ADAPTER}{CM_LIST}?klant={quote(KLANT, safe='')}&ordering=-registratiedatum&expand=objectcontactmomenten&page=2"
    )
    assert all(item["objectcontactmomenten"] == [] for item in body["results"])  # expanded, for the rows served
    # 11 contacts, 4 e-Suite pages: the first asked without `page`, then 2–4 (concurrently).
    first, *rest = [entry["query"] for entry in esuite_contact_searches(stack)]
    assert first == [["klant", ESUITE_KLANT]]
    assert sorted(query[-1][1] for query in rest) == ["2", "3", "4"]
    assert len(stack.upstream_requests("GET", "/objectcontactmomenten")) == 3


async def test_kiss_first_page_of_contactverzoeken_holds_the_newest(oldest_first):
    stack = oldest_first
    response = await stack.client.get(KISS_CONTACTVERZOEKEN, headers=kiss_headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(row["uuid"], row["record"]["data"]["registratiedatum"]) for row in body["results"]] == [
        ("e1000000-0000-4000-8000-000000000011", "2025-07-11T09:00:00+02:00"),
        ("e1000000-0000-4000-8000-000000000009", "2025-07-09T09:00:00+02:00"),
        ("e1000000-0000-4000-8000-000000000007", "2025-07-07T09:00:00+02:00"),
    ]
    assert (body["count"], body["previous"]) == (7, None)
    assert body["next"] == f"{ADAPTER}{KISS_CONTACTVERZOEKEN}&page=2"
    assert {row["record"]["data"]["betrokkene"]["klant"] for row in body["results"]} == {KLANT}
    assert len(esuite_contact_searches(stack)) == 3  # 7 contactverzoeken: 3 e-Suite pages


async def test_following_next_sees_every_contactverzoek_once_in_global_order(oldest_first):
    stack, url, seen = oldest_first, KISS_CONTACTVERZOEKEN, []
    while url is not None:
        page = (await stack.client.get(url, headers=kiss_headers())).json()
        seen += [row["uuid"][-2:] for row in page["results"]]
        url = page["next"]
    # b54a7b40-… (2025-03-04) is the seed's contactverzoek of this klant
    assert seen == ["11", "09", "07", "05", "03", "01", "c3"]


async def test_oldest_first_ordering_too(oldest_first):
    response = await oldest_first.client.get(
        KISS_CONTACTMOMENTEN.replace("-registratiedatum", "registratiedatum"), headers=kiss_headers()
    )
    assert [item["identificatie"] for item in response.json()["results"]] == ["0088-2025", "1187-2025", "1201-2025"]


# --- the bound: ORDERED_LIST_MAX_PAGES ----------------------------------------------------------


async def test_past_the_bound_best_effort_order_with_a_warning_and_a_metric():
    """11 contacts = 4 e-Suite pages, 2 sorted: pages 1–2 are the 6 oldest in order, pages 3–4
    the e-Suite's own pages sorted within themselves; each contact is seen exactly once."""
    stack = Stack(fixture_settings(ORDERED_LIST_MAX_PAGES="2"), page_size=3, list_order="oldest-first")
    add_contacts(stack)
    try:
        with structlog.testing.capture_logs() as logs:
            pages, url = [], KISS_CONTACTMOMENTEN
            while url is not None:
                response = await stack.client.get(url, headers=kiss_headers())
                assert response.status_code == 200, response.text
                pages.append(response.json())
                url = pages[-1]["next"]
        dates = [[item["registratiedatum"][:10] for item in page["results"]] for page in pages]
        assert dates == [
            ["2025-07-05", "2025-07-03", "2025-07-01"],  # e-Suite pages 1–2, sorted together
            ["2025-05-20", "2025-03-04", "2025-01-15"],
            ["2025-07-10", "2025-07-09", "2025-07-07"],  # e-Suite page 3, sorted within itself
            ["2025-07-12", "2025-07-11"],  # e-Suite page 4
        ]
        assert {page["count"] for page in pages} == {11}
        warnings = [entry for entry in logs if entry["event"] == "ordered_list_truncated"]
        assert len(warnings) == len(pages) and warnings[0]["esuite_pages"] == 4 and warnings[0]["pages_sorted"] == 2
        metrics = await stack.client.get("/metrics")
        assert (
            f'kiss_adapter_ordered_list_truncated_total{{route="contactmomenten"}} {float(len(pages))}' in metrics.text
        )
    finally:
        await stack.aclose()


# --- concurrency: within the fan-out bound of operations.md §5.6 ------------------------------


async def test_the_pages_are_read_at_most_8_at_a_time():
    esuite_cm = "https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten"
    in_flight, most, pages_asked = 0, 0, []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        page = int(request.url.params.get("page", "1"))
        pages_asked.append(page)
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        # 12 pages of 20, oldest first: contact n registered on day n of 2025 (n = 0 … 239)
        results = [
            {
                "url": f"{esuite_cm}/00000000-0000-4000-8000-{n:012d}",
                "bronorganisatie": "001234567",
                "registratiedatum": f"{date(2025, 1, 1) + timedelta(days=n)}T09:00:00Z",
                "kanaal": "Telefoon",
                "tekst": "Vraag",
            }
            for n in range((page - 1) * 20, page * 20)
        ]
        next_link = f"{esuite_cm}?klant=k&page={page + 1}" if page < 12 else None
        return httpx.Response(200, json={"count": 240, "next": next_link, "previous": None, "results": results})

    async with app_client(httpx.MockTransport(handler)) as client:
        response = await client.get(f"{CM_LIST}?klant=k&ordering=-registratiedatum", headers=kiss_headers())
    assert response.status_code == 200, response.text
    assert pages_asked[0] == 1 and sorted(pages_asked[1:]) == list(range(2, 11))  # the bound: 10 of 12 pages
    assert most == 8
    body = response.json()
    # The newest of the 200 read (n = 199 … 180), not of the e-Suite's first page (n = 0 … 19).
    assert [item["url"][-3:] for item in body["results"]] == [f"{n:03d}" for n in range(199, 179, -1)]
    assert (body["count"], body["next"]) == (240, f"{ADAPTER}{CM_LIST}?klant=k&ordering=-registratiedatum&page=2")


# --- hostile or changing e-Suite answers -------------------------------------------------------------


def _paged_esuite(pages: dict[int, object], count: int):
    """A mock e-Suite answering `GET …/contactmomenten[?…&page=N]` from `pages` (404 when absent)."""
    esuite_cm = "https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten"

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        if number not in pages:
            return httpx.Response(404, json={"code": "NOT_FOUND", "title": "Niet gevonden", "status": 404})
        results = pages[number]
        next_link = f"{esuite_cm}?klant=k&page={number + 1}" if number < 3 else None
        return httpx.Response(200, json={"count": count, "next": next_link, "previous": None, "results": results})

    return httpx.MockTransport(handler)


def _contact(n: int) -> dict:
    return {
        "url": f"https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten/00000000-0000-4000-8000-{n:012d}",
        "bronorganisatie": "001234567",
        "registratiedatum": f"2025-07-{n:02d}T09:00:00+02:00",
        "kanaal": "Telefoon",
        "tekst": "Vraag",
    }


async def test_an_unusable_item_on_a_page_not_served_still_fails_the_whole_answer():
    transport = _paged_esuite({1: [_contact(1), _contact(2)], 2: [_contact(3), "geen contact"], 3: [_contact(5)]}, 5)
    async with app_client(transport) as client:
        response = await client.get(f"{CM_LIST}?klant=k&ordering=-registratiedatum", headers=kiss_headers())
    assert (response.status_code, response.json()["code"]) == (502, "upstream-invalid-response")


async def test_a_page_gone_while_reading_counts_as_empty():
    transport = _paged_esuite({1: [_contact(1), _contact(2)], 2: [_contact(3), _contact(4)]}, 6)  # page 3: 404
    async with app_client(transport) as client:
        response = await client.get(f"{CM_LIST}?klant=k&ordering=-registratiedatum", headers=kiss_headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["registratiedatum"][:10] for item in body["results"]] == ["2025-07-04", "2025-07-03"]
    assert (body["count"], body["next"]) == (4, f"{ADAPTER}{CM_LIST}?klant=k&ordering=-registratiedatum&page=2")
