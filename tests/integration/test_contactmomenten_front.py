"""The contactmomenten front through the real app, the e-Suite answering with the fixture files.

These tests compare exact bodies: what the e-Suite received and what KISS got.
"""

import json

import httpx
import pytest

from tests.conftest import ADAPTER, FIXTURES, app_client, kiss_headers, load_fixture, ordered

pytestmark = pytest.mark.anyio

CM = "https://esuite.example.org/contactmomenten-api-provider/api/v1"
REQUESTS_GET = {case["case"]: case for case in load_fixture("kiss/requests-get.json")}
POSTS = [
    ("post-contactmoment-plain-v1", "contactmoment-created-plain"),
    ("post-contactmoment-plain-second-vraag-v2", "contactmoment-created-second-vraag"),
    ("post-contactverzoek-afdeling-anonymous-v0.6", "contactmoment-created-contactverzoek"),
]


def kiss_post(client: httpx.AsyncClient, name: str, **headers):
    content = (FIXTURES / "kiss" / f"{name}.json").read_bytes()
    return client.post(
        "/contactmomenten/api/v1/contactmomenten",
        content=content,
        headers={**kiss_headers(), "Content-Type": "application/json; charset=utf-8", **headers},
    )


@pytest.mark.parametrize("name, created", POSTS)
async def test_post_sends_the_exact_esuite_body_and_answers_exactly(httpx_mock, name, created):
    esuite_answer = load_fixture(f"esuite/{created}.json")
    httpx_mock.add_response(method="POST", url=f"{CM}/contactmomenten", status_code=201, json=esuite_answer)
    async with app_client() as client:
        response = await kiss_post(client, name)
    sent = httpx_mock.get_request()
    assert sent.headers["content-type"] == "application/json"
    assert ordered(json.loads(sent.content)) == ordered(load_fixture(f"expected/{name}.esuite-request.json"))
    assert response.status_code == 201
    expected = load_fixture(f"expected/{name}.response.json")
    assert ordered(response.json()) == ordered(expected)
    assert response.headers["location"] == expected["url"]
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "name",
    [
        "post-contactverzoek-invalid-no-actor",
        "post-contactverzoek-invalid-org-type",
        "post-contactmoment-invalid-types",
    ],
)
async def test_invalid_posts_are_400_with_nothing_sent(httpx_mock, name):
    async with app_client() as client:
        response = await kiss_post(client, name)
    expected = load_fixture(f"expected/{name}.problem.json")
    body = response.json()
    assert response.status_code == expected["status"]
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == expected["code"]
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [
        (p["name"], p["code"]) for p in expected["invalidParams"]
    ]
    assert len(httpx_mock.get_requests()) == expected["upstreamCalls"] == 0


async def test_body_that_is_not_json_is_parse_error_whatever_the_content_type(httpx_mock):
    async with app_client() as client:
        response = await client.post(
            "/contactmomenten/api/v1/contactmomenten",
            content=b"tekst=hallo",
            headers={**kiss_headers(), "Content-Type": "text/plain"},
        )
    assert response.status_code == 400
    assert response.json()["invalidParams"] == [
        {"name": "nonFieldErrors", "code": "parse_error", "reason": "De inhoud is geen geldige JSON."}
    ]


async def test_bom_and_text_plain_are_tolerated(httpx_mock):
    httpx_mock.add_response(
        method="POST",
        url=f"{CM}/contactmomenten",
        status_code=201,
        json=load_fixture("esuite/contactmoment-created-plain.json"),
    )
    content = b"\xef\xbb\xbf" + (FIXTURES / "kiss/post-contactmoment-plain-v1.json").read_bytes()
    async with app_client() as client:
        response = await client.post(
            "/contactmomenten/api/v1/contactmomenten",
            content=content,
            headers={**kiss_headers(), "Content-Type": "text/plain"},
        )
    assert response.status_code == 201


async def test_a_second_identical_post_creates_no_second_contact(httpx_mock):
    httpx_mock.add_response(
        method="POST",
        url=f"{CM}/contactmomenten",
        status_code=201,
        json=load_fixture("esuite/contactmoment-created-contactverzoek.json"),
    )
    async with app_client() as client:
        first = await kiss_post(client, "post-contactverzoek-afdeling-anonymous-v0.6")
        second = await kiss_post(client, "post-contactverzoek-afdeling-anonymous-v0.6")
        metrics = (await client.get("/metrics")).text
    assert len(httpx_mock.get_requests()) == 1
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert "kiss_adapter_duplicate_replays_total 1.0" in metrics


async def test_same_body_with_other_key_order_is_the_same_request(httpx_mock):
    httpx_mock.add_response(
        method="POST",
        url=f"{CM}/contactmomenten",
        status_code=201,
        json=load_fixture("esuite/contactmoment-created-plain.json"),
    )
    body = load_fixture("kiss/post-contactmoment-plain-v1.json")
    reordered = dict(reversed(list(body.items())))
    async with app_client() as client:
        await client.post("/contactmomenten/api/v1/contactmomenten", json=body, headers=kiss_headers())
        second = await client.post(
            "/contactmomenten/api/v1/contactmomenten", content=json.dumps(reordered, indent=2), headers=kiss_headers()
        )
    assert second.headers["idempotent-replayed"] == "true"
    assert len(httpx_mock.get_requests()) == 1


async def test_concurrent_identical_posts_create_one_contact():
    import asyncio

    calls = []

    async def slow_esuite(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        await asyncio.sleep(0.05)
        return httpx.Response(201, json=load_fixture("esuite/contactmoment-created-contactverzoek.json"))

    async with app_client(httpx.MockTransport(slow_esuite)) as client:
        answers = await asyncio.gather(
            *[kiss_post(client, "post-contactverzoek-afdeling-anonymous-v0.6") for _ in range(5)]
        )
    assert len(calls) == 1
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert sorted(a.headers.get("idempotent-replayed", "false") for a in answers) == ["false"] + ["true"] * 4


async def test_a_failed_first_attempt_is_not_stored(httpx_mock):
    httpx_mock.add_response(
        method="POST",
        url=f"{CM}/contactmomenten",
        status_code=400,
        json=load_fixture("esuite/error-400-validation.json"),
    )
    httpx_mock.add_response(
        method="POST",
        url=f"{CM}/contactmomenten",
        status_code=201,
        json=load_fixture("esuite/contactmoment-created-plain.json"),
    )
    async with app_client() as client:
        first = await kiss_post(client, "post-contactmoment-plain-v1")
        second = await kiss_post(client, "post-contactmoment-plain-v1")
    assert (first.status_code, second.status_code) == (400, 201)
    assert first.json()["invalidParams"] == [
        {"name": "nonFieldErrors", "code": "invalid", "reason": "Kanaal 'Chat' bestaat niet."}
    ]
    assert "idempotent-replayed" not in second.headers


async def test_post_is_never_retried_once_sent(httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("no answer"), method="POST", url=f"{CM}/contactmomenten")
    async with app_client() as client:
        response = await kiss_post(client, "post-contactverzoek-afdeling-anonymous-v0.6")
    assert response.status_code == 504
    assert response.json()["code"] == "upstream-timeout"
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, json={"url": "https://elders.example.org/contactmomenten/1"}),
        httpx.Response(201, json=["geen object"]),
        httpx.Response(201, text="<html/>"),
        httpx.Response(201, json={"url": f"{CM}/contactmomenten/geen-uuid"}),
    ],
    ids=["foreign-url", "array", "not-json", "no-uuid"],
)
async def test_unusable_create_answer_is_502_never_half_mapped(httpx_mock, answer):
    httpx_mock.add_callback(lambda request: answer, method="POST", url=f"{CM}/contactmomenten")
    async with app_client() as client:
        response = await kiss_post(client, "post-contactmoment-plain-v1")
    assert response.status_code == 502
    assert response.json()["code"] == "upstream-invalid-response"


async def test_W8_contactmomenten_of_a_klant(httpx_mock):
    case = REQUESTS_GET["contactmomenten-by-klant-v1"]
    httpx_mock.add_response(
        method="GET",
        url=f"{CM}/contactmomenten?klant=https%3A%2F%2Fesuite.example.org%2Fklanten-api-provider%2Fapi%2Fv1%2Fklanten%2Fd72e7265-3b76-4410-a9aa-54e20528a3f4",
        json=load_fixture("esuite/contactmomenten-page-klant.json"),
    )
    httpx_mock.add_response(
        method="GET",
        url=f"{CM}/objectcontactmomenten?contactmoment=https%3A%2F%2Fesuite.example.org%2Fcontactmomenten-api-provider%2Fapi%2Fv1%2Fcontactmomenten%2Fcb7b21e1-708d-4ea3-8d81-147dd041f296",
        json=load_fixture("esuite/objectcontactmomenten-page.json"),
    )
    async with app_client() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert response.status_code == 200
    assert ordered(response.json()) == ordered(load_fixture(case["expectedResponse"]))
    assert len(httpx_mock.get_requests()) == 2


async def test_contactmoment_detail_with_expand(httpx_mock):
    case = REQUESTS_GET["contactmoment-detail-v1"]
    httpx_mock.add_response(
        method="GET",
        url=f"{CM}/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db",
        json=load_fixture("esuite/contactmoment-detail-contactverzoek.json"),
    )
    httpx_mock.add_response(
        method="GET",
        url=f"{CM}/objectcontactmomenten?contactmoment=https%3A%2F%2Fesuite.example.org%2Fcontactmomenten-api-provider%2Fapi%2Fv1%2Fcontactmomenten%2F6b49ddb3-f8be-452d-92ba-f780ee8d49db",
        json=load_fixture("esuite/objectcontactmomenten-page-empty.json"),
    )
    async with app_client() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert ordered(response.json()) == ordered(load_fixture(case["expectedResponse"]))


async def test_detail_with_a_non_uuid_segment_is_404_without_a_call(httpx_mock):
    async with app_client() as client:
        response = await client.get("/contactmomenten/api/v1/contactmomenten/abc", headers=kiss_headers())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("status, fixture", [(403, "error-403-not-authorised"), (404, "error-404-not-found")])
async def test_detail_403_and_404_are_passed_on(httpx_mock, status, fixture):
    httpx_mock.add_response(
        url=f"{CM}/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db",
        status_code=status,
        json=load_fixture(f"esuite/{fixture}.json"),
    )
    async with app_client() as client:
        response = await client.get(
            "/contactmomenten/api/v1/contactmomenten/6B49DDB3-F8BE-452D-92BA-F780EE8D49DB", headers=kiss_headers()
        )
    assert response.status_code == status


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("POST", "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db", "GET"),
        ("HEAD", "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db", "GET"),
        ("DELETE", "/contactmomenten/api/v1/contactmomenten/x", "GET"),
        ("HEAD", "/contactmomenten/api/v1/contactmomenten", "GET, POST"),
        ("PATCH", "/contactmomenten/api/v1/contactmomenten", "GET, POST"),
        ("HEAD", "/contactmomenten/api/v1/klantcontactmomenten", "GET, POST"),
        ("PUT", "/contactmomenten/api/v1/objectcontactmomenten", "GET, POST"),
    ],
)
async def test_route_8_methods_not_served_are_405_and_never_passed_through(httpx_mock, method, path, allow):
    async with app_client() as client:
        response = await client.request(method, path, headers=kiss_headers())
    assert response.status_code == 405
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    "query, code, name",
    [
        ("klant=x&foo=1", "unknown-parameters", "foo"),
        ("ordering=kanaal", "invalid", "ordering"),
        ("expand=zaken", "invalid", "expand"),
        ("page=0", "invalid", "page"),
        (
            "object=https%3A%2F%2Fkiss-adapter.example.org%2Fzaken%2Fapi%2Fv1%2Fzaken%2F1&klant=x",
            "unsupported-filter-combination",
            "object",
        ),
    ],
)
async def test_list_query_errors_are_400_with_nothing_sent(httpx_mock, query, code, name):
    async with app_client() as client:
        response = await client.get(f"/contactmomenten/api/v1/contactmomenten?{query}", headers=kiss_headers())
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == code
    assert [p["name"] for p in body["invalidParams"]] == [name]


async def test_object_mode_pages_links_fetches_details_and_leaves_out_403(httpx_mock):
    zaak = "https%3A%2F%2Fesuite.example.org%2Fzgw-apis-provider%2Fzrc%2Fapi%2Fv1%2Fzaken%2Fa177c7fa-bb70-4d42-9584-6b099e87512b"
    uuids = [
        "cb7b21e1-708d-4ea3-8d81-147dd041f296",
        "b2272f29-1e69-411e-b853-1e0156652230",
        "6b49ddb3-f8be-452d-92ba-f780ee8d49db",
    ]
    link = lambda uuid: {
        "url": f"{CM}/objectcontactmomenten/{uuid}",
        "contactmoment": f"{CM}/contactmomenten/{uuid}",
        "object": "z",
        "objectType": "zaak",
    }
    httpx_mock.add_response(
        url=f"{CM}/objectcontactmomenten?object={zaak}",
        json={
            "count": 3,
            "next": f"{CM}/objectcontactmomenten?object={zaak}&page=2",
            "previous": None,
            "results": [link(uuids[0]), link(uuids[1])],
        },
    )
    httpx_mock.add_response(
        url=f"{CM}/objectcontactmomenten?object={zaak}&page=2",
        json={"count": 3, "next": None, "previous": None, "results": [link(uuids[2]), link(uuids[0])]},
    )
    page = load_fixture("esuite/contactmomenten-page-klant.json")["results"]
    by_uuid = {item["url"].rsplit("/", 1)[1]: item for item in page}
    for uuid in uuids[:2]:
        httpx_mock.add_response(url=f"{CM}/contactmomenten/{uuid}", json=by_uuid[uuid])
    httpx_mock.add_response(
        url=f"{CM}/contactmomenten/{uuids[2]}",
        status_code=403,
        json=load_fixture("esuite/error-403-not-authorised.json"),
    )
    case = REQUESTS_GET["contactmomenten-by-zaak-2024"]
    async with app_client() as client:
        response = await client.get(case["target"].replace("&expand=objectcontactmomenten", ""), headers=kiss_headers())
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert [item["url"].rsplit("/", 1)[1] for item in body["results"]] == uuids[:2]  # newest first, 403 left out


async def test_objectcontactmomenten_by_contactmoment_gives_an_empty_page_on_esuite_400(httpx_mock):
    case = REQUESTS_GET["objectcontactmomenten-by-contactmoment-v1"]
    httpx_mock.add_response(
        url=case["upstream"][0].split(" ", 1)[1], status_code=400, json=load_fixture("esuite/error-400-validation.json")
    )
    async with app_client() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert (response.status_code, response.json()) == (200, {"count": 0, "next": None, "previous": None, "results": []})


async def test_objectcontactmomenten_by_zaak_is_passed_through_rewritten(httpx_mock):
    case = REQUESTS_GET["objectcontactmomenten-by-zaak-v1"]
    httpx_mock.add_response(
        url=case["upstream"][0].split(" ", 1)[1], json=load_fixture("esuite/objectcontactmomenten-page.json")
    )
    async with app_client() as client:
        response = await client.get(case["target"], headers=kiss_headers())
    assert (
        response.json()["results"][0]["object"] == f"{ADAPTER}/zaken/api/v1/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"
    )


@pytest.mark.parametrize(
    "name, created",
    [
        ("post-klantcontactmoment", "klantcontactmoment-created"),
        ("post-objectcontactmoment", "objectcontactmoment-created"),
    ],
)
async def test_link_posts_are_rewritten_both_ways(httpx_mock, name, created):
    resource = name.removeprefix("post-") + "en"
    httpx_mock.add_response(
        method="POST", url=f"{CM}/{resource}", status_code=201, json=load_fixture(f"esuite/{created}.json")
    )
    async with app_client() as client:
        response = await client.post(
            f"/contactmomenten/api/v1/{resource}",
            content=(FIXTURES / "kiss" / f"{name}.json").read_bytes(),
            headers={**kiss_headers(), "Content-Type": "application/json"},
        )
    sent = json.loads(httpx_mock.get_request().content)
    assert all(not value.startswith(ADAPTER) for value in sent.values() if isinstance(value, str))
    assert response.status_code == 201
    assert all(
        not value.startswith("https://esuite.example.org")
        for value in response.json().values()
        if isinstance(value, str)
    )
