"""The one outbound client toward the e-Suite (esuite.md §2, operations.md §5.1–5.2, SEC-3).

One pooled transport under httpx's `Request`/`Response`, sent through as `httpx.AsyncClient.send`
would, without that client's layers (`EsuiteClient._sent`: a decision of issue 17, httpx stays
the client API); an `httpx.Auth` per inbound request adds the e-Suite JWT and the end user's
`X-Esuite-Request-User-Id`; one tenacity policy per client retries a call only
when `may_send_again` allows it (a POST never once a byte may have left); every logical call
has one time budget. Failures become `Problem`s (502/504), never a 500. `pages` reads a list
page by page for every caller that follows `next`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Generator, Mapping
from typing import Any

import attrs
import httpx
import jwt
import orjson
import structlog
from tenacity import (
    DoAttempt,
    DoSleep,
    Future,
    RetryCallState,
    Retrying,
    stop_after_attempt,
)

from adapter import __version__
from adapter.config import Limits
from adapter.esuite_client.breaker import CircuitBreaker
from adapter.esuite_client.url_objects import FAST_HEADERS, fast_headers, outbound_url
from adapter.esuite_client.urls import ROOTS, UrlMap, foreign_provider_origins
from adapter.mapping.common import is_json_media_type, json_structure, json_values_bound, renderable
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.paging import EsuitePage, esuite_page
from adapter.mapping.paths import is_under_root
from adapter.mapping.query import encode_query
from adapter.metrics import Metrics
from adapter.problems import Problem, upstream_invalid_response, upstream_invalid_url
from adapter.telemetry import Telemetry

log = structlog.get_logger("adapter.upstream")

TOKEN_REUSE_SECONDS = 300
TOKEN_LIFETIME_SECONDS = 3600
MAX_ATTEMPTS = 3
RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
USER_HEADER = "X-Esuite-Request-User-Id"
ESUITE_TARGETS = tuple(name for name, _, _ in ROOTS)
# Path segments a DEBUG line may show: the provider roots and the ZGW resource names. Any other
# segment (an id, or whatever a client put in a pass-through path: an e-mail address, a BSN)
# is shown as `{id}`.
_PATH_WORDS = frozenset(segment for _, _, esuite in ROOTS for segment in esuite.split("/") if segment) | frozenset(
    (
        "contactmomenten",
        "klantcontactmomenten",
        "objectcontactmomenten",
        "klanten",
        "zaken",
        "zaakcontactmomenten",
        "zaakobjecten",
        "zaakinformatieobjecten",
        "rollen",
        "statussen",
        "resultaten",
        "zaaktypen",
        "statustypen",
        "roltypen",
        "resultaattypen",
        "informatieobjecttypen",
        "catalogussen",
        "enkelvoudiginformatieobjecten",
        "objectinformatieobjecten",
        "download",
        "schema",
        "openapi.yaml",
        "objects",
        "api",
        "v1",
        "v2",
    )
)


def path_template(url: str) -> str:
    """The URL's path with every segment outside `_PATH_WORDS` as `{id}` (never a raw path)."""
    try:
        path = httpx.URL(url).path
    except httpx.InvalidURL:
        return "{invalid}"
    return "/".join(segment if segment in _PATH_WORDS or not segment else "{id}" for segment in path.split("/"))


# An answer of at most MAX_UPSTREAM_ANSWER_BYTES parses to at most this many values: the
# Python objects of a page stay a small multiple of its size (~100 bytes per value).
MAX_ANSWER_VALUES = 500_000
# RW-11 sampling (EsuiteClient.check_origins).
RW11_CHECK_EVERY_FIRST = 256
RW11_CHECK_ONE_IN = 8


class RefusedUrl(Exception):
    """SEC-3, SEC-15: e-Suite credentials would go to a URL outside the call's own root."""


class ListAbsent(Exception):
    """`EsuiteClient.pages`: a page was answered with one of the caller's `absent` statuses."""


class UnusableAnswer(Exception):
    """A buffered answer past its byte cap, or in an encoding the adapter never asked for."""


def _decompressor(content_encoding: str) -> zlib._Decompress | None:  # typeshed names the class `_Decompress`
    """A zlib decoder for the answer's encoding; None for identity. The adapter asks for gzip."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip framing
    raise UnusableAnswer()


async def read_capped(response: httpx.Response, limits: Limits) -> bytes:
    """The decoded body, counted while it arrives: at most `answer_compressed_bytes` read and
    `answer_bytes` decoded (a gzip bomb stops at the cap, not when memory runs out). Counted
    here on httpx's raw stream, so the caps hold whatever transport is under httpx."""
    if _was_read(response):
        return _checked_size(response.content, limits.answer_bytes)  # a transport that read it already
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return b""  # no body, whatever Content-Length describes
    declared, content_encoding = _framing(response.headers)
    if declared and declared.isdigit() and int(declared) > limits.answer_compressed_bytes:
        raise UnusableAnswer()
    decoder = _decompressor(content_encoding or "")
    try:
        if decoder is None:
            return await _identity_body(response, limits)
        cap, received, body = limits.answer_bytes, 0, bytearray()
        async for chunk in _raw_chunks(response):
            received += len(chunk)
            if received > limits.answer_compressed_bytes:
                raise UnusableAnswer()
            while chunk:
                try:
                    body += decoder.decompress(chunk, cap + 1 - len(body))
                except zlib.error:
                    raise UnusableAnswer() from None
                chunk = decoder.unconsumed_tail
                if len(body) > cap:
                    raise UnusableAnswer()
    except httpx.RequestError as error:
        error.request = response.request  # as `aiter_raw`'s `request_context` does
        raise
    if not decoder.eof and received:
        raise UnusableAnswer()  # a truncated gzip stream
    return bytes(body)


async def _identity_body(response: httpx.Response, limits: Limits) -> bytes:
    """An answer without Content-Encoding: its chunks kept and joined once, under both caps
    (its decoded size is its raw size). One chunk, the usual answer, is returned as it is,
    not copied into a bytearray and out again (2026-12-02); a chunk that is not `bytes` (a
    transport's reused buffer) is copied as it comes."""
    received, chunks, cap = 0, [], min(limits.answer_compressed_bytes, limits.answer_bytes)
    async for chunk in _raw_chunks(response):
        received += len(chunk)
        if received > cap:
            raise UnusableAnswer()
        chunks.append(chunk if type(chunk) is bytes else bytes(chunk))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _content_attribute_works_with_this_httpx() -> bool:
    """`Response.content` and `Request.content` are httpx's private `_content`, there once the
    body was read (`_was_read`, `_outbound_request`)."""
    try:
        read, unread = httpx.Response(200, content=b"x"), httpx.Response(200, stream=httpx.ByteStream(b"x"))
        request = httpx.Request("POST", "http://a.example/", stream=httpx.ByteStream(b"x"))
        unread_request = "_content" not in vars(request)
        request._content = b"x"
        return (
            vars(read).get("_content") == b"x"
            and read.content is vars(read)["_content"]
            and "_content" not in vars(unread)
            and unread_request
            and request.content == request.read() == b"x"
        )
    except Exception:  # noqa: BLE001 (a changed private structure: the general way)
        return False


_CONTENT_ATTRIBUTE = _content_attribute_works_with_this_httpx()


def _was_read(response: httpx.Response) -> bool:
    """Whether `response.content` is readable, without the `ResponseNotRead` it raises on every
    answer of a transport that streams (an exception built, raised and caught: 2026-12-02)."""
    if _CONTENT_ATTRIBUTE:
        return "_content" in vars(response)
    try:
        response.content  # noqa: B018 (raises when not read)
    except httpx.ResponseNotRead:
        return False
    return True


def _raw_chunks(response: httpx.Response) -> AsyncIterable[bytes]:
    """The answer's raw bytes: its transport's stream itself when unread, as `aiter_raw` would
    give them (its chunker, of no size, passes every chunk on as it is) without its generator,
    chunker and context manager around each (2026-12-02, timeit, min of 3 × 11, one chunk of
    430 bytes, the answer built and closed: `read_capped` 16.4 → 8.6 µs). The answer is marked
    consumed as `aiter_raw` marks it; closing it stays the caller's (`_exchange`). Anything
    else takes `aiter_raw`, and its errors (tests/unit/test_buffered_answer.py)."""
    stream = response.stream
    if response.is_stream_consumed or response.is_closed or not isinstance(stream, httpx.AsyncByteStream):
        return response.aiter_raw()
    response.is_stream_consumed = True
    return stream


async def _closed(response: httpx.Response) -> None:
    """`Response.aclose()` of an answer `read_capped` read: its stream closed (the connection
    back to the pool), without the context manager `aclose` builds around that to attach the
    request to an error (2026-12-02, uvloop, timeit, min of 15, three rounds: 1.5–2.5 → 0.3–0.4
    µs); done here instead. Anything else takes `aclose` (tests/unit/test_buffered_answer.py)."""
    stream = response.stream
    if response.is_closed or not isinstance(stream, httpx.AsyncByteStream):
        return await response.aclose()
    response.is_closed = True
    try:
        await stream.aclose()
    except httpx.RequestError as error:
        error.request = response.request
        raise


def _framing(headers: httpx.Headers) -> tuple[str | None, str | None]:
    """(Content-Length, Content-Encoding) as `headers.get` gives them (several values joined
    with ", "; None when absent), in one scan of the header list instead of two look-ups, each
    of which lower-cases, encodes and scans. A non-ASCII value of either is decoded by httpx
    (its decoding depends on all the headers): that takes the two look-ups."""
    if not FAST_HEADERS:
        return headers.get("content-length"), headers.get("content-encoding")
    length: list[bytes] = []
    encoding: list[bytes] = []
    for _, name, value in headers._list:
        if name == b"content-length":
            length.append(value)
        elif name == b"content-encoding":
            encoding.append(value)
    if not (length or encoding):
        return None, None
    if not all(value.isascii() for value in (*length, *encoding)):
        return headers.get("content-length"), headers.get("content-encoding")
    return (
        b", ".join(length).decode("ascii") if length else None,
        b", ".join(encoding).decode("ascii") if encoding else None,
    )


def _checked_size(content: bytes, cap: int) -> bytes:
    if len(content) > cap:
        raise UnusableAnswer()
    return content


def buffered_answer(response: httpx.Response, body: bytes) -> httpx.Response:
    """The answer with its decoded body in memory (no Content-Encoding left to decode; the
    length of an encoded body no longer applies), headers otherwise as they came, with a
    Content-Length of a non-empty body added when there was none (as `content=` would).

    Copies the `Headers` (httpx copies its list as it is) instead of normalising every header
    again, and gives the body as `stream=ByteStream` (2026-12-02, timeit, min of 7, a 31 KB
    JSON answer with five headers, two rounds: 15.1 and 18.7 → 10.5 and 13.3 µs).

    When no header is dropped, that copy is the answer's `headers` itself (`Response(headers=…)`
    would copy it again) and keeps the answer's encoding: httpx finds a `Headers`' encoding by
    decoding every name and value (ASCII if all are, else UTF-8, else Latin-1), which an added
    ASCII length cannot change (2026-12-02, timeit, min of 31, one process, with the look-ups
    `read_capped` and a caller make, best of three rounds, two runs: 17.9 → 12.4 and
    10.2 → 9.5 µs). When one is
    dropped, `Response` copies it once more and finds the encoding anew, as before."""
    source = response.headers
    if FAST_HEADERS:
        return _buffered_fast(response, source, body)
    dropping = "content-encoding" in source
    headers = httpx.Headers(source, encoding=None if dropping else source.encoding)
    if dropping:
        del headers["content-encoding"]
        headers.pop("content-length", None)
    if body and "content-length" not in headers:
        headers["Content-Length"] = str(len(body))
    buffered = httpx.Response(
        response.status_code,
        headers=headers if dropping else None,
        stream=httpx.ByteStream(body),
        request=response.request,
        extensions=response.extensions,
    )
    if not dropping:
        buffered.headers = headers
    _read_already(buffered, body)  # `content` readable; nothing left to decode
    return buffered


def _buffered_fast(response: httpx.Response, source: httpx.Headers, body: bytes) -> httpx.Response:
    """`buffered_answer` on httpx's header list: one scan finds what is dropped or missing, the
    list is copied once (by `Response`, whose `Headers(Headers)` copies it as it is) and its
    encoding kept as found so far (None stays None: httpx finds the same one later, as an
    added ASCII length cannot change it). Dropping a header builds a new list, its encoding
    found anew, as the general way does. tests/unit/test_client_fast_paths.py holds both alike."""
    triples = source._list
    dropping = has_length = False
    for _, name, _ in triples:
        if name == b"content-encoding":
            dropping = True
        elif name == b"content-length":
            has_length = True
    if dropping:
        triples = [triple for triple in triples if triple[1] not in (b"content-encoding", b"content-length")]
        has_length = False
    buffered = httpx.Response(
        response.status_code,
        headers=source if not dropping else None,
        stream=httpx.ByteStream(body),
        request=response.request,
        extensions=response.extensions,
    )
    headers = buffered.headers
    if dropping:
        headers._list = triples
    else:
        headers._encoding = source._encoding
    if body and not has_length:
        headers["Content-Length"] = str(len(body))
    _read_already(buffered, body)  # `content` readable; nothing left to decode
    return buffered


def _read_already(response: httpx.Response, body: bytes) -> None:
    """The state `Response.read()` leaves on an answer of `stream=ByteStream(body)` and no
    Content-Encoding, set at once: `read` runs httpx's decoder and two chunkers, each in a
    generator, over the one chunk (2026-12-02, timeit, min of 3 × 11, 430 bytes:
    `buffered_answer` 15.8 → 3.4 µs). tests/unit/test_buffered_answer.py compares every
    attribute with what `read()` leaves."""
    response._content = body
    response._num_bytes_downloaded = len(body)
    response.is_stream_consumed = True
    response.is_closed = True


def answer_json(raw: bytes) -> Any:
    """A buffered answer parsed; None when it is not JSON. Refused (502) when it holds more
    values than MAX_ANSWER_VALUES or nests deeper than the renderer goes (item 5 of issue 13)."""
    if not raw:
        return None
    # A text holds at most one value more than it has bytes: only a longer one is counted.
    if len(raw) >= MAX_ANSWER_VALUES and json_values_bound(json_structure(raw)) > MAX_ANSWER_VALUES:
        raise upstream_invalid_response()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not renderable(body, raw):
        raise upstream_invalid_response()
    return body


def must_buffer(method: str, response: httpx.Response) -> bool:
    """With `stream=True`: which answers are read before `send` returns (JSON, errors, HEAD);
    other bodies (downloads) stay open for the caller to stream."""
    return response.status_code >= 400 or method == "HEAD" or is_json_media_type(response.headers.get("content-type"))


@attrs.define
class CallContext:
    """What the client needs to know about the inbound request, and what it reports back."""

    request_id: str
    urls: UrlMap
    user_id: str | None = attrs.field(default=None, repr=False)
    upstream_calls: int = 0
    upstream_seconds: float = 0.0
    # Set when a streamed request body failed or stalled on the client's side: the call's
    # failure is then the client's, never the e-Suite's (the breaker does not hear of it).
    client_fault: bool = False
    # True while a streamed request body waits for the client's next chunk. The served
    # transport (aiohttp) writes the body from a task of its own, so the budget's timeout
    # reaches `send` before that task is cancelled and could set `client_fault`.
    awaiting_client: bool = False

    def client_failed(self) -> bool:
        return self.client_fault or self.awaiting_client


def zgw_jwt(client_id: str, secret: str, now: float, ttl: int, **user_claims: str) -> str:
    """A ZGW JWT (HS256), as the e-Suite (esuite.md §2) and the adapter itself (the `token`
    command, operations.md §1) read it: `iss` and `client_id`, then `user_claims` in their
    order, `iat` and `nbf` a minute back (another host's clock may be behind), `exp` at `ttl`."""
    issued = int(now) - 60
    claims = {
        "iss": client_id,
        "client_id": client_id,
        **user_claims,
        "iat": issued,
        "nbf": issued,
        "exp": int(now) + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class EsuiteTokenSource:
    """Mints the e-Suite JWT (esuite.md §2) and reuses it for up to five minutes."""

    def __init__(self, client_id: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._client_id = client_id
        self._secret = secret
        self._clock = clock
        self._token: str | None = None
        self._minted_at = 0.0

    def bearer(self) -> str:
        now = self._clock()
        if self._token is None or now - self._minted_at >= TOKEN_REUSE_SECONDS:
            self._token = "Bearer " + zgw_jwt(self._client_id, self._secret, now, TOKEN_LIFETIME_SECONDS)
            self._minted_at = now
        return self._token


class TokenAuth(httpx.Auth):
    """The smoelenboek's static `Token`, sent only to its objects URL (S-2, SEC-3)."""

    def __init__(self, token: str, objects_url: str) -> None:
        self._header = f"Token {token}"
        self._objects_url = objects_url

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = str(request.url)
        rest = url[len(self._objects_url) :]
        if not url.startswith(self._objects_url) or rest[:1] not in ("", "?"):
            raise RefusedUrl()
        request.headers["Authorization"] = self._header
        yield request


class EsuiteAuth(httpx.Auth):
    """Credentials for one call; refuses to send them outside the root the call is for.

    SEC-15: `request.url` is the URL as httpx will send it (dot segments already removed), so
    a URL that left `root` on the way is caught here, whatever built it.
    """

    def __init__(self, tokens: EsuiteTokenSource, root: str, user_id: str | None) -> None:
        self._tokens = tokens
        self._root = root
        self._user_id = user_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.apply(request)
        yield request

    def apply(self, request: httpx.Request) -> None:
        """The flow's one step: `EsuiteClient._sent` calls it directly for an `EsuiteAuth`."""
        if not is_under_root(str(request.url), self._root):
            raise RefusedUrl()
        _set_header(request.headers, "Authorization", self._tokens.bearer())
        if self._user_id:
            _set_header(request.headers, USER_HEADER, self._user_id)  # replaces any other value
        elif USER_HEADER in request.headers:  # `pop` would raise and catch a KeyError when absent
            del request.headers[USER_HEADER]


_SET_KEYS = {name: (name.encode(), name.lower().encode()) for name in ("Authorization", USER_HEADER)}


def _set_header(headers: httpx.Headers, name: str, value: str) -> None:
    """`headers[name] = value` for a header not there yet (the usual case): the triple httpx's
    `__setitem__` appends (name and value encoded in the headers' encoding or UTF-8), appended
    after one scan, without its encoding of the name and its list of indexes (2026-12-02,
    timeit: 1.7 µs each). A header already there is replaced by `__setitem__` itself."""
    if FAST_HEADERS:
        key, lower = _SET_KEYS[name]
        items = headers._list
        for _, present, _ in items:
            if present == lower:
                break
        else:
            items.append((key, lower, value.encode(headers._encoding or "utf-8")))
            return
    headers[name] = value


@attrs.frozen
class JsonAnswer:
    status: int
    body: Any  # parsed JSON, or None when the answer was not JSON
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# --- "May this be sent again?" (operations.md §5.2) --------------------------------------------
#
# The one rule every retry asks. What happened to an attempt decides, with the method:
# - nothing was sent (the connection failed: refused, DNS, connect timeout): any method may go
#   again, the e-Suite never saw it;
# - it was sent and no answer came (a reset, a protocol error, a failed write): only GET and
#   HEAD; a POST may have been processed, and a second one would create a second contact;
# - an answer 502/503/504: only GET and HEAD (a gateway may have replaced the answer of a
#   create that was stored, §5.4);
# - anything else (a read timeout used the whole budget, another status, a refused URL, the
#   adapter's own open circuit): never.
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
_SENT_MAYBE_PROCESSED = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)


def may_send_again(method: str, error: BaseException | None = None, status: int | None = None) -> bool:
    """Whether an attempt that ended in `error` (or was answered with `status`) may be sent again."""
    if error is not None:
        if isinstance(error, _NOTHING_SENT):
            return True
        return method in IDEMPOTENT_METHODS and isinstance(error, _SENT_MAYBE_PROCESSED)
    return method in IDEMPOTENT_METHODS and status in RETRY_STATUSES


# The request left and no answer came: the e-Suite may have processed it (operations.md §5.4).
_SENT_WITHOUT_ANSWER = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    TimeoutError,
)


def sent_without_answer(problem: Problem) -> bool:
    return isinstance(problem.__cause__, _SENT_WITHOUT_ANSWER)


def _problem_for(error: BaseException, target: str) -> Problem:
    if isinstance(error, RefusedUrl):
        return upstream_invalid_url()
    if isinstance(error, (httpx.TimeoutException, TimeoutError)):
        return Problem(504, "upstream-timeout")  # the same code for both upstreams (§4.2)
    return Problem(502, "smoelenboek-unavailable" if target == "smoelenboek" else "upstream-unavailable")


@attrs.define(slots=True)
class _Exchange:
    """What every attempt of one logical call sends, and to whom it reports."""

    call: CallContext
    method: str
    url: httpx.URL | str  # as sent: query encoded, `outbound_url` applied
    target: str
    content: bytes | AsyncIterator[bytes] | None
    headers: dict[str, str | bytes]  # bytes: a client's value forwarded exactly as it came
    stream: bool
    auth: httpx.Auth
    deadline: float  # on the client's monotonic clock
    breaker: CircuitBreaker


_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))


def _outbound_request(exchange: _Exchange, extensions: dict[str, Any]) -> httpx.Request:
    """The request of one attempt, built directly, not with `build_request` (that parses the
    URL a second time to merge an empty set of client params; bench S3: a fifth of each call's
    CPU).

    A body in memory (bytes or none) goes in as `stream=ByteStream`, with the headers httpx
    would add (`Request._prepare`: Host first, a `Content-Length: 0` of an empty POST/PUT/PATCH
    next, a body's length last) already in the one list httpx reads: httpx then builds its
    `Headers` once instead of twice (2026-12-02, timeit, min of 7: a GET 10.5 → 5.4 µs, a POST
    with a JSON body 12.1 → 5.3 µs). The bytes
    sent stay exactly the same (tests/integration/test_client_outbound_bytes.py). A streamed
    upload takes httpx's own path (chunked, or the caller's length)."""
    content, headers = exchange.content, exchange.headers
    if content is not None and not isinstance(content, bytes):
        # httpx encodes each value on its own, str or bytes (`_normalize_header_value`);
        # its `HeaderTypes` alias just lists no mapping that mixes the two.
        return httpx.Request(exchange.method, exchange.url, content=content, headers=headers, extensions=extensions)  # type: ignore[arg-type]
    url = exchange.url if isinstance(exchange.url, httpx.URL) else httpx.URL(exchange.url)
    head: list[tuple[bytes, bytes, bytes]] = []
    if "host" not in headers and url.host:
        head.append((b"Host", b"host", url.netloc))
    no_length = "content-length" not in headers and "transfer-encoding" not in headers
    if not content and no_length and exchange.method.upper() in _BODY_METHODS:
        head.append((b"Content-Length", b"content-length", b"0"))
    encoded = _encoded_headers(headers) if FAST_HEADERS else None
    head += encoded if encoded is not None else ((name, b"", value) for name, value in headers.items())  # type: ignore[misc]
    if content and "content-length" not in headers:
        head.append((b"Content-Length", b"content-length", str(len(content)).encode("ascii")))
    request = httpx.Request(
        exchange.method,
        url,
        # Without the fast way: pairs, str and bytes mixed, which httpx encodes one by one.
        headers=fast_headers(head) if encoded is not None else [(name, value) for name, _, value in head],
        stream=httpx.ByteStream(content or b""),
        extensions=extensions,
    )
    # `request.content` readable, as with `content=` (MockTransport, pytest-httpx): the state
    # `request.read()` leaves, set without its generator over the one chunk (2026-12-02).
    if _CONTENT_ATTRIBUTE:
        request._content = content or b""
    else:
        request.read()
    return request


def _encoded_headers(headers: dict[str, str | bytes]) -> list[tuple[bytes, bytes, bytes]] | None:
    """`headers` as the triples `Headers(pairs)` makes of them (name and a str value encoded as
    ASCII, bytes kept, the name's lower case): the request's one encoding of its headers
    (2026-12-02). None for a name that is not a str or a value neither str nor bytes (httpx's
    own errors then, from its own loop)."""
    triples = []
    for name, value in headers.items():
        if type(name) is not str or not isinstance(value, (str, bytes)):
            return None
        key = name.encode("ascii")
        triples.append((key, key.lower(), value if isinstance(value, bytes) else value.encode("ascii")))
    return triples


class _Budget:
    """`asyncio.timeout(seconds)` for the one block of `_exchange`, as a plain context manager:
    at the deadline the task is cancelled, and that cancellation leaves the block as
    `TimeoutError`; any other (the caller's) stays a cancellation. The same steps as
    `asyncio.Timeout` (cancel, `uncancel` on exit, the task's earlier cancel requests counted)
    without its state machine and two coroutines (2026-12-02, uvloop, timeit, min of 9:
    4.9 → 2.5 µs an attempt). tests/unit/test_client_budget.py runs it beside `asyncio.timeout`."""

    __slots__ = ("_cancelling", "_handle", "_task", "expired")

    def __init__(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self.expired = False
        self._handle = loop.call_at(loop.time() + seconds, self._expire)

    def _expire(self) -> None:
        self._task.cancel()
        self.expired = True

    def __enter__(self) -> _Budget:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self._handle.cancel()
        # `uncancel` whenever the deadline cancelled, as `asyncio.Timeout.__aexit__` does.
        if self.expired and self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc


def _outcome(state: RetryCallState) -> Future:
    """The outcome of the attempt a strategy is asked about (tenacity sets it before asking)."""
    if state.outcome is None:
        raise RuntimeError("tenacity asked about an attempt that has not ended")
    return state.outcome


def _never_sleep(seconds: float) -> None:
    raise RuntimeError("the retry policy's waits are awaited by EsuiteClient._retried")


def _classified(call: CallContext, target: str, error: BaseException) -> tuple[str, Problem, BaseException | None]:
    """A failed call as (metric label, the client's problem, the cause kept on it)."""
    if isinstance(error, httpx.InvalidURL):
        # Only client-supplied path or query parts can make it invalid.
        return (
            "error",
            Problem(400, "invalid", detail="Het adres van het verzoek is ongeldig.", invalid_params=[]),
            None,
        )
    if isinstance(error, UnusableAnswer):
        return "unusable", upstream_invalid_response(), None
    if call.client_failed():
        # The client's body stalled or broke off: its fault, answered as such.
        return (
            "client",
            Problem(408, "request-timeout", detail="De inhoud van het verzoek kwam niet op tijd binnen."),
            None,
        )
    label = "timeout" if isinstance(error, (httpx.TimeoutException, TimeoutError)) else "error"
    # The cause stays attached: `sent_without_answer` reads it (never rendered or logged).
    return label, _problem_for(error, target), error


_HTTPX_ASYNC_AUTH_FLOW = httpx.Auth.async_auth_flow


class EsuiteClient:
    def __init__(
        self,
        tokens: EsuiteTokenSource,
        metrics: Metrics,
        *,
        timeout_seconds: float,
        max_connections: int,
        limits: Limits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._tokens = tokens
        self._telemetry = telemetry
        self._metrics = metrics
        self._timeout = timeout_seconds
        self.limits = limits or Limits()
        # Streamed GET answers (downloads) each hold a pooled connection while the client reads.
        self.download_slots = asyncio.Semaphore(self.limits.max_downloads)
        self._monotonic = monotonic
        self._foreign_origins: set[str] = set()
        self._logger: Any = None  # `_bound_logger`
        self._answers_checked = 0
        self.esuite_breaker = CircuitBreaker("esuite", lambda is_open: self._circuit_gauge(ESUITE_TARGETS, is_open))
        self.smoelenboek_breaker = CircuitBreaker(
            "smoelenboek", lambda is_open: self._circuit_gauge(("smoelenboek",), is_open)
        )
        self._default_headers = {
            "accept": "application/json",
            "user-agent": f"kiss-esuite-adapter/{__version__}",
            "accept-encoding": "gzip",
        }
        # Sent on directly (`_sent`), not through `httpx.AsyncClient` (see there). Without one
        # given: httpx's own transport, as `AsyncClient(limits=…)` would build it.
        self._transport = transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        )
        self._closed = False
        self._retrying = self._retry_policy()

    @property
    def timeout_seconds(self) -> float:
        """The budget of one logical call (ESUITE_TIMEOUT_SECONDS)."""
        return self._timeout

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._transport.aclose()

    def _circuit_gauge(self, targets: tuple[str, ...], is_open: bool) -> None:
        for target in targets:
            self._metrics.circuit_open.labels(target=target).set(1 if is_open else 0)

    def check_origins(self, call: CallContext, raw: bytes) -> None:
        """RW-11: warn once per origin when an answer prints provider paths elsewhere than
        under ESUITE_BASE_URL (those URLs are not rewritten, and KISS would get them).

        The warning is about the e-Suite's configuration, which every answer shares: the first
        RW11_CHECK_EVERY_FIRST answers are all checked, later ones one in RW11_CHECK_ONE_IN.
        2026-12-02: the check is four passes over the answer, 26 µs on bench S1's 31 KB page."""
        self._answers_checked += 1
        seen = self._answers_checked
        if seen > RW11_CHECK_EVERY_FIRST and seen % RW11_CHECK_ONE_IN:
            return
        for origin in foreign_provider_origins(raw, call.urls.esuite_base) - self._foreign_origins:
            self._foreign_origins.add(origin)
            log.warning("origin_mismatch", origin=origin, esuite_base=call.urls.esuite_base)

    def breaker_for(self, target: str) -> CircuitBreaker:
        """One breaker per upstream origin: the e-Suite (five roots) and the smoelenboek."""
        return self.smoelenboek_breaker if target == "smoelenboek" else self.esuite_breaker

    async def send(
        self,
        call: CallContext,
        method: str,
        url: str,
        *,
        target: str,
        params: list[tuple[str, str]] | None = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        stream: bool = False,
        timeout: float | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """One logical call: retries and the time budget included. Raises `Problem` on failure.

        Every answer `must_buffer` names is read within the budget and under the byte caps of
        `read_capped` (over a cap: 502, past the budget: 504). With `stream=True` any other
        answer is returned open: the caller must close it; its budget ends when the headers
        arrive and each later read has the full budget of inactivity (§5.1).
        """
        exchange = self._prepared(call, method, url, target, params, content, headers, stream, timeout, auth)
        # OpenTelemetry (None when off): one client span per logical call, its `traceparent` sent.
        span = self._telemetry.start_client_span(method, target, exchange.headers) if self._telemetry else None
        started = self._monotonic()
        status_label = "error"
        try:
            response = await self._retried(exchange)
            status_label = str(response.status_code)
            return response
        except (httpx.InvalidURL, UnusableAnswer, httpx.HTTPError, TimeoutError, RefusedUrl) as error:
            status_label, problem, cause = _classified(call, target, error)
            try:
                raise problem from cause
            finally:
                del problem, cause  # the raised problem's traceback holds this frame: no cycle
        finally:
            self._record(call, target, method, url, status_label, self._monotonic() - started, span)

    def _prepared(
        self,
        call: CallContext,
        method: str,
        url: str,
        target: str,
        params: list[tuple[str, str]] | None,
        content: bytes | AsyncIterator[bytes] | None,
        headers: Mapping[str, str | bytes] | None,
        stream: bool,
        timeout: float | None,
        auth: httpx.Auth | None,
    ) -> _Exchange:
        """The fixed parts of every attempt of one call: URL, headers, credentials, deadline."""
        if params:
            # Q-5 encoding (a space is %20), not httpx's form encoding.
            url = f"{url}{'&' if '?' in url else '?'}{encode_query(params)}"
        # One plain dict, names in lower case so a caller's header replaces a default one;
        # httpx builds its `Headers` from it once.
        all_headers: dict[str, str | bytes] = {**self._default_headers, "x-request-id": call.request_id}
        if headers:
            all_headers.update((name.lower(), value) for name, value in headers.items())
        return _Exchange(
            call=call,
            method=method,
            url=outbound_url(url),
            target=target,
            content=content,
            headers=all_headers,
            stream=stream,
            auth=auth or EsuiteAuth(self._tokens, call.urls.esuite_root(target), call.user_id),
            deadline=self._monotonic() + (timeout or self._timeout),
            breaker=self.breaker_for(target),
        )

    async def _attempt(self, exchange: _Exchange) -> httpx.Response:
        """One attempt, reported to the target's circuit breaker (a client's stalled body is not
        the e-Suite's fault, nor is a cancelled call)."""
        breaker = exchange.breaker
        breaker.before_call()
        try:
            response = await self._exchange(exchange)
        except (httpx.TransportError, TimeoutError):
            if exchange.call.client_failed():
                breaker.abandon()
            else:
                breaker.record(False)
            raise
        except BaseException:
            breaker.abandon()
            raise
        breaker.record(response.status_code < 500)
        return response

    async def _exchange(self, exchange: _Exchange) -> httpx.Response:
        """Send once within what is left of the budget; an answer `must_buffer` names is read
        (under the caps of `read_capped`) and closed, any other is returned open."""
        remaining = exchange.deadline - self._monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException("budget exhausted")
        # `httpx.Timeout(remaining, connect=min(5.0, remaining)).as_dict()`, written out.
        timeouts = {"connect": min(5.0, remaining), "read": remaining, "write": remaining, "pool": remaining}
        request = _outbound_request(exchange, {"timeout": timeouts})
        with _Budget(remaining):
            response = await self._sent(request, exchange.auth)
            if not exchange.stream or must_buffer(exchange.method, response):
                try:
                    body = await read_capped(response, self.limits)
                finally:
                    await _closed(response)
                return buffered_answer(response, body)
        return response

    async def _sent(self, request: httpx.Request, auth: httpx.Auth) -> httpx.Response:
        """`httpx.AsyncClient.send(request, auth=auth, stream=True)` as this client used it: the
        request's `httpx.Auth` flow, then the transport's `handle_async_request`; the answer
        returned unread. httpx stays the client API (its `Auth`, `Request`/`Response` and
        transports: H1Transport, `MockTransport`, pytest-httpx's mocked `AsyncHTTPTransport`);
        only `AsyncClient`'s generic layers go (2026-12-02, warm, one call: 36 → 22 µs through
        `send`, bench/README.md "Performance tricks").

        What `send` did that matters here, kept: a closed client refuses; an auth flow of any
        number of steps (each earlier answer read, then kept in `history`; any answer closed when
        the flow raises); a transport error carries its request; `response.request` is set. Not
        kept, as nothing here used it: redirects (never followed: `follow_redirects=False`, a 3xx
        is the caller's answer), cookies (no jar: nothing is stored or sent, SEC-6), event hooks (none),
        `response.elapsed` (read by nobody: the call's duration is `_record`'s), httpx's INFO log
        line. The timeout extensions are the request's own (`_exchange`)."""
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if type(auth) is EsuiteAuth:
            # Its flow is one step (`apply`), reads no body and ends on the first answer: the
            # generator, its `send`/`StopIteration` and `close` left out (2026-12-02).
            auth.apply(request)
            return await self._sent_once(request, [])
        if type(auth).async_auth_flow is not _HTTPX_ASYNC_AUTH_FLOW:
            return await self._sent_async_flow(request, auth)
        # `Auth.async_auth_flow` as httpx runs it for a synchronous flow, without an async
        # generator around the generator (tests/unit/test_client_send.py holds the two alike).
        if auth.requires_request_body:
            await request.aread()
        flow = auth.auth_flow(request)
        history: list[httpx.Response] = []
        try:
            request = next(flow)
            while True:
                response = await self._sent_once(request, history)
                try:
                    if auth.requires_response_body:
                        await response.aread()
                    try:
                        request = flow.send(response)
                    except StopIteration:
                        return response
                    await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
                history.append(response)
        finally:
            flow.close()

    async def _sent_async_flow(self, request: httpx.Request, auth: httpx.Auth) -> httpx.Response:
        """`_sent` for an auth with its own `async_auth_flow`: driven as httpx drives it."""
        flow = auth.async_auth_flow(request)
        history: list[httpx.Response] = []
        try:
            request = await flow.__anext__()
            while True:
                response = await self._sent_once(request, history)
                try:
                    try:
                        request = await flow.asend(response)
                    except StopAsyncIteration:
                        return response
                    await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
                history.append(response)
        finally:
            await flow.aclose()

    async def _sent_once(self, request: httpx.Request, history: list[httpx.Response]) -> httpx.Response:
        """One request through the transport, as `AsyncClient._send_single_request` sends it."""
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise RuntimeError("Attempted to send an sync request with an AsyncClient instance.")
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.RequestError as error:
            error.request = request  # as httpx's `request_context` does
            raise
        response.request = request
        if history:
            response.history = list(history)
        return response

    async def _retried(self, exchange: _Exchange) -> httpx.Response:
        """The attempts of one call as tenacity's policy decides them, through its iteration
        API (`Retrying.iter`: attempt, sleep, or the final outcome), as `AsyncRetrying.__call__`
        does but with the policy's plain functions called as they are: `AsyncRetrying` wraps
        each one in a coroutine and inspects it on every step (2026-12-02, a call that succeeds
        at once: 16 µs CPU through `AsyncRetrying`, 8 µs this way; min of 9 runs).

        The first attempt is made before the policy is asked: an answer its `retry` would keep
        (`may_send_again` says no: nearly every call) is what the policy would return, and is
        returned without its machinery (2026-12-02, timeit, min of 3 × 11, a call that succeeds
        at once, with `_prepared`: 76.0 → 48.0 µs). Any other first outcome (an error, a
        502/503/504 of a GET) is handed to the policy as its first attempt's, and tenacity
        decides from there (tests/unit/test_client_retries.py)."""
        try:
            response = await self._attempt(exchange)
        except BaseException:  # noqa: BLE001 (handed to the policy, which re-raises it)
            first: Any = sys.exc_info()
        else:
            if not may_send_again(exchange.method, status=response.status_code):
                return response
            first = response
        retrying = self._retrying
        retrying.begin()
        state = RetryCallState(retrying, fn=None, args=(exchange,), kwargs={})
        outcome: Any = None
        try:
            while True:
                # Synchronous from here to the next `await`: tenacity's per-thread iteration state
                # is never held across one, so concurrent calls can share the policy.
                do = retrying.iter(state)
                if isinstance(do, DoAttempt):
                    if first is not None:
                        outcome, first = first, None
                    else:
                        try:
                            outcome = await self._attempt(exchange)
                        except BaseException:  # noqa: BLE001 (kept as the outcome; the policy re-raises it)
                            outcome = sys.exc_info()
                    if isinstance(outcome, tuple):
                        state.set_exception(outcome)
                    else:
                        state.set_result(outcome)
                elif isinstance(do, DoSleep):
                    state.prepare_for_next_attempt()
                    await asyncio.sleep(do)
                else:
                    return do  # the answer, or what `retry_error_callback` returned
        finally:
            # A caught error's traceback holds this frame, and this frame (in `first`, `outcome`
            # and the state's outcome) the error: a reference cycle holding the request and its
            # body until the cyclic collector ran. Broken here, reference counting frees them.
            first = outcome = None
            state.outcome = None

    def _retry_policy(self) -> Retrying:
        """The client's one retry mechanism, built once: building tenacity's machinery per call
        costs more than running it (2026-12-02, a call that succeeds at once: ~38 µs CPU built
        per call, ~25 µs built once). Each call's own parts reach the strategies as the
        attempt's argument (`state.args[0]`, an `_Exchange`). `_retried` runs it: its `sleep`
        is never called (the wait is awaited there).

        Shared by concurrent calls: tenacity keeps its iteration state per thread, and every
        strategy here is a plain function, so that state is never held across an `await`."""

        def retry(state: RetryCallState) -> bool:
            exchange, outcome = state.args[0], _outcome(state)
            if outcome.failed:
                return may_send_again(exchange.method, error=outcome.exception())
            return may_send_again(exchange.method, status=outcome.result().status_code)

        def wait(state: RetryCallState) -> float:
            return self._backoff(state.args[0], state.attempt_number)

        def note_retry(state: RetryCallState) -> None:
            exchange, outcome = state.args[0], _outcome(state)
            reason = type(outcome.exception()).__name__ if outcome.failed else str(outcome.result().status_code)
            self._metrics.upstream_retries.labels(target=exchange.target).inc()
            log.warning(
                "retry", target=exchange.target, method=exchange.method, attempt=state.attempt_number, reason=reason
            )

        return Retrying(
            sleep=_never_sleep,
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=wait,
            retry=retry,
            before_sleep=note_retry,
            # The last attempt's own outcome: its answer (a 503 after three), or its exception.
            retry_error_callback=lambda state: _outcome(state).result(),
        )

    def _backoff(self, exchange: _Exchange, attempt_number: int) -> float:
        """0.2 s, 0.4 s … (cap 2 s) with ±20 % jitter, never beyond the call's budget."""
        delay = min(2.0, 0.2 * 2 ** (attempt_number - 1)) * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not a secret)
        return max(0.0, min(delay, exchange.deadline - self._monotonic()))

    def _record(
        self, call: CallContext, target: str, method: str, url: str, status_label: str, elapsed: float, span: Any
    ) -> None:
        """Metrics, the span and the DEBUG line of one logical call, whatever its outcome."""
        call.upstream_calls += 1
        call.upstream_seconds += elapsed
        self._metrics.upstream_count(target, method, status_label).inc()
        self._metrics.upstream_seconds(target, method).observe(elapsed)
        if span is not None and self._telemetry is not None:
            self._telemetry.end_client_span(span, status_label)
        logger = self._logger or self._bound_logger()
        if logger.is_enabled_for(logging.DEBUG):  # the path template costs a URL parse
            logger.debug(
                "upstream",
                target=target,
                method=method,
                path=path_template(url),
                status=status_label,
                duration_ms=round(elapsed * 1000, 2),
            )

    def _bound_logger(self) -> Any:
        """`log` bound once when structlog caches its loggers: the lazy proxy binds anew on
        every use (2026-12-02, timeit, min of 11: `is_enabled_for` 1.8 µs through it, ~0.1 µs
        bound). While loggers are not cached (tests reconfigure logging) each call binds anew,
        as the proxy would (as `adapter.kiss_api.access_log` does)."""
        logger = log.bind()
        if structlog.get_config()["cache_logger_on_first_use"]:
            self._logger = logger
        return logger

    async def fetch_json(
        self,
        call: CallContext,
        method: str,
        url: str,
        *,
        target: str = "contactmomenten",
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> JsonAnswer:
        """A call on a mapped route: the answer parsed, whatever its status."""
        content = None
        headers = dict(headers or {})
        if json_body is not None:
            content = orjson.dumps(json_body)
            headers["Content-Type"] = "application/json"
        response = await self.send(
            call, method, url, target=target, params=params, content=content, headers=headers, auth=auth
        )
        if response.content:
            self.check_origins(call, response.content)
        return JsonAnswer(response.status_code, answer_json(response.content), response.headers)

    @staticmethod
    def expect_success(call: CallContext, answer: JsonAnswer) -> Any:
        """The body of a 2xx JSON answer; any other answer as the problem the client gets."""
        if answer.ok:
            if answer.body is None:
                raise upstream_invalid_response()
            return answer.body
        if 300 <= answer.status < 400:
            raise upstream_invalid_response()
        raise translate_upstream_error(
            answer.status, answer.body, call.urls.json_to_adapter, retry_after=answer.headers.get("retry-after")
        )

    async def get_json(self, call: CallContext, url: str, params: list[tuple[str, str]] | None = None) -> Any:
        return self.expect_success(call, await self.fetch_json(call, "GET", url, params=params))

    async def pages(
        self,
        call: CallContext,
        url: str,
        params: list[tuple[str, str]] | None = None,
        *,
        follow: Callable[[Any, int], str | None],
        limit: int | None = None,
        absent: frozenset[int] = frozenset(),
    ) -> AsyncIterator[EsuitePage]:
        """The pages of an e-Suite list (C-2 envelopes), first to last, read one at a time.

        The first is `url?params`; each further one is the URL `follow(page.next, pages_read)`
        returns: None ends the walk, and `follow` raises to refuse a link (SEC-15: the caller
        says which collection a `next` must lie under, and its own bound). At most `limit`
        pages are read. A page answered with a status in `absent` raises `ListAbsent`; any
        other answer but a 2xx is the problem `expect_success` makes of it.
        """
        pages_read = 0
        while True:
            answer = await self.fetch_json(call, "GET", url, params=params)
            if answer.status in absent:
                raise ListAbsent()
            page = esuite_page(self.expect_success(call, answer))
            yield page
            pages_read += 1
            if limit is not None and pages_read >= limit:
                return
            next_url = follow(page.next, pages_read)
            if next_url is None:
                return
            url, params = next_url, None
