"""Checks on the request head before any work (kiss-front.md §3.2, RW-2): its size (the server
bounds it too, adapter/server_protocol.py) and, without ADAPTER_BASE_URL, a Host header that
is exactly `host[:port]`. A refusal is raised as a Problem, for ProblemRendering to answer."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.config import Limits
from adapter.kiss_api.request_context import Exchange
from adapter.problems import InvalidParam, Problem

HOST_REASON = "De Host-header moet de vorm host[:poort] hebben."


def head_problem(exchange: Exchange, limits: Limits) -> Problem | None:
    if exchange.head_bytes > limits.request_head_bytes:
        return Problem(431, "request-header-too-large")
    if not exchange.host_valid:
        return Problem(
            400, "invalid", detail=HOST_REASON, invalid_params=[InvalidParam("Host", "invalid", HOST_REASON)]
        )
    return None


class HeadLimits:
    def __init__(self, app: ASGIApp, *, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """A check, then the inner app's awaitable, returned: no frame of its own on the
        request's stack (bench/README.md). A refusal raises here, where ProblemRendering's
        `await` of this call catches it as it would from inside a coroutine."""
        if scope["type"] == "http":
            problem = head_problem(scope["state"]["exchange"], self.limits)
            if problem is not None:
                raise problem
        return self.app(scope, receive, send)
