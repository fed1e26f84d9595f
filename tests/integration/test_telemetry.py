"""OpenTelemetry: spans, trace context, log correlation and metrics, with no personal data (issue 16 §4).

The SDK's in-memory exporters; test_otlp_receiver.py has the real OTLP/HTTP one.
"""

from __future__ import annotations

import io
import json

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapter.app import create_app
from adapter.config import load_settings
from adapter.kiss_api.tracing import TracingMiddleware
from adapter.logging import configure_logging
from adapter.services import services_of
from adapter.telemetry import Telemetry
from tests.conftest import ADAPTER, ESUITE, fixture_env, fixture_settings, kiss_headers

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
KISS_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{KISS_SPAN_ID}-01"
ZAAK_UUID = "a177c7fa-bb70-4d42-9584-6b099e87512b"
PERSONAL = ["999993653", "Anna van Dijk", "anna.vandijk@example.org", "0612345678", "kcm@example.org"]


class Recorder:
    def __init__(self, telemetry: Telemetry, exporter: InMemorySpanExporter, reader: InMemoryMetricReader) -> None:
        self.telemetry, self.exporter, self.reader = telemetry, exporter, reader
        self.upstream: list[httpx.Request] = []

    def spans(self, kind: SpanKind):
        return [span for span in self.exporter.get_finished_spans() if span.kind is kind]

    def duration_points(self) -> list:
        data = self.reader.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == "http.server.duration"
            for point in metric.data.data_points
        ]


@pytest.fixture
def recorder() -> Recorder:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    return Recorder(Telemetry.with_exporters(SimpleSpanProcessor(exporter), reader), exporter, reader)


def client(recorder: Recorder, answer=None) -> httpx.AsyncClient:
    def upstream(request: httpx.Request) -> httpx.Response:
        recorder.upstream.append(request)
        return (
            answer(request)
            if answer
            else httpx.Response(200, json={"url": f"{ESUITE}/zgw-apis-provider/zrc/api/v1/zaken/{ZAAK_UUID}"})
        )

    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(upstream), telemetry=recorder.telemetry)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER)


async def test_server_and_client_span_continue_the_inbound_traceparent(recorder):
    async with client(recorder) as kiss:
        response = await kiss.get(
            f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers={**kiss_headers(), "traceparent": TRACEPARENT}
        )
    assert response.status_code == 200
    [server] = recorder.spans(SpanKind.SERVER)
    [upstream_span] = recorder.spans(SpanKind.CLIENT)
    assert server.name == "GET /zaken/api/v1/zaken/{uuid}"
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert format(server.parent.span_id, "016x") == KISS_SPAN_ID and server.parent.is_remote
    assert dict(server.attributes) == {
        "http.method": "GET",
        "http.target": "/zaken/api/v1/zaken/{uuid}",
        "http.route": "/zaken/api/v1/zaken/{uuid}",
        "http.status_code": 200,
    }
    assert upstream_span.name == "GET zaken"
    assert upstream_span.context.trace_id == server.context.trace_id
    assert upstream_span.parent.span_id == server.context.span_id
    assert dict(upstream_span.attributes) == {"http.method": "GET", "esuite.target": "zaken", "http.status_code": 200}
    [sent] = recorder.upstream
    assert sent.headers["traceparent"] == f"00-{TRACE_ID}-{format(upstream_span.context.span_id, '016x')}-01"


async def test_without_traceparent_a_new_trace_starts_and_reaches_the_esuite(recorder):
    async with client(recorder) as kiss:
        await kiss.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers=kiss_headers())
    [server] = recorder.spans(SpanKind.SERVER)
    assert server.parent is None
    trace_id = format(server.context.trace_id, "032x")
    assert recorder.upstream[0].headers["traceparent"].split("-")[1] == trace_id


async def test_invalid_traceparent_is_ignored(recorder):
    async with client(recorder) as kiss:
        await kiss.get(
            f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers={**kiss_headers(), "traceparent": "00-zz-999993653-01"}
        )
    [server] = recorder.spans(SpanKind.SERVER)
    assert server.parent is None


async def test_http_server_duration_has_the_dashboards_attributes(recorder):
    async with client(recorder) as kiss:
        await kiss.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers=kiss_headers())
        await kiss.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers=kiss_headers())
        await kiss.get("/zaken/api/v1/zaken")  # no token: 401 before routing
    points = {tuple(sorted(point.attributes.items())): point for point in recorder.duration_points()}
    ok = points[(("http.method", "GET"), ("http.status_code", 200), ("http.target", "/zaken/api/v1/zaken/{uuid}"))]
    assert ok.count == 2 and ok.sum > 0
    refused = points[(("http.method", "GET"), ("http.status_code", 401), ("http.target", "unmatched"))]
    assert refused.count == 1
    [metric] = [
        m for r in recorder.reader.get_metrics_data().resource_metrics for s in r.scope_metrics for m in s.metrics
    ]
    assert (metric.name, metric.unit) == ("http.server.duration", "ms")


async def test_upstream_failure_marks_the_client_span(recorder):
    async with client(recorder, lambda r: httpx.Response(503, json={})) as kiss:
        response = await kiss.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers=kiss_headers())
    assert response.status_code == 502
    [upstream_span] = recorder.spans(SpanKind.CLIENT)  # one span for the call, its retries inside
    assert upstream_span.attributes["http.status_code"] == 503
    assert upstream_span.status.status_code is trace.StatusCode.ERROR
    assert len(recorder.upstream) == 3
    [server] = recorder.spans(SpanKind.SERVER)
    assert server.attributes["http.status_code"] == 502
    assert server.status.status_code is trace.StatusCode.ERROR


async def test_no_personal_data_in_any_span_or_metric_attribute(recorder):
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"count": 1, "results": [{"emailadres": "anna.vandijk@example.org", "achternaam": "Anna van Dijk"}]},
        )

    headers = {**kiss_headers("kcm@example.org"), "traceparent": TRACEPARENT, "X-Request-ID": "req-1"}
    async with client(recorder, upstream) as kiss:
        await kiss.get("/klanten/api/v1/klanten?subjectNatuurlijkPersoon__inpBsn=999993653", headers=headers)
        await kiss.post(
            "/klanten/api/v1/klanten",
            json={
                "subjectIdentificatie": {"inpBsn": "999993653"},
                "emailadres": "anna.vandijk@example.org",
                "telefoonnummer": "0612345678",
            },
            headers=headers,
        )
        await kiss.get("/zaken/api/v1/999993653/Anna%20van%20Dijk?telefoon=0612345678", headers=headers)
        await kiss.request("999993653", "/zaken/api/v1/zaken", headers=headers)  # a method is client text too
    spans = recorder.exporter.get_finished_spans()
    assert len(spans) == 7  # four requests, three e-Suite calls (the 405 makes none)
    text = json.dumps(
        [
            {
                "name": s.name,
                "attributes": dict(s.attributes),
                "events": [e.name for e in s.events],
                "resource": dict(s.resource.attributes),
            }
            for s in spans
        ]
        + [dict(point.attributes) for point in recorder.duration_points()]
    )
    for value in PERSONAL + [headers["Authorization"].split(" ")[1]]:
        assert value not in text
    assert [s.name for s in spans if s.kind is SpanKind.SERVER] == [
        "GET /klanten/api/v1/klanten",
        "POST /klanten/api/v1/{path}",
        "GET /zaken/api/v1/{path}",
        "_OTHER /zaken/api/v1/zaken",
    ]


async def test_log_lines_carry_the_trace_and_span_id(recorder):
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream, tracing=True)
    try:
        async with client(recorder) as kiss:
            await kiss.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers={**kiss_headers(), "traceparent": TRACEPARENT})
    finally:
        configure_logging("INFO", "json")
    [server] = recorder.spans(SpanKind.SERVER)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_event = {line["event"]: line for line in lines}
    for event in ("request", "upstream"):
        assert by_event[event]["trace_id"] == TRACE_ID
        assert by_event[event]["span_id"] == format(server.context.span_id, "016x")


async def test_off_by_default_no_middleware_no_spans_no_traceparent(monkeypatch):
    settings = fixture_settings()
    assert settings.otel_enabled is False
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert trace.get_current_span() is trace.INVALID_SPAN  # no span around the call
        return httpx.Response(200, json={})

    def no_span(*args, **kwargs):
        raise AssertionError("a span was started with OpenTelemetry off")

    monkeypatch.setattr(Telemetry, "start_client_span", no_span)
    app = create_app(settings, esuite_transport=httpx.MockTransport(upstream))
    assert services_of(app).telemetry is None
    assert all(m.cls is not TracingMiddleware for m in app.user_middleware)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as kiss:
        response = await kiss.get(
            f"/zaken/api/v1/zaken/{ZAAK_UUID}", headers={**kiss_headers(), "traceparent": TRACEPARENT}
        )
    assert response.status_code == 200
    assert "traceparent" not in seen[0].headers


@pytest.mark.parametrize(
    ("variables", "enabled"),
    [
        ({}, False),
        ({"OTEL_SDK_DISABLED": "false"}, False),  # no endpoint: nowhere to send
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "false"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            True,
        ),
    ],
)
def test_the_switch(variables, enabled):
    result = load_settings(fixture_env(**variables))
    assert result.errors == ()
    assert result.settings.otel_enabled is enabled


@pytest.mark.parametrize(
    ("variables", "finding"),
    [
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "ERROR OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf (OTLP over HTTP, port 4318); gRPC is not included",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
            "ERROR OTEL_EXPORTER_OTLP_ENDPOINT: must be an absolute http or https URL",
        ),
    ],
)
def test_the_switch_refuses_what_cannot_work(variables, finding):
    result = load_settings(fixture_env(**variables))
    assert [str(f) for f in result.errors] == [finding]


async def test_prometheus_metrics_include_process_and_runtime():
    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as kiss:
        text = (await kiss.get("/metrics")).text
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "python_info",
        "python_gc_objects_collected_total",
    ):
        assert name in names, name
    assert "kiss_adapter_http_requests_total" in names or any(n.startswith("kiss_adapter_") for n in names)


async def test_shutdown_waits_for_an_unreachable_collector_only_within_its_bound():
    import threading
    import time

    from opentelemetry.sdk.trace.export import SpanProcessor

    release = threading.Event()

    class Stuck(SpanProcessor):
        def shutdown(self) -> None:
            release.wait(30)  # an export that does not come back

    telemetry = Telemetry.with_exporters(Stuck(), InMemoryMetricReader())
    started = time.monotonic()
    await telemetry.aclose(timeout=0.2)
    assert time.monotonic() - started < 1.0
    release.set()
