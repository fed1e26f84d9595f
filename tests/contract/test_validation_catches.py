"""The contract checks fail when an answer or an upstream request has the wrong shape.

Each test feeds a deliberately wrong shape and expects `ContractViolation` with a message that
says what is wrong; the controls show the same exchange with the right shape passes.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapter.mapping import contact_create, contactmoment_read
from tests.conftest import ADAPTER, ESUITE, FIXTURES, Stack, app_client, kiss_headers, load_fixture
from tests.contract_validation import (
    ContractViolation,
    RequestValidatingTransport,
    ResponseValidatingTransport,
    ViolationLog,
    esuite_contract,
    kiss_front_contract,
)

pytestmark = pytest.mark.anyio

CM = f"{ESUITE}/contactmomenten-api-provider/api/v1"
REQUEST_ID = {"X-Request-ID": "test-1"}
PROBLEM_404 = {
    "type": "urn:kiss-esuite-adapter:fout:not_found",
    "code": "not_found",
    "title": "Niet gevonden.",
    "status": 404,
    "detail": "Niet gevonden.",
    "instance": f"urn:uuid:{uuid.uuid4()}",
}


def test_both_contracts_are_valid_openapi():
    validate(kiss_front_contract().spec)
    validate(esuite_contract().spec)


# ---------------------------------------------------------------- answers to KISS


def fake_adapter(status: int, body, media_type: str = "application/json", headers: dict | None = None):
    """A stand-in for the adapter that gives one fixed answer on every path."""

    async def answer(request):
        if isinstance(body, (bytes, str)):
            return Response(body, status, headers={**REQUEST_ID, **(headers or {})}, media_type=media_type)
        return JSONResponse(body, status, headers={**REQUEST_ID, **(headers or {})}, media_type=media_type)

    app = Starlette(routes=[Route("/{rest:path}", answer, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])])
    return httpx.AsyncClient(transport=ResponseValidatingTransport(httpx.ASGITransport(app)), base_url=ADAPTER)


def adapter_answer(name: str) -> dict:
    return load_fixture(f"expected/{name}.response.json")


async def test_control_a_correct_list_page_passes():
    async with fake_adapter(200, adapter_answer("get-contactmomenten-by-klant-v1")) as client:
        response = await client.get("/contactmomenten/api/v1/contactmomenten")
    assert response.status_code == 200


async def test_a_list_page_with_a_wrong_type_and_missing_keys_fails():
    async with fake_adapter(200, {"count": "2", "results": []}) as client:
        with pytest.raises(ContractViolation) as caught:
            await client.get("/contactmomenten/api/v1/contactmomenten")
    message = str(caught.value)
    assert "kiss-front.openapi.yaml" in message and "'2' is not of type 'integer'" in message
    assert "'next' is a required property" in message


async def test_an_esuite_url_leaking_into_a_contactmoment_fails():
    body = adapter_answer("get-contactmoment-detail-v1")
    body["url"] = f"{CM}/contactmomenten/{uuid.uuid4()}"
    async with fake_adapter(200, body) as client:
        with pytest.raises(ContractViolation, match="at url: .* does not match"):
            await client.get(f"/contactmomenten/api/v1/contactmomenten/{uuid.uuid4()}")


async def test_an_interne_taak_without_actor_fails():
    body = adapter_answer("get-interne-taak-detail")
    del body["record"]["data"]["actor"]
    async with fake_adapter(200, body, headers={"Content-Crs": "EPSG:4326"}) as client:
        with pytest.raises(ContractViolation, match="'actor' is a required property"):
            await client.get(f"/api/v2/objects/{uuid.uuid4()}", headers=kiss_headers())


async def test_an_interne_taak_with_null_klant_fails():
    body = adapter_answer("get-interne-taak-detail")
    body["record"]["data"]["betrokkene"]["klant"] = None  # I-9: absent, never null
    async with fake_adapter(200, body, headers={"Content-Crs": "EPSG:4326"}) as client:
        with pytest.raises(ContractViolation, match="betrokkene/klant"):
            await client.get(f"/api/v2/objects/{uuid.uuid4()}")


async def test_an_objects_answer_without_content_crs_fails():
    async with fake_adapter(200, adapter_answer("get-interne-taak-detail")) as client:
        with pytest.raises(ContractViolation, match="Content-Crs"):
            await client.get(f"/api/v2/objects/{uuid.uuid4()}")


async def test_an_error_that_is_not_problem_json_fails():
    async with fake_adapter(404, {"detail": "Not found"}) as client:
        with pytest.raises(ContractViolation, match="application/json"):
            await client.get(f"/contactmomenten/api/v1/contactmomenten/{uuid.uuid4()}")


async def test_a_problem_without_instance_or_with_invalid_params_on_a_404_fails():
    body = {**PROBLEM_404, "invalidParams": []}
    del body["instance"]
    async with fake_adapter(404, body, media_type="application/problem+json") as client:
        with pytest.raises(ContractViolation) as caught:
            await client.get(f"/contactmomenten/api/v1/contactmomenten/{uuid.uuid4()}")
    assert "'instance' is a required property" in str(caught.value)
    assert "'invalidParams' was unexpected" in str(caught.value)


async def test_a_400_without_invalid_params_fails():
    body = {**PROBLEM_404, "status": 400, "code": "invalid", "type": "urn:kiss-esuite-adapter:fout:invalid"}
    async with fake_adapter(400, body, media_type="application/problem+json") as client:
        with pytest.raises(ContractViolation, match="invalidParams"):
            await client.get("/contactmomenten/api/v1/contactmomenten")


async def test_a_missing_request_id_fails():
    app = Starlette(routes=[Route("/healthz", lambda request: Response("Healthy", media_type="text/plain"))])
    async with httpx.AsyncClient(
        transport=ResponseValidatingTransport(httpx.ASGITransport(app)), base_url=ADAPTER
    ) as client:
        with pytest.raises(ContractViolation, match="X-Request-ID"):
            await client.get("/healthz")


async def test_an_unknown_route_must_be_a_4xx_problem():
    async with fake_adapter(200, {"ok": True}) as client:
        with pytest.raises(ContractViolation, match="may only get a 4xx problem"):
            await client.get("/onbekend")
    async with fake_adapter(404, PROBLEM_404, media_type="application/problem+json") as client:
        assert (await client.get("/onbekend")).status_code == 404


async def test_an_undeclared_success_status_fails():
    async with fake_adapter(200, adapter_answer("post-contactmoment-plain-v1")) as client:
        with pytest.raises(ContractViolation):
            await client.post("/contactmomenten/api/v1/contactmomenten", json={})


async def test_a_real_adapter_regression_is_caught(httpx_mock, monkeypatch):
    """The real app, its R-mapping broken on purpose: `tekst` dropped from every contactmoment."""
    real = contactmoment_read.contacts_for_kiss

    def broken(contacts, urls):
        return [{key: value for key, value in item.items() if key != "tekst"} for item in real(contacts, urls)]

    monkeypatch.setattr(contactmoment_read, "contacts_for_kiss", broken)
    httpx_mock.add_response(
        url=f"{CM}/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db",
        json=load_fixture("esuite/contactmoment-detail-contactverzoek.json"),
    )
    async with app_client() as client:
        with pytest.raises(ContractViolation, match="'tekst' is a required property"):
            await client.get(
                "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db", headers=kiss_headers()
            )


# ---------------------------------------------------------------- requests the e-Suite receives


async def test_a_real_adapter_sending_a_kiss_only_field_upstream_is_caught(monkeypatch):
    """The real app and simulator; the P-13 mapping broken on purpose (gespreksId sent along)."""
    real = contact_create.build_esuite_contact
    monkeypatch.setattr(
        contact_create, "build_esuite_contact", lambda body, types: {**real(body, types), "gespreksId": "abc"}
    )
    stack = Stack()
    try:
        content = (FIXTURES / "kiss" / "post-contactmoment-plain-v1.json").read_bytes()
        with pytest.raises(ContractViolation) as caught:
            await stack.client.post(
                "/contactmomenten/api/v1/contactmomenten",
                content=content,
                headers={**kiss_headers(), "Content-Type": "application/json"},
            )
    finally:
        await stack.aclose()
    message = str(caught.value)
    assert "Upstream request breaks esuite.openapi.yaml: POST" in message and "gespreksId" in message


async def test_control_the_same_post_through_the_simulator_passes():
    stack = Stack()
    try:
        content = (FIXTURES / "kiss" / "post-contactmoment-plain-v1.json").read_bytes()
        response = await stack.client.post(
            "/contactmomenten/api/v1/contactmomenten",
            content=content,
            headers={**kiss_headers(), "Content-Type": "application/json"},
        )
    finally:
        await stack.aclose()
    assert response.status_code == 201


def record(method: str, url: str, **kwargs) -> list[str]:
    """What the simulator-side check records for one request (the request itself is answered by a stub)."""
    log = ViolationLog()
    transport = RequestValidatingTransport(
        httpx.MockTransport(lambda request: httpx.Response(200, json={})), ESUITE, log
    )

    async def send():
        async with httpx.AsyncClient(transport=transport) as client:
            await client.request(method, url, **kwargs)

    import anyio

    anyio.run(send)
    return log.entries


ESUITE_HEADERS = {"Authorization": "Bearer x.y.z", "X-Request-ID": "r-1"}


def test_upstream_contactverzoek_without_behandelaar_afdeling_or_groep_is_caught():
    body = {"tekst": "Vraag", "antwoord": "N.v.t.", "status": "nieuw", "type": "Terugbelverzoek"}
    [entry] = record("POST", f"{CM}/contactmomenten", json=body, headers=ESUITE_HEADERS)
    assert entry.startswith(f"Upstream request breaks esuite.openapi.yaml: POST {CM}/contactmomenten\n")
    assert "InvalidRequestBody" in entry
    # E-3 (a finished contactmoment) fails on its status, E-4 (a contactverzoek) on its assignment.
    assert "alternative fails at status: 'nieuw' is not one of ['afgehandeld']" in entry
    assert entry.rstrip().endswith(f"alternative fails at (body): {body!r} is not valid under any of the given schemas")
    for assignment in (
        {"behandelaar": {"gebruikersnaam": "pdvries"}},
        {"afdeling": "Burgerzaken"},
        {"groep": "Team Afval"},
    ):
        assert record("POST", f"{CM}/contactmomenten", json={**body, **assignment}, headers=ESUITE_HEADERS) == []


def test_upstream_afgehandeld_with_behandelaar_or_blank_antwoord_is_caught():
    body = {"tekst": "Vraag", "antwoord": "Antwoord", "status": "afgehandeld"}
    assert record("POST", f"{CM}/contactmomenten", json=body, headers=ESUITE_HEADERS) == []
    assert record(
        "POST",
        f"{CM}/contactmomenten",
        json={**body, "behandelaar": {"gebruikersnaam": "pdvries"}},
        headers=ESUITE_HEADERS,
    )
    assert record("POST", f"{CM}/contactmomenten", json={**body, "antwoord": "  "}, headers=ESUITE_HEADERS)


def test_upstream_null_values_and_alternative_phone_alone_are_caught():
    body = {"tekst": "V", "antwoord": "A", "status": "nieuw", "type": "T", "afdeling": "X"}
    assert record("POST", f"{CM}/contactmomenten", json={**body, "kanaal": None}, headers=ESUITE_HEADERS)
    assert record(
        "POST",
        f"{CM}/contactmomenten",
        json={**body, "contactgegevens": {"telefoonnummerAlternatief": "06"}},
        headers=ESUITE_HEADERS,
    )


def test_upstream_change_of_a_contact_and_a_missing_token_are_caught():
    [entry] = record("PATCH", f"{CM}/contactmomenten/{uuid.uuid4()}", json={}, headers=ESUITE_HEADERS)
    assert "lists this path but not this method" in entry
    [entry] = record("GET", f"{CM}/contactmomenten", headers={"X-Request-ID": "r-1"})
    assert "Authorization" in entry or "security" in entry.lower()


def test_upstream_unknown_filter_and_zaken_ordering_in_kiss_form_are_caught():
    [entry] = record("GET", f"{CM}/contactmomenten", params={"object": "https://x"}, headers=ESUITE_HEADERS)
    assert "query parameters not in the contract: object" in entry
    [entry] = record(
        "GET",
        f"{ESUITE}/zgw-apis-provider/zrc/api/v1/zaken",
        params={"ordering": "-startdatum"},
        headers=ESUITE_HEADERS,
    )
    assert "ordering" in entry
    assert (
        record(
            "GET",
            f"{ESUITE}/zgw-apis-provider/zrc/api/v1/zaken",
            params={"ordering": "startdatum_aflopend"},
            headers=ESUITE_HEADERS,
        )
        == []
    )


def test_upstream_pass_through_paths_and_other_origins():
    assert (
        record(
            "GET",
            f"{ESUITE}/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten/1/download",
            headers=ESUITE_HEADERS,
        )
        == []
    )
    assert record("GET", "https://objecten.example.org/api/v2/objects", headers=ESUITE_HEADERS) == []
    [entry] = record("GET", f"{ESUITE}/elders/api", headers=ESUITE_HEADERS)
    assert "outside the pass-through roots" in entry
