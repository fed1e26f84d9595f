"""Route classes for the spec's routing rules (kiss-front.md §1)."""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote

from starlette import routing as starlette_routing
from starlette._utils import is_async_callable
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Router, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.esuite_client.urls import COMPAT_ROOTS, ROOTS, compat_map
from adapter.mapping.common import UUID_PATTERN
from adapter.mapping.paths import MAX_DECODE_ROUNDS
from adapter.problems import Problem

Endpoint = Callable[[Request], Awaitable[Response]]


class CanonicalUUIDConvertor(Convertor[str]):
    """Only the 8-4-4-4-12 form: other segments fall through to the next route."""

    regex = UUID_PATTERN

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("canonical_uuid", CanonicalUUIDConvertor())


ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def endpoint_app(endpoint: Endpoint) -> ASGIApp:
    """`endpoint` as an ASGI app: Starlette's `request_response` without its second exception
    wrapper. An `HTTPException` raised inside reaches ProblemRendering, which renders it as
    Starlette's `ExceptionMiddleware` did, with the same handler and the same "answer already
    started" rule. Without the wrapper's closures and send wrapper: 3.5 -> 1.6 µs a request,
    the answer included (2026-12-02)."""
    if not is_async_callable(endpoint):
        return request_response(endpoint)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


# The order a 405's `Allow` lists methods in; others follow, sorted.
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def ordered_methods(methods: set[str]) -> tuple[str, ...]:
    """`methods` in METHOD_ORDER. Starlette keeps a route's methods in a set and joins that set
    into a 405's `Allow`: its order changed with the process's hash seed, from one restart to
    the next."""
    return tuple(m for m in METHOD_ORDER if m in methods) + tuple(sorted(methods.difference(METHOD_ORDER)))


class Route(starlette_routing.Route):
    """Starlette's `Route`, its endpoint function run by `endpoint_app`, its methods in order."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if self.methods is not None:
            # Starlette only tests membership and joins them for `Allow`: a tuple does both.
            self.methods = ordered_methods(self.methods)  # type: ignore[assignment]
        if inspect.isfunction(endpoint) and not kwargs.get("middleware") and kwargs.get("max_body_size") is None:
            self.app = endpoint_app(endpoint)


def exact_paths(routes: Sequence[BaseRoute]) -> dict[str, BaseRoute]:
    """Path → route for each route without parameters whose path no earlier route matches:
    for a request on that path it is the first route Starlette's loop would find."""
    table: dict[str, BaseRoute] = {}
    for index, route in enumerate(routes):
        if getattr(route, "path_regex", None) is None:
            break  # a route whose paths are unknown: nothing after it is certain
        shadowed = any(earlier.path_regex.match(route.path) for earlier in routes[:index])  # type: ignore[attr-defined]
        if isinstance(route, starlette_routing.Route) and not route.param_convertors and not shadowed:
            table[route.path] = route
    return table


class ExactPathRouter(Router):
    """Starlette's router, with a dict look-up first for a path that a route without
    parameters owns. Starlette tries the routes' patterns in order, ~1 µs each (2026-12-02);
    anything the look-up does not settle (another path, a method the route does not serve, a
    `root_path`) goes through Starlette's loop unchanged."""

    def __init__(self, routes: Sequence[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes, **kwargs)
        self.exact = exact_paths(self.routes)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        return self.middleware_stack(scope, receive, send)

    def app(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        """The route's awaitable, returned: neither this nor `__call__` keeps a frame on the
        request's stack (bench/README.md, "The inbound path")."""
        route = self.exact.get(scope["path"]) if scope["type"] == "http" and not scope.get("root_path") else None
        if route is not None:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self)
                scope["route"] = route
                scope.update(child_scope)
                return route.handle(scope, receive, send)
        return super().app(scope, receive, send)


class OwnPathRoute(Route):
    """A route that owns its path for every method.

    Methods it does not serve never fall through to a later pass-through route (kiss-front.md
    §4.4, SEC-9). They get 405 with `Allow`, except, when `refused` names the methods that
    get 405, the other methods of kiss-front.md §1's "any", which get route 24's 404. No
    implicit HEAD either. `problem_headers` go on those answers too (e.g. `Content-Crs`).
    """

    def __init__(
        self,
        path: str,
        handlers: dict[str, Endpoint],
        refused: frozenset[str] | None = None,
        problem_headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(path, next(iter(handlers.values())), methods=list(handlers))
        self.methods = set(handlers)
        self.allow = ", ".join(handlers)
        self.refused = refused
        self.problem_headers = problem_headers or {}
        self.handlers = {method: endpoint_app(endpoint) for method, endpoint in handlers.items()}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        return (Match.FULL if match is Match.PARTIAL else match), child_scope

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        """The handler's awaitable, returned (as ExactPathRouter.app); a refusal raises here,
        inside ProblemRendering's `await` of the checks and the router."""
        method = scope["method"]
        handler = self.handlers.get(method)
        if handler is None:
            if self.refused is not None and method not in self.refused and method in ANY_METHOD:
                raise HTTPException(404, headers=self.problem_headers)
            raise HTTPException(405, headers={"Allow": self.allow, **self.problem_headers})
        return handler(scope, receive, send)


def root_routes(adapter_root: str, endpoint: Endpoint, methods: list[str]) -> list[Route]:
    """`{root}` and `{root}/{path}`: an empty sub-path reaches the provider's root too."""
    return [
        Route(adapter_root, endpoint, methods=methods),
        Route(adapter_root + "/{path:path}", endpoint, methods=methods),
    ]


def own_root_routes(adapter_root: str, handlers: dict[str, Endpoint]) -> list[Route]:
    return [OwnPathRoute(adapter_root, handlers), OwnPathRoute(adapter_root + "/{path:path}", handlers)]


# SEC-16: per pass-through root, the collections that mapped routes own. The pass-through
# never reaches them by another spelling: servers differ in what they take for the same name
# (Tomcat cuts `;x`, Spring may match `.json` suffixes or ignore case, a proxy may decode).
MAPPED_COLLECTIONS: dict[str, frozenset[str]] = {
    "contactmomenten": frozenset({"contactmomenten", "klantcontactmomenten", "objectcontactmomenten"}),
    "klanten": frozenset({"klanten"}),
    "zaken": frozenset({"zaken", "zaakcontactmomenten"}),
}
READ_METHODS = frozenset({"GET", "HEAD"})
# Where a server may take a segment's name to end: path parameters, suffixes, and a decoded
# `?` or `#` (`contactmomenten%3F` is `contactmomenten?` to a proxy that decodes it).
_NAME_END = re.compile(r"[;.?#]")


def collection_name(segment: str) -> str:
    """What an e-Suite could take `segment` for: decoded, in NFKC form (full-width letters as
    ASCII), path parameters (`;x`), suffixes (`.json`) and a decoded `?` or `#` cut, blanks
    stripped, case folded (Java, like `casefold`, takes U+212A KELVIN SIGN for `k`)."""
    for _ in range(MAX_DECODE_ROUNDS):
        decoded = unquote(segment)
        if decoded == segment:
            break
        segment = decoded
    return _NAME_END.split(unicodedata.normalize("NFKC", segment), 1)[0].strip().casefold()


def refuse_collection_spellings(root_name: str, sub_path: str, method: str) -> None:
    """SEC-16 on a pass-through sub-path (already clean by SEC-14).

    Another spelling of a mapped collection (`klanten;x`, `Klanten`, `contactmomenten.json`,
    and `klanten/`, which Spring matches as `klanten`) is 404: it would skip the mapped route's
    checks (the refused e-mail search, the contactmoment validation and duplicate protection).
    Under `/contactmomenten/…` only reads pass: a contact is created by route 5 alone, and
    never changed (SEC-9).
    """
    first = sub_path.split("/", 2)[1] if sub_path.startswith("/") else ""
    name = collection_name(first)
    if name in MAPPED_COLLECTIONS.get(root_name, ()) and (first != name or sub_path == f"/{name}/"):
        raise Problem(404, "not_found")
    if root_name == "contactmomenten" and name == "contactmomenten" and method not in READ_METHODS:
        raise Problem(405, "method_not_allowed", headers={"Allow": "GET, HEAD"})


def with_trailing_slash(path: str, handlers: dict[str, Endpoint]) -> list[Route]:
    """The path owned with and without a trailing `/`: `POST …/contactmomenten/` must never
    reach the e-Suite through the catch-all pass-through, unvalidated and unmapped."""
    return [OwnPathRoute(path, handlers), OwnPathRoute(path + "/", handlers)]


class _OnCompatRoot:
    """A front's route app, run for a request on its compatibility root: the handler sees the
    path under the front's own root (as if the client had used it), and the request's URL
    map emits under the compatibility roots."""

    def __init__(self, app: ASGIApp, compat_root: str, own_root: str) -> None:
        self.app = app
        self.compat_root, self.own_root = compat_root, own_root
        self.compat_raw, self.own_raw = compat_root.encode(), own_root.encode()

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        call = scope["state"]["call"]
        call.urls = compat_map(call.urls)
        inner = {**scope, "path": self.own_root + scope["path"][len(self.compat_root) :]}
        raw = scope.get("raw_path")
        if raw is not None and raw.startswith(self.compat_raw):
            inner["raw_path"] = self.own_raw + raw[len(self.compat_raw) :]
        return self.app(inner, receive, send)


def with_compat_root(name: str, routes: list[Route]) -> list[Route]:
    """`routes` of the front `name`, then the same routes under its compatibility root
    (urls.COMPAT_ROOTS), same methods and behaviour; only the URLs emitted differ."""
    own_root = next(adapter for root, adapter, _ in ROOTS if root == name)
    compat_root = dict(COMPAT_ROOTS)[name]
    compat = [
        Route(
            compat_root + route.path[len(own_root) :],
            _OnCompatRoot(route.app, compat_root, own_root),
            methods=sorted(route.methods or ()),
            name=f"compat:{route.name}",
        )
        for route in routes
    ]
    return [*routes, *compat]
