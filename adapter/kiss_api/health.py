"""Anonymous operational endpoints: liveness, readiness, metrics (operations.md §3)."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from adapter.esuite_client.client import CallContext
from adapter.kiss_api.responses import JsonResponse
from adapter.problems import Problem
from adapter.services import services

READINESS_CACHE_SECONDS = 10.0
_PROBLEM_REASONS = {
    "upstream-timeout": "timeout",
    "upstream-circuit-open": "circuit-open",
    "upstream-error": "error-5xx",
}


async def healthz(request: Request) -> Response:
    return PlainTextResponse("Healthy")


class Readiness:
    """The e-Suite probe, cached for 10 s so probes cost the e-Suite almost nothing."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._clock = monotonic
        self._checked_at = float("-inf")
        self._esuite = "ok"
        self._store_checked_at = float("-inf")
        self._store = "ok"
        self.shutting_down = False

    async def store_state(self, request: Request) -> str:
        """The shared duplicate store (Redis): a PING, cached like the e-Suite probe."""
        now = self._clock()
        if now - self._store_checked_at >= READINESS_CACHE_SECONDS:
            self._store = "ok" if await services(request).duplicates.ping() else "unreachable"
            self._store_checked_at = self._clock()
        return self._store

    async def esuite_state(self, request: Request) -> str:
        now = self._clock()
        if now - self._checked_at < READINESS_CACHE_SECONDS:
            return self._esuite
        call: CallContext = request.state.call
        client = services(request).esuite
        settings = services(request).settings
        try:
            response = await client.send(
                call,
                "GET",
                call.urls.esuite_root("contactmomenten") + "/schema/openapi.yaml",
                target="contactmomenten",
                timeout=min(5.0, settings.esuite_timeout_seconds),
            )
            self._esuite = "error-5xx" if response.status_code >= 500 else "ok"
        except Problem as problem:
            # The probe is also the breaker's trial call once it half-opens, so an unready pod
            # that gets no traffic still notices when the e-Suite is back.
            self._esuite = _PROBLEM_REASONS.get(problem.code, "unreachable")
        self._checked_at = self._clock()
        return self._esuite


async def readyz(request: Request) -> Response:
    readiness = services(request).readiness
    checks = {"esuite": "shutting-down" if readiness.shutting_down else await readiness.esuite_state(request)}
    if services(request).settings.idempotency_redis_url:
        checks["idempotencyStore"] = await readiness.store_state(request)
    # Only the e-Suite decides readiness: without Redis only the contactmoment POST is refused
    # (503 idempotency-store-unavailable); taking every pod out of the Service would stop the
    # reads too (operations.md §3).
    ready = checks["esuite"] == "ok"
    status = "not ready" if not ready else "ready" if checks.get("idempotencyStore", "ok") == "ok" else "degraded"
    return JsonResponse({"status": status, "checks": checks}, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    return Response(generate_latest(services(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
