"""The request's metrics and its one access log line (operations.md §6): method, route
template, status, durations and upstream calls; never a client-supplied value."""

from __future__ import annotations

import functools
import re
import time

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.esuite_client.client import CallContext
from adapter.kiss_api.problem_rendering import CLIENT_CLOSED
from adapter.logging import EventWriter, event_writer
from adapter.metrics import Metrics

log = structlog.get_logger("adapter.request")

_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


@functools.lru_cache(maxsize=256)
def route_template(route_path: str) -> str:
    return _CONVERTOR.sub(r"{\1}", route_path)


class AccessLog:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._write: EventWriter | None = None  # the line's writer, once structlog caches loggers (serve)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        metrics = self.metrics
        metrics.requests_in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            metrics.requests_in_flight -= 1
            self._record(scope, time.perf_counter() - started)

    def _record(self, scope: Scope, elapsed: float) -> None:
        state = scope["state"]
        status = state["exchange"].status
        call: CallContext = state["call"]
        route = scope.get("route")
        # The route template, never a client-supplied value (metric labels, log lines).
        template = route_template(getattr(route, "path", None) or "unmatched")
        method = scope["method"]
        self.metrics.request_count(method, template, str(status)).inc()
        self.metrics.request_seconds(method, template).observe(elapsed)
        identity = state.get("identity")
        fields = {
            "method": method,
            "route": template,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "client_id": identity.client_id if identity else None,
            "upstream_calls": call.upstream_calls,
            "upstream_ms": round(call.upstream_seconds * 1000, 2),
        }
        for key in ("replayed", "problem_code", "instance"):
            if key in state:
                fields[key] = state[key]
        if status == CLIENT_CLOSED:
            level = "info"
        elif status >= 500:
            level = "error"
        elif status >= 400 and call.upstream_calls:
            level = "warning"
        else:
            level = "info"
        (self._write or self._writer())(level, fields)

    def _writer(self) -> EventWriter:
        """Skips the lazy proxy's look-up on every line once loggers are cached; while they
        are not (tests reconfigure logging), each line binds anew, as the proxy would."""
        write = event_writer(log.bind(), "request")
        if structlog.get_config()["cache_logger_on_first_use"]:
            self._write = write
        return write
