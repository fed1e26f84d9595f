"""OpenTelemetry end to end: the adapter, configured by the standard variables, pushes OTLP/HTTP
to a receiver on 127.0.0.1, which decodes it with opentelemetry-proto (issue 16 §4)."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from adapter.app import create_app
from tests.conftest import ADAPTER, ESUITE, fixture_settings, kiss_headers

pytestmark = pytest.mark.anyio

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
KISS_SPAN_ID = "b7ad6b7169203331"
ZAAK_UUID = "a177c7fa-bb70-4d42-9584-6b099e87512b"
MAX_EXPORT_BYTES = 4 * 1024 * 1024


class Receiver:
    """Accepts OTLP/HTTP protobuf POSTs on /v1/traces and /v1/metrics, as a collector does."""

    def __init__(self) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(length, MAX_EXPORT_BYTES))
                kinds = {
                    "/v1/traces": (ExportTraceServiceRequest, receiver.traces),
                    "/v1/metrics": (ExportMetricsServiceRequest, receiver.metrics),
                }
                if self.path not in kinds or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(404)
                    self.end_headers()
                    return
                message_type, into = kinds[self.path]
                into.append(message_type.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextlib.contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)

    def spans(self) -> list[Span]:
        return [
            span
            for request in self.traces
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]


async def test_server_and_client_span_share_the_inbound_trace_at_a_real_receiver(monkeypatch):
    receiver = Receiver()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)  # the SDK reads os.environ
    monkeypatch.setenv("OTEL_SERVICE_NAME", "kiss-adapter-test")
    settings = fixture_settings(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    assert settings.otel_enabled
    upstream: list[httpx.Request] = []

    def esuite(request: httpx.Request) -> httpx.Response:
        upstream.append(request)
        return httpx.Response(200, json={"url": f"{ESUITE}/zgw-apis-provider/zrc/api/v1/zaken/{ZAAK_UUID}"})

    with receiver.running():
        app = create_app(settings, esuite_transport=httpx.MockTransport(esuite))
        async with app.router.lifespan_context(app):  # its shutdown flushes the exporters
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as kiss:
                response = await kiss.get(
                    f"/zaken/api/v1/zaken/{ZAAK_UUID}",
                    headers={**kiss_headers(), "traceparent": f"00-{TRACE_ID}-{KISS_SPAN_ID}-01"},
                )
        assert response.status_code == 200

    spans = {span.kind: span for span in receiver.spans()}
    assert len(receiver.spans()) == 2
    server, client = spans[Span.SPAN_KIND_SERVER], spans[Span.SPAN_KIND_CLIENT]
    assert server.trace_id.hex() == TRACE_ID and client.trace_id.hex() == TRACE_ID
    assert server.parent_span_id.hex() == KISS_SPAN_ID
    assert client.parent_span_id == server.span_id
    assert (server.name, client.name) == ("GET /zaken/api/v1/zaken/{uuid}", "GET zaken")
    assert upstream[0].headers["traceparent"] == f"00-{TRACE_ID}-{client.span_id.hex()}-01"
    resource = {a.key: a.value.string_value for a in receiver.traces[0].resource_spans[0].resource.attributes}
    assert resource["service.name"] == "kiss-adapter-test"  # OTEL_SERVICE_NAME wins over the default

    durations = [
        point
        for request in receiver.metrics
        for rm in request.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == "http.server.duration" and metric.unit == "ms"
        for point in metric.histogram.data_points
    ]
    assert len(durations) == 1 and durations[0].count == 1
    attributes = {a.key: (a.value.string_value or a.value.int_value) for a in durations[0].attributes}
    assert attributes == {"http.method": "GET", "http.target": "/zaken/api/v1/zaken/{uuid}", "http.status_code": 200}
