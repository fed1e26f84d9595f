"""Generic pass-through to an e-Suite root (kiss-front.md §6.1, operations.md §7–8).

JSON is rewritten both ways; any other body streams through unbuffered in both directions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from adapter.esuite_client.client import CallContext, EsuiteClient
from adapter.esuite_client.transport import is_json_media_type
from adapter.esuite_client.urls import ROOTS, is_under_root
from adapter.kiss_api.path_guard import checked_sub_path
from adapter.kiss_api.responses import JsonResponse, rewritten_json
from adapter.kiss_api.routing import refuse_collection_spellings
from adapter.mapping.common import parse_json_body
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.query import Params, parse_query
from adapter.problems import Problem, upstream_invalid_response

log = structlog.get_logger("adapter.passthrough")

MAX_JSON_BODY = 64 * 1024 * 1024
MAX_MAPPED_BODY = 1024 * 1024

# SEC-6: what crosses, per direction. Everything else (cookies, hop-by-hop, Host, …) stays.
FORWARDED_REQUEST_HEADERS = (
    "accept",
    "accept-language",
    "accept-crs",
    "content-crs",
    "content-type",
    "if-none-match",
    "if-match",
    "x-audit-toelichting",
)
FORWARDED_RESPONSE_HEADERS = (
    "content-disposition",
    "content-crs",
    "api-version",
    "etag",
    "last-modified",
    "cache-control",
    "retry-after",
)
STREAM_RESPONSE_HEADERS = ("content-type", "content-length", "content-encoding")
REWRITTEN_RESPONSE_HEADERS = ("location", "content-location")

# Mapped variants of a pass-through route: the forwarded query, and the JSON answer (already
# rewritten to the adapter) before it is returned.
QueryHook = Callable[[Params, CallContext], Params]
AnswerHook = Callable[[Any], Any]


def call_of(request: Request) -> CallContext:
    return request.state.call


def esuite(request: Request) -> EsuiteClient:
    return request.app.state.esuite


def inbound_query(request: Request) -> Params:
    return parse_query(request.scope.get("query_string", b"").decode("latin-1"))


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 past `limit` (kiss-front.md §3.2)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "request-too-large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "request-too-large")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: Request, limit: int = MAX_MAPPED_BODY) -> Any:
    return parse_json_body(await read_body(request, limit))


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


def _response_headers(upstream: httpx.Response, call: CallContext, names: tuple[str, ...]) -> dict[str, str]:
    headers = {name: upstream.headers[name] for name in names if name in upstream.headers}
    for name in REWRITTEN_RESPONSE_HEADERS:
        if name in upstream.headers:
            rewritten = _own_root_link(upstream.headers[name], upstream, call)
            if rewritten is None:
                log.warning("link_dropped", header=name)  # never the value (it may hold personal data)
            else:
                headers[name] = rewritten
    return headers


def _own_root_link(value: str, upstream: httpx.Response, call: CallContext) -> str | None:
    """SEC-15: a `Location` is passed on (rewritten to `{A}`) only when it lies under the
    e-Suite root the request went to; a link to another root, a detour (`%2e%2e`) or another
    host would send KISS, with its credentials, where this route does not lead."""
    root_name = call.urls.root_name_of(str(upstream.request.url))
    if root_name is None or not is_under_root(value, call.urls.esuite_root(root_name)):
        return None
    return call.urls.to_adapter(value)


def rewritten_query(pairs: Params, call: CallContext) -> Params:
    """RW-5: values rewritten adapter → e-Suite, names untouched."""
    return [(name, call.urls.to_esuite(value)) for name, value in pairs]


def make_passthrough(
    root_name: str, query_hook: QueryHook = rewritten_query, answer_hook: AnswerHook | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint forwarding everything under adapter root `root_name` to its e-Suite root."""
    adapter_root = next(adapter for name, adapter, _ in ROOTS if name == root_name)

    async def passthrough(request: Request) -> Response:
        call = call_of(request)
        # RW-8: the sub-path as the client encoded it (raw), so a `%1B` stays encoded; checked
        # (SEC-14, SEC-16) and put under this route's own root, never another (SEC-15).
        sub_path = checked_sub_path(request.scope, adapter_root)
        if "path" in request.path_params:  # the catch-all `{root}/{path}`, not a specific route
            refuse_collection_spellings(root_name, sub_path, request.method)
        url = call.urls.esuite_root(root_name) + sub_path
        params = query_hook(inbound_query(request), call)
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
        content: Any = None
        if _has_body(request):
            if is_json_media_type(request.headers.get("content-type")):
                body = await read_json_body(request, MAX_JSON_BODY)
                content = orjson.dumps(call.urls.json_to_esuite(body))
            else:
                content = request.stream()
                if "content-length" in request.headers:
                    headers["content-length"] = request.headers["content-length"]
        upstream = await esuite(request).send(
            call, request.method, url, target=root_name, params=params, content=content, headers=headers, stream=True
        )
        return await relay(request, upstream, answer_hook)

    return passthrough


async def relay(request: Request, upstream: httpx.Response, answer_hook: AnswerHook | None = None) -> Response:
    """The client's answer to an upstream response opened with `stream=True`."""
    call = call_of(request)
    json_answer = is_json_media_type(upstream.headers.get("content-type"))
    mapped = answer_hook is not None  # a mapped route (zaken list and detail): only JSON can be mapped
    if upstream.status_code >= 400 or json_answer or request.method == "HEAD" or mapped:
        try:
            raw = await upstream.aread()
        finally:
            await upstream.aclose()
        if upstream.status_code >= 400:
            body = _json_or_none(raw)
            raise translate_upstream_error(
                upstream.status_code, body, call.urls.json_to_adapter, retry_after=upstream.headers.get("retry-after")
            )
        body = _json_or_none(raw)
        if mapped and (not 200 <= upstream.status_code < 300 or body is None):
            # operations.md §4.2/§4.3: a 2xx that is not JSON, or a 3xx, on a mapped route
            raise upstream_invalid_response()
        headers = _response_headers(upstream, call, FORWARDED_RESPONSE_HEADERS)
        if request.method == "HEAD" or not raw:
            if "content-type" in upstream.headers:
                headers["content-type"] = upstream.headers["content-type"]
            return Response(status_code=upstream.status_code, headers=headers)
        if body is None:
            raise upstream_invalid_response()
        esuite(request).check_origins(call, raw)
        if answer_hook is None:
            return rewritten_json(body, call.urls, status_code=upstream.status_code, headers=headers)
        return JsonResponse(answer_hook(call.urls.json_to_adapter(body)), status_code=upstream.status_code, headers=headers)
    headers = _response_headers(upstream, call, FORWARDED_RESPONSE_HEADERS + STREAM_RESPONSE_HEADERS)
    return StreamingResponse(_stream(upstream), status_code=upstream.status_code, headers=headers)


async def _stream(upstream: httpx.Response):
    """Chunks as they arrive, undecoded (RW-9, RW-10); the upstream connection is always released."""
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        await upstream.aclose()


def _json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
