"""OpenTelemetry for each inbound request: its server span and its `http.server.duration`.

Installed only when OpenTelemetry is on (adapter/telemetry.py), outside the other middlewares,
so the access log line and every e-Suite call run inside the span. The span starts named
by the method alone and gets the route template once routing is done: never the raw path or
query, which may carry a BSN.
"""

from __future__ import annotations

import time

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapter.kiss_api.access_log import route_template
from adapter.telemetry import Telemetry, known_method

_CONTEXT_HEADERS = {b"traceparent": "traceparent", b"tracestate": "tracestate"}


def _trace_headers(scope: Scope) -> dict[str, str]:
    """Only the W3C headers, and only their first occurrence, reach the propagator."""
    carrier: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key = _CONTEXT_HEADERS.get(name.lower())
        if key is not None and key not in carrier:
            carrier[key] = value.decode("latin-1")
    return carrier


class TracingMiddleware:
    def __init__(self, app: ASGIApp, *, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        telemetry = self.telemetry
        method = known_method(scope["method"])
        parent = telemetry.propagator.extract(_trace_headers(scope))
        span = telemetry.tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except BaseException as error:
            span.set_attribute("error.type", type(error).__name__)  # never its message
            raise
        finally:
            route = scope.get("route")
            template = route_template(getattr(route, "path", None) or "unmatched")
            attributes: dict[str, str | int] = {
                "http.method": method,
                "http.target": template,
                "http.status_code": status,
            }
            span.update_name(f"{method} {template}")
            span.set_attributes({**attributes, "http.route": template})
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()
            otel_context.detach(token)
            telemetry.server_duration.record((time.perf_counter() - started) * 1000, attributes)
