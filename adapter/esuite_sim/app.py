"""The embedded e-Suite simulator as a Starlette app (esuite.md §8).

Serves, under the path prefix of ``base_url``:

- ``/contactmomenten-api-provider/api/v1`` (contactmomenten-api-provider 1.7.0 subset),
- ``/klanten-api-provider/api/v1`` (klanten-api-provider 1.3.0 subset),
- ``/zgw-apis-provider/zrc/api/v1`` (minimal zrc, §8.5), and of ``zrc``, ``ztc`` and ``drc`` the
  resources KISS reads to open the seeded zaak (zaaktype, status, statustype, rollen,
  zaakinformatieobjecten, one document and its PDF download); anything else there is 404,

and, at the server root and without authentication, the test hooks of §8.7 under ``/_sim/``.
Every API request is authenticated (§8.2), written to the request log and passed through
fault injection (``faults.py``) before it is handled.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
import attrs
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from adapter.esuite_sim.errors import SimError, invalid, not_found
from adapter.esuite_sim.faults import FaultConfigError, FaultInjector, SimulatedConnectionReset, abort_connection
from adapter.esuite_sim.records import Roots
from adapter.esuite_sim.store import Store

CM = "/contactmomenten-api-provider/api/v1"
KC = "/klanten-api-provider/api/v1"
ZRC = "/zgw-apis-provider/zrc/api/v1"
ZTC = "/zgw-apis-provider/ztc/api/v1"
DRC = "/zgw-apis-provider/drc/api/v1"

REQUEST_LOG_LIMIT = 10_000
LIST_ORDERS = ("newest-first", "oldest-first")
_TITLES = {
    400: "Validatiefout",
    401: "Niet geauthenticeerd",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    409: "Conflict",
    500: "Interne fout",
}
_SCHEMA_YAML = """openapi: 3.0.1
info:
  title: E-Suite implementatie van een deel van de Contactmomenten API versie 1.0.0 (simulator)
  version: 1.7.0
servers:
- url: /api/v1
paths: {}
"""


@attrs.frozen
class SimulatorConfig:
    client_id: str
    client_secret: str
    base_url: str = "http://127.0.0.1:8081"  # origin + optional path prefix, no trailing slash
    page_size: int = 20
    bronorganisatie: str = "001234567"
    seed: bool = True
    id_seed: int | None = None  # deterministic uuids for tests
    strict_klantcontactmomenten: bool = False
    fault_seed: int | None = None
    faults: Mapping[str, Any] | None = None  # initial fault configuration (faults.py); restored by reset
    list_order: str = "newest-first"  # or "oldest-first": contactmomenten lists (test C-5 ordering)


@attrs.define
class _Ctx:
    method: str
    path: str  # as received, with the prefix
    query: list[tuple[str, str]]
    raw_body: bytes
    user_id: str | None
    params: tuple[str, ...] = ()

    def body(self) -> Any:
        try:
            return orjson.loads(self.raw_body)
        except orjson.JSONDecodeError:
            raise invalid("De request body is geen geldige JSON.") from None

    def param(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


def _json(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    return Response(orjson.dumps(data), status, headers=dict(headers or {}), media_type=media_type)


def _created(data: dict[str, Any]) -> Response:
    return _json(data, 201, {"Location": data["url"]})


def _parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


class _Api:
    """Authentication, request log, faults and routing of every non-``_sim`` request."""

    def __init__(self, config: SimulatorConfig, store: Store, faults: FaultInjector) -> None:
        self.config, self.store, self.faults = config, store, faults
        self.prefix = urlsplit(config.base_url).path
        self.origin = config.base_url[: len(config.base_url) - len(self.prefix)]
        # The route table. A Route here is matched, not run: `__call__` calls the endpoint itself
        # (a `_Ctx` handler) so that fault injection can hold back or drop the response after it
        # is made (`lost_response`) and every answer reaches the request log (esuite.md §8.7).
        self.routes = [
            Route(f"{CM}/contactmomenten", self.list_contacts, methods=["GET"]),
            Route(f"{CM}/contactmomenten", self.create_contact, methods=["POST"]),
            Route(f"{CM}/contactmomenten/{{uuid}}", self.read_contact, methods=["GET"]),
            Route(
                f"{CM}/klantcontactmomenten", lambda ctx: self.list_links(ctx, "klantcontactmomenten"), methods=["GET"]
            ),
            Route(
                f"{CM}/klantcontactmomenten",
                lambda ctx: self.create_link(ctx, "klantcontactmomenten"),
                methods=["POST"],
            ),
            Route(
                f"{CM}/objectcontactmomenten",
                lambda ctx: self.list_links(ctx, "objectcontactmomenten"),
                methods=["GET"],
            ),
            Route(
                f"{CM}/objectcontactmomenten",
                lambda ctx: self.create_link(ctx, "objectcontactmomenten"),
                methods=["POST"],
            ),
            Route(
                f"{CM}/schema/openapi.yaml",
                lambda ctx: Response(_SCHEMA_YAML, media_type="application/yaml"),
                methods=["GET"],
            ),
            Route(f"{KC}/klanten", self.list_klanten, methods=["GET"]),
            Route(f"{KC}/klanten", self.create_klant, methods=["POST"]),
            Route(f"{KC}/klanten/{{uuid}}", self.read_klant, methods=["GET"]),
            Route(f"{KC}/klanten/{{uuid}}", self.patch_klant, methods=["PATCH"]),
            Route(f"{ZRC}/zaken", self.list_zaken, methods=["GET"]),
            Route(f"{ZRC}/zaken/{{uuid}}", self.read_zaak, methods=["GET"]),
            Route(f"{ZRC}/statussen/{{uuid}}", lambda ctx: self.zaak_resource(ctx, "statussen"), methods=["GET"]),
            Route(f"{ZRC}/rollen", self.list_rollen, methods=["GET"]),
            Route(f"{ZRC}/zaakinformatieobjecten", self.list_zaakinformatieobjecten, methods=["GET"]),
            Route(f"{ZTC}/zaaktypen/{{uuid}}", lambda ctx: self.zaak_resource(ctx, "zaaktypen"), methods=["GET"]),
            Route(f"{ZTC}/statustypen/{{uuid}}", lambda ctx: self.zaak_resource(ctx, "statustypen"), methods=["GET"]),
            Route(
                f"{DRC}/enkelvoudiginformatieobjecten/{{uuid}}",
                lambda ctx: self.zaak_resource(ctx, "enkelvoudiginformatieobjecten"),
                methods=["GET"],
            ),
            Route(f"{DRC}/enkelvoudiginformatieobjecten/{{uuid}}/download", self.download, methods=["GET"]),
        ]

    # -- plumbing --

    def match(self, method: str, path: str) -> tuple[str, Callable[[_Ctx], Response] | None, tuple[str, ...], int]:
        """(route template, handler or None, path parameters, status when there is no handler)."""
        if path != self.prefix and not path.startswith(f"{self.prefix}/"):
            return path, None, (), 404
        rel = path[len(self.prefix) :]
        if len(rel) > 1:
            rel = rel.rstrip("/")
        path_matched = None
        for route in self.routes:
            found, child = route.matches({"type": "http", "path": rel, "method": method})
            if found is not Match.NONE and not route.path_regex.fullmatch(rel):
                continue  # Starlette's `$` also accepts a final newline after a literal segment
            # Starlette adds HEAD to every GET route; the simulator answers only the methods listed (405).
            if found is Match.FULL and method != "HEAD":
                return route.path, child["endpoint"], tuple(child["path_params"].values()), 200
            if found is not Match.NONE:
                path_matched = route.path
        if rel.startswith(f"{CM}/") and method in ("PUT", "PATCH", "DELETE"):
            return path_matched or rel, None, (), 405  # E-1: no updates through the API
        return (path_matched, None, (), 405) if path_matched else (rel, None, (), 404)

    def authenticate(self, header: str | None) -> tuple[dict[str, Any] | None, str | None]:
        """(decoded claims or None, error detail or None)."""
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, "Authorization header met Bearer-token ontbreekt."
        try:
            claims = jwt.decode(
                token, self.config.client_secret, algorithms=["HS256"], leeway=60, options={"verify_aud": False}
            )
        except jwt.PyJWTError:
            try:
                unverified = jwt.decode(token, options={"verify_signature": False})
            except jwt.PyJWTError:
                unverified = None
            return unverified, "JWT ongeldig of verlopen."
        if self.config.client_id not in (claims.get("iss"), claims.get("client_id")):
            return claims, "JWT is niet uitgegeven aan een bekende applicatie."
        return claims, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        method, path = scope["method"], scope["path"]
        query = parse_qsl(scope["query_string"].decode("utf-8", "replace"), keep_blank_values=True)
        user_id = request.headers.get("x-esuite-request-user-id")
        claims, auth_error = self.authenticate(request.headers.get("authorization"))
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": [[k, v] for k, v in query],
            "body": _parse_json(raw),
            "user_id": user_id,
            "claims": claims,
            "headers": dict(request.headers.items()),
            "status": None,
            "faults": [],
        }
        log = self.store.requests
        log.append(entry)
        if len(log) > 2 * REQUEST_LOG_LIMIT:  # long benchmark runs: keep the newest entries
            del log[:-REQUEST_LOG_LIMIT]
        template, handler, params, status = self.match(method, path)
        kinds = self.faults.draw(method, template)
        entry["faults"] = [k for k in ("reset_before", "hang", "error5xx", "lost_response") if k in kinds]
        if "reset_before" in kinds:
            abort_connection(send)
            raise SimulatedConnectionReset("reset_before")
        if "hang" in kinds:
            await anyio.sleep(self.faults.hang_seconds)
        if "error5xx" in kinds:
            code = self.faults.error_status()
            response = (
                self.problem(SimError(500, "INTERNAL", ""))
                if code == 500
                else Response(f"<html><body><h1>{code}</h1></body></html>", code, media_type="text/html")
            )
        else:
            ctx = _Ctx(method, path, query, raw, user_id, params)
            try:
                if auth_error:
                    raise SimError(401, "NOT_AUTHORISED", auth_error)
                if handler is None:
                    raise SimError(
                        status,
                        "VALIDATION" if status == 405 else "NOT_FOUND",
                        "Methode niet toegestaan." if status == 405 else "Resource niet gevonden.",
                    )
                response = handler(ctx)
            except SimError as exc:
                response = self.problem(exc)
            if "lost_response" in kinds:
                abort_connection(send)
                raise SimulatedConnectionReset("lost_response")
        rel = path[len(self.prefix) :]
        if rel.startswith(f"{CM}/") or rel.startswith(f"{KC}/"):
            response.headers["API-version"] = "1.7.0" if rel.startswith(CM) else "1.3.0"
        entry["status"] = response.status_code
        await response(scope, receive, send)

    def problem(self, exc: SimError, media_type: str = "application/problem+json") -> Response:
        body: dict[str, Any] = {}
        if exc.code == "VALIDATION":
            body["type"] = f"{self.config.base_url}/problems/validatie"
        body.update(code=exc.code, title=_TITLES.get(exc.status, "Fout"), status=exc.status)
        if exc.detail:
            body["detail"] = exc.detail
        body["instance"] = f"urn:uuid:{uuid.uuid4()}"
        return _json(body, exc.status, media_type=media_type)

    def page(self, ctx: _Ctx, items: list[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
        """One page of ``items`` in the e-Suite envelope (§3.4, §8.3); 404 past the last page."""
        raw = ctx.param("page")
        number = 1
        if raw and raw[-1] != "":
            if not raw[-1].isdigit() or int(raw[-1]) < 1:
                raise invalid("Parameter 'page' moet een geheel getal groter dan 0 zijn.")
            number = int(raw[-1])
        size = self.config.page_size
        if number > max(1, math.ceil(len(items) / size)):
            raise not_found("Ongeldige pagina.")
        return _json(
            {
                "count": len(items),
                "next": self.page_url(ctx, number + 1) if number * size < len(items) else None,
                "previous": self.page_url(ctx, number - 1) if number > 1 else None,
                "results": [render(item) for item in items[(number - 1) * size : number * size]],
            }
        )

    def page_url(self, ctx: _Ctx, number: int) -> str:
        """Same query with ``page`` replaced (dropped for page 1), parameters sorted by name."""
        pairs = [(k, v) for k, v in ctx.query if k != "page"] + ([("page", str(number))] if number > 1 else [])
        query = urlencode(sorted(pairs, key=lambda kv: kv[0]))
        return f"{self.origin}{ctx.path}{'?' + query if query else ''}"

    # -- contactmomenten-api-provider --

    def list_contacts(self, ctx: _Ctx) -> Response:
        history = bool(ctx.param("identificatie"))
        return self.page(
            ctx, self.store.list_contacts(ctx.query), lambda c: self.store.render_contact(c, with_history=history)
        )

    def create_contact(self, ctx: _Ctx) -> Response:
        contact = self.store.create_contact(ctx.body())
        return _created(self.store.render_contact(contact, with_history=True))

    def read_contact(self, ctx: _Ctx) -> Response:
        contact = self.store.get_contact(ctx.params[0], ctx.user_id)
        return _json(self.store.render_contact(contact, with_history=True))

    def list_links(self, ctx: _Ctx, kind: str) -> Response:
        items = self.store.list_links(kind, ctx.query, strict=self.config.strict_klantcontactmomenten)
        return self.page(ctx, items, lambda link: self.store.render_link(link, kind))

    def create_link(self, ctx: _Ctx, kind: str) -> Response:
        try:
            link = self.store.create_link(kind, ctx.body())
        except SimError as exc:
            if exc.status == 409:  # the contract gives this answer application/json
                return self.problem(exc, media_type="application/json")
            raise
        return _created(self.store.render_link(link, kind))

    # -- klanten-api-provider --

    def list_klanten(self, ctx: _Ctx) -> Response:
        klanten = self.store.list_klanten(ctx.query)
        return _json({"count": len(klanten), "results": [self.store.render_klant(k) for k in klanten]})

    def create_klant(self, ctx: _Ctx) -> Response:
        return _created(self.store.render_klant(self.store.create_klant(ctx.body())))

    def read_klant(self, ctx: _Ctx) -> Response:
        return _json(self.store.render_klant(self.store.get_klant(ctx.params[0])))

    def patch_klant(self, ctx: _Ctx) -> Response:
        return _json(self.store.render_klant(self.store.patch_klant(ctx.params[0], ctx.body())))

    # -- zrc --

    def list_zaken(self, ctx: _Ctx) -> Response:
        return self.page(ctx, self.store.list_zaken(ctx.query), self.store.render_zaak)

    def read_zaak(self, ctx: _Ctx) -> Response:
        return _json(self.store.render_zaak(self.store.get_zaak(ctx.params[0])))

    # -- what KISS reads to open a zaak (ztc, zrc, drc) --

    def zaak_resource(self, ctx: _Ctx, kind: str) -> Response:
        return _json(self.store.zaak_resource(kind, ctx.params[0]))

    def list_rollen(self, ctx: _Ctx) -> Response:
        return self.page(ctx, self.store.zaak_resources_of("rollen", ctx.query), lambda rol: rol)

    def list_zaakinformatieobjecten(self, ctx: _Ctx) -> Response:
        # The Zaken API answers this list as a plain array, without paging.
        return _json(self.store.zaak_resources_of("zaakinformatieobjecten", ctx.query))

    def download(self, ctx: _Ctx) -> Response:
        document = self.store.zaak_resource("enkelvoudiginformatieobjecten", ctx.params[0])
        return Response(
            self.store.document_content(),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document["bestandsnaam"]}"'},
        )


class EsuiteSimulator(Starlette):
    """A Starlette app whose API requests bypass its router and middleware (`_Api` matches its own
    Route table), so that a simulated connection drop reaches the server instead of becoming a
    500 (faults.py). The `/_sim/` hooks are ordinary routes of the app."""

    api: _Api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_sim/"):
            await self.api(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_simulator(config: SimulatorConfig, clock: Callable[[], datetime] | None = None) -> Starlette:
    """Build the simulator. ``clock`` (default: now, UTC) stamps contacts posted without a
    ``registratiedatum``, voorlopige antwoorden and identificatie years; JWT checks use real time."""
    base_url = config.base_url.rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("base_url must be an absolute http(s) URL without query or fragment")
    if config.page_size < 1:
        raise ValueError("page_size must be >= 1")
    config = attrs.evolve(config, base_url=base_url)
    if config.list_order not in LIST_ORDERS:
        raise ValueError(f"list_order must be one of {', '.join(LIST_ORDERS)}")
    store = Store(
        roots=Roots.from_base(base_url),
        bronorganisatie=config.bronorganisatie,
        seed=config.seed,
        id_seed=config.id_seed,
        clock=clock or (lambda: datetime.now(UTC)),
        oldest_first=config.list_order == "oldest-first",
    )
    faults = FaultInjector(config.faults, config.fault_seed)

    def hook(fn: Callable[[Request, Any], Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                raw = await request.body()
                body = _parse_json(raw) if raw else {}
                if raw and body is None:
                    raise invalid("De request body is geen geldige JSON.")
                return fn(request, body)
            except SimError as exc:
                return app.api.problem(exc)
            except FaultConfigError as exc:
                return app.api.problem(invalid(str(exc)))

        return endpoint

    def reset(request: Request, body: Any) -> Response:
        store.reset()
        faults.reset()
        return Response(status_code=204)

    def set_faults(request: Request, body: Any) -> Response:
        if request.method == "PUT":
            faults.configure(body)
        return _json(faults.to_json())

    def add_voorlopig_antwoord(request: Request, body: Any) -> Response:
        return _json(store.add_voorlopig_antwoord(request.path_params["uuid"], body).to_json(), 201)

    def set_status(request: Request, body: Any) -> Response:
        contact = store.set_status(request.path_params["uuid"], body)
        return _json(store.render_contact(contact, with_history=True))

    app = EsuiteSimulator(
        routes=[
            Route("/_sim/reset", hook(reset), methods=["POST"]),
            Route(
                "/_sim/state",
                hook(lambda request, body: _json(dict(store.dump(), faults=faults.to_json()))),
                methods=["GET"],
            ),
            Route("/_sim/contactmomenten/{uuid}/voorlopige-antwoorden", hook(add_voorlopig_antwoord), methods=["POST"]),
            Route("/_sim/contactmomenten/{uuid}/status", hook(set_status), methods=["POST"]),
            Route("/_sim/faults", hook(set_faults), methods=["GET", "PUT"]),
        ]
    )
    app.api = _Api(config, store, faults)
    app.state.config = config
    app.state.store = store
    app.state.faults = faults
    return app
