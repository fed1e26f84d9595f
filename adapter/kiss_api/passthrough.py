"""Generic pass-through to an e-Suite root (kiss-front.md §6.1, operations.md §7–8).

JSON is rewritten both ways; any other body streams through unbuffered in both directions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from adapter.esuite_client.client import CallContext, EsuiteClient
from adapter.esuite_client.urls import ROOTS
from adapter.kiss_api.responses import JsonResponse, rewritten_json
from adapter.mapping.common import is_json_media_type, parse_json_body
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.query import Params, parse_query
from adapter.problems import Problem, upstream_invalid_response

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
            headers[name] = call.urls.to_adapter(upstream.headers[name])
    return headers


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
        # RW-8: the sub-path as the client encoded it (raw), so `%2F` or a `%1B` stays encoded.
        raw_path = request.scope.get("raw_path", b"").split(b"?", 1)[0].decode("latin-1")
        sub_path = raw_path[len(adapter_root):] if raw_path.startswith(adapter_root) else request.url.path[len(adapter_root):]
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
    if upstream.status_code >= 400 or json_answer or request.method == "HEAD":
        try:
            raw = await upstream.aread()
        finally:
            await upstream.aclose()
        if upstream.status_code >= 400:
            body = _json_or_none(raw)
            raise translate_upstream_error(upstream.status_code, body, call.urls.json_to_adapter)
        headers = _response_headers(upstream, call, FORWARDED_RESPONSE_HEADERS)
        if request.method == "HEAD" or not raw:
            if "content-type" in upstream.headers:
                headers["content-type"] = upstream.headers["content-type"]
            return Response(status_code=upstream.status_code, headers=headers)
        body = _json_or_none(raw)
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
