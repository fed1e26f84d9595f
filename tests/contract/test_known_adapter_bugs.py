"""Regression tests for the adapter bugs the contract checks and the fuzz run found.

A new finding is first pinned here as a strict xfail (and, for the fuzz run, an entry in
KNOWN_BUGS in tests/contract/test_fuzz.py); the fix removes both.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import FIXTURES, Stack, app_client, kiss_headers, load_fixture, ordered

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stack():
    stack = Stack()
    yield stack
    await stack.aclose()


def problem_of(response: httpx.Response) -> dict:
    """The problem body without its per-request `instance`, after checking that it has one."""
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.pop("instance").startswith("urn:uuid:")
    return body


NOT_FOUND = {
    "type": "urn:kiss-esuite-adapter:fout:not_found",
    "code": "not_found",
    "title": "Niet gevonden.",
    "status": 404,
    "detail": "Niet gevonden.",
}


# SEC-14 (issue 13): a control character in a path is refused before routing, nothing sent.
CONTROL_CHARACTER_IN_PATH = {
    "type": "urn:kiss-esuite-adapter:fout:invalid",
    "code": "invalid",
    "title": "Ongeldige invoer.",
    "status": 400,
    "detail": "Het adres van het verzoek is ongeldig.",
    "invalidParams": [
        {"name": "path", "code": "control-character", "reason": "Het pad bevat een stuurteken (zoals tab, CR of LF)."}
    ],
}


@pytest.mark.parametrize("path", ["/zaken/api/v1/%1B", "/klanten/api/v1/klanten/%06x", "/contactmomenten/api/v1/%0F"])
async def test_control_character_in_a_pass_through_path_is_a_4xx_not_500(path):
    sent: list[httpx.Request] = []

    def upstream_handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(404, json={})

    async with app_client(httpx.MockTransport(upstream_handler)) as client:
        response = await client.get(path, headers=kiss_headers())
    assert (response.status_code, problem_of(response)) == (400, CONTROL_CHARACTER_IN_PATH)
    assert sent == []


async def test_put_klant_with_a_non_string_contact_field_is_refused_before_the_esuite(stack):
    # The body lists the fields in the other order: invalidParams follow K-1's field order.
    response = await stack.client.put(
        f"/klanten/api/v1/klanten/{uuid.uuid4()}",
        json={"telefoonnummer": {"x": 1}, "emailadres": 5},
        headers=kiss_headers(),
    )
    assert response.status_code == 400
    body = problem_of(response)
    assert (body["code"], body["detail"]) == ("invalid", "De contactgegevens van de klant zijn niet geldig.")
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [
        ("emailadres", "invalid"),
        ("telefoonnummer", "invalid"),
    ]
    assert stack.upstream_requests() == []


@pytest.mark.parametrize("query", ["identificatie=", "telefoonnummerOfEmailadres="])
async def test_blank_list_filter_is_not_sent_to_the_esuite_empty(stack, query):
    response = await stack.client.get(f"/contactmomenten/api/v1/contactmomenten?{query}", headers=kiss_headers())
    assert response.status_code == 400  # refused like Q-12: dropping it would list everyone's contacts
    body = problem_of(response)
    assert body["code"] == "invalid"
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [(query.rstrip("="), "invalid")]
    assert stack.store.requests == []


async def test_unknown_parameter_with_an_empty_name_has_a_non_empty_invalid_params_name():
    sent: list[httpx.Request] = []

    def upstream_handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"count": 0, "results": []})

    async with app_client(httpx.MockTransport(upstream_handler)) as client:
        unnamed = await client.get("/contactmomenten/api/v1/contactmomenten?=x", headers=kiss_headers())
        named = await client.get("/contactmomenten/api/v1/contactmomenten?onbekend=x", headers=kiss_headers())
    # Q-6; a parameter without a name is reported as the non-field error, a named one by its name.
    for response, name in ((unnamed, "nonFieldErrors"), (named, "onbekend")):
        assert response.status_code == 400
        body = problem_of(response)
        assert body["code"] == "unknown-parameters"
        assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [(name, "unknown-parameters")]
    assert sent == []


async def test_post_contactmomenten_with_a_trailing_slash_is_not_passed_through_unmapped(stack):
    name = "post-contactverzoek-afdeling-anonymous-v0.6"
    content = (FIXTURES / "kiss" / f"{name}.json").read_bytes()
    response = await stack.client.post(
        "/contactmomenten/api/v1/contactmomenten/",
        content=content,
        headers={**kiss_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.headers["location"] == response.json()["url"]
    assert response.headers["location"].startswith(
        "https://kiss-adapter.example.org/contactmomenten/api/v1/contactmomenten/"
    )
    assert stack.upstream_requests("POST", "/contactmomenten/") == []
    # Mapped by the P-rules, like the route without the slash: one create with the mapped body.
    [created] = stack.upstream_requests("POST")
    assert created["path"].endswith("/contactmomenten-api-provider/api/v1/contactmomenten")
    assert ordered(created["body"]) == ordered(load_fixture(f"expected/{name}.esuite-request.json"))
