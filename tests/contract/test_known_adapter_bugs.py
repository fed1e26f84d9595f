"""Regression tests for the adapter bugs the contract checks and the fuzz run found.

A new finding is first pinned here as a strict xfail (and, for the fuzz run, an entry in
KNOWN_BUGS in tests/contract/test_fuzz.py); the fix removes both.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import FIXTURES, Stack, app_client, kiss_headers

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stack():
    stack = Stack()
    yield stack
    await stack.aclose()


@pytest.mark.parametrize("path", ["/zaken/api/v1/%1B", "/klanten/api/v1/klanten/%06x", "/contactmomenten/api/v1/%0F"])
async def test_control_character_in_a_pass_through_path_is_a_4xx_not_500(path):
    upstream = httpx.MockTransport(lambda request: httpx.Response(404, json={}))
    async with app_client(upstream) as client:
        response = await client.get(path, headers=kiss_headers())
    assert 400 <= response.status_code < 500


async def test_put_klant_with_a_non_string_contact_field_is_refused_before_the_esuite(stack):
    response = await stack.client.put(
        f"/klanten/api/v1/klanten/{uuid.uuid4()}", json={"emailadres": 5, "telefoonnummer": {"x": 1}}, headers=kiss_headers()
    )
    assert response.status_code == 400
    assert stack.upstream_requests("PATCH") == []


@pytest.mark.parametrize("query", ["identificatie=", "telefoonnummerOfEmailadres="])
async def test_blank_list_filter_is_not_sent_to_the_esuite_empty(stack, query):
    response = await stack.client.get(f"/contactmomenten/api/v1/contactmomenten?{query}", headers=kiss_headers())
    assert response.status_code == 400  # refused like Q-12: dropping it would list everyone's contacts
    assert stack.store.requests == []


async def test_unknown_parameter_with_an_empty_name_has_a_non_empty_invalid_params_name():
    async with app_client(httpx.MockTransport(lambda request: httpx.Response(200, json={"count": 0, "results": []}))) as client:
        response = await client.get("/contactmomenten/api/v1/contactmomenten?=x", headers=kiss_headers())
    assert response.status_code == 400


async def test_post_contactmomenten_with_a_trailing_slash_is_not_passed_through_unmapped(stack):
    content = (FIXTURES / "kiss" / "post-contactverzoek-afdeling-anonymous-v0.6.json").read_bytes()
    await stack.client.post(
        "/contactmomenten/api/v1/contactmomenten/", content=content, headers={**kiss_headers(), "Content-Type": "application/json"}
    )
    created = stack.upstream_requests("POST", "/contactmomenten/")
    assert created == []
