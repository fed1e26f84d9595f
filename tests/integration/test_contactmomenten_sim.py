"""Every KISS contactmoment POST fixture through the real app to the e-Suite simulator.

Asserts the exact body the e-Suite received, that it holds exactly one new contact with the
right status and behandelaar, and the exact answer KISS got (fixtures/README.md normalisation:
the e-Suite-assigned uuid and identificatie).
"""

import json
import re

import pytest

from tests.conftest import ADAPTER, FIXTURES, Stack, kiss_headers, load_fixture, ordered

pytestmark = pytest.mark.anyio

POST_FIXTURES = sorted(
    path.stem
    for path in (FIXTURES / "kiss").glob("post-contact*.json")
    if (FIXTURES / "expected" / f"{path.stem}.esuite-request.json").exists()
)
CM_PATH = "/contactmomenten-api-provider/api/v1/contactmomenten"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_every_post_fixture_is_covered():
    assert len(POST_FIXTURES) == 11


async def post_fixture(stack: Stack, name: str):
    return await stack.client.post(
        "/contactmomenten/api/v1/contactmomenten",
        content=(FIXTURES / "kiss" / f"{name}.json").read_bytes(),
        headers={**kiss_headers(), "Content-Type": "application/json; charset=utf-8"},
    )


@pytest.mark.parametrize("name", POST_FIXTURES)
async def test_post_fixture_creates_exactly_one_contact(stack, name):
    before = set(stack.store.contacts)
    response = await post_fixture(stack, name)
    assert response.status_code == 201, response.text

    [received] = stack.upstream_requests("POST", CM_PATH)
    expected_request = load_fixture(f"expected/{name}.esuite-request.json")
    assert ordered(received["body"]) == ordered(expected_request)
    assert received["user_id"] == "jjansen"

    [created_uuid] = set(stack.store.contacts) - before
    contact = stack.store.contacts[created_uuid]
    is_verzoek = expected_request["status"] == "nieuw"
    assert contact.status == ("nieuw" if is_verzoek else "afgehandeld")
    if is_verzoek:  # stored unfinished, with the behandelaar, afdeling or groep it was sent with
        assert any(expected_request.get(key) for key in ("behandelaar", "afdeling", "groep"))

    answer = response.json()
    assert answer["url"] == f"{ADAPTER}/contactmomenten/api/v1/contactmomenten/{created_uuid}"
    assert response.headers["location"] == answer["url"]
    assert answer["tekst"] == expected_request["tekst"] + "\n" + expected_request["antwoord"]
    assert answer["status"] == expected_request["status"]
    assert "esuite.example.org" not in response.text

    expected_path = FIXTURES / "expected" / f"{name}.response.json"
    if expected_path.exists():
        expected = json.loads(expected_path.read_text())
        normalised = {**answer, "url": expected["url"], "identificatie": expected["identificatie"]}
        assert ordered(normalised) == ordered(expected)


@pytest.mark.parametrize(
    "name",
    [
        "post-contactverzoek-invalid-no-actor",
        "post-contactverzoek-invalid-org-type",
        "post-contactmoment-invalid-types",
    ],
)
async def test_refused_fixture_reaches_nothing_upstream(stack, name):
    response = await post_fixture(stack, name)
    assert response.status_code == 400
    assert stack.store.requests == []


async def test_a_contactverzoek_is_readable_as_contactmoment_after_creation(stack):
    created = (await post_fixture(stack, "post-contactverzoek-groep-known-klant-v1")).json()
    uuid = created["url"].rsplit("/", 1)[1]
    detail = await stack.client.get(
        f"/contactmomenten/api/v1/contactmomenten/{uuid}??expand=objectcontactmomenten", headers=kiss_headers()
    )
    assert detail.status_code == 200
    body = detail.json()
    assert body["url"] == created["url"]
    assert body["objectcontactmomenten"] == []
    assert body["groep"] == "Team Afval"


async def test_a_retried_post_creates_no_second_contact_in_the_esuite(stack):
    first = await post_fixture(stack, "post-contactverzoek-afdeling-anonymous-v0.6")
    second = await post_fixture(stack, "post-contactverzoek-afdeling-anonymous-v0.6")
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert len(stack.upstream_requests("POST", CM_PATH)) == 1


async def test_contactmomenten_of_a_klant_after_linking(stack):
    """KISS's flow: POST the contactmoment, link the klant, then the klant page lists it newest first."""
    klant = f"{ADAPTER}/klanten/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
    created = (await post_fixture(stack, "post-contactmoment-plain-v1")).json()
    link = await stack.client.post(
        "/contactmomenten/api/v1/klantcontactmomenten",
        json={"klant": klant, "contactmoment": created["url"], "rol": "gesprekspartner"},
        headers=kiss_headers(),
    )
    assert link.status_code == 201, link.text
    assert link.json()["klant"] == klant
    listed = await stack.client.get(
        f"/contactmomenten/api/v1/contactmomenten??klant={klant}&ordering=-registratiedatum&expand=objectcontactmomenten",
        headers=kiss_headers(),
    )
    body = listed.json()
    assert listed.status_code == 200
    urls = [item["url"] for item in body["results"]]
    assert created["url"] in urls
    dates = [item["registratiedatum"] for item in body["results"]]
    from adapter.mapping.common import parse_datetime

    assert [parse_datetime(d) for d in dates] == sorted((parse_datetime(d) for d in dates), reverse=True)
    assert all(isinstance(item["objectcontactmomenten"], list) for item in body["results"])
