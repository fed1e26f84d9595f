"""The Objects API facade through the real app, the e-Suite and the smoelenboek answering with
the fixture files (kiss-front.md §5, mapping.md §5–§8, W9–W12, W14).

Exact bodies (key order included), the exact upstream calls, and who gets which credential.
"""

import re
import ssl
from urllib.parse import quote

import httpx
import jwt
import pytest

from adapter.esuite_client import client as esuite_client_module
from tests.conftest import (
    ADAPTER,
    ESUITE_CLIENT,
    ESUITE_SECRET,
    FIXTURES,
    INTERNE_TAAK_TYPE,
    OBJECTS_TOKEN,
    SMOELENBOEK_TOKEN,
    SMOELENBOEK_TYPE,
    app_client,
    fixture_settings,
    kiss_headers,
    load_fixture,
    ordered,
)

pytestmark = pytest.mark.anyio

CM = "https://esuite.example.org/contactmomenten-api-provider/api/v1"
SMOELENBOEK = "https://objecten.example.org/api/v2/objects"
KLANT = f"{ADAPTER}/klanten/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
ESUITE_KLANT = "https://esuite.example.org/klanten-api-provider/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
REQUESTS_GET = {case["case"]: case for case in load_fixture("kiss/requests-get.json")}
IT = quote(INTERNE_TAAK_TYPE, safe="")
TYPES = [("type", "Terugbelverzoek"), ("type", "Contactverzoek")]
EMPTY_PAGE = {"count": 0, "next": None, "previous": None, "results": []}
DETAIL_UUID = "6b49ddb3-f8be-452d-92ba-f780ee8d49db"
# One verified TLS context for every test: building one per app costs 50 ms. pytest-httpx
# answers for every `AsyncHTTPTransport`, so nothing leaves the process.
TLS = ssl.create_default_context()
UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# (inbound Authorization headers, the X-Esuite-Request-User-Id the e-Suite must get)
AUTHS = {
    "jwt": (lambda: kiss_headers(), "jjansen"),
    "token": (lambda: {"Authorization": f"Token {OBJECTS_TOKEN}"}, None),
}


def adapter() -> httpx.AsyncClient:
    """The real app; the e-Suite and the smoelenboek are pytest-httpx's `httpx_mock`."""
    return app_client(httpx.AsyncHTTPTransport(verify=TLS))


def upstream_of(case: dict, index: int = 0) -> str:
    """The literal URL of a `requests-get.json` upstream line (`GET <url>[ with …]`)."""
    return case["upstream"][index].split(" ")[1]


def lookup_url(contact_url: str) -> str:
    return f"{CM}/klantcontactmomenten?contactmoment={quote(contact_url, safe='')}"


def decoded(url: httpx.URL | str) -> tuple[str, list[tuple[str, str]]]:
    """Path and decoded query parameters in order (Q-5: tests compare decoded parameters)."""
    url = httpx.URL(str(url))
    return f"{url.scheme}://{url.host}{url.path}", list(url.params.multi_items())


def assert_crs(response: httpx.Response) -> None:
    assert response.headers["content-crs"] == "EPSG:4326"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["code"], body["status"]) == (f"urn:kiss-esuite-adapter:fout:{code}", code, status)
    assert UUID_URN.match(body["instance"])
    assert isinstance(body["detail"], str) and body["detail"]
    assert ("invalidParams" in body) == (status == 400)
    return body


def assert_esuite_credentials(requests: list[httpx.Request], user_id: str | None) -> None:
    """SEC-3/SEC-5: the adapter's own e-Suite JWT and the token's user, nothing of the client's."""
    assert requests
    for request in requests:
        assert str(request.url).startswith("https://esuite.example.org/")
        scheme, _, token = request.headers["authorization"].partition(" ")
        assert scheme == "Bearer"
        claims = jwt.decode(token, ESUITE_SECRET, algorithms=["HS256"])
        assert claims["client_id"] == ESUITE_CLIENT
        assert request.headers.get("x-esuite-request-user-id") == user_id
        assert SMOELENBOEK_TOKEN not in str(request.headers.raw)
        assert OBJECTS_TOKEN not in str(request.headers.raw)


def add_search_page_1(httpx_mock) -> None:
    """W9 upstream: page 1 of the phone search and one klant look-up per row."""
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    page = load_fixture("esuite/contactmomenten-page-1-contactverzoeken.json")
    httpx_mock.add_response(method="GET", url=upstream_of(case), json=page)
    for row in page["results"]:
        known = row["url"].endswith("b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3")
        fixture = "klantcontactmomenten-page" if known else "klantcontactmomenten-page-empty"
        httpx_mock.add_response(method="GET", url=lookup_url(row["url"]), json=load_fixture(f"esuite/{fixture}.json"))


def add_search_pages(httpx_mock, look_ups: tuple[str, ...]) -> None:
    """W9 upstream with C-5: both e-Suite pages of the phone search (the adapter reads every
    page of an ordered list), and a klant look-up for the rows served (`look_ups`, uuid prefixes)."""
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    httpx_mock.add_response(
        method="GET", url=upstream_of(case), json=load_fixture("esuite/contactmomenten-page-1-contactverzoeken.json")
    )
    httpx_mock.add_response(
        method="GET",
        url=upstream_of(case).replace("page=1", "page=2"),
        json=load_fixture("esuite/contactmomenten-page-2-contactverzoeken.json"),
    )
    for uuid in look_ups:
        known = uuid == "b54a7b40"
        fixture = "klantcontactmomenten-page" if known else "klantcontactmomenten-page-empty"
        httpx_mock.add_response(
            method="GET",
            url=lookup_url(f"{CM}/contactmomenten/{SEARCH_UUIDS[uuid]}"),
            json=load_fixture(f"esuite/{fixture}.json"),
        )


SEARCH_UUIDS = {
    "6b49ddb3": "6b49ddb3-f8be-452d-92ba-f780ee8d49db",  # 2025-06-10, e-Suite page 1
    "141a574c": "141a574c-6013-48f9-9d3d-db0e887e2603",  # 2025-05-20, e-Suite page 1
    "9202e9b2": "9202e9b2-43d7-4554-88e7-4d7d7cbc4049",  # 2025-04-01, e-Suite page 2
    "b54a7b40": "b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3",  # 2025-03-04, e-Suite page 1
}


def w9_rows() -> dict[str, dict]:
    """The four mapped rows of W9 (both expected pages), by uuid prefix."""
    rows = load_fixture("expected/get-interne-taken-search-v1.response.json")["results"]
    rows += load_fixture("expected/get-interne-taken-search-v1-page-2.response.json")["results"]
    return {row["uuid"][:8]: row for row in rows}


# --- §5.3 GET list of interne taken --------------------------------------------------------


@pytest.mark.parametrize("auth", AUTHS)
async def test_W9_search_by_phone_page_1_with_klant_look_ups(httpx_mock, auth):
    """C-5: newest first over both e-Suite pages; the older b54a7b40 of e-Suite page 1 moves
    to page 2 and 9202e9b2 of e-Suite page 2 comes to page 1. Look-ups for the rows served."""
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    add_search_pages(httpx_mock, ("6b49ddb3", "141a574c", "9202e9b2"))
    headers, user_id = AUTHS[auth]
    async with adapter() as client:
        response = await client.get(case["target"], headers={**headers(), "X-Esuite-Request-User-Id": "intruder"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_crs(response)
    expected = load_fixture(case["expectedResponse"])  # envelope: count 4, next page=2
    rows = w9_rows()
    expected["results"] = [rows["6b49ddb3"], rows["141a574c"], rows["9202e9b2"]]
    assert ordered(response.json()) == ordered(expected)
    first, second, *look_ups = httpx_mock.get_requests()
    assert (first.method, decoded(first.url)) == ("GET", decoded(upstream_of(case)))  # Q-14 order
    assert decoded(second.url) == decoded(upstream_of(case).replace("page=1", "page=2"))
    assert sorted(decoded(request.url) for request in look_ups) == sorted(
        (f"{CM}/klantcontactmomenten", [("contactmoment", f"{CM}/contactmomenten/{SEARCH_UUIDS[uuid]}")])
        for uuid in ("6b49ddb3", "141a574c", "9202e9b2")
    )
    assert_esuite_credentials([first, second, *look_ups], user_id)


async def test_W9_page_2_has_previous_and_no_next(httpx_mock):
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    add_search_pages(httpx_mock, ("b54a7b40",))
    async with adapter() as client:
        response = await client.get(case["target"].replace("page=1", "page=2"), headers=kiss_headers())
    assert response.status_code == 200
    assert_crs(response)
    expected = load_fixture("expected/get-interne-taken-search-v1-page-2.response.json")
    expected["results"] = [w9_rows()["b54a7b40"]]  # the oldest of the four, with its klant
    assert ordered(response.json()) == ordered(expected)
    assert response.json()["results"][0]["record"]["data"]["betrokkene"]["klant"] == KLANT


@pytest.mark.parametrize("name", ["interne-taken-by-klant-v1", "interne-taken-by-klant-2024"])
async def test_by_klant_uses_the_filter_as_klant_without_look_ups(httpx_mock, name):
    case = REQUESTS_GET[name]
    httpx_mock.add_response(
        method="GET",
        url=upstream_of(case),
        json=load_fixture("esuite/contactmomenten-page-contactverzoeken-klant.json"),
    )
    async with adapter() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert response.status_code == 200
    assert_crs(response)
    # Both generations get the same body: the answer does not depend on the filter style.
    expected = load_fixture(REQUESTS_GET["interne-taken-by-klant-v1"]["expectedResponse"])
    assert ordered(response.json()) == ordered(expected)
    [request] = httpx_mock.get_requests()  # I-8 step 1: no look-ups
    assert decoded(request.url) == decoded(upstream_of(case))
    assert_esuite_credentials([request], "jjansen")


async def test_search_by_email_2024_attaches_the_looked_up_klant(httpx_mock):
    case = REQUESTS_GET["interne-taken-search-email-2024"]
    page = load_fixture("esuite/contactmomenten-page-contactverzoeken-klant.json")
    httpx_mock.add_response(method="GET", url=upstream_of(case), json=page)
    httpx_mock.add_response(
        method="GET",
        url=lookup_url(page["results"][0]["url"]),
        json=load_fixture("esuite/klantcontactmomenten-page.json"),
    )
    async with adapter() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert response.status_code == 200
    # The klant of the look-up, rewritten to the adapter, is the one the klant filter gives.
    assert ordered(response.json()) == ordered(load_fixture("expected/get-interne-taken-by-klant-v1.response.json"))
    search, look_up = httpx_mock.get_requests()
    assert decoded(search.url) == decoded(upstream_of(case))
    assert decoded(search.url)[1][-2:] == [("telefoonnummerOfEmailadres", "anna.vandijk@example.org"), ("page", "1")]
    assert decoded(look_up.url) == (f"{CM}/klantcontactmomenten", [("contactmoment", page["results"][0]["url"])])


@pytest.mark.parametrize(
    "query, upstream",
    [
        (
            f"data_attrs=betrokkene__klant__exact__{quote(KLANT, safe='')}&page=1",
            [("klant", ESUITE_KLANT), ("page", "1")],
        ),
        ("data_attr=betrokkene__klant__exact__12345", [("klant", "12345")]),
        (
            "data_attr=betrokkene__digitaleAdressen__icontains__anna.vandijk%40example.org",
            [("telefoonnummerOfEmailadres", "anna.vandijk@example.org")],
        ),
        ("data_attrs=betrokkene__digitaleAdressen__icontains__06123&page=", [("telefoonnummerOfEmailadres", "06123")]),
        ("", []),
        # Q-14 order whatever the inbound order; pageSize is not forwarded.
        (
            f"page=3&data_attr=betrokkene__digitaleAdressen__icontains__0612&pageSize=10&data_attr=betrokkene__klant__exact__{quote(KLANT, safe='')}",
            [("klant", ESUITE_KLANT), ("telefoonnummerOfEmailadres", "0612"), ("page", "3")],
        ),
        # ordering is not forwarded; an ordered list starts reading at the e-Suite's page 1 (C-5).
        (
            f"page=1&data_attr=betrokkene__digitaleAdressen__icontains__0612&ordering=record__data__registratiedatum&data_attr=betrokkene__klant__exact__{quote(KLANT, safe='')}",
            [("klant", ESUITE_KLANT), ("telefoonnummerOfEmailadres", "0612"), ("page", "1")],
        ),
        # identical repeats count once; Q-10: a trailing comma is an empty expression.
        ("data_attrs=betrokkene__klant__exact__12345,betrokkene__klant__exact__12345,", [("klant", "12345")]),
        # the value may hold `__`, `,` (data_attr) and `+`/spaces.
        (
            "data_attr=betrokkene__digitaleAdressen__icontains__a__b%2Cc+d%2B",
            [("telefoonnummerOfEmailadres", "a__b,c d+")],
        ),
    ],
    ids=[
        "klant-2024",
        "klant-opaque",
        "email",
        "empty-page",
        "no-filter",
        "q14-order",
        "q14-ordered",
        "repeat",
        "odd-value",
    ],
)
async def test_W11_query_translation(httpx_mock, query, upstream):
    httpx_mock.add_response(method="GET", json=EMPTY_PAGE)
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects?{query}&type={IT}", headers=kiss_headers())
    assert response.status_code == 200, response.text
    assert response.json() == EMPTY_PAGE
    [request] = httpx_mock.get_requests()
    assert decoded(request.url) == (f"{CM}/contactmomenten", TYPES + upstream)


async def test_klant_filter_value_is_every_rows_klant_exactly_as_sent(httpx_mock):
    httpx_mock.add_response(method="GET", json=load_fixture("esuite/contactmomenten-page-1-contactverzoeken.json"))
    async with adapter() as client:
        response = await client.get(
            f"/api/v2/objects?data_attr=betrokkene__klant__exact__12345&type={IT}", headers=kiss_headers()
        )
    assert [row["record"]["data"]["betrokkene"]["klant"] for row in response.json()["results"]] == ["12345"] * 3
    assert len(httpx_mock.get_requests()) == 1


async def test_look_up_results_for_other_contacts_are_ignored(httpx_mock):
    """I-8 step 2: an e-Suite that ignores the `contactmoment` filter attaches nobody's klant."""
    page = load_fixture("esuite/contactmomenten-page-1-contactverzoeken.json")
    httpx_mock.add_response(method="GET", url=upstream_of(REQUESTS_GET["interne-taken-search-phone-v1"]), json=page)
    httpx_mock.add_response(
        method="GET",
        url=re.compile(rf"{re.escape(CM)}/klantcontactmomenten\?.*"),
        json=load_fixture("esuite/klantcontactmomenten-page.json"),
        is_reusable=True,
    )
    unordered = REQUESTS_GET["interne-taken-search-phone-v1"]["target"].replace(
        "ordering=-record__data__registratiedatum&", ""
    )
    async with adapter() as client:
        response = await client.get(unordered, headers=kiss_headers())
    klanten = {row["uuid"][:8]: row["record"]["data"]["betrokkene"].get("klant") for row in response.json()["results"]}
    assert klanten == {"6b49ddb3": None, "141a574c": None, "b54a7b40": KLANT}
    assert len(httpx_mock.get_requests()) == 4


@pytest.mark.parametrize(
    "status, outcome",
    [(400, 200), (403, 200), (404, 200), (401, "upstream-unauthorized"), (500, "upstream-error")],
)
async def test_klant_look_up_failures(httpx_mock, status, outcome):
    """I-8 step 3: a 4xx other than 401 means "no klant"; 401 and 5xx fail the request."""
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    page = load_fixture("esuite/contactmomenten-page-2-contactverzoeken.json")
    httpx_mock.add_response(method="GET", url=upstream_of(case), json=page)
    httpx_mock.add_response(
        method="GET",
        url=lookup_url(page["results"][0]["url"]),
        status_code=status,
        json=load_fixture("esuite/error-404-not-found.json"),
    )
    async with adapter() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert_crs(response)
    if outcome == 200:
        assert response.status_code == 200
        assert "klant" not in response.json()["results"][0]["record"]["data"]["betrokkene"]
    else:
        assert_problem(response, 502, outcome)


@pytest.mark.parametrize("status, code", [(404, "not_found"), (401, "upstream-unauthorized"), (500, "upstream-error")])
async def test_list_esuite_errors(httpx_mock, status, code):
    httpx_mock.add_response(method="GET", status_code=status, json=load_fixture("esuite/error-404-not-found.json"))
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects?page=9&type={IT}", headers=kiss_headers())
    assert_problem(response, 404 if status == 404 else 502, code)
    assert_crs(response)


@pytest.mark.parametrize(
    "ordering, uuids",
    [
        (None, ["b54a7b40", "6b49ddb3", "141a574c"]),  # the e-Suite's order of its page 1 (I-11)
        # C-5: over both e-Suite pages (2025-06-10, 05-20, 04-01 | 03-04)
        ("-record__data__registratiedatum", ["6b49ddb3", "141a574c", "9202e9b2"]),
        ("record__data__registratiedatum", ["b54a7b40", "9202e9b2", "141a574c"]),
    ],
)
async def test_ordering_is_global_across_esuite_pages(httpx_mock, ordering, uuids):
    query = f"data_attr=betrokkene__digitaleAdressen__icontains__0612345678&page=1&type={IT}"
    if ordering:
        add_search_pages(httpx_mock, tuple(uuids))
        query = f"ordering={ordering}&{query}"
    else:
        add_search_page_1(httpx_mock)
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects?{query}", headers=kiss_headers())
    assert [row["uuid"][:8] for row in response.json()["results"]] == uuids
    assert response.json()["count"] == 4


async def test_unsupported_filter_is_refused_with_nothing_sent(httpx_mock):
    case = REQUESTS_GET["interne-taken-unsupported-filter"]
    async with adapter() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    body = assert_problem(response, case["expectedStatus"], "unsupported-filter")
    assert_crs(response)
    assert body["invalidParams"] == [
        {
            "name": "data_attr",
            "code": "unsupported-filter",
            "reason": "Filteren op 'status' met operator 'exact' wordt niet ondersteund.",
        }
    ]
    assert "nieuw" not in response.text  # the reason names path and operator, never the value
    assert httpx_mock.get_requests() == [] == case["upstream"]


@pytest.mark.parametrize(
    "query, code, names",
    [
        # every unsupported expression, with the parameter the client used
        (
            "data_attrs=status__exact__nieuw,betrokkene__klant__exact__1&data_attr=record__gt__2",
            "unsupported-filter",
            ["data_attrs", "data_attr"],
        ),
        ("data_attr=betrokkene__klant__icontains__x", "unsupported-filter", ["data_attr"]),
        ("data_attr=Betrokkene__klant__exact__x", "unsupported-filter", ["data_attr"]),  # prefixes are case-sensitive
        # a supported expression with a blank value
        ("data_attr=betrokkene__klant__exact__", "invalid", ["data_attr"]),
        ("data_attrs=betrokkene__digitaleAdressen__icontains__%20", "invalid", ["data_attrs"]),
        # the same filter twice with different values
        ("data_attrs=betrokkene__klant__exact__A,betrokkene__klant__exact__B", "unsupported-filter", ["data_attrs"]),
        (
            "data_attr=betrokkene__digitaleAdressen__icontains__1&data_attr=betrokkene__digitaleAdressen__icontains__2",
            "unsupported-filter",
            ["data_attr"],
        ),
        # and the ordering/pageSize rules of §5.3
        ("foo=1&data_attr=betrokkene__klant__exact__1", "unknown-parameters", ["foo"]),
        ("page=0", "invalid", ["page"]),
        ("page=twee", "invalid", ["page"]),
        ("ordering=-registratiedatum", "invalid", ["ordering"]),
        ("ordering=record__data__registratiedatum&ordering=-record__data__registratiedatum", "invalid", ["ordering"]),
        ("pageSize=0", "invalid", ["pageSize"]),
        ("pageSize=501", "invalid", ["pageSize"]),
        ("pageSize=tien", "invalid", ["pageSize"]),
        ("pageSize=-1", "invalid", ["pageSize"]),
        ("ordering=kanaal&pageSize=0", "invalid", ["ordering", "pageSize"]),
    ],
)
async def test_refused_queries_are_400_with_nothing_sent(httpx_mock, query, code, names):
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects?{query}&type={IT}", headers=kiss_headers())
    body = assert_problem(response, 400, code)
    assert_crs(response)
    assert [param["name"] for param in body["invalidParams"]] == names
    assert {param["code"] for param in body["invalidParams"]} == {
        "unknown-parameters" if code == "unknown-parameters" else code
    }
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("page_size", ["1", "500", "10"])
async def test_page_size_in_range_is_accepted_and_not_forwarded(httpx_mock, page_size):
    httpx_mock.add_response(
        method="GET", url=f"{CM}/contactmomenten?type=Terugbelverzoek&type=Contactverzoek", json=EMPTY_PAGE
    )
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects?pageSize={page_size}&type={IT}", headers=kiss_headers())
    assert response.status_code == 200


async def test_next_and_previous_point_at_the_adapter_with_the_same_query(httpx_mock):
    """C-6: `page` replaced in place, or appended; the `??` of KISS v1 dropped (Q-1)."""
    page = dict(
        EMPTY_PAGE,
        next=f"{CM}/contactmomenten?page=4&type=Contactverzoek",
        previous=f"{CM}/contactmomenten?type=Contactverzoek",
    )
    httpx_mock.add_response(method="GET", json=page, is_reusable=True)
    async with adapter() as client:
        with_page = await client.get(f"/api/v2/objects??pageSize=10&page=3&type={IT}", headers=kiss_headers())
        without_page = await client.get(f"/api/v2/objects?type={IT}&pageSize=10", headers=kiss_headers())
    assert with_page.json()["next"] == f"{ADAPTER}/api/v2/objects?pageSize=10&page=4&type={IT}"
    assert with_page.json()["previous"] == f"{ADAPTER}/api/v2/objects?pageSize=10&page=1&type={IT}"
    assert without_page.json()["next"] == f"{ADAPTER}/api/v2/objects?type={IT}&pageSize=10&page=4"


# --- §5.1 dispatch --------------------------------------------------------------------------


async def test_unknown_type_is_the_exact_problem_of_operations_4_4(httpx_mock):
    async with adapter() as client:
        response = await client.get(
            "/api/v2/objects?type=https%3A%2F%2Fobjecttypen.example.org%2Fapi%2Fv2%2Fobjecttypes%2Fafdelingen",
            headers=kiss_headers(),
        )
    body = assert_problem(response, 400, "objecttype-onbekend")
    assert_crs(response)
    expected = {
        "type": "urn:kiss-esuite-adapter:fout:objecttype-onbekend",
        "code": "objecttype-onbekend",
        "title": "Ongeldige invoer.",
        "status": 400,
        "detail": "objecttype onbekend: https://objecttypen.example.org/api/v2/objecttypes/afdelingen",
        "instance": body["instance"],
        "invalidParams": [
            {"name": "type", "code": "invalid_choice", "reason": "Dit objecttype wordt niet door de adapter bediend."}
        ],
    }
    assert ordered(body) == ordered(expected)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("query", ["", "?", "?type=", "?type=%20%09", "?page=1", "?type"])
async def test_missing_or_blank_type_is_400_type_required(httpx_mock, query):
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects{query}", headers=kiss_headers())
    body = assert_problem(response, 400, "invalid")
    assert_crs(response)
    assert list(body) == ["type", "code", "title", "status", "detail", "instance", "invalidParams"]
    assert body["title"] == "Ongeldige invoer."
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [("type", "required")]
    assert httpx_mock.get_requests() == []


# --- §5.4 detail -----------------------------------------------------------------------------


@pytest.mark.parametrize("segment", [DETAIL_UUID, DETAIL_UUID.upper(), f"{DETAIL_UUID}?expand=x&type=y"])
async def test_detail_with_one_klant_look_up(httpx_mock, segment):
    """Unknown parameters are ignored on a detail route (Q-6)."""
    case = REQUESTS_GET["interne-taak-detail"]
    httpx_mock.add_response(
        method="GET", url=upstream_of(case, 0), json=load_fixture("esuite/contactmoment-detail-contactverzoek.json")
    )
    httpx_mock.add_response(
        method="GET", url=upstream_of(case, 1), json=load_fixture("esuite/klantcontactmomenten-page-empty.json")
    )
    async with adapter() as client:
        response = await client.get(case["target"].replace(DETAIL_UUID, segment), headers=kiss_headers())
    assert response.status_code == 200
    assert_crs(response)
    assert ordered(response.json()) == ordered(load_fixture(case["expectedResponse"]))
    requests = httpx_mock.get_requests()
    assert [decoded(request.url) for request in requests] == [
        decoded(upstream_of(case, 0)),
        decoded(upstream_of(case, 1)),
    ]
    assert_esuite_credentials(requests, "jjansen")


@pytest.mark.parametrize("contact_type", [None, "Klacht", "terugbelverzoek"])
async def test_detail_of_a_contact_that_is_not_a_contactverzoek_is_404(httpx_mock, contact_type):
    contact = load_fixture("esuite/contactmoment-detail-contactverzoek.json")
    contact.pop("type")
    if contact_type is not None:
        contact["type"] = contact_type
    httpx_mock.add_response(method="GET", url=f"{CM}/contactmomenten/{DETAIL_UUID}", json=contact)
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects/{DETAIL_UUID}", headers=kiss_headers())
    assert_problem(response, 404, "not_found")
    assert_crs(response)
    assert len(httpx_mock.get_requests()) == 1  # no klant look-up for it


@pytest.mark.parametrize("segment", ["abc", "6b49ddb3f8be452d92baf780ee8d49db", f"{DETAIL_UUID}x", "%20"])
async def test_detail_with_a_non_uuid_segment_is_404_without_a_call(httpx_mock, segment):
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects/{segment}", headers=kiss_headers())
    assert_problem(response, 404, "not_found")
    assert_crs(response)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "status, fixture, code",
    [(403, "error-403-not-authorised", "permission_denied"), (404, "error-404-not-found", "not_found")],
)
async def test_detail_esuite_403_and_404_are_passed_on(httpx_mock, status, fixture, code):
    esuite_error = load_fixture(f"esuite/{fixture}.json")
    httpx_mock.add_response(
        method="GET", url=f"{CM}/contactmomenten/{DETAIL_UUID}", status_code=status, json=esuite_error
    )
    async with adapter() as client:
        response = await client.get(f"/api/v2/objects/{DETAIL_UUID}", headers=kiss_headers())
    body = assert_problem(response, status, code)
    assert_crs(response)
    assert (body["title"], body["detail"]) == (esuite_error["title"], esuite_error["detail"])
    assert len(httpx_mock.get_requests()) == 1


# --- §5.6 other methods and paths ------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("segment", [DETAIL_UUID, "geen-uuid"])
@pytest.mark.parametrize("auth", AUTHS)
async def test_changing_an_object_is_405_allow_get(httpx_mock, method, segment, auth):
    async with adapter() as client:
        response = await client.request(
            method, f"/api/v2/objects/{segment}", headers=AUTHS[auth][0](), json={"record": {}}
        )
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    assert httpx_mock.get_requests() == []


async def test_the_405_of_route_15_carries_content_crs(httpx_mock):
    async with adapter() as client:
        response = await client.delete(f"/api/v2/objects/{DETAIL_UUID}", headers=kiss_headers())
    assert response.status_code == 405
    assert_crs(response)


@pytest.mark.parametrize("path", ["/api/v2/objects", f"/api/v2/objects/{DETAIL_UUID}"])
async def test_head_on_the_objects_routes_is_route_24s_404(httpx_mock, path):
    async with adapter() as client:
        response = await client.head(path, headers=kiss_headers())
    assert response.status_code == 404
    assert response.headers["content-crs"] == "EPSG:4326"
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "method, path, headers",
    [
        ("GET", "/api/v2/objecttypes", kiss_headers),
        ("GET", "/api/v2", kiss_headers),
        ("GET", f"/api/v2/objects/{DETAIL_UUID}/history", kiss_headers),
        ("POST", "/api/v2/objects/search", AUTHS["token"][0]),  # one segment: route 14's {uuid}, 404
        ("GET", "/api/v2/objects/", kiss_headers),
    ],
)
async def test_other_paths_under_api_v2_are_404(httpx_mock, method, path, headers):
    async with adapter() as client:
        response = await client.request(method, path, headers=headers(), json={"type": INTERNE_TAAK_TYPE})
    assert_problem(response, 404, "not_found")
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", f"/api/v2/objects/{DETAIL_UUID}/history"),
        ("POST", f"/api/v2/objects/{DETAIL_UUID}/history"),
        ("GET", "/api/v2/objects/"),
        ("GET", "/api/v2/objecttypes"),
    ],
)
async def test_a_token_on_other_paths_under_api_v2_is_401(httpx_mock, method, path):
    """kiss-front.md §2.1, §2.3: `Token` is accepted on the collection and `/{uuid}` only;
    elsewhere it is "Token outside /api/v2/objects": 401, before routing (issue 14, a regression)."""
    async with adapter() as client:
        response = await client.request(method, path, headers=AUTHS["token"][0](), json={"type": INTERNE_TAAK_TYPE})
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert httpx_mock.get_requests() == []


# --- §5.2 POST interne taak ------------------------------------------------------------------


def post_interne_taak(client: httpx.AsyncClient, name: str, headers: dict, **extra):
    return client.post(
        "/api/v2/objects",
        content=(FIXTURES / "kiss" / f"{name}.json").read_bytes(),
        headers={**headers, "Content-Type": "application/json; charset=utf-8", "Content-Crs": "EPSG:4326", **extra},
    )


@pytest.mark.parametrize("name", ["post-interne-taak-2024", "post-interne-taak-v1"])
@pytest.mark.parametrize("auth", AUTHS)
async def test_W12_post_interne_taak_is_answered_locally(httpx_mock, name, auth):
    async with adapter() as client:
        first = await post_interne_taak(client, name, AUTHS[auth][0]())
        second = await post_interne_taak(client, name, AUTHS[auth][0]())
    expected = load_fixture(f"expected/{name}.response.json")
    assert first.status_code == 201
    assert first.headers["content-type"] == "application/json"
    assert_crs(first)
    assert ordered(first.json()) == ordered(expected)
    assert first.headers["location"] == expected["url"]
    sent_type_version = load_fixture(f"kiss/{name}.json")["record"]["typeVersion"]
    assert first.json()["record"]["typeVersion"] == sent_type_version  # 1 stays 1, "1" stays "1"
    # T-5: nothing stored, so the same POST gives the same answer again.
    assert (second.status_code, second.content, second.headers["location"]) == (
        201,
        first.content,
        first.headers["location"],
    )
    assert httpx_mock.get_requests() == []


async def test_post_interne_taak_with_an_invalid_contactmoment_is_400_with_nothing_sent(httpx_mock):
    async with adapter() as client:
        response = await post_interne_taak(client, "post-interne-taak-invalid-contactmoment", kiss_headers())
    body = assert_problem(response, 400, "invalid")
    assert_crs(response)
    assert body["detail"] == "contactmoment ontbreekt of is niet valide"
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [("record.data.contactmoment", "invalid")]
    assert "www.example.org" not in response.text  # no submitted values in the answer
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "change, names",
    [
        (lambda body: body.pop("type"), [("type", "required")]),
        (lambda body: body.update(type=SMOELENBOEK_TYPE), [("type", "invalid_choice")]),
        (lambda body: body.update(record=[]), [("record", "invalid")]),
        (lambda body: body["record"].update(typeVersion="v1"), [("record.typeVersion", "invalid")]),
        (lambda body: body["record"].update(typeVersion=True), [("record.typeVersion", "invalid")]),
        (lambda body: body["record"]["data"].pop("contactmoment"), [("record.data.contactmoment", "invalid")]),
    ],
    ids=["no-type", "other-type", "record-array", "type-version-text", "type-version-bool", "no-contactmoment"],
)
async def test_post_interne_taak_refusals(httpx_mock, change, names):
    body = load_fixture("kiss/post-interne-taak-v1.json")
    change(body)
    async with adapter() as client:
        response = await client.post("/api/v2/objects", json=body, headers={"Authorization": f"Token {OBJECTS_TOKEN}"})
    problem = assert_problem(response, 400, "invalid")
    assert [(p["name"], p["code"]) for p in problem["invalidParams"]] == names
    assert httpx_mock.get_requests() == []


# --- §5.5 smoelenboek ------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTHS)
async def test_W14_smoelenboek_is_proxied_with_its_own_token(httpx_mock, auth):
    case = REQUESTS_GET["smoelenboek-elastic-sync"]
    httpx_mock.add_response(
        method="GET",
        url=upstream_of(case),
        match_headers={"Authorization": f"Token {SMOELENBOEK_TOKEN}"},
        json=load_fixture("objects/smoelenboek-page.json"),
    )
    async with adapter() as client:
        response = await client.get(
            case["target"],
            headers={**AUTHS[auth][0](), "X-Esuite-Request-User-Id": "intruder", "X-Request-ID": "sync-1"},
        )
    assert response.status_code == 200
    assert_crs(response)
    assert ordered(response.json()) == ordered(load_fixture(case["expectedResponse"]))
    [request] = httpx_mock.get_requests()
    assert decoded(request.url) == decoded(upstream_of(case))
    # S-2: never the e-Suite JWT or the user header; never the client's credential.
    assert request.headers["authorization"] == f"Token {SMOELENBOEK_TOKEN}"
    assert "x-esuite-request-user-id" not in request.headers
    assert request.headers["x-request-id"] == "sync-1"
    assert "accept-crs" not in request.headers and "content-crs" not in request.headers
    assert OBJECTS_TOKEN not in str(request.headers.raw)


async def test_smoelenboek_gets_every_parameter_unchanged_and_the_crs_headers(httpx_mock):
    httpx_mock.add_response(method="GET", json={"count": 0, "next": None, "previous": None, "results": []})
    query = (
        f"page=2&type={quote(SMOELENBOEK_TYPE, safe='')}&data_attr=identificatie__exact__p%20d&ordering=-record__index"
    )
    async with adapter() as client:
        response = await client.get(
            f"/api/v2/objects??{query}",
            headers={**kiss_headers(), "Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"},
        )
    assert response.status_code == 200
    [request] = httpx_mock.get_requests()
    assert decoded(request.url) == (
        SMOELENBOEK,
        [
            ("page", "2"),
            ("type", SMOELENBOEK_TYPE),
            ("data_attr", "identificatie__exact__p d"),
            ("ordering", "-record__index"),
        ],
    )
    assert (request.headers["accept-crs"], request.headers["content-crs"]) == ("EPSG:4326", "EPSG:4326")


async def test_interne_taken_never_reach_the_smoelenboek_and_the_esuite_never_gets_its_token(httpx_mock):
    case = REQUESTS_GET["interne-taken-search-phone-v1"]
    add_search_pages(httpx_mock, ("6b49ddb3", "141a574c", "9202e9b2"))
    async with adapter() as client:
        await client.get(case["target"], headers={**kiss_headers(), "Accept-Crs": "EPSG:4326"})
    requests = httpx_mock.get_requests()
    assert all(request.url.host == "esuite.example.org" for request in requests)
    assert all("accept-crs" not in request.headers for request in requests)  # §3.3: only pass-through and smoelenboek
    assert_esuite_credentials(requests, "jjansen")


SMOELENBOEK_TARGET = REQUESTS_GET["smoelenboek-elastic-sync"]["target"]


@pytest.mark.parametrize(
    "answer, status, code",
    [
        (httpx.Response(401, json={"detail": "Ongeldige token."}), 502, "smoelenboek-unauthorized"),
        (httpx.Response(500, text="<h1>Server Error</h1>"), 502, "smoelenboek-error"),
        (httpx.Response(501, json={"detail": "x"}), 502, "smoelenboek-error"),
        (httpx.Response(200, json=["geen", "object"]), 502, "upstream-invalid-response"),
        (httpx.Response(200, text="<html/>"), 502, "upstream-invalid-response"),
        (
            httpx.Response(302, headers={"Location": "https://elders.example.org/api/v2/objects"}),
            502,
            "upstream-invalid-response",
        ),
        (httpx.Response(304), 502, "upstream-invalid-response"),
    ],
    ids=["401", "500", "501", "array", "not-json", "302", "304"],
)
async def test_smoelenboek_failures_are_502(httpx_mock, answer, status, code):
    httpx_mock.add_callback(lambda request: answer, method="GET")
    async with adapter() as client:
        response = await client.get(SMOELENBOEK_TARGET, headers=kiss_headers())
    body = assert_problem(response, status, code)
    assert_crs(response)
    assert "Server Error" not in body["detail"] and "Ongeldige token" not in body["detail"]
    assert "location" not in response.headers and "elders" not in response.text  # redirects are not followed
    assert len(httpx_mock.get_requests()) == 1


async def test_smoelenboek_type_is_unknown_when_no_smoelenboek_is_configured(httpx_mock):
    settings = fixture_settings(SMOELENBOEK_OBJECT_TYPE_URL="", SMOELENBOEK_BASE_URL="", SMOELENBOEK_TOKEN="")
    async with app_client(httpx.AsyncHTTPTransport(verify=TLS), settings=settings) as client:
        response = await client.get(SMOELENBOEK_TARGET, headers=kiss_headers())
    body = assert_problem(response, 400, "objecttype-onbekend")
    assert body["detail"] == f"objecttype onbekend: {SMOELENBOEK_TYPE}"
    assert httpx_mock.get_requests() == []


async def test_unreachable_smoelenboek_is_502_smoelenboek_unavailable(httpx_mock, monkeypatch):
    monkeypatch.setattr(esuite_client_module.random, "uniform", lambda low, high: 0.0)  # no back-off sleeps
    httpx_mock.add_exception(httpx.ConnectError("refused"), method="GET", is_reusable=True)
    async with adapter() as client:
        response = await client.get(SMOELENBOEK_TARGET, headers=kiss_headers())
    body = assert_problem(response, 502, "smoelenboek-unavailable")
    assert body["title"] == "Het smoelenboek is niet bereikbaar."
    assert_crs(response)


async def test_smoelenboek_timeout_is_504(httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("no answer"), method="GET")
    async with adapter() as client:
        response = await client.get(SMOELENBOEK_TARGET, headers=kiss_headers())
    assert_problem(response, 504, "upstream-timeout")


@pytest.mark.parametrize(
    "status, upstream_body, code, detail",
    [
        (404, {"detail": "Niet gevonden."}, "not_found", "Niet gevonden."),
        (404, None, "not_found", "Niet gevonden."),
        (403, {"detail": "Geen rechten op dit objecttype."}, "permission_denied", "Geen rechten op dit objecttype."),
        (400, {"detail": "Ongeldig filter."}, "invalid", "Ongeldig filter."),
    ],
)
async def test_smoelenboek_4xx_is_passed_on_translated(httpx_mock, status, upstream_body, code, detail):
    if upstream_body is None:
        httpx_mock.add_response(method="GET", status_code=status, text="Not Found")
    else:
        httpx_mock.add_response(method="GET", status_code=status, json=upstream_body)
    async with adapter() as client:
        response = await client.get(SMOELENBOEK_TARGET, headers=kiss_headers())
    body = assert_problem(response, status, code)
    assert_crs(response)
    assert body["detail"] == detail
    if status == 400:  # elastic-sync treats 400 as "no data"; KISS versions show the reason
        assert body["invalidParams"] == [{"name": "nonFieldErrors", "code": "invalid", "reason": detail}]
