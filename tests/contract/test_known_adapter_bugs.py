"""Adapter bugs the contract checks found, pinned until they are fixed (issue 6 closing note).

Each test states the correct behaviour and is a strict xfail: it fails today. When the adapter is
fixed it passes, strict xfail turns that into a failure, and the marker (and, where there is one,
the matching entry of KNOWN_BUGS in tests/contract/test_fuzz.py) must be removed.
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


@pytest.mark.xfail(strict=True, reason="passthrough.py: a control character in the path makes httpx.InvalidURL, answered 500 internal")
@pytest.mark.parametrize("path", ["/zaken/api/v1/%1B", "/klanten/api/v1/klanten/%06x", "/contactmomenten/api/v1/%0F"])
async def test_control_character_in_a_pass_through_path_is_a_4xx_not_500(path):
    upstream = httpx.MockTransport(lambda request: httpx.Response(404, json={}))
    async with app_client(upstream) as client:
        response = await client.get(path, headers=kiss_headers())
    assert 400 <= response.status_code < 500


@pytest.mark.xfail(strict=True, reason="K-1 (mapping/klanten.py): non-string values are forwarded in the PATCH; the e-Suite contract allows string or null")
async def test_put_klant_with_a_non_string_contact_field_is_refused_before_the_esuite(stack):
    response = await stack.client.put(
        f"/klanten/api/v1/klanten/{uuid.uuid4()}", json={"emailadres": 5, "telefoonnummer": {"x": 1}}, headers=kiss_headers()
    )
    assert response.status_code == 400
    assert stack.upstream_requests("PATCH") == []


@pytest.mark.xfail(strict=True, reason="C-1: a blank identificatie / telefoonnummerOfEmailadres is forwarded as an empty e-Suite filter")
@pytest.mark.parametrize("query", ["identificatie=", "telefoonnummerOfEmailadres="])
async def test_blank_list_filter_is_not_sent_to_the_esuite_empty(stack, query):
    # Either refused (400, as Q-12 does for interne taken) or treated as absent (as Q-4 does for page).
    await stack.client.get(f"/contactmomenten/api/v1/contactmomenten?{query}", headers=kiss_headers())


@pytest.mark.xfail(strict=True, reason="Q-6: an unknown parameter with an empty name is reported as invalidParams name '' (OK1 requires minLength 1)")
async def test_unknown_parameter_with_an_empty_name_has_a_non_empty_invalid_params_name():
    async with app_client(httpx.MockTransport(lambda request: httpx.Response(200, json={"count": 0, "results": []}))) as client:
        response = await client.get("/contactmomenten/api/v1/contactmomenten?=x", headers=kiss_headers())
    assert response.status_code == 400


@pytest.mark.xfail(strict=True, reason="route 11 (app.py own_root_routes): POST …/contactmomenten/ with a trailing slash is passed through unmapped, bypassing V-, P-rules and duplicate protection")
async def test_post_contactmomenten_with_a_trailing_slash_is_not_passed_through_unmapped(stack):
    content = (FIXTURES / "kiss" / "post-contactverzoek-afdeling-anonymous-v0.6.json").read_bytes()
    await stack.client.post(
        "/contactmomenten/api/v1/contactmomenten/", content=content, headers={**kiss_headers(), "Content-Type": "application/json"}
    )
    created = stack.upstream_requests("POST", "/contactmomenten/")
    assert created == []
