"""Generic pass-through: rewriting both ways, header policy, errors, streaming (kiss-front.md §6.1, operations.md §7–8)."""

import json

import httpx
import pytest

from tests.conftest import ADAPTER, app_client, fixture_settings, kiss_headers, load_fixture, ordered

pytestmark = pytest.mark.anyio

PREFIXED = "https://gateway.example.org/esuite"


def recording(answer: httpx.Response | None = None):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return answer if answer is not None else httpx.Response(200, json={})

    return seen, httpx.MockTransport(handler)


async def test_json_query_location_rewritten_both_ways_with_a_base_path_prefix():
    answer = httpx.Response(
        201,
        json={
            "url": f"{PREFIXED}/klanten-api-provider/api/v1/klanten/k1",
            "links": [f"{PREFIXED}/zgw-apis-provider/zrc/api/v1/zaken/z1", "https://elders.example.org/x"],
        },
        headers={
            "Location": f"{PREFIXED}/klanten-api-provider/api/v1/klanten/k1",
            "Set-Cookie": "s=1",
            "Server": "esuite",
        },
    )
    seen, transport = recording(answer)
    settings = fixture_settings(ESUITE_BASE_URL=PREFIXED)
    async with app_client(transport, settings=settings) as client:
        response = await client.post(
            "/klanten/api/v1/klanten",
            params={"zaak": f"{ADAPTER}/zaken/api/v1/zaken/z1", "q": "a b&c"},
            json={"zaak": f"{ADAPTER}/zaken/api/v1/zaken/z1", "n": 1, "nested": [{"u": f"{ADAPTER}/klanten/api/v1"}]},
            headers={**kiss_headers(), "Cookie": "session=geheim", "Accept-Language": "nl", "Connection": "keep-alive"},
        )
    sent = seen[0]
    assert str(sent.url).startswith(f"{PREFIXED}/klanten-api-provider/api/v1/klanten?")
    assert list(sent.url.params.multi_items()) == [
        ("zaak", f"{PREFIXED}/zgw-apis-provider/zrc/api/v1/zaken/z1"),
        ("q", "a b&c"),
    ]
    assert "q=a%20b%26c" in str(sent.url)
    assert json.loads(sent.content) == {
        "zaak": f"{PREFIXED}/zgw-apis-provider/zrc/api/v1/zaken/z1",
        "n": 1,
        "nested": [{"u": f"{PREFIXED}/klanten-api-provider/api/v1"}],
    }
    assert "cookie" not in sent.headers
    assert sent.headers["accept-language"] == "nl"
    assert response.status_code == 201
    assert response.headers["location"] == f"{ADAPTER}/klanten/api/v1/klanten/k1"
    assert "set-cookie" not in response.headers and "server" not in response.headers
    assert response.content == (
        b'{"url":"https://kiss-adapter.example.org/klanten/api/v1/klanten/k1",'
        b'"links":["https://kiss-adapter.example.org/zaken/api/v1/zaken/z1","https://elders.example.org/x"]}'
    )


async def test_escaped_slashes_and_non_ascii_are_handled():
    answer = httpx.Response(
        200,
        content=b'{"url":"https:\\/\\/esuite.example.org\\/zgw-apis-provider\\/zrc\\/api\\/v1\\/zaken\\/1","naam":"Beh\\u00e9er"}',
        headers={"Content-Type": "application/json"},
    )
    _, transport = recording(answer)
    async with app_client(transport) as client:
        response = await client.get("/zaken/api/v1/zaken/niet-een-uuid", headers=kiss_headers())
    assert (
        response.content == '{"url":"https://kiss-adapter.example.org/zaken/api/v1/zaken/1","naam":"Behéer"}'.encode()
    )


async def test_empty_sub_path_reaches_the_provider_root():
    seen, transport = recording()
    async with app_client(transport) as client:
        await client.get("/catalogi/api/v1", headers=kiss_headers())
        await client.get("/catalogi/api/v1/", headers=kiss_headers())
    assert [str(r.url) for r in seen] == [
        "https://esuite.example.org/zgw-apis-provider/ztc/api/v1",
        "https://esuite.example.org/zgw-apis-provider/ztc/api/v1/",
    ]


async def test_esuite_400_is_translated_to_the_zgw_shape():
    answer = httpx.Response(
        400, json=load_fixture("esuite/error-400-validation.json"), headers={"Content-Type": "application/problem+json"}
    )
    _, transport = recording(answer)
    async with app_client(transport) as client:
        response = await client.get("/klanten/api/v1/klanten", headers=kiss_headers())
    expected = load_fixture("expected/esuite-error-400.problem.json")
    body = response.json()
    assert response.status_code == 400
    assert (
        body["instance"].startswith("urn:uuid:") and body["instance"] != "urn:uuid:9a300a7a-005e-4b3b-bd11-651b7d2a3bfd"
    )
    body["instance"] = expected["instance"]
    assert ordered(body) == ordered(expected)


async def test_esuite_403_is_translated_with_its_own_title():
    answer = httpx.Response(403, json=load_fixture("esuite/error-403-not-authorised.json"))
    _, transport = recording(answer)
    async with app_client(transport) as client:
        response = await client.get("/zaken/api/v1/zaken/x", headers=kiss_headers())
    expected = load_fixture("expected/esuite-error-403.problem.json")
    body = response.json()
    body["instance"] = expected["instance"]
    assert ordered(body) == ordered(expected)


async def test_non_json_error_body_gets_the_defaults():
    _, transport = recording(httpx.Response(409, text="<html>conflict</html>"))
    async with app_client(transport) as client:
        response = await client.get("/zaken/api/v1/x", headers=kiss_headers())
    body = response.json()
    assert (response.status_code, body["code"], body["title"], body["detail"]) == (
        409,
        "conflict",
        "Conflict.",
        "Conflict.",
    )


async def test_declared_json_that_does_not_parse_is_400_and_not_forwarded():
    seen, transport = recording()
    async with app_client(transport) as client:
        response = await client.post(
            "/klanten/api/v1/klanten",
            content=b"{niet json",
            headers={**kiss_headers(), "Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert seen == []


async def test_invalid_json_on_a_2xx_is_502():
    _, transport = recording(httpx.Response(200, content=b"{kapot", headers={"Content-Type": "application/json"}))
    async with app_client(transport) as client:
        response = await client.get("/zaken/api/v1/x", headers=kiss_headers())
    assert response.status_code == 502
    assert response.json()["code"] == "upstream-invalid-response"


async def test_non_json_upload_is_forwarded_unchanged_with_its_length():
    seen, transport = recording(httpx.Response(201, json={}))
    payload = bytes(range(256)) * 10
    async with app_client(transport) as client:
        await client.post(
            "/documenten/api/v1/enkelvoudiginformatieobjecten",
            content=payload,
            headers={**kiss_headers(), "Content-Type": "application/octet-stream"},
        )
    assert seen[0].content == payload
    assert seen[0].headers["content-length"] == str(len(payload))
    assert seen[0].headers["content-type"] == "application/octet-stream"


class Chunks(httpx.AsyncByteStream):
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk


async def test_download_headers_pass_and_body_is_not_decoded():
    answer = httpx.Response(
        200,
        stream=Chunks(b"%PDF-1.7", b" binary"),
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="brief.pdf"',
            "X-Internal": "1",
        },
    )
    _, transport = recording(answer)
    async with app_client(transport) as client:
        response = await client.get(
            "/documenten/api/v1/enkelvoudiginformatieobjecten/1/download", headers=kiss_headers()
        )
    assert response.content == b"%PDF-1.7 binary"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="brief.pdf"'
    assert "x-internal" not in response.headers


async def test_json_body_over_the_limit_is_413():
    seen, transport = recording()
    settings = fixture_settings(MAX_PASSTHROUGH_JSON_BYTES="1024")
    async with app_client(transport, settings=settings) as client:
        response = await client.post("/klanten/api/v1/klanten", json={"x": "y" * 1100}, headers=kiss_headers())
    assert response.status_code == 413
    assert response.json()["code"] == "request-too-large"
    assert seen == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path, allow",
    [
        ("/contactmomenten/api/v1/klantcontactmomenten/1", "GET, HEAD, POST"),
        ("/contactmomenten/api/v1", "GET, HEAD, POST"),
    ],
)
async def test_SEC9_no_change_methods_under_contactmomenten(method, path, allow):
    seen, transport = recording()
    async with app_client(transport) as client:
        response = await client.request(method, path, headers=kiss_headers())
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["code"] == "method_not_allowed"
    assert seen == []


async def test_options_is_405():
    async with app_client(recording()[1]) as client:
        response = await client.options("/zaken/api/v1/zaken/x", headers=kiss_headers())
    assert response.status_code == 405


async def test_RW2_without_adapter_base_url_urls_follow_the_host_header_not_forwarded_headers():
    seen, transport = recording(
        httpx.Response(200, json={"url": "https://esuite.example.org/klanten-api-provider/api/v1/klanten/1"})
    )
    settings = fixture_settings(ADAPTER_BASE_URL="")
    async with app_client(transport, settings=settings) as client:
        response = await client.get(
            "/klanten/api/v1/klanten/1?zaak=https%3A%2F%2Fpodiumd-adapter%3A8080%2Fzaken%2Fapi%2Fv1%2Fzaken%2F9",
            headers={
                **kiss_headers(),
                "Host": "podiumd-adapter:8080",
                "X-Forwarded-Host": "kiss.example.org",
                "X-Forwarded-Proto": "https",
            },
        )
    # The scheme is the connection's own (this test client speaks https), the host the Host header's.
    assert response.json() == {"url": "https://podiumd-adapter:8080/klanten/api/v1/klanten/1"}
    assert list(seen[0].url.params.multi_items()) == [
        ("zaak", "https://esuite.example.org/zgw-apis-provider/zrc/api/v1/zaken/9")
    ]
    assert "x-forwarded-host" not in seen[0].headers


@pytest.mark.parametrize("path", ["/zaken/api/v1/zaken/1", "/klanten/api/v1/klanten/1"])
async def test_a_pass_through_405_lists_its_methods_in_a_fixed_order(path):
    seen, transport = recording()
    async with app_client(transport) as client:
        response = await client.request("TRACE", path, headers=kiss_headers())
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, PUT, PATCH, DELETE"
    assert seen == []
