"""Issue 14: which answers to a create are uncertain, and what a repeat does (operations.md §5.4)."""

import asyncio

import httpx
import pytest
from structlog.testing import capture_logs

from adapter.services import services_of
from tests.conftest import Stack, app_client, fixture_settings, kiss_headers, load_fixture

pytestmark = pytest.mark.anyio

CM = "https://esuite.example.org/contactmomenten-api-provider/api/v1"
SEARCH = f"{CM}/contactmomenten?type=Terugbelverzoek&telefoonnummerOfEmailadres=0612345678"
CREATE = "/contactmomenten/api/v1/contactmomenten"
UUID = "09cc50ce-82b6-48ce-bd85-2a3d5b682439"
ADAPTER_URL = f"https://kiss-adapter.example.org/contactmomenten/api/v1/contactmomenten/{UUID}"


def body() -> dict:
    return load_fixture("kiss/post-contactverzoek-afdeling-anonymous-v0.6.json")


def created() -> dict:
    return load_fixture("esuite/contactmoment-created-contactverzoek.json")


def page(*contacts: dict) -> dict:
    return {"count": len(contacts), "next": None, "previous": None, "results": list(contacts)}


def calls(httpx_mock) -> list[str]:
    return [r.method for r in httpx_mock.get_requests()]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_any_5xx_after_the_esuite_stored_the_contact_is_found_by_the_repeat(httpx_mock, status):
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=status, text="Service Unavailable")
    httpx_mock.add_response(method="GET", url=SEARCH, json=page(created()))
    async with app_client() as client:
        first = await client.post(CREATE, json=body(), headers=kiss_headers())
        second = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert first.status_code == 502 and first.json()["code"] == "upstream-error"
    assert second.status_code == 201
    assert second.json()["url"] == ADAPTER_URL
    assert calls(httpx_mock) == ["POST", "GET"]  # no second create


async def test_a_gateway_503_before_the_esuite_processed_it_searches_then_creates_once(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=503, text="busy")
    httpx_mock.add_response(method="GET", url=SEARCH, json=page())
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, json=created())
    async with app_client() as client:
        assert (await client.post(CREATE, json=body(), headers=kiss_headers())).status_code == 502
        second = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert second.status_code == 201
    assert calls(httpx_mock) == ["POST", "GET", "POST"]


async def test_the_adapters_own_open_circuit_was_never_sent_and_is_not_uncertain(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, json=created())
    async with app_client() as client:
        app = _app_of(client)
        for _ in range(5):
            services_of(app).esuite.esuite_breaker.record(False)
        refused = await client.post(CREATE, json=body(), headers=kiss_headers())
        services_of(app).esuite.esuite_breaker.record(True)
        second = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert refused.status_code == 503 and refused.json()["code"] == "upstream-circuit-open"
    assert second.status_code == 201
    assert calls(httpx_mock) == ["POST"]  # no search: nothing had been sent


def _app_of(client: httpx.AsyncClient):
    transport = client._transport
    while not hasattr(transport, "app"):
        transport = transport.inner if hasattr(transport, "inner") else transport._transport
    return transport.app


async def test_a_2xx_that_cannot_be_mapped_is_uncertain_the_contact_exists(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, text="<html>created</html>")
    httpx_mock.add_response(method="GET", url=SEARCH, json=page(created()))
    async with app_client() as client:
        first = await client.post(CREATE, json=body(), headers=kiss_headers())
        second = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert first.status_code == 502 and first.json()["code"] == "upstream-invalid-response"
    assert second.status_code == 201 and second.json()["url"] == ADAPTER_URL
    assert calls(httpx_mock) == ["POST", "GET"]


# --- the e-Suite prints another origin (issue 14 item 4) ---------------------------------------


def under(origin: str) -> dict:
    contact = created()
    contact["url"] = contact["url"].replace("https://esuite.example.org", origin)
    return contact


async def test_a_create_answered_under_another_origin_is_201_and_never_created_twice(httpx_mock):
    httpx_mock.add_response(
        method="POST", url=f"{CM}/contactmomenten", status_code=201, json=under("http://localhost:8081")
    )
    async with app_client() as client:
        with capture_logs() as logs:
            first = await client.post(CREATE, json=body(), headers=kiss_headers())
        repeat = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert first.status_code == 201
    assert first.json()["url"] == ADAPTER_URL
    assert first.headers["location"] == ADAPTER_URL
    assert repeat.headers["idempotent-replayed"] == "true" and repeat.content == first.content
    assert calls(httpx_mock) == ["POST"]
    warnings = [e for e in logs if e["event"] == "origin_mismatch" and e.get("accepted")]
    assert warnings == [
        {
            "event": "origin_mismatch",
            "origin": "http://localhost:8081",
            "esuite_base": "https://esuite.example.org",
            "accepted": True,
            "log_level": "warning",
        }
    ]


async def test_a_configured_public_origin_is_accepted(httpx_mock):
    settings = fixture_settings(ESUITE_PUBLIC_ORIGINS__0="https://gateway.example.net")
    httpx_mock.add_response(
        method="POST", url=f"{CM}/contactmomenten", status_code=201, json=under("https://gateway.example.net")
    )
    async with app_client(settings=settings) as client:
        accepted = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert accepted.status_code == 201 and accepted.json()["url"] == ADAPTER_URL


async def test_an_origin_outside_the_configured_list_is_refused_and_never_created_again(httpx_mock):
    settings = fixture_settings(ESUITE_PUBLIC_ORIGINS__0="https://gateway.example.net")
    elsewhere = under("https://elsewhere.example.net")
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, json=elsewhere)
    httpx_mock.add_response(method="GET", url=SEARCH, json=page(elsewhere), is_reusable=True)
    async with app_client(settings=settings) as client:
        answers = [await client.post(CREATE, json=body(), headers=kiss_headers()) for _ in range(3)]
    assert [a.status_code for a in answers] == [502, 502, 502]
    assert {a.json()["code"] for a in answers} == {"upstream-invalid-response"}
    assert calls(httpx_mock) == ["POST", "GET", "GET"]  # the contact is searched, never re-created


async def test_the_simulator_printing_localhost_for_127_0_0_1_gives_one_contact_per_post():
    """The issue's reproduction: ESUITE_BASE_URL names 127.0.0.1, the e-Suite prints localhost."""
    settings = fixture_settings(ESUITE_BASE_URL="http://127.0.0.1:8081")
    stack = Stack(settings=settings, base_url="http://localhost:8081")
    before = set(stack.store.contacts)
    answers = [await stack.client.post(CREATE, json=body(), headers=kiss_headers()) for _ in range(3)]
    [new] = set(stack.store.contacts) - before
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert {a.json()["url"] for a in answers} == {
        f"https://kiss-adapter.example.org/contactmomenten/api/v1/contactmomenten/{new}"
    }
    await stack.aclose()


# --- a create cut short (shutdown past its grace) ----------------------------------------------


async def test_a_create_cancelled_in_flight_is_recorded_uncertain_and_the_repeat_searches():
    stack = Stack()
    stack.sim.state.faults.configure(
        {"hang_seconds": 5, "routes": {"POST /contactmomenten-api-provider/api/v1/contactmomenten": {"hang": 1.0}}}
    )
    with capture_logs() as logs:
        task = asyncio.create_task(stack.client.post(CREATE, json=body(), headers=kiss_headers()))
        while not stack.upstream_requests("POST", "/contactmomenten"):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [e["problem_code"] for e in logs if e["event"] == "uncertain_outcome"] == ["shutting-down"]
    stack.sim.state.faults.configure({"routes": {}})
    repeat = await stack.client.post(CREATE, json=body(), headers=kiss_headers())
    assert repeat.status_code == 201
    methods = [e["method"] for e in stack.upstream_requests(path_suffix="/contactmomenten")]
    assert methods == ["POST", "GET", "POST"]  # searched before creating again
    await stack.aclose()


async def test_the_search_follows_pages_the_esuite_links_under_its_other_origin(httpx_mock):
    other = "http://localhost:8081"
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=504, text="Gateway Time-out")
    unrelated = {
        **created(),
        "url": f"{other}/contactmomenten-api-provider/api/v1/contactmomenten/aaaaaaaa-82b6-48ce-bd85-2a3d5b682439",
        "tekst": "iets anders",
    }
    first_page = {
        "count": 2,
        "next": f"{other}/contactmomenten-api-provider/api/v1/contactmomenten?page=2",
        "previous": None,
        "results": [unrelated],
    }
    httpx_mock.add_response(method="GET", url=SEARCH, json=first_page)
    httpx_mock.add_response(method="GET", url=f"{CM}/contactmomenten?page=2", json=page(under(other)))
    async with app_client() as client:
        await client.post(CREATE, json=body(), headers=kiss_headers())
        repeat = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert repeat.status_code == 201 and repeat.json()["url"] == ADAPTER_URL
    assert calls(httpx_mock) == ["POST", "GET", "GET"]


def unrelated_page(number: int, next_link: str | None) -> dict:
    contact = {
        **created(),
        "url": f"{CM}/contactmomenten/aaaaaaa{number}-82b6-48ce-bd85-2a3d5b682439",
        "tekst": "iets anders",
    }
    return {"count": 80, "next": next_link, "previous": None, "results": [contact]}


async def test_the_search_reads_at_most_the_first_3_pages_then_creates_once(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=504, text="Gateway Time-out")
    httpx_mock.add_response(method="GET", url=SEARCH, json=unrelated_page(1, f"{CM}/contactmomenten?page=2"))
    httpx_mock.add_response(
        method="GET", url=f"{CM}/contactmomenten?page=2", json=unrelated_page(2, f"{CM}/contactmomenten?page=3")
    )
    # Page 3 links a fourth page holding the match: it is never read (no response registered for it).
    httpx_mock.add_response(
        method="GET", url=f"{CM}/contactmomenten?page=3", json=unrelated_page(3, f"{CM}/contactmomenten?page=4")
    )
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, json=created())
    async with app_client() as client:
        await client.post(CREATE, json=body(), headers=kiss_headers())
        repeat = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert repeat.status_code == 201
    assert calls(httpx_mock) == ["POST", "GET", "GET", "GET", "POST"]


async def test_the_search_does_not_follow_a_next_outside_the_contactmomenten_collection(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=504, text="Gateway Time-out")
    httpx_mock.add_response(method="GET", url=SEARCH, json=unrelated_page(1, f"{CM}/klantcontactmomenten?page=2"))
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, json=created())
    async with app_client() as client:
        await client.post(CREATE, json=body(), headers=kiss_headers())
        repeat = await client.post(CREATE, json=body(), headers=kiss_headers())
    assert repeat.status_code == 201
    assert calls(httpx_mock) == ["POST", "GET", "POST"]
