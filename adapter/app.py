"""The app factory: one route table, read top to bottom (kiss-front.md §1)."""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Callable

import httpx
import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapter import __version__
from adapter.config import Settings
from adapter.esuite_client.client import EsuiteClient, EsuiteTokenSource
from adapter.esuite_client.h1_transport import H1Transport
from adapter.esuite_client.tls import trusted_context
from adapter.esuite_client.urls import UrlMap
from adapter.idempotency import DuplicateStore, InProcessStore, RedisStore
from adapter.kiss_api import contactmomenten, health, objects, schema, zaken_klanten
from adapter.kiss_api.access_log import AccessLog
from adapter.kiss_api.auth import Authenticator
from adapter.kiss_api.authentication import Authentication
from adapter.kiss_api.head_limits import HeadLimits
from adapter.kiss_api.passthrough import make_passthrough
from adapter.kiss_api.path_guard import PathGuard
from adapter.kiss_api.problem_rendering import ProblemRendering
from adapter.kiss_api.request_context import RequestContext, answer_started
from adapter.kiss_api.routing import (
    ANY_METHOD,
    ExactPathRouter,
    OwnPathRoute,
    Route,
    own_root_routes,
    root_routes,
    with_compat_root,
    with_trailing_slash,
)
from adapter.kiss_api.tracing import TracingMiddleware
from adapter.mapping.common import CONTENT_CRS
from adapter.metrics import Metrics
from adapter.services import RateLimitedWarning, Services
from adapter.telemetry import Telemetry

log = structlog.get_logger("adapter")


class AdapterApp(Starlette):
    """Starlette without its own two layers, whose work is done here and in ProblemRendering
    with fewer frames and send wrappers (bench/README.md, "The inbound path").

    This frame is Starlette's and its ServerErrorMiddleware's in one, with the request's one
    send wrapper: the answer's start for the exchange (`answer_started`: status, `started`,
    `X-Request-ID`; before, RequestContext's wrapper) and for this frame, which answers an
    exception that leaves the app before the answer started with the plain 500 that
    ServerErrorMiddleware sent, and re-raises it either way (for the server to log and,
    mid-answer, end the connection). ExceptionMiddleware's HTTPException handling is
    ProblemRendering's. Hence no `debug`, exception handlers or body limit of Starlette's."""

    services: Services  # set once by create_app, before anything is served (adapter.services.services)

    def build_middleware_stack(self) -> ASGIApp:
        if self.debug or self.max_body_size is not None or self.exception_handlers:
            raise ValueError("AdapterApp has no debug pages, exception handlers or body limit of Starlette's")
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        if scope["type"] != "http":
            await self.middleware_stack(scope, receive, send)
            return
        started = False

        async def send_answer(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                answer_started(scope, message)
            await send(message)

        try:
            await self.middleware_stack(scope, receive, send_answer)
        except Exception:
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise


def create_app(
    settings: Settings,
    *,
    esuite_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    duplicates: DuplicateStore | None = None,
    ssl_context: ssl.SSLContext | None = None,
    telemetry: Telemetry | None = None,
) -> AdapterApp:
    """`ssl_context`: the outbound TLS trust; `serve` passes the one it checked (tls.py).
    `telemetry`: OpenTelemetry's exporters; by default from the environment when it is on.
    `clock` (wall) and `monotonic` (intervals) are the only clocks the app reads."""
    metrics = Metrics()
    if telemetry is None and settings.otel_enabled:
        telemetry = Telemetry.from_environment()
    urls = UrlMap(settings.adapter_base_url or "http://localhost", settings.esuite_base_url)
    esuite = EsuiteClient(
        EsuiteTokenSource(settings.esuite_client_id, settings.esuite_client_secret, clock),
        metrics,
        timeout_seconds=settings.esuite_timeout_seconds,
        max_connections=settings.esuite_max_connections,
        limits=settings.limits,
        transport=esuite_transport
        or H1Transport(
            settings.esuite_max_connections,
            ssl_context=ssl_context or trusted_context(settings.ca_certificates_dir, settings.extra_ca_certs).context,
            proxies=settings.egress_proxies,
        ),
        telemetry=telemetry,
    )
    store = duplicates or (
        RedisStore(
            settings.idempotency_redis_url,
            lock_seconds=2 * settings.esuite_timeout_seconds + 5,
            clock=clock,
            monotonic=monotonic,
        )
        if settings.idempotency_redis_url
        else InProcessStore(
            clock=monotonic,
            max_entries=settings.idempotency_max_entries,
            max_bytes=settings.idempotency_max_bytes,
        )
    )
    if duplicates is None and isinstance(store, InProcessStore):  # the one built here, as before
        metrics.watch_duplicate_store(lambda: store.size)
    services = Services(
        settings=settings,
        clock=clock,
        monotonic=monotonic,
        esuite=esuite,
        urls=urls,
        metrics=metrics,
        readiness=health.Readiness(monotonic),
        duplicates=store,
        telemetry=telemetry,
        klant_lookup_warning=RateLimitedWarning(objects.KLANT_LOOKUP_WARNING_INTERVAL, monotonic),
    )
    cm_passthrough = make_passthrough("contactmomenten")

    routes = [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        Route("/api/schema", schema.api_schema, methods=["GET"]),
        *with_trailing_slash(
            "/contactmomenten/api/v1/contactmomenten",
            {"GET": contactmomenten.list_contactmomenten, "POST": contactmomenten.create},
        ),
        *with_trailing_slash("/contactmomenten/api/v1/contactmomenten/{uuid}", {"GET": contactmomenten.detail}),
        *with_trailing_slash(
            "/contactmomenten/api/v1/klantcontactmomenten", {"GET": cm_passthrough, "POST": cm_passthrough}
        ),
        *with_trailing_slash(
            "/contactmomenten/api/v1/objectcontactmomenten",
            {"GET": contactmomenten.objectcontactmomenten_list, "POST": cm_passthrough},
        ),
        *own_root_routes(
            "/contactmomenten/api/v1", {"GET": cm_passthrough, "HEAD": cm_passthrough, "POST": cm_passthrough}
        ),
        OwnPathRoute(
            "/api/v2/objects",
            {"GET": objects.list_objects, "POST": objects.create},
            refused=frozenset(),
            problem_headers=CONTENT_CRS,
        ),
        OwnPathRoute(
            "/api/v2/objects/{uuid}",
            {"GET": objects.detail},
            refused=frozenset({"PUT", "PATCH", "DELETE"}),
            problem_headers=CONTENT_CRS,
        ),
        Route("/klanten/api/v1/klanten", zaken_klanten.klanten_list, methods=["GET"]),
        Route("/klanten/api/v1/klanten/{uuid:canonical_uuid}", zaken_klanten.klant_put, methods=["PUT"]),
        *root_routes("/klanten/api/v1", make_passthrough("klanten"), ANY_METHOD),
        # Each of these three fronts also answers under its compatibility root
        # (/zgw-apis-provider/{zrc,ztc,drc}/api/v1, urls.COMPAT_ROOTS), URLs emitted under it.
        *with_compat_root(
            "zaken",
            [
                Route("/zaken/api/v1/zaakcontactmomenten", zaken_klanten.zaakcontactmomenten, methods=["POST"]),
                Route("/zaken/api/v1/zaken", zaken_klanten.zaken_list, methods=["GET"]),
                Route("/zaken/api/v1/zaken/{uuid:canonical_uuid}", zaken_klanten.zaak_detail, methods=["GET"]),
                *root_routes("/zaken/api/v1", make_passthrough("zaken"), ANY_METHOD),
            ],
        ),
        *with_compat_root("catalogi", root_routes("/catalogi/api/v1", make_passthrough("catalogi"), ANY_METHOD)),
        *with_compat_root("documenten", root_routes("/documenten/api/v1", make_passthrough("documenten"), ANY_METHOD)),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        log.info(
            "startup",
            version=__version__,
            esuite_roots=[urls.esuite_root(name) for name in ("contactmomenten", "klanten", "zaken")],
            clients=len(settings.clients),
            contactverzoek_types=len(settings.contactverzoek_types),
            smoelenboek=settings.smoelenboek is not None,
            opentelemetry=telemetry is not None,
        )
        try:
            yield
        finally:
            await esuite.aclose()
            await store.aclose()
            if telemetry is not None:
                await telemetry.aclose()  # exports what is queued, within a bound
            log.info("shutdown")

    app = AdapterApp(
        middleware=[
            # Read top to bottom, outermost first, one concern each. Tracing outermost, so the access
            # log line and every e-Suite call are in the span.
            *([Middleware(TracingMiddleware, telemetry=telemetry)] if telemetry is not None else []),
            Middleware(PathGuard, metrics=metrics),  # SEC-14: before authentication and routing
            Middleware(RequestContext, urls=urls, adapter_base_configured=settings.adapter_base_url is not None),
            Middleware(AccessLog, metrics=metrics),  # sees every answer, the rendered problems too
            # Faults as problem+json: a Problem, the router's HTTPException, a request cut short by
            # shutdown (503), anything unhandled (500); one frame (problem_rendering.py).
            Middleware(ProblemRendering, metrics=metrics, readiness=services.readiness),
            Middleware(HeadLimits, limits=settings.limits),
            Middleware(Authentication, authenticator=Authenticator(settings), metrics=metrics, clock=clock),
        ],
    )
    # The route table above, its exact paths found by one dict look-up (routing.py). No
    # trailing-slash redirect: it would send KISS somewhere the spec has no route for (404).
    app.router = ExactPathRouter(routes, lifespan=lifespan, redirect_slashes=False)
    app.services = services  # the one write, before anything is served
    return app
