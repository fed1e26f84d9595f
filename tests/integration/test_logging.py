"""One JSON log line per request, and never personal data, tokens, bodies or query values (operations.md §6)."""

import io
import json

import httpx
import pytest

from adapter.logging import configure_logging
from tests.conftest import app_client, kiss_headers

pytestmark = pytest.mark.anyio

PERSONAL = ["999993653", "Anna van Dijk", "anna.vandijk@example.org", "0612345678", "kcm@example.org", "69599084"]


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream)
    yield stream
    configure_logging("INFO", "json")


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_request_line_fields_and_no_personal_data(log_stream):
    def upstream(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                400,
                json={
                    "code": "VALIDATION",
                    "title": "Fout",
                    "status": 400,
                    "detail": "Anna van Dijk 0612345678 bestaat al",
                },
            )
        return httpx.Response(
            200,
            json={"count": 1, "results": [{"emailadres": "anna.vandijk@example.org", "achternaam": "Anna van Dijk"}]},
        )

    headers = {**kiss_headers("kcm@example.org"), "X-Request-ID": "trace-42"}
    async with app_client(httpx.MockTransport(upstream)) as client:
        await client.get("/klanten/api/v1/klanten?subjectNatuurlijkPersoon__inpBsn=999993653", headers=headers)
        await client.post(
            "/klanten/api/v1/klanten",
            json={
                "subjectIdentificatie": {"inpBsn": "999993653"},
                "emailadres": "anna.vandijk@example.org",
                "telefoonnummer": "0612345678",
                "kvk": "69599084",
            },
            headers=headers,
        )
        await client.post(
            "/klanten/api/v1/klanten",
            content=b"{Anna van Dijk",
            headers={**headers, "Content-Type": "application/json"},
        )
    text = log_stream.getvalue()
    for value in PERSONAL + [headers["Authorization"].split(" ")[1]]:
        assert value not in text
    requests = [line for line in lines(log_stream) if line["event"] == "request"]
    assert len(requests) == 3
    first = requests[0]
    assert {
        k: first[k] for k in ("method", "route", "status", "request_id", "client_id", "upstream_calls", "level")
    } == {
        "method": "GET",
        "route": "/klanten/api/v1/klanten",
        "status": 200,
        "request_id": "trace-42",
        "client_id": "kiss",
        "upstream_calls": 1,
        "level": "info",
    }
    assert isinstance(first["duration_ms"], float) and isinstance(first["upstream_ms"], float)
    assert first["timestamp"].endswith("Z")
    assert requests[1]["level"] == "warning" and requests[1]["problem_code"] == "invalid"
    assert requests[2]["problem_code"] == "parse_error" and requests[2]["instance"].startswith("urn:uuid:")


async def test_unexpected_errors_are_500_internal_and_logged_without_the_message(log_stream, monkeypatch):
    from adapter.kiss_api import passthrough

    bsn = "".join(["9999", "93653"])  # built at run time: a traceback shows source lines, not values

    def broken(*args, **kwargs):
        raise ValueError(f"secret detail {bsn}")

    monkeypatch.setattr(passthrough, "inbound_query", broken)
    async with app_client(httpx.MockTransport(lambda r: httpx.Response(200, json={}))) as client:
        response = await client.get("/zaken/api/v1/x", headers=kiss_headers())
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert "999993653" not in response.text
    text = log_stream.getvalue()
    assert "999993653" not in text
    error = next(line for line in lines(log_stream) if line["event"] == "unhandled_error")
    assert error["exception_type"] == "ValueError"
    assert "traceback" in error


async def test_contactverzoek_flow_through_the_simulator_logs_no_personal_data(log_stream):
    from tests.conftest import FIXTURES, Stack

    stack = Stack()
    body = (FIXTURES / "kiss/post-contactverzoek-afdeling-anonymous-v0.6.json").read_bytes()
    personal = ["Fatima", "Bakker", "f.bakker@example.org", "0612345678", "Dorpsstraat", "jjansen"]
    await stack.client.post("/contactmomenten/api/v1/contactmomenten", content=body, headers=kiss_headers("jjansen"))
    await stack.client.get(
        "/api/v2/objects?data_attr=betrokkene__digitaleAdressen__icontains__0612345678"
        "&type=https%3A%2F%2Fobjecttypen.example.org%2Fapi%2Fv2%2Fobjecttypes%2F30ee8e89-2761-4e35-8eb4-b79980bdc7a9",
        headers=kiss_headers("jjansen"),
    )
    await stack.aclose()
    text = log_stream.getvalue()
    assert [line["status"] for line in lines(log_stream) if line["event"] == "request"] == [201, 200]
    for value in personal:
        assert value not in text


async def test_RW11_provider_paths_under_another_origin_are_warned_once_per_origin(log_stream):
    foreign = "https://intern.esuite.local/contactmomenten-api-provider/api/v1/contactmomenten/1"
    answer = {"count": 1, "results": [{"url": foreign}, {"url": foreign.replace("/1", "/2")}]}
    async with app_client(httpx.MockTransport(lambda r: httpx.Response(200, json=answer))) as client:
        for _ in range(2):
            response = await client.get("/zaken/api/v1/zaken/x", headers=kiss_headers())
    assert response.json()["results"][0]["url"] == foreign  # outside the roots: left as it is
    warnings = [line for line in lines(log_stream) if line["event"] == "origin_mismatch"]
    assert [(w["origin"], w["level"]) for w in warnings] == [("https://intern.esuite.local", "warning")]


def test_RW11_sampled_after_the_first_256_answers_one_in_8(log_stream):
    from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
    from adapter.esuite_client.urls import UrlMap
    from adapter.metrics import Metrics

    base = "https://esuite.example.org"
    client = EsuiteClient(EsuiteTokenSource("adapter", "secret-" * 6), Metrics(), timeout_seconds=5, max_connections=1)
    call = CallContext("request-1", UrlMap("https://kiss-adapter.example.org", base))
    clean = f'{{"url":"{base}/klanten-api-provider/api/v1/klanten/1"}}'.encode()
    foreign = b'{"url":"https://intern.esuite.local/klanten-api-provider/api/v1/klanten/1"}'
    for _ in range(255):
        client.check_origins(call, clean)
    client.check_origins(call, foreign.replace(b"intern", b"first"))  # the 256th: checked
    for _ in range(7):  # 257 ... 263: not checked
        client.check_origins(call, foreign)
    assert [w["origin"] for w in lines(log_stream) if w["event"] == "origin_mismatch"] == ["https://first.esuite.local"]
    client.check_origins(call, foreign)  # the 264th: checked
    assert [w["origin"] for w in lines(log_stream) if w["event"] == "origin_mismatch"] == [
        "https://first.esuite.local",
        "https://intern.esuite.local",
    ]
