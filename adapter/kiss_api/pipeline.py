"""The request pipeline around the router: request id, authentication, problems, log line, metrics.

A pure ASGI middleware, so streamed bodies pass through untouched. Authentication runs before
routing (kiss-front.md §1): an unauthenticated request to an unknown path gets 401, not 404.
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapter.config import Limits
from adapter.esuite_client.client import CallContext
from adapter.esuite_client.urls import UrlMap
from adapter.kiss_api.auth import OBJECTS_PATH, Authenticator
from adapter.kiss_api.responses import problem_response
from adapter.metrics import Metrics
from adapter.problems import InvalidParam, Problem

log = structlog.get_logger("adapter.request")

ANONYMOUS_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/schema"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
# RW-2 without ADAPTER_BASE_URL: the Host header becomes the origin of every emitted URL.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")
CLIENT_CLOSED = 499  # nginx's "client closed request": counted apart from 5xx


@functools.lru_cache(maxsize=256)
def _template(route_path: str) -> str:
    return _CONVERTOR.sub(r"{\1}", route_path)


def request_id_from(value: str | None) -> str:
    return value if value is not None and _REQUEST_ID.match(value) else str(uuid.uuid4())


def head_bytes(scope: Scope) -> int:
    """The request head's size as received, near enough: line, names, values, separators."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 16
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
    return size


def head_problem(scope: Scope, headers: Headers, limits: Limits, configured: bool) -> Problem | None:
    """Checks before any work: the head's size (the server bounds it too, adapter/server_protocol.py)
    and, without ADAPTER_BASE_URL, a Host that is exactly `host[:port]`."""
    if head_bytes(scope) > limits.request_head_bytes:
        return Problem(431, "request-header-too-large")
    if not configured and not _HOST.match(headers.get("host", "localhost")):
        reason = "De Host-header moet de vorm host[:poort] hebben."
        return Problem(400, "invalid", detail=reason, invalid_params=[InvalidParam("Host", "invalid", reason)])
    return None


class RequestPipeline:
    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        urls: UrlMap,
        adapter_base_configured: bool,
        metrics: Metrics,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or Limits()
        self.app = app
        self.authenticator = authenticator
        self.urls = urls
        self.configured = adapter_base_configured
        self.metrics = metrics
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = request_id_from(headers.get("x-request-id"))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        refused = head_problem(scope, headers, self.limits, self.configured)
        host = headers.get("host", "localhost") if refused is None or self.configured else "localhost"
        origin = f"{scope.get('scheme', 'http')}://{host}"
        call = CallContext(request_id, self.urls.for_request(origin, self.configured))
        state = scope.setdefault("state", {})
        state["call"] = call
        response_status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal response_status, response_started
            if message["type"] == "http.response.start":
                response_status = message["status"]
                response_started = True
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        self.metrics.in_flight.inc()
        try:
            if refused is not None:
                await problem_response(refused, state)(scope, receive, send_with_request_id)
                return
            if scope["path"] not in ANONYMOUS_PATHS:
                try:
                    identity = self.authenticator.authenticate(headers.get("authorization"), scope["path"], self.clock())
                except Problem as problem:
                    self.metrics.auth_failures.labels(code=problem.code).inc()
                    if scope["path"] == OBJECTS_PATH or scope["path"].startswith(OBJECTS_PATH + "/"):
                        problem.headers["Content-Crs"] = "EPSG:4326"  # every answer there (§5.1)
                    await problem_response(problem, state)(scope, receive, send_with_request_id)
                    return
                state["identity"] = identity
                call.user_id = identity.user_id
                structlog.contextvars.bind_contextvars(client_id=identity.client_id)
            try:
                await self.app(scope, receive, send_with_request_id)
            except Problem as problem:
                if response_started:
                    raise
                await problem_response(problem, state)(scope, receive, send_with_request_id)
            except ClientDisconnect:
                # The client went away mid-body: nothing to answer, and no fault of the adapter.
                response_status = CLIENT_CLOSED
                self.metrics.client_aborts.labels(reason="disconnect").inc()
            except Exception:
                log.error("unhandled_error", exc_info=True)
                if response_started:
                    raise
                await problem_response(Problem(500, "internal"), state)(scope, receive, send_with_request_id)
        finally:
            self.metrics.in_flight.dec()
            self._record(scope, state, call, response_status, time.perf_counter() - started)

    def _record(self, scope: Scope, state: dict, call: CallContext, status: int, elapsed: float) -> None:
        route = scope.get("route")
        # The route template, never a client-supplied value (metric labels, log lines).
        template = _template(getattr(route, "path", None) or "unmatched")
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
            log.info("request", **fields)
        elif status >= 500:
            log.error("request", **fields)
        elif status >= 400 and call.upstream_calls:
            log.warning("request", **fields)
        else:
            log.info("request", **fields)
