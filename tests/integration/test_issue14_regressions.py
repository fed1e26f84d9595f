"""Regressions of issue 14 (item 9), each through the real app with a mock e-Suite.

- an e-Suite `Retry-After` on an error the adapter translates reaches the client
  (operations.md §8: e-Suite → client headers include `Retry-After`);
- a 2xx that is not JSON on the mapped zaken list (and zaak detail) is 502
  `upstream-invalid-response`, never a 200 pass-through (operations.md §4.2);
(the third, `Token` outside the collection and `/{uuid}`, is in test_auth.py and
test_objects_front.py; the fourth, the seed, in tests/sim/test_sim_seed_issue14.py.)
"""

from __future__ import annotations

import httpx
import pytest

from adapter.mapping.errors import translate_upstream_error
from tests.conftest import app_client, kiss_headers

pytestmark = pytest.mark.anyio

ZAAK = "/zaken/api/v1/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"
PROBLEM_429 = {"code": "TOO_MANY_REQUESTS", "title": "Te veel verzoeken", "status": 429}


def esuite_answering(answer: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    return httpx.MockTransport(handler), seen


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


# --- Retry-After -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/contactmomenten/api/v1/contactmomenten?klant=k", None),  # mapped list
        ("GET", "/contactmomenten/api/v1/contactmomenten/b2272f29-1e69-411e-b853-1e0156652230", None),  # detail
        ("POST", "/contactmomenten/api/v1/contactmomenten", {"kanaal": "Telefoon", "tekst": "Vraag"}),  # create
        ("GET", "/klanten/api/v1/klanten?subjectNatuurlijkPersoon__inpBsn=999993653", None),  # pass-through
        ("GET", ZAAK, None),  # mapped pass-through
    ],
    ids=["list", "detail", "create", "passthrough", "zaak"],
)
async def test_retry_after_of_an_esuite_429_reaches_the_client(method, path, body):
    transport, _ = esuite_answering(httpx.Response(429, json=PROBLEM_429, headers={"Retry-After": "30"}))
    async with app_client(transport) as client:
        response = await client.request(method, path, headers=kiss_headers(), json=body)
    assert_problem(response, 429, "upstream-client-error")
    assert response.headers["retry-after"] == "30"


async def test_retry_after_of_an_esuite_503_reaches_the_client_with_the_502():
    date = "Wed, 02 Dec 2026 08:00:00 GMT"
    transport, seen = esuite_answering(httpx.Response(503, text="<h1>Onderhoud</h1>", headers={"Retry-After": date}))
    async with app_client(transport) as client:
        response = await client.get("/contactmomenten/api/v1/contactmomenten?klant=k", headers=kiss_headers())
    assert_problem(response, 502, "upstream-error")
    assert response.headers["retry-after"] == date
    assert len(seen) == 3  # a GET is tried three times (operations.md §5.2); the last answer counts


@pytest.mark.parametrize("value", ["soon", "-1", "1.5", "30, 40", "1234567890", "Wed, 02 Dec 2026 08:00:00 CET", ""])
def test_an_unusable_retry_after_is_dropped(value):
    problem = translate_upstream_error(503, None, lambda v: v, retry_after=value)
    assert (problem.status, problem.headers) == (502, {})


def test_retry_after_is_kept_on_every_translated_error():
    for status in (400, 404, 409, 429, 500, 503):
        assert translate_upstream_error(status, None, lambda v: v, retry_after="5").headers == {"Retry-After": "5"}
    assert translate_upstream_error(429, None, lambda v: v).headers == {}


async def test_no_retry_after_when_the_esuite_sent_none():
    transport, _ = esuite_answering(httpx.Response(429, json=PROBLEM_429))
    async with app_client(transport) as client:
        response = await client.get("/contactmomenten/api/v1/contactmomenten?klant=k", headers=kiss_headers())
    assert_problem(response, 429, "upstream-client-error")
    assert "retry-after" not in response.headers


# --- a non-JSON 2xx on the mapped zaken routes ------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html><body>Welkom</body></html>", headers={"Content-Type": "text/html"}),
        httpx.Response(200, content=b"\x00\x01binary", headers={"Content-Type": "application/octet-stream"}),
        httpx.Response(200, text="{niet: json", headers={"Content-Type": "application/json"}),
        httpx.Response(200, content=b"", headers={"Content-Type": "application/json"}),
        httpx.Response(204),
        httpx.Response(302, headers={"Location": "https://esuite.example.org/login"}),
    ],
    ids=["html", "binary", "broken-json", "empty", "204", "302"],
)
@pytest.mark.parametrize("path", ["/zaken/api/v1/zaken?identificatie=Z25.000123", ZAAK])
async def test_a_non_json_answer_on_the_mapped_zaken_routes_is_502(answer, path):
    transport, seen = esuite_answering(answer)
    async with app_client(transport) as client:
        response = await client.get(path, headers=kiss_headers())
    assert_problem(response, 502, "upstream-invalid-response")
    assert "Welkom" not in response.text and "binary" not in response.text
    assert len(seen) == 1
