"""OpenTelemetry: traces and metrics over OTLP/HTTP with the official SDK, off by default.

On when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the traces/metrics one)
and `OTEL_SDK_DISABLED` is not `true` (config.py decides; PodiumD sets the endpoint). The SDK
reads the other standard variables itself: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, timeouts, `OTEL_TRACES_EXPORTER=none` /
`OTEL_METRICS_EXPORTER=none` to keep one signal off. When off nothing here is built: no
middleware, no span objects, no per-request cost.

Context crosses as W3C Trace Context (`traceparent`, `tracestate`): read from KISS, written
to the e-Suite and the smoelenboek. Attributes hold only methods, route templates, upstream
names and status codes, never a path, query or body value (they may hold personal data).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import MutableMapping

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from adapter import __version__

SERVICE_NAME = "kiss-esuite-adapter"
# The old (pre-1.21) HTTP semantic conventions: PodiumD's RED dashboard queries
# `http_server_duration_milliseconds_{bucket,count}` by `http_method`, `http_target`, `http_status_code`.
SHUTDOWN_SECONDS = 5.0
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def known_method(method: str) -> str:
    """A method outside HTTP's own is client text: `_OTHER`, as the conventions say."""
    return method if method in KNOWN_METHODS else "_OTHER"


class Telemetry:
    """The adapter's tracer, its server-duration histogram and the W3C propagator."""

    def __init__(self, tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.tracer = tracer_provider.get_tracer(SERVICE_NAME, __version__)
        meter = meter_provider.get_meter(SERVICE_NAME, __version__)
        self.server_duration = meter.create_histogram(
            "http.server.duration", unit="ms", description="Duration of inbound HTTP requests"
        )
        self.propagator = TraceContextTextMapPropagator()

    @classmethod
    def with_exporters(cls, span_processor: SpanProcessor | None, metric_reader: MetricReader | None) -> Telemetry:
        resource = Resource.create({"service.name": SERVICE_NAME, "service.version": __version__})
        resource = resource.merge(OTELResourceDetector().detect())  # OTEL_SERVICE_NAME etc. win
        # Shut down by the app's lifespan (app.py), not again by the SDK's own exit hook.
        tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        if span_processor is not None:
            tracer_provider.add_span_processor(span_processor)
        meter_provider = MeterProvider(
            metric_readers=[metric_reader] if metric_reader else [], resource=resource, shutdown_on_exit=False
        )
        return cls(tracer_provider, meter_provider)

    @classmethod
    def from_environment(cls) -> Telemetry:
        """OTLP/HTTP exporters configured by the standard variables (the SDK reads them)."""
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        traces = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none"
        metrics = os.environ.get("OTEL_METRICS_EXPORTER", "otlp").strip().lower() != "none"
        return cls.with_exporters(
            BatchSpanProcessor(OTLPSpanExporter()) if traces else None,
            PeriodicExportingMetricReader(OTLPMetricExporter()) if metrics else None,
        )

    def shutdown(self) -> None:
        """Exports what is still queued (blocking: call it off the event loop)."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    async def aclose(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """`shutdown` in a daemon thread, waited for at most `timeout`: an unreachable
        collector (the exporter retries for up to 10 s per signal) must not hold the pod's
        shutdown past its grace period."""
        done = threading.Event()

        def run() -> None:
            try:
                self.shutdown()
            finally:
                done.set()

        threading.Thread(target=run, name="otel-shutdown", daemon=True).start()
        await asyncio.to_thread(done.wait, timeout)

    def start_client_span(self, method: str, target: str, headers: MutableMapping[str, str | bytes]) -> trace.Span:
        """The span of one logical upstream call (retries included), its context written into
        `headers` as `traceparent`. Named by the upstream, never by its URL."""
        span = self.tracer.start_span(
            f"{method} {target}",
            kind=SpanKind.CLIENT,
            attributes={"http.method": known_method(method), "esuite.target": target},
        )
        self.propagator.inject(headers, context=trace.set_span_in_context(span))
        return span

    @staticmethod
    def end_client_span(span: trace.Span, status: str) -> None:
        """`status`: the answer's code, or `error` / `timeout` when none came."""
        if status.isdigit():
            span.set_attribute("http.status_code", int(status))
            if int(status) >= 500:
                span.set_status(Status(StatusCode.ERROR))
        else:
            span.set_attribute("error.type", status)
            span.set_status(Status(StatusCode.ERROR))
        span.end()
