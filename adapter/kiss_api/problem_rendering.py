"""Every fault as problem+json (operations.md §4): a Problem raised inside becomes its answer,
anything unhandled a 500 `internal`, never once the answer has started (then it is re-raised
and the server ends the connection).

One coroutine frame for what were three layers (bench/README.md, "The inbound path"), their
order kept by nesting, innermost first:

1. Starlette's `HTTPException` (the router's 404 and 405, a route's refusal) rendered by
   `http_exception_handler`, as Starlette's ExceptionMiddleware did right outside the router;
2. a request that the server cancels because it outlived the shutdown grace: 503
   `shutting-down` (shutdown.py), as ShutdownGuard did;
3. a Problem, a client gone mid-body, anything else.

A safe request (GET, HEAD, OPTIONS) is handed to the server protocol to be cancelled should its
client go away before the answer (adapter/server_protocol.py, CANCEL_KEY): that cancellation
ends as 499, like a client gone mid-body, in a level around the ones above, so that it is
caught wherever it lands (also while a problem answer is being written). A create, or any
other unsafe request, always runs to its end: a retry of it must find the first one's answer
(the duplicate store).

HeadLimits and Authentication, inside this frame, only check and raise a Problem before the
router runs: neither an HTTPException nor a cancellation can come from them, so what each
step above sees is what the layer saw where it stood.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.kiss_api.health import Readiness
from adapter.kiss_api.responses import http_exception_handler, problem_response
from adapter.kiss_api.shutdown import cut_short_problem
from adapter.metrics import Metrics
from adapter.problems import Problem
from adapter.server_protocol import ABORT_EXTENSION, CANCEL_KEY, GONE_KEY

log = structlog.get_logger("adapter.request")

CLIENT_CLOSED = 499  # nginx's "client closed request": counted apart from 5xx
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # RFC 9110 section 9.2.1; TRACE is not served

# What Starlette's ExceptionMiddleware put in the scope for `request_response` (a route's
# endpoint that `routing.endpoint_app` does not run): the same handler for HTTPException.
EXCEPTION_HANDLERS: tuple[dict[Any, Any], dict[int, Any]] = ({HTTPException: http_exception_handler}, {})


class ProblemRendering:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, readiness: Readiness) -> None:
        self.app = app
        self.metrics = metrics
        self.readiness = readiness

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        exchange = state["exchange"]  # its `started`: RequestContext's wrapper saw the answer start
        scope["starlette.exception_handlers"] = EXCEPTION_HANDLERS
        server = scope.get("extensions", {}).get(ABORT_EXTENSION)
        if server is not None and scope["method"] in SAFE_METHODS and CANCEL_KEY in server:
            server[CANCEL_KEY]()
        # One frame, five levels, innermost first (the module's docstring): a frame more would be
        # resumed on every e-Suite read (tests/unit/test_routing_tricks.py).
        try:
            try:
                try:
                    try:
                        await self.app(scope, receive, send)
                    except HTTPException as error:
                        if exchange.started:
                            raise RuntimeError("Caught handled exception, but response already started.") from error
                        response = await http_exception_handler(Request(scope, receive, send), error)
                        await response(scope, receive, send)
                        error.__traceback__ = None  # as Starlette: a reused exception keeps no traceback
                except asyncio.CancelledError:
                    if _client_left(server) or not self.readiness.shutting_down:
                        raise  # the client's leaving (outermost), or not ours to answer
                    # A started answer (a download) can only end where it is.
                    if not exchange.started:
                        await problem_response(cut_short_problem(), state)(scope, receive, send)
            except Problem as problem:
                if exchange.started:
                    raise
                await problem_response(problem, state)(scope, receive, send)
            except ClientDisconnect:
                self._client_gone(exchange)
            except Exception:
                log.error("unhandled_error", exc_info=True)
                if exchange.started:
                    raise
                await problem_response(Problem(500, "internal"), state)(scope, receive, send)
        except asyncio.CancelledError:
            # Ours, wherever it landed (a problem answer waiting to be written too): the request
            # ends here, as a client gone mid-body does.
            if not _client_left(server):
                raise
            cast(asyncio.Task, asyncio.current_task()).uncancel()
            self._client_gone(exchange)

    def _client_gone(self, exchange: Any) -> None:
        """The client went away mid-body, or before a safe request's answer: nothing to
        answer, and no fault of the adapter."""
        exchange.status = CLIENT_CLOSED
        self.metrics.client_aborts.labels(reason="disconnect").inc()


def _client_left(server: dict | None) -> bool:
    """Whether the server protocol cancelled this request because its client left (GONE_KEY)."""
    return server is not None and bool(server.get(GONE_KEY))
