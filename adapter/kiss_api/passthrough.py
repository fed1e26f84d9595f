"""Generic pass-through to an e-Suite root (kiss-front.md §6.1, operations.md §7–8).

JSON is rewritten both ways; any other body streams through unbuffered in both directions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from adapter.esuite_client.client import CallContext, EsuiteClient, answer_json, must_buffer
from adapter.esuite_client.urls import ROOTS
from adapter.kiss_api.path_guard import checked_sub_path
from adapter.kiss_api.responses import JsonResponse, rewritten_json
from adapter.kiss_api.routing import refuse_collection_spellings
from adapter.mapping.common import is_json_media_type, json_structure, json_values_bound, parse_json_body
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.paths import is_under_root
from adapter.mapping.query import Params, parse_client_query
from adapter.metrics import Metrics
from adapter.problems import Problem, upstream_invalid_response
from adapter.server_protocol import ABORT_EXTENSION, ABORT_KEY
from adapter.services import services

log = structlog.get_logger("adapter.request")

MAX_MAPPED_BODY = 1024 * 1024
DOWNLOADS_BUSY_RETRY_SECONDS = "5"

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
    return services(request).esuite


def inbound_query(request: Request) -> Params:
    return parse_client_query(request.scope.get("query_string", b""))


async def read_body(request: Request, limit: int, max_values: int | None = None) -> bytes:
    """The whole body, refused with 413 past `limit` bytes (kiss-front.md §3.2) or, for JSON,
    past `max_values` values (counted per chunk as it arrives, before anything is parsed).
    It must arrive within the call's budget (ESUITE_TIMEOUT_SECONDS, as a streamed upload
    must), else 408: a client dripping its body would hold the request, and delay a
    graceful shutdown, for as long as it liked."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "request-too-large")
    body = bytearray()
    values = 1
    try:
        async with asyncio.timeout(esuite(request).timeout_seconds):
            async for chunk in request.stream():
                if len(body) + len(chunk) > limit:
                    raise Problem(413, "request-too-large")
                if max_values is not None:
                    values += json_values_bound(json_structure(chunk)) - 1
                    if values > max_values:
                        raise Problem(
                            413, "request-too-large", detail="De inhoud van het verzoek bevat te veel waarden."
                        )
                body += chunk
    except TimeoutError:
        raise Problem(408, "request-timeout", detail="De inhoud van het verzoek kwam niet op tijd binnen.") from None
    return bytes(body)


async def read_json_body(request: Request, limit: int = MAX_MAPPED_BODY) -> Any:
    return parse_json_body(await read_body(request, limit))


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


def _response_headers(upstream: httpx.Response, call: CallContext, names: tuple[str, ...]) -> dict[str, str]:
    headers = {name: _raw_header(upstream, name) for name in names if name in upstream.headers}
    for name in REWRITTEN_RESPONSE_HEADERS:
        if name in upstream.headers:
            rewritten = _own_root_link(_raw_header(upstream, name), upstream, call)
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


def _raw_header(upstream: httpx.Response, name: str) -> str:
    """The value's bytes as latin-1 text, which Starlette writes back as the same bytes (a
    UTF-8 filename in Content-Disposition reaches the client unchanged, never a 500)."""
    key = name.encode("latin-1")
    return b", ".join(value for raw_name, value in upstream.headers.raw if raw_name.lower() == key).decode("latin-1")


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
        # As bytes: the value goes out exactly as it came in (a UTF-8 X-Audit-Toelichting too).
        headers: dict[str, str | bytes] = {
            name: request.headers[name].encode("latin-1")
            for name in FORWARDED_REQUEST_HEADERS
            if name in request.headers
        }
        content: Any = None
        upload = False
        if _has_body(request):
            if is_json_media_type(request.headers.get("content-type")):
                limits = esuite(request).limits
                raw = await read_body(request, limits.passthrough_json_bytes, limits.passthrough_json_values)
                content = orjson.dumps(call.urls.json_to_esuite(parse_json_body(raw)))
            else:
                upload = await _take_stream_slot(esuite(request), "uploads-busy")
                content = _client_body(request, call)
                if "content-length" in request.headers:
                    headers["content-length"] = request.headers["content-length"]
        try:
            upstream = await esuite(request).send(
                call,
                request.method,
                url,
                target=root_name,
                params=params,
                content=content,
                headers=headers,
                stream=True,
            )
        finally:
            if upload:  # the body has gone (or failed): the answer takes a slot of its own
                esuite(request).download_slots.release()
        return await relay(request, upstream, answer_hook)

    return passthrough


async def relay(request: Request, upstream: httpx.Response, answer_hook: AnswerHook | None = None) -> Response:
    """The client's answer to an upstream response opened with `stream=True`: JSON, error and
    HEAD answers arrive read (capped, within the budget: `EsuiteClient.send`); others stream."""
    call = call_of(request)
    mapped = answer_hook is not None  # a mapped route (zaken list and detail): only JSON can be mapped
    if mapped and not must_buffer(request.method, upstream):
        await upstream.aclose()
        raise upstream_invalid_response()  # operations.md §4.2/§4.3: a 2xx or 3xx that is not JSON
    if must_buffer(request.method, upstream):
        raw = upstream.content
        if upstream.status_code >= 400:
            body = answer_json(raw)
            raise translate_upstream_error(
                upstream.status_code, body, call.urls.json_to_adapter, retry_after=upstream.headers.get("retry-after")
            )
        body = answer_json(raw)
        if mapped and (not 200 <= upstream.status_code < 300 or body is None):
            raise upstream_invalid_response()  # operations.md §4.2/§4.3: an empty body or a 3xx on a mapped route
        headers = _response_headers(upstream, call, FORWARDED_RESPONSE_HEADERS)
        if request.method == "HEAD" or not raw:
            if "content-type" in upstream.headers:
                headers["content-type"] = _raw_header(upstream, "content-type")
            return Response(status_code=upstream.status_code, headers=headers)
        if body is None:
            raise upstream_invalid_response()
        esuite(request).check_origins(call, raw)
        if answer_hook is None:
            return rewritten_json(body, call.urls, status_code=upstream.status_code, headers=headers)
        return JsonResponse(
            answer_hook(call.urls.json_to_adapter(body)), status_code=upstream.status_code, headers=headers
        )
    headers = _response_headers(upstream, call, FORWARDED_RESPONSE_HEADERS + STREAM_RESPONSE_HEADERS)
    client = esuite(request)
    release = None
    if request.method == "GET":
        try:
            await _take_stream_slot(client, "downloads-busy")  # nothing is lost: a GET can be repeated
        except Problem:
            await upstream.aclose()
            raise
        release = client.download_slots.release
    return DownloadResponse(upstream, headers, client.limits.download_chunk_seconds, services(request).metrics, release)


async def _take_stream_slot(client: EsuiteClient, busy_code: str) -> bool:
    """A slot for a streamed transfer (a download or an upload), which holds an e-Suite
    connection for as long as the client takes: together they may hold only part of the pool
    (MAX_CONCURRENT_DOWNLOADS), so the JSON routes always keep connections. 503 when none is
    free; the caller releases it."""
    slots = client.download_slots
    if slots.locked():
        raise Problem(503, busy_code, headers={"Retry-After": DOWNLOADS_BUSY_RETRY_SECONDS})
    await slots.acquire()  # free (checked just above, nothing awaited in between)
    return True


async def _client_body(request: Request, call: CallContext) -> AsyncIterator[bytes]:
    """The client's body as it arrives, for an upload: a client that stalls past the budget or
    leaves marks the call as its own fault (408 or a disconnect, never the breaker's business)."""
    chunks = request.stream().__aiter__()
    while True:
        call.awaiting_client = True
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except BaseException:  # cancelled by the budget while waiting, or ClientDisconnect
            call.client_fault = True
            raise
        finally:
            call.awaiting_client = False
        yield chunk


class DownloadResponse(StreamingResponse):
    """Chunks as they arrive, undecoded (RW-9, RW-10). A client that does not take a chunk
    within `chunk_seconds` ends the download (a minimum rate of one chunk per
    DOWNLOAD_CHUNK_TIMEOUT_SECONDS; a chunk is what arrived since the last one, bounded by
    H1Transport's buffer: HIGH_WATER plus one socket read): a stalled reader never holds an
    e-Suite connection for long. That is the client's doing, not the e-Suite's: the breaker never hears of it. The
    upstream connection and the download slot are always released."""

    def __init__(
        self,
        upstream: httpx.Response,
        headers: dict[str, str],
        chunk_seconds: float,
        metrics: Metrics,
        release: Callable[[], None] | None,
    ) -> None:
        self._upstream_chunks = _chunks(upstream)
        super().__init__(self._upstream_chunks, status_code=upstream.status_code, headers=headers)
        self._chunk_seconds = chunk_seconds
        self._metrics = metrics
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Offered by the adapter's server (adapter/server_protocol.py); other servers close the
        # connection once the unfinished response returns.
        abort: Callable[[], None] | None = scope.get("extensions", {}).get(ABORT_EXTENSION, {}).get(ABORT_KEY)
        self._abort = abort
        try:
            await self._until_sent_or_gone(scope, receive, send)
        finally:
            try:
                await self._upstream_chunks.aclose()
            finally:  # the slot is freed even when a cancellation lands in the close
                if self._release is not None:
                    self._release()
                    self._release = None

    async def _until_sent_or_gone(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`StreamingResponse.__call__`'s two jobs, the answer and the wait for the client to
        leave, as two tasks: the first to end cancels the other, an answer's error is raised.
        Starlette runs them in an anyio task group under ASGI spec 2.3 (what uvicorn's httptools
        protocol announces), which leaves a reference cycle holding the chunk in hand when the
        client leaves or the e-Suite breaks off (bench/README.md, "The ninth pass"). As anyio's
        group does, it returns only once both have ended, however often it is cancelled: the
        caller's `finally` closes the upstream and frees the download slot after them."""
        if _spec_version(scope) >= (2, 4):  # the server reports a client that left as OSError
            try:
                await self.stream_response(send)
            except OSError:
                raise ClientDisconnect() from None
            return
        sending = asyncio.create_task(self.stream_response(send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        cancelled = False
        try:
            await asyncio.wait((sending, listening), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            cancelled = True
        sending.cancel()
        listening.cancel()
        while not (sending.done() and listening.done()):
            try:
                await asyncio.wait((sending, listening))
            except asyncio.CancelledError:
                cancelled = True
        # Both retrieved on every path: asyncio warns of a task whose error nobody read.
        errors = (_error_of(sending), _error_of(listening))
        del sending, listening
        if cancelled:
            raise asyncio.CancelledError
        error = errors[0] or errors[1]
        del errors
        if error is not None:
            try:
                raise error
            finally:
                del error  # this frame, in the error's traceback, lets it go

    async def stream_response(self, send: Send) -> None:
        try:
            await self._timed(
                send, {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            async for chunk in self.body_iterator:
                await self._timed(send, {"type": "http.response.body", "body": chunk, "more_body": True})
            await self._timed(send, {"type": "http.response.body", "body": b"", "more_body": False})
        except _ClientStalled:
            # Ending here leaves the response unfinished: the server closes the connection, so
            # the client cannot take a truncated download for a whole one.
            self._metrics.client_aborts.labels(reason="stalled").inc()
            log.info("download_stalled", chunk_seconds=self._chunk_seconds)
            if self._abort is not None:
                self._abort()

    async def _timed(self, send: Send, message: Message) -> None:
        try:
            async with asyncio.timeout(self._chunk_seconds) as deadline:
                await send(message)
        except TimeoutError:
            if deadline.expired():
                raise _ClientStalled() from None
            raise


class _ClientStalled(Exception):
    pass


def _spec_version(scope: Scope) -> tuple[int, ...]:
    return tuple(map(int, scope.get("asgi", {}).get("spec_version", "2.0").split(".")))


def _error_of(task: asyncio.Future[None]) -> BaseException | None:
    """What an ended task raised, its cancellation not counted."""
    return None if task.cancelled() else task.exception()


async def _chunks(upstream: httpx.Response) -> AsyncGenerator[bytes, None]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        await upstream.aclose()
