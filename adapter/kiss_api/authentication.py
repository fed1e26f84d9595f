"""Authentication before routing (kiss-front.md §1, §2): an unauthenticated request to an
unknown path gets 401, not 404. A refusal is raised as a Problem for ProblemRendering.

Our own middleware rather than Starlette's `AuthenticationMiddleware`: `Authenticator`
refuses with problems of their own status and code (401, 403, 431), which that middleware's
`on_error` would get wrapped in an `AuthenticationError` and render a second way, and it
builds an `HTTPConnection` and `scope["user"]`/`scope["auth"]` that nothing here reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.kiss_api.auth import Authenticator
from adapter.mapping.common import OBJECTS_PATH
from adapter.metrics import Metrics
from adapter.problems import Problem

ANONYMOUS_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/schema"})


class Authentication:
    def __init__(
        self, app: ASGIApp, *, authenticator: Authenticator, metrics: Metrics, clock: Callable[[], float]
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.metrics = metrics
        self.clock = clock

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """As HeadLimits: a check, then the inner app's awaitable, returned (bench/README.md)."""
        if scope["type"] == "http" and scope["path"] not in ANONYMOUS_PATHS:
            self._authenticate(scope)
        return self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> None:
        state = scope["state"]
        path = scope["path"]
        try:
            identity = self.authenticator.authenticate(state["exchange"].authorization, path, self.clock())
        except Problem as problem:
            self.metrics.auth_failures.labels(code=problem.code).inc()
            if path == OBJECTS_PATH or path.startswith(OBJECTS_PATH + "/"):
                problem.headers["Content-Crs"] = "EPSG:4326"  # every answer there (§5.1)
            raise
        state["identity"] = identity
        state["call"].user_id = identity.user_id
        structlog.contextvars.bind_contextvars(client_id=identity.client_id)
