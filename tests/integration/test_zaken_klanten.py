"""The Zaken and Klanten fronts through the real app (kiss-front.md §6.2–6.3, mapping.md §9–10).

Most tests run against the e-Suite simulator (`stack`): its request log shows the exact
decoded query and body the e-Suite got. Query encoding (Q-5) and zaak shapes the simulator
does not produce are checked against a mock e-Suite that records the raw request.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from tests.conftest import ADAPTER, ESUITE, app_client, kiss_headers, load_fixture, ordered

pytestmark = pytest.mark.anyio

ZRC_PATH = "/zgw-apis-provider/zrc/api/v1"
KC_PATH = "/klanten-api-provider/api/v1"
BSN = "999993653"
BSN_FILTER = "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"
ZAAK_UUID = "a177c7fa-bb70-4d42-9584-6b099e87512b"
ZAAK = f"{ADAPTER}/zaken/api/v1/zaken/{ZAAK_UUID}"
ANNA_UUID = "d72e7265-3b76-4410-a9aa-54e20528a3f4"
ANNA = f"{ADAPTER}/klanten/api/v1/klanten/{ANNA_UUID}"
EXPECTED_ZAKEN = load_fixture("expected/get-zaken.response.json")
CONTACT_SEARCH_REFUSED = "Zoeken op e-mailadres of telefoonnummer wordt door de e-Suite niet ondersteund."
Q5_ENCODED = re.compile(r"(?:[A-Za-z0-9._~\-=&]|%[0-9A-Fa-f]{2})*")


def rewritten(value):
    """An e-Suite fixture as KISS must get it (operations.md §7)."""
    text = json.dumps(value)
    for esuite_root, adapter_root in (
        (f"{ESUITE}{KC_PATH}", f"{ADAPTER}/klanten/api/v1"),
        (f"{ESUITE}{ZRC_PATH}", f"{ADAPTER}/zaken/api/v1"),
        (f"{ESUITE}/zgw-apis-provider/ztc/api/v1", f"{ADAPTER}/catalogi/api/v1"),
    ):
        text = text.replace(esuite_root, adapter_root)
    return json.loads(text)


def esuite_answering(answer: httpx.Response):
    """A mock e-Suite that records every request and gives the same answer."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    return httpx.MockTransport(handler), seen


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


# -- Zaken: Z-1 ordering -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "esuite"),
    [
        ("-startdatum", "startdatum_aflopend"),  # W13
        ("startdatum", "startdatum_oplopend"),
        ("-startdatum,identificatie", "startdatum_aflopend,identificatie_oplopend"),
        ("startdatum_aflopend", "startdatum_aflopend"),
        (" -registratiedatum , identificatie_oplopend ,", "registratiedatum_aflopend,identificatie_oplopend"),
    ],
)
async def test_Z1_ordering_reaches_the_esuite_in_its_form(stack, ordering, esuite):
    response = await stack.client.get(
        f"/zaken/api/v1/zaken?{urlencode({BSN_FILTER: BSN, 'ordering': ordering})}", headers=kiss_headers()
    )
    assert response.status_code == 200, response.text
    assert ordered(response.json()) == ordered(EXPECTED_ZAKEN)
    [sent] = stack.upstream_requests("GET", f"{ZRC_PATH}/zaken")
    assert sent["query"] == [[BSN_FILTER, BSN], ["ordering", esuite]]
    assert sent["user_id"] == "jjansen"


async def test_Z1_fixture_request_zaken_by_bsn(stack):
    """requests-get.json case `zaken-by-bsn`: the exact request KISS makes and the answer it gets."""
    case = next(c for c in load_fixture("kiss/requests-get.json") if c["case"] == "zaken-by-bsn")
    response = await stack.client.get(case["target"], headers=kiss_headers())
    assert response.status_code == 200
    assert ordered(response.json()) == ordered(load_fixture(case["expectedResponse"]))
    [sent] = stack.upstream_requests("GET", f"{ZRC_PATH}/zaken")
    [expected] = case["upstream"]
    assert sent["query"] == [list(pair) for pair in parse_qsl(expected.split("?", 1)[1])]


async def test_Z1_every_ordering_parameter_each_item_and_every_value_encoded():
    """Q-1 (`??`), Z-1 on each `ordering` and each comma item, RW-5 on the zaaktype URL, and Q-5:
    nothing but unreserved characters goes unencoded; a space is %20, a `+` is %2B."""
    transport, seen = esuite_answering(
        httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []})
    )
    target = (
        "/zaken/api/v1/zaken??omschrijving=Dak+kapel%20%26%2B%C3%A9%2F%3F"
        "&zaaktype=https%3A%2F%2Fkiss-adapter.example.org%2Fcatalogi%2Fapi%2Fv1%2Fzaaktypen%2Fz1"
        "&ordering=-startdatum,identificatie&page=2&ordering=registratiedatum"
    )
    async with app_client(transport) as client:
        response = await client.get(target, headers=kiss_headers())
    assert response.status_code == 200, response.text
    [sent] = seen
    assert str(sent.url).startswith(f"{ESUITE}{ZRC_PATH}/zaken?")
    raw = sent.url.query.decode("ascii")
    assert Q5_ENCODED.fullmatch(raw), raw
    assert "omschrijving=Dak%20kapel%20%26%2B%C3%A9%2F%3F&" in raw
    assert parse_qsl(raw, keep_blank_values=True) == [
        ("omschrijving", "Dak kapel &+é/?"),
        ("zaaktype", f"{ESUITE}/zgw-apis-provider/ztc/api/v1/zaaktypen/z1"),
        ("ordering", "startdatum_aflopend,identificatie_oplopend"),
        ("page", "2"),
        ("ordering", "registratiedatum_oplopend"),
    ]


async def test_Z1_ordering_is_translated_on_the_zaken_list_only(stack):
    """Other zaken paths pass through: their query is rewritten, `ordering` left alone."""
    query = urlencode({"zaak": ZAAK, "ordering": "-datumStatusGezet"})
    response = await stack.client.get(f"/zaken/api/v1/statussen?{query}", headers=kiss_headers())
    assert_problem(response, 404, "not_found")  # the simulator's zrc has no statussen
    [sent] = stack.upstream_requests("GET", f"{ZRC_PATH}/statussen")
    assert sent["query"] == [["zaak", f"{ESUITE}{ZRC_PATH}/zaken/{ZAAK_UUID}"], ["ordering", "-datumStatusGezet"]]


# -- Zaken: Z-2 identificatie --------------------------------------------------------------------


async def test_Z2_zaak_detail_shows_the_internal_number(stack):
    response = await stack.client.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}??expand=status", headers=kiss_headers())
    assert response.status_code == 200, response.text
    assert ordered(response.json()) == ordered(EXPECTED_ZAKEN["results"][0])
    assert response.json()["identificatie"] == "Z25.000123"
    [sent] = stack.upstream_requests("GET", f"{ZRC_PATH}/zaken/{ZAAK_UUID}")
    assert sent["query"] == [["expand", "status"]]  # the query is forwarded (Q-1 applied)


async def test_Z2_list_and_detail_agree(stack):
    listed = (await stack.client.get(f"/zaken/api/v1/zaken?{BSN_FILTER}={BSN}", headers=kiss_headers())).json()
    [zaak] = listed["results"]
    detail = (await stack.client.get(zaak["url"].removeprefix(ADAPTER), headers=kiss_headers())).json()
    assert detail == zaak and detail["identificatie"] == detail["identificatieIntern"]


async def test_Z2_unknown_zaak_is_404(stack):
    response = await stack.client.get(
        "/zaken/api/v1/zaken/00000000-0000-4000-8000-000000000000", headers=kiss_headers()
    )
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("zaak", "shown"),
    [
        (
            {"url": f"{ESUITE}{ZRC_PATH}/zaken/z1", "identificatie": "E-555"},
            {"url": f"{ADAPTER}/zaken/api/v1/zaken/z1", "identificatie": "E-555"},
        ),
        (
            {"identificatie": "E-555", "identificatieIntern": " "},
            {"identificatie": "E-555", "identificatieIntern": " "},
        ),
        (
            {"identificatieIntern": "Z-100", "omschrijving": "x"},
            {"identificatieIntern": "Z-100", "omschrijving": "x", "identificatie": "Z-100"},
        ),
        (
            {"identificatieIntern": "Z-100", "identificatie": "E-555", "x": 1},
            {"identificatieIntern": "Z-100", "identificatie": "Z-100", "x": 1},
        ),
    ],
)
async def test_Z2_shapes_the_simulator_does_not_produce(zaak, shown):
    """Without a non-blank `identificatieIntern` nothing changes; otherwise `identificatie` takes
    its value, in place or appended (key order checked) — on the list and on the detail."""
    page = {"count": 1, "next": None, "previous": None, "results": [zaak]}
    transport, _ = esuite_answering(httpx.Response(200, json=page))
    async with app_client(transport) as client:
        listed = await client.get("/zaken/api/v1/zaken?identificatie=E-555", headers=kiss_headers())
    assert ordered(listed.json()) == ordered({**page, "results": [shown]})
    transport, _ = esuite_answering(httpx.Response(200, json=zaak))
    async with app_client(transport) as client:
        detail = await client.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers=kiss_headers())
    assert ordered(detail.json()) == ordered(shown)


# -- Zaken: Z-3 zaakcontactmomenten --------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [json.dumps(load_fixture("kiss/post-zaakcontactmoment-v0.7.json")).encode(), b"", b"niet json", b"[1,2]"],
    ids=["fixture", "empty", "not-json", "array"],
)
async def test_Z3_zaakcontactmomenten_answered_204_without_an_esuite_call(stack, content):
    response = await stack.client.post(
        "/zaken/api/v1/zaakcontactmomenten",
        content=content,
        headers={**kiss_headers(), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.content) == (204, b"")
    assert stack.store.requests == []


async def test_Z3_still_needs_authentication(stack):
    response = await stack.client.post(
        "/zaken/api/v1/zaakcontactmomenten", json=load_fixture("kiss/post-zaakcontactmoment-v0.7.json")
    )
    assert_problem(response, 401, "not_authenticated")
    assert stack.store.requests == []


async def test_Z3_only_the_post_is_local(stack):
    response = await stack.client.get("/zaken/api/v1/zaakcontactmomenten", headers=kiss_headers())
    assert_problem(response, 404, "not_found")
    assert [e["path"] for e in stack.store.requests] == [f"{ZRC_PATH}/zaakcontactmomenten"]


# -- Klanten: look-ups KISS makes ----------------------------------------------------------------


async def test_klant_by_bsn(stack):
    """requests-get.json case `klant-by-bsn`: 0 or 1 result, `count` + `results` only."""
    response = await stack.client.get(
        f"/klanten/api/v1/klanten?subjectNatuurlijkPersoon__inpBsn={BSN}", headers=kiss_headers()
    )
    assert response.status_code == 200
    assert ordered(response.json()) == ordered(rewritten(load_fixture("esuite/klanten-page-bsn.json")))
    [sent] = stack.upstream_requests("GET", f"{KC_PATH}/klanten")
    assert (sent["query"], sent["user_id"]) == ([["subjectNatuurlijkPersoon__inpBsn", BSN]], "jjansen")


async def test_klant_by_bsn_not_a_klant_yet(stack):
    response = await stack.client.get(
        "/klanten/api/v1/klanten?subjectNatuurlijkPersoon__inpBsn=999990627", headers=kiss_headers()
    )
    assert response.json() == {"count": 0, "results": []}


async def test_klant_detail(stack):
    response = await stack.client.get(ANNA.removeprefix(ADAPTER), headers=kiss_headers())
    assert response.status_code == 200
    assert ordered(response.json()) == ordered(rewritten(load_fixture("esuite/klant-natuurlijk-persoon.json")))


@pytest.mark.parametrize(
    ("kind", "value", "search", "subject_type", "bedrijfsnaam"),
    [
        (
            "innNnpId",
            "69599084",
            "subjectNietNatuurlijkPersoon__innNnpId",
            "niet_natuurlijk_persoon",
            "Van Dijk Bouw B.V.",
        ),
        (
            "vestigingsNummer",
            "000012345678",
            "subjectVestiging__vestigingsNummer",
            "vestiging",
            "Bakkerij De Korenschoof",
        ),
    ],
)
async def test_company_looked_up_created_and_found(stack, kind, value, search, subject_type, bedrijfsnaam):
    """KISS: look the company up (KvK, or vestiging); not found, so create it; then it is found.
    A second create is the e-Suite's 409, translated."""
    query = f"/klanten/api/v1/klanten?{urlencode({search: value, 'subjectType': subject_type})}"
    assert (await stack.client.get(query, headers=kiss_headers())).json() == {"count": 0, "results": []}

    body = {
        **load_fixture("kiss/post-klant-bedrijf-v1.json"),
        "subjectIdentificatie": {kind: value},
        "subjectType": subject_type,
    }
    created = await stack.client.post("/klanten/api/v1/klanten", json=body, headers=kiss_headers())
    assert created.status_code == 201, created.text
    klant = created.json()
    assert klant["url"].startswith(f"{ADAPTER}/klanten/api/v1/klanten/") and created.headers["location"] == klant["url"]
    assert (klant["bedrijfsnaam"], klant["subjectType"], klant["subjectIdentificatie"]) == (
        bedrijfsnaam,
        subject_type,
        {kind: value},
    )
    [posted] = stack.upstream_requests("POST", f"{KC_PATH}/klanten")
    assert posted["body"] == body  # passed through as KISS sent it

    found = (await stack.client.get(query, headers=kiss_headers())).json()
    assert found == {"count": 1, "results": [klant]}
    assert [e["query"] for e in stack.upstream_requests("GET", f"{KC_PATH}/klanten")] == [
        [[search, value], ["subjectType", subject_type]]
    ] * 2

    again = await stack.client.post("/klanten/api/v1/klanten", json=body, headers=kiss_headers())
    assert_problem(again, 409, "conflict")


async def test_klant_create_for_a_subject_the_register_does_not_know(stack):
    body = {**load_fixture("kiss/post-klant-bedrijf-v1.json"), "subjectIdentificatie": {"innNnpId": "12345678"}}
    response = await stack.client.post("/klanten/api/v1/klanten", json=body, headers=kiss_headers())
    assert_problem(response, 404, "not_found")


# -- Klanten: changing contact details (K-1) -----------------------------------------------------


async def test_K1_fixture_put_becomes_a_patch_of_the_writable_fields(stack):
    response = await stack.client.put(
        ANNA.removeprefix(ADAPTER),
        json=load_fixture("kiss/put-klant-contactgegevens-2024.json"),
        headers=kiss_headers(),
    )
    assert response.status_code == 200, response.text
    expected = rewritten(load_fixture("esuite/klant-natuurlijk-persoon.json"))
    assert ordered(response.json()) == ordered({**expected, "telefoonnummer": "0687654321"})
    [sent] = stack.store.requests
    assert (sent["method"], sent["path"], sent["user_id"]) == ("PATCH", f"{KC_PATH}/klanten/{ANNA_UUID}", "jjansen")
    assert ordered(sent["body"]) == ordered({"emailadres": "anna.vandijk@example.org", "telefoonnummer": "0687654321"})
    klant = stack.store.klanten[ANNA_UUID]
    assert (klant.emailadres, klant.telefoonnummer, klant.telefoonnummerAlternatief) == (
        "anna.vandijk@example.org",
        "0687654321",
        None,
    )
    reread = await stack.client.get(ANNA.removeprefix(ADAPTER), headers=kiss_headers())
    assert reread.json() == response.json()


async def test_K1_null_clears_a_field(stack):
    body = {
        "voornaam": "Anna",
        "telefoonnummerAlternatief": "0101234567",
        "emailadres": None,
        "telefoonnummer": "0611111111",
    }
    response = await stack.client.put(ANNA.removeprefix(ADAPTER), json=body, headers=kiss_headers())
    assert response.status_code == 200, response.text
    assert response.json()["emailadres"] is None
    [sent] = stack.store.requests
    assert ordered(sent["body"]) == ordered(
        {"emailadres": None, "telefoonnummer": "0611111111", "telefoonnummerAlternatief": "0101234567"}
    )
    klant = stack.store.klanten[ANNA_UUID]
    assert (klant.emailadres, klant.telefoonnummer, klant.telefoonnummerAlternatief) == (
        None,
        "0611111111",
        "0101234567",
    )


@pytest.mark.parametrize(
    ("content", "code", "param"),
    [
        (b'{"voornaam":"Anna","achternaam":"Dijk"}', "invalid", ("nonFieldErrors", "required")),
        (b'["emailadres"]', "invalid", ("nonFieldErrors", "invalid")),
        (b"{niet json", "parse_error", ("nonFieldErrors", "parse_error")),
    ],
)
async def test_K1_refused_put_reaches_nothing_upstream(stack, content, code, param):
    response = await stack.client.put(
        ANNA.removeprefix(ADAPTER), content=content, headers={**kiss_headers(), "Content-Type": "application/json"}
    )
    problem = assert_problem(response, 400, code)
    assert [(p["name"], p["code"]) for p in problem["invalidParams"]] == [param]
    assert stack.store.requests == []


async def test_K1_put_of_an_unknown_klant_is_the_esuite_404(stack):
    response = await stack.client.put(
        "/klanten/api/v1/klanten/00000000-0000-4000-8000-000000000000",
        json={"telefoonnummer": "0600000000"},
        headers=kiss_headers(),
    )
    assert_problem(response, 404, "not_found")
    assert [e["method"] for e in stack.store.requests] == ["PATCH"]


async def test_klant_patch_passes_through_unchanged(stack):
    """KISS v1.0+ PATCHes; that is pure pass-through."""
    response = await stack.client.patch(
        ANNA.removeprefix(ADAPTER), json={"telefoonnummer": "0699999999"}, headers=kiss_headers()
    )
    assert response.status_code == 200, response.text
    assert response.json()["telefoonnummer"] == "0699999999"
    [sent] = stack.store.requests
    assert (sent["method"], sent["body"]) == ("PATCH", {"telefoonnummer": "0699999999"})


# -- Klanten: the refused search (kiss-front.md §6.2) ---------------------------------------------


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("subjectType=vestiging&emailadres=info%40korenschoof.example.org", ["emailadres"]),
        ("subjectType=vestiging&telefoonnummer=0301234567", ["telefoonnummer"]),
        ("telefoonnummer=&subjectType=vestiging", ["telefoonnummer"]),
        ("?telefoonnummer=06&emailadres=a%40b.nl&telefoonnummer=07", ["telefoonnummer", "emailadres"]),
        (f"subjectNatuurlijkPersoon__inpBsn={BSN}&emailadres=anna.vandijk%40example.org", ["emailadres"]),
    ],
)
async def test_contact_search_refused_without_an_esuite_call(stack, query, names):
    response = await stack.client.get(f"/klanten/api/v1/klanten?{query}", headers=kiss_headers())
    problem = assert_problem(response, 400, "unsupported-filter")
    assert (problem["title"], problem["detail"]) == ("Ongeldige invoer.", CONTACT_SEARCH_REFUSED)
    assert problem["invalidParams"] == [
        {"name": name, "code": "unsupported-filter", "reason": CONTACT_SEARCH_REFUSED} for name in names
    ]
    assert stack.store.requests == []


async def test_contact_search_parameter_names_are_case_sensitive(stack):
    """Q-3: `Emailadres` is not `emailadres`; the search passes (the e-Suite ignores it)."""
    response = await stack.client.get(
        f"/klanten/api/v1/klanten?subjectNatuurlijkPersoon__inpBsn={BSN}&Emailadres=x", headers=kiss_headers()
    )
    assert response.status_code == 200
    assert response.json()["count"] == 1
