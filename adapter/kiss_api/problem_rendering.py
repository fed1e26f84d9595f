"""Every fault as problem+json (operations.md §4): a Problem raised inside becomes its answer,
anything unhandled a 500 `internal`, never once the answer has started (then it is re-raised
and the server ends the connection)."""

from __future__ import annotations

import structlog
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.kiss_api.responses import problem_response
from adapter.metrics import Metrics
from adapter.problems import Problem

log = structlog.get_logger("adapter.request")

CLIENT_CLOSED = 499  # nginx's "client closed request": counted apart from 5xx


class ProblemRendering:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        exchange = state["exchange"]
        try:
            await self.app(scope, receive, send)
        except Problem as problem:
            if exchange.started:
                raise
            await problem_response(problem, state)(scope, receive, send)
        except ClientDisconnect:
            # The client went away mid-body: nothing to answer, and no fault of the adapter.
            exchange.status = CLIENT_CLOSED
            self.metrics.client_aborts.labels(reason="disconnect").inc()
        except Exception:
            log.error("unhandled_error", exc_info=True)
            if exchange.started:
                raise
            await problem_response(Problem(500, "internal"), state)(scope, receive, send)
