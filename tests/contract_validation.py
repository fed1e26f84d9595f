"""Contract validation for the tests: every adapter answer and every e-Suite request is checked.

- `contracts/kiss-front.openapi.yaml`: what the adapter serves. `ResponseValidatingTransport`
  wraps the inbound test client's transport and checks every response (status, headers,
  content type, body) before the test sees it.
- `contracts/esuite.openapi.yaml`: what the adapter sends the e-Suite.
  `RequestValidatingTransport` wraps the simulator's transport and checks every request the
  simulator receives. It never raises inside the adapter (that would turn into a 502 and hide the
  cause): it records, and the inbound transport raises the recorded violations with the answer
  of the request that caused them.

The checking itself is openapi-core (request/response validation against the document). What is
added here is only what OpenAPI 3.0 cannot say (contracts/README.md):
- routing in the adapter's order: a path parameter named `path` is the rest of the path (may be
  empty, may contain `/`); a path parameter whose schema has a `pattern` only matches segments
  that fit it; a method a path does not declare falls through to the next matching path, as in
  the adapter's route table;
- answers to requests no operation describes (unknown route, refused method) must be a 4xx
  problem+json;
- upstream: requests outside the listed paths are allowed only under `x-passthrough-roots`, and
  operations without `x-passthrough` may carry no undeclared query parameter.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import yaml
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads, plain_loads
from openapi_core.validation.response.exceptions import MissingData
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO / "contracts"
KISS_FRONT = CONTRACTS / "kiss-front.openapi.yaml"
ESUITE = CONTRACTS / "esuite.openapi.yaml"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
REST_OF_PATH = "path"


class ContractViolation(AssertionError):
    """An exchange that its contract does not allow."""


# ------------------------------------------------------------------------------------ routing


@dataclass(frozen=True)
class Route:
    template: str
    regex: re.Pattern
    patterns: Mapping[str, re.Pattern]  # path parameter -> the `pattern` it must fit
    item: Mapping[str, Any]  # the path item
    specificity: tuple

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        params = {name: value or "" for name, value in found.groupdict().items()}
        for name, pattern in self.patterns.items():
            if not pattern.search(params[name]):
                return None
        return params


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _route(spec: Mapping[str, Any], template: str, item: Mapping[str, Any]) -> Route:
    parameters = [_resolve(spec, p) for p in item.get("parameters", [])]
    for method in METHODS:
        parameters += [_resolve(spec, p) for p in item.get(method, {}).get("parameters", [])]
    patterns = {}
    for parameter in parameters:
        if parameter.get("in") == "path":
            schema = _resolve(spec, parameter.get("schema", {}))
            if "pattern" in schema:
                patterns[parameter["name"]] = re.compile(schema["pattern"])
    regex, literal, greedy, count = "", 0, 0, 0
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name = piece[1:-1]
            count += 1
            if name == REST_OF_PATH:
                greedy += 1
                regex = regex[:-1] + f"(?:/(?P<{name}>.*))?" if regex.endswith("/") else regex + f"(?P<{name}>.*)"
            else:
                regex += f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(piece)
            literal += len(piece)
    # Literal paths first, then single-segment parameters, then rest-of-path; longer literals first.
    return Route(template, re.compile(regex), patterns, item, (greedy, count, -literal))


# ------------------------------------------------------------------------------- openapi-core


@dataclass
class _Request:
    """openapi-core's Request protocol, with the path pattern our router found."""

    host_url: str
    path: str
    path_pattern: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class _Response:
    status_code: int
    headers: Headers
    data: bytes | None
    content_type: str


def _extra_deserializers() -> dict:
    return {
        "application/problem+json": json_loads,
        "application/yaml": plain_loads,
        "text/plain": plain_loads,
    }


def _describe(error: BaseException) -> list[str]:
    """Readable lines for an openapi-core error, down to the JSON-schema errors."""
    lines = [f"{type(error).__name__}: {error}"]
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            lines += [_schema_error_line(e) for e in schema_errors]
        elif str(cause) and str(cause) not in lines[-1]:
            lines.append(f"  {type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    for nested in getattr(error, "context", None) or []:  # e.g. several header errors
        lines += ["  " + line for line in _describe(nested)]
    return lines


def _schema_error_line(error: SchemaError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    line = f"  at {where}: {error.message[:300]}"
    if error.context:  # anyOf / oneOf: why each alternative failed, the closest first
        closest = best_match(error.context)
        others = [e for e in error.context if e is not closest]
        for alternative in [closest, *others][:4]:
            inner = "/".join(str(p) for p in alternative.absolute_path) or "(body)"
            line += f"\n    alternative fails at {inner}: {alternative.message[:300]}"
    return line


# ------------------------------------------------------------------------------------ contract


@dataclass
class Match:
    route: Route | None
    method: str
    operation: Mapping[str, Any] | None
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def passthrough(self) -> bool:
        return bool(self.operation and self.operation.get("x-passthrough"))

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.route.template if self.route else '(no route)'}"


class Contract:
    """One OpenAPI document, its router, and openapi-core for the checks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # A deep copy: YAML anchors become independent objects.
        self.spec: dict[str, Any] = copy.deepcopy(yaml.safe_load(path.read_text(encoding="utf-8")))
        self.openapi = OpenAPI.from_dict(
            copy.deepcopy(self.spec), config=Config(extra_media_type_deserializers=_extra_deserializers())
        )
        self.routes = sorted(
            (_route(self.spec, template, item) for template, item in self.spec["paths"].items()),
            key=lambda route: route.specificity,
        )
        self.passthrough_roots: tuple[str, ...] = tuple(self.spec.get("x-passthrough-roots", ()))
        problem = {"$ref": "#/components/schemas/AnyProblem", "components": self.spec["components"]}
        self._problem_validator = (
            OAS30Validator(problem) if "AnyProblem" in self.spec["components"].get("schemas", {}) else None
        )

    @property
    def name(self) -> str:
        return self.path.name

    def match(self, method: str, path: str) -> Match:
        method = method.lower()
        first: Route | None = None
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            first = first or route
            if method in route.item:
                return Match(route, method, route.item[method], params)
        return Match(first, method, None)

    def operations(self) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
        for template, item in self.spec["paths"].items():
            for method in METHODS:
                if method in item:
                    yield method, template, item[method]

    # -- the two checks --

    def response_errors(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[str]:
        found = self.match(method, path)
        content_type = headers.get("content-type", "")
        if found.operation is None:
            return self._undescribed_answer(found, status, content_type, body)
        request = self._request(found, path, query, {}, b"", "")
        data = None if method.upper() == "HEAD" else body
        response = _Response(status, Headers(list(headers.items())), data, content_type)
        errors = []
        for error in self.openapi.response_validator.iter_errors(request, response):
            if isinstance(error, MissingData) and (found.passthrough or not body):
                continue  # pass-through answers may be empty; a declared body must be there otherwise
            errors += _describe(error)
        return errors

    def request_errors(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> list[str]:
        normalised = path.rstrip("/") or "/"
        found = self.match(method, normalised)
        if found.operation is None:
            if found.route is not None:
                return [f"{method.upper()} {path}: the contract lists this path but not this method"]
            if any(normalised == root or normalised.startswith(root + "/") for root in self.passthrough_roots):
                return []  # pass-through to a path the contract does not describe
            return [f"{method.upper()} {path}: no operation of the contract and outside the pass-through roots"]
        content_type = headers.get("content-type", "")
        request = self._request(found, normalised, query, headers, body, content_type)
        errors = []
        for error in self.openapi.request_validator.iter_errors(request):
            errors += _describe(error)
        if not found.passthrough:
            declared = self._declared_query(found)
            unknown = sorted({name for name, _ in query} - declared)
            if unknown:
                errors.append(f"query parameters not in the contract: {', '.join(unknown)}")
        return errors

    # -- helpers --

    def _request(
        self,
        found: Match,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> _Request:
        parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(list(headers.items())),
            cookie=ImmutableMultiDict(),
            path=found.path_params,
        )
        return _Request(
            "http://contract.invalid", path, found.route.template, found.method, parameters, body or None, content_type
        )

    def _declared_query(self, found: Match) -> set[str]:
        parameters = list(found.route.item.get("parameters", [])) + list(found.operation.get("parameters", []))
        return {p["name"] for p in (_resolve(self.spec, p) for p in parameters) if p.get("in") == "query"}

    def _undescribed_answer(self, found: Match, status: int, content_type: str, body: bytes) -> list[str]:
        """No operation: an unknown route or a refused method. Only a 4xx problem may come back."""
        where = f"{found.method.upper()} (no operation{' on ' + found.route.template if found.route else ''})"
        errors = []
        if not 400 <= status < 500:
            errors.append(f"{where}: status {status}; a request no operation describes may only get a 4xx problem")
        if found.method == "head":
            return errors
        if content_type.split(";")[0].strip().lower() != "application/problem+json":
            errors.append(f"{where}: content type {content_type!r}, expected application/problem+json")
            return errors
        if self._problem_validator is not None:
            try:
                instance = orjson.loads(body)
            except orjson.JSONDecodeError:
                return errors + [f"{where}: body is not JSON"]
            for error in self._problem_validator.iter_errors(instance):
                errors.append(f"{where}:" + _schema_error_line(error))
        return errors


@functools.cache
def kiss_front_contract() -> Contract:
    return Contract(KISS_FRONT)


@functools.cache
def esuite_contract() -> Contract:
    return Contract(ESUITE)


# ----------------------------------------------------------------------------------- transports


def _query_pairs(url: httpx.URL) -> list[tuple[str, str]]:
    return list(url.params.multi_items())


def _report(contract: Contract, title: str, request: httpx.Request, errors: list[str], extra: str = "") -> str:
    lines = [f"{title} breaks {contract.name}: {request.method} {request.url}"]
    lines += ["  " + line for line in errors]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


@dataclass
class ViolationLog:
    """Upstream violations recorded by a `RequestValidatingTransport`, raised by the inbound side."""

    entries: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        taken, self.entries = self.entries, []
        return taken


class RequestValidatingTransport(httpx.AsyncBaseTransport):
    """Checks every request to the e-Suite against `contract`, then forwards it to `inner`.

    Requests to another origin (the smoelenboek) and the simulator's `/_sim/` hooks are not
    e-Suite API calls and are not checked. Violations are recorded in `log`, never raised here.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        esuite_base_url: str,
        log: ViolationLog,
        contract: Contract | None = None,
    ) -> None:
        self.inner = inner
        parts = urlsplit(esuite_base_url.rstrip("/"))
        self.origin = (parts.scheme, parts.netloc)
        self.prefix = parts.path
        self.log = log
        self.contract = contract or esuite_contract()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if (request.url.scheme, request.url.netloc.decode()) == self.origin and path.startswith(self.prefix):
            relative = path[len(self.prefix) :] or "/"
            if not relative.startswith("/_sim/"):
                body = await request.aread()
                errors = self.contract.request_errors(
                    request.method, relative, _query_pairs(request.url), request.headers, body
                )
                if errors:
                    self.log.entries.append(_report(self.contract, "Upstream request", request, errors))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ResponseValidatingTransport(httpx.AsyncBaseTransport):
    """Checks every answer of the adapter against `contract`; raises `ContractViolation`.

    Also raises what `upstream_log` recorded while the request was handled.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        contract: Contract | None = None,
        upstream_log: ViolationLog | None = None,
    ) -> None:
        self.inner = inner
        self.contract = contract or kiss_front_contract()
        self.upstream_log = upstream_log

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # e.g. `.app` of the wrapped ASGITransport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        try:
            raw = b"".join([chunk async for chunk in response.stream])
        finally:
            await response.aclose()
        checked = raw if "content-encoding" not in response.headers else b""
        errors = self.contract.response_errors(
            request.method, request.url.path, _query_pairs(request.url), response.status_code, response.headers, checked
        )
        upstream = self.upstream_log.take() if self.upstream_log is not None else []
        if errors or upstream:
            message = []
            if errors:
                excerpt = raw[:600].decode("utf-8", "replace")
                message.append(
                    _report(self.contract, f"Response {response.status_code}", request, errors, f"  body: {excerpt}")
                )
            message += upstream
            raise ContractViolation("\n".join(message))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
