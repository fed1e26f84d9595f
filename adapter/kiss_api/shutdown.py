"""Requests cut short by a shutdown answer problem+json (operations.md §5.7, issue 14)."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.kiss_api.health import Readiness
from adapter.kiss_api.responses import problem_response
from adapter.problems import Problem


class ShutdownGuard:
    """A request that the server cancels because it outlived the shutdown grace gets a 503
    `shutting-down` instead of uvicorn's plain-text 500 and a traceback in the log. Inside the
    middlewares, so the answer is logged and counted like any other. Outside a shutdown
    a cancellation passes unchanged."""

    def __init__(self, app: ASGIApp, *, readiness: Readiness) -> None:
        self.app = app
        self.readiness = readiness

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not self.readiness.shutting_down:
                raise
            # A started answer (a download) can only end where it is. RequestContext, outside,
            # tracks the start for every middleware, so no second send wrapper here.
            if not scope["state"]["exchange"].started:
                problem = Problem(503, "shutting-down", headers={"Retry-After": "1"})
                await problem_response(problem, scope.get("state"))(scope, receive, send)
