"""Issue 13 items 2 and 5 in process: answer caps under any httpx transport, body structure,
token claims, header bytes, Host, query encoding, e-mail addresses, DEBUG paths, config."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import hmac
import io
import json
import os
import time

import httpx
import orjson
import pytest

from adapter.app import create_app
from adapter.config import load_settings
from adapter.esuite_client.urls import UrlMap
from adapter.logging import configure_logging
from adapter.mapping import contact_create
from adapter.mapping.query import parse_client_query
from adapter.problems import Problem
from adapter.services import services_of
from tests.conftest import KISS_CLIENT, KISS_SECRET, app_client, fixture_env, fixture_settings, kiss_headers, kiss_token
from tests.hostile_esuite import HostileEsuite

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
CONTACT = "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"


def recording(answer=None):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return answer(request) if answer else httpx.Response(200, json={})

    return seen, httpx.MockTransport(handler)


class Stream(httpx.AsyncByteStream):
    def __init__(self, chunks, error: Exception | None = None) -> None:
        self.chunks, self.error = chunks, error

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk
        if self.error:
            raise self.error


# --- answer caps, whatever the transport under httpx ----------------------------------------


def _bomb(megabytes: int) -> bytes:
    return gzip.compress(b"[" + b" " * (megabytes * MIB) + b"]", compresslevel=1)


@pytest.mark.parametrize("path", ["/zaken/api/v1/zaakobjecten", CONTACT])
async def test_a_gzip_bomb_under_a_mock_transport_stops_at_the_decoded_cap(path):
    bomb = _bomb(20)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    _, transport = recording(lambda request: httpx.Response(200, headers=headers, stream=Stream([bomb])))
    settings = fixture_settings(MAX_UPSTREAM_ANSWER_BYTES=str(MIB))
    async with app_client(transport, settings=settings) as client:
        answer = await client.get(path, headers=kiss_headers())
    assert (answer.status_code, answer.json()["code"]) == (502, "upstream-invalid-response")


async def test_received_bytes_are_capped_apart_from_decoded_ones():
    incompressible = gzip.compress(os.urandom(70 * 1024))  # > 64 KiB received, far under 8 MiB decoded
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    _, transport = recording(lambda request: httpx.Response(200, headers=headers, stream=Stream([incompressible])))
    settings = fixture_settings(MAX_UPSTREAM_COMPRESSED_ANSWER_BYTES=str(64 * 1024))
    async with app_client(transport, settings=settings) as client:
        answer = await client.get("/zaken/api/v1/zaakobjecten", headers=kiss_headers())
    assert (answer.status_code, answer.json()["code"]) == (502, "upstream-invalid-response")


async def test_an_answer_at_the_cap_is_read_whole():
    body = b'{"a":"' + b"x" * (64 * 1024 - 8) + b'"}'
    assert len(body) == 64 * 1024
    _, transport = recording(
        lambda request: httpx.Response(
            200, headers={"Content-Type": "application/json"}, stream=Stream([body[:1000], body[1000:]])
        )
    )
    settings = fixture_settings(
        MAX_UPSTREAM_ANSWER_BYTES=str(64 * 1024), MAX_UPSTREAM_COMPRESSED_ANSWER_BYTES=str(64 * 1024)
    )
    async with app_client(transport, settings=settings) as client:
        answer = await client.get("/zaken/api/v1/zaakobjecten", headers=kiss_headers())
    assert answer.status_code == 200
    assert answer.json() == {"a": "x" * (64 * 1024 - 8)}


@pytest.mark.parametrize("path", ["/zaken/api/v1/zaakobjecten", CONTACT])
@pytest.mark.parametrize("status", [200, 400])
async def test_a_read_timeout_inside_a_body_is_504_never_500(path, status):
    def answer(request):
        stream = Stream([b'{"a": '], httpx.ReadTimeout("stalled", request=request))
        return httpx.Response(status, headers={"Content-Type": "application/json"}, stream=stream)

    _, transport = recording(answer)
    async with app_client(transport) as client:
        response = await client.get(path, headers=kiss_headers())
    assert (response.status_code, response.json()["code"]) == (504, "upstream-timeout")


async def test_an_encoding_the_adapter_never_asked_for_is_502():
    headers = {"Content-Type": "application/json", "Content-Encoding": "br"}
    _, transport = recording(
        lambda request: httpx.Response(200, headers=headers, stream=Stream([b"\x0b\x02\x80{}\x03"]))
    )
    async with app_client(transport) as client:
        answer = await client.get(CONTACT, headers=kiss_headers())
    assert (answer.status_code, answer.json()["code"]) == (502, "upstream-invalid-response")


# --- client bodies: bytes, values, depth ------------------------------------------------------


@pytest.mark.parametrize("zeros, status", [(99, 200), (100, 413)])
async def test_a_pass_through_body_is_limited_in_values(zeros, status):
    """`[` and 99 zeros are 100 values (the array counts), the limit."""
    seen, transport = recording()
    settings = fixture_settings(MAX_PASSTHROUGH_JSON_VALUES="100")
    body = b"[" + b",".join([b"0"] * zeros) + b"]"
    async with app_client(transport, settings=settings) as client:
        answer = await client.post(
            "/zaken/api/v1/zaakobjecten", content=body, headers={**kiss_headers(), "Content-Type": "application/json"}
        )
    assert answer.status_code == status
    assert len(seen) == (1 if status == 200 else 0)
    if status == 413:
        assert answer.json()["code"] == "request-too-large"


@pytest.mark.parametrize("depth", [255, 1024, 1025])
@pytest.mark.parametrize("path", ["/zaken/api/v1/zaakobjecten", "/contactmomenten/api/v1/contactmomenten"])
async def test_json_nested_deeper_than_the_renderer_goes_is_400(depth, path):
    seen, transport = recording()
    body = b"[" * depth + b"]" * depth
    async with app_client(transport) as client:
        answer = await client.post(path, content=body, headers={**kiss_headers(), "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (400, "parse_error")
    assert seen == []


async def test_json_254_deep_is_still_forwarded():
    seen, transport = recording()
    body = b"[" * 254 + b"]" * 254
    async with app_client(transport) as client:
        answer = await client.post(
            "/zaken/api/v1/zaakobjecten", content=body, headers={**kiss_headers(), "Content-Type": "application/json"}
        )
    assert answer.status_code == 200
    assert seen[0].content == body


# --- token claims ----------------------------------------------------------------------------


def _raw_token(payload_text: bytes) -> str:
    """An HS256 JWT over a payload written by hand (JSON `1e400`, `NaN`, `Infinity`)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(payload_text)
    signature = hmac.new(KISS_SECRET.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_a_non_finite_time_claim_is_jwt_decode_error(claim, value):
    now = int(time.time())
    claims = {"iss": KISS_CLIENT, "client_id": KISS_CLIENT, "user_id": "jjansen", "iat": now - 60, "exp": now + 600}
    claims.pop(claim, None)
    text = json.dumps(claims)[:-1] + f', "{claim}": {value}}}'
    seen, transport = recording()
    async with app_client(transport) as client:
        answer = await client.get(CONTACT, headers={"Authorization": f"Bearer {_raw_token(text.encode())}"})
    assert (answer.status_code, answer.json()["code"]) == (403, "jwt-decode-error")
    assert seen == []


@pytest.mark.parametrize("claim", ["user_id", "user_representation"])
@pytest.mark.parametrize("control", ["\r", "\n", "\x00", "\x1b", "\x7f", "\x85"])
async def test_a_user_claim_with_a_control_character_is_jwt_decode_error(claim, control):
    token = kiss_token(**{claim: f"j{control}jansen"})
    seen, transport = recording()
    async with app_client(transport) as client:
        answer = await client.get(CONTACT, headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json()["code"]) == (403, "jwt-decode-error")
    assert seen == []


# --- header bytes end to end, through the production transport -------------------------------


async def test_utf8_header_values_keep_their_bytes_end_to_end():
    with HostileEsuite("disposition") as hostile:
        app = create_app(fixture_settings(ESUITE_BASE_URL=hostile.base))
        inbound = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://kiss-adapter.example.org")
        try:
            answer = await inbound.get(
                "/documenten/api/v1/enkelvoudiginformatieobjecten/1/download",
                headers={**kiss_headers("zoë.de.vries"), "X-Audit-Toelichting": "Inzage door Zoë".encode()},
            )
            body = await answer.aread()
        finally:
            await inbound.aclose()
            await services_of(app).esuite.aclose()
        [request] = hostile.requests
    assert answer.status_code == 200 and body == b"%PDF"
    assert answer.headers.raw[[n.lower() for n, _ in answer.headers.raw].index(b"content-disposition")][1] == (
        'attachment; filename="Zoë.pdf"'.encode()
    )
    assert "x-esuite-request-user-id: zoë.de.vries\r\n".encode() in request.lower()
    assert "x-audit-toelichting: inzage door zoë\r\n".encode() in request.lower()


# --- Host without ADAPTER_BASE_URL -------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ['kiss.example.org"', 'a","x":"y', "kiss example", "kiss.example.org:80:80", "@evil", ""]
)
async def test_without_adapter_base_url_the_host_must_be_host_and_port(host):
    seen, transport = recording()
    async with app_client(transport, settings=fixture_settings(ADAPTER_BASE_URL="")) as client:
        answer = await client.get(CONTACT, headers={**kiss_headers(), "Host": host})
    assert answer.status_code == 400
    assert answer.json()["invalidParams"] == [
        {"name": "Host", "code": "invalid", "reason": "De Host-header moet de vorm host[:poort] hebben."}
    ]
    assert seen == []


@pytest.mark.parametrize(
    "host", ["kiss.example.org", "kiss.example.org:8443", "127.0.0.1:8080", "[::1]:8080", "localhost"]
)
async def test_a_plain_host_is_the_origin_of_emitted_urls(host):
    contact = {
        "url": "https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"
    }
    seen, transport = recording(lambda request: httpx.Response(200, json=contact))
    async with app_client(transport, settings=fixture_settings(ADAPTER_BASE_URL="")) as client:
        answer = await client.get("/zaken/api/v1/zaakobjecten", headers={**kiss_headers(), "Host": host})
    assert answer.status_code == 200
    assert answer.json()["url"] == f"https://{host}{CONTACT}"  # the test client speaks https


def test_an_origin_pasted_into_json_text_is_escaped():
    urls = UrlMap('http://a","injected":"x', "https://esuite.example.org")
    value = {"url": "https://esuite.example.org/zgw-apis-provider/zrc/api/v1/zaken/1"}
    assert orjson.loads(urls.rendered(value)) == {"url": 'http://a","injected":"x/zaken/api/v1/zaken/1'}


# --- query encoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["zaak=%FF", "zaak=%C3%28", "%FF=1"])
async def test_a_query_value_that_is_not_utf8_is_400_and_nothing_is_sent(query):
    seen, transport = recording()
    async with app_client(transport) as client:
        answer = await client.get(f"/zaken/api/v1/zaakobjecten?{query}", headers=kiss_headers())
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid")
    assert seen == []


def test_raw_query_bytes_that_are_not_utf8_are_400():
    with pytest.raises(Problem) as caught:
        parse_client_query(b"zaak=\xff")
    assert caught.value.status == 400
    assert parse_client_query("q=zoë&x=%C3%AB".encode()) == [("q", "zoë"), ("x", "ë")]


# --- e-mail addresses (the e-Suite's format: email) ----------------------------------------


def _cv(adres: str) -> dict:
    return {
        "gespreksresultaat": "Contactverzoek gemaakt",
        "actor": {
            "naam": "Burgerzaken",
            "soortActor": "organisatorische eenheid",
            "typeOrganisatorischeEenheid": "afdeling",
        },
        "betrokkene": {
            "digitaleAdressen": [
                {"adres": "0612345678", "soortDigitaalAdres": "telefoonnummer"},
                {"adres": adres, "soortDigitaalAdres": "email"},
            ]
        },
    }


@pytest.mark.parametrize(
    "adres",
    [
        "anna at example",
        "anna@",
        "@example.org",
        "anna@example",
        "anna@@example.org",
        "an na@example.org",
        "anna@exa_mple.org",
        "anna@example.org\n",
        " anna@example.org",
    ],
)
def test_an_email_address_that_is_not_one_is_refused(adres):
    with pytest.raises(Problem) as caught:
        contact_create.build_esuite_contact(_cv(adres), ["Terugbelverzoek"])
    assert [(p.name, p.code, p.reason) for p in caught.value.invalid_params] == [
        ("betrokkene.digitaleAdressen.1.adres", "invalid", "Dit is geen geldig e-mailadres.")
    ]


@pytest.mark.parametrize("adres", ["anna@example.org", "a.b+kiss@sub.example.nl", "o'brien@example.ie"])
def test_an_email_address_is_sent_verbatim(adres):
    assert (
        contact_create.build_esuite_contact(_cv(adres), ["Terugbelverzoek"])["contactgegevens"]["emailadres"] == adres
    )


async def test_an_invalid_email_is_400_with_invalid_params_and_nothing_is_sent():
    seen, transport = recording()
    async with app_client(transport) as client:
        answer = await client.post(
            "/contactmomenten/api/v1/contactmomenten", json=_cv("anna at example"), headers=kiss_headers()
        )
    assert answer.status_code == 400
    assert answer.json()["invalidParams"] == [
        {"name": "betrokkene.digitaleAdressen.1.adres", "code": "invalid", "reason": "Dit is geen geldig e-mailadres."}
    ]
    assert seen == []


# --- DEBUG lines carry templates ---------------------------------------------------------------


async def test_debug_lines_never_carry_a_raw_path():
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream)
    try:
        _, transport = recording()
        async with app_client(transport) as client:
            await client.get("/klanten/api/v1/klanten/anna.vandijk@example.org/999993653", headers=kiss_headers())
    finally:
        configure_logging("INFO", "json")
    text = stream.getvalue()
    assert "anna" not in text and "999993653" not in text
    upstream = [json.loads(line) for line in text.splitlines() if '"upstream"' in line]
    assert [line["path"] for line in upstream] == ["/klanten-api-provider/api/v1/klanten/{id}/{id}"]


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variable",
    [
        "ESUITE_BASE_URL",
        "SMOELENBOEK_BASE_URL",
        "ADAPTER_BASE_URL",
        "INTERNE_TAAK_OBJECT_TYPE_URL",
        "SMOELENBOEK_OBJECT_TYPE_URL",
    ],
)
def test_userinfo_in_a_configured_url_is_an_error_and_never_printed(variable):
    env = fixture_env(**{variable: "https://beheer:Geheim-Wachtwoord-42@host.example.org"})
    result = load_settings(env)
    assert [f.variable for f in result.errors] == [variable]
    assert "Geheim-Wachtwoord-42" not in result.report() and "beheer" not in result.report()


def test_limit_defaults():
    limits = fixture_settings(ESUITE_MAX_CONNECTIONS="10").limits
    assert (limits.request_head_bytes, limits.authorization_bytes) == (16384, 8192)
    assert (limits.passthrough_json_bytes, limits.passthrough_json_values) == (64 * MIB, 100_000)
    assert (limits.answer_bytes, limits.answer_compressed_bytes) == (8 * MIB, 8 * MIB)
    assert (limits.download_chunk_seconds, limits.max_downloads) == (30.0, 5)


@pytest.mark.parametrize(
    "overrides, variable",
    [
        ({"MAX_AUTHORIZATION_BYTES": "20000"}, "MAX_AUTHORIZATION_BYTES"),
        ({"MAX_REQUEST_HEAD_BYTES": "100"}, "MAX_REQUEST_HEAD_BYTES"),
        ({"REQUEST_HEAD_TIMEOUT_SECONDS": "0"}, "REQUEST_HEAD_TIMEOUT_SECONDS"),
        ({"ESUITE_MAX_CONNECTIONS": "4", "MAX_CONCURRENT_DOWNLOADS": "4"}, "MAX_CONCURRENT_DOWNLOADS"),
        ({"MAX_UPSTREAM_ANSWER_BYTES": "lots"}, "MAX_UPSTREAM_ANSWER_BYTES"),
        ({"DOWNLOAD_CHUNK_TIMEOUT_SECONDS": "0"}, "DOWNLOAD_CHUNK_TIMEOUT_SECONDS"),
    ],
)
def test_limits_out_of_range_are_errors(overrides, variable):
    assert [f.variable for f in load_settings(fixture_env(**overrides)).errors] == [variable]


# --- a stalled upload is the client's fault ----------------------------------------------------


async def test_an_upload_that_stalls_past_the_budget_is_408_and_never_opens_the_breaker():
    from adapter.esuite_client.breaker import CircuitBreaker

    def answer(request):
        if request.method == "GET":  # the control: an e-Suite that does not answer
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(201, json={})

    seen, transport = recording(answer)
    app = create_app(fixture_settings(ESUITE_TIMEOUT_SECONDS="1"), esuite_transport=transport)
    breaker = services_of(app).esuite.esuite_breaker = CircuitBreaker("esuite", failures_to_open=1)

    async def slow_body():
        yield b"%PDF"
        await asyncio.sleep(1.5)
        yield b"rest"

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="https://kiss-adapter.example.org"
    ) as client:
        answer = await client.post(
            "/documenten/api/v1/enkelvoudiginformatieobjecten",
            content=slow_body(),
            headers={**kiss_headers(), "Content-Type": "application/pdf"},
        )
        assert (answer.status_code, answer.json()["code"]) == (408, "request-timeout")
        assert not breaker.is_open
        assert seen == []
        control = await client.get("/documenten/api/v1/enkelvoudiginformatieobjecten", headers=kiss_headers())
    assert (control.status_code, control.json()["code"]) == (504, "upstream-timeout")
    assert breaker.is_open  # the same breaker opens on one e-Suite failure
