"""A kanaal the e-Suite does not know (docs/kiss-setup.md §3.1, issue 14 item 8).

The e-Suite refuses the contact with 400; the adapter passes that on as problem+json with the
e-Suite's reason in `invalidParams` (operations.md §4.3), creates nothing, and KISS v3 shows
only its generic "Er is een fout opgetreden bij opslaan van het contactmoment".
"""

import pytest

from tests.conftest import kiss_headers, load_fixture

pytestmark = pytest.mark.anyio

CM_LIST = "/contactmomenten/api/v1/contactmomenten"


@pytest.mark.parametrize("kanaal", ["Chat", "TELEFOON", "Telefoon "])
async def test_an_unknown_kanaal_is_the_esuites_400_with_its_reason(stack, kanaal):
    body = load_fixture("kiss/post-contactmoment-plain-v1.json") | {"kanaal": kanaal}
    contacts_before = set(stack.store.contacts)
    response = await stack.client.post(CM_LIST, json=body, headers=kiss_headers())
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {key: problem[key] for key in ("type", "code", "title", "status", "detail", "invalidParams")} == {
        "type": "urn:kiss-esuite-adapter:fout:invalid",
        "code": "invalid",
        "title": "Validatiefout",
        "status": 400,
        "detail": "Kanaal bestaat niet.",
        "invalidParams": [{"name": "nonFieldErrors", "code": "invalid", "reason": "Kanaal bestaat niet."}],
    }
    assert set(stack.store.contacts) == contacts_before  # nothing created
    [sent] = stack.upstream_requests("POST", "/contactmomenten")
    assert sent["body"]["kanaal"] == kanaal  # verbatim (P-3): names must match exactly


async def test_the_same_kanaal_spelled_as_the_esuite_is_saved(stack):
    body = load_fixture("kiss/post-contactmoment-plain-v1.json") | {"kanaal": "Telefoon"}
    response = await stack.client.post(CM_LIST, json=body, headers=kiss_headers())
    assert response.status_code == 201, response.text
    assert response.json()["kanaal"] == "Telefoon"
