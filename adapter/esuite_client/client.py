"""The one outbound client toward the e-Suite (esuite.md §2, operations.md §5.1–5.2, SEC-3).

One pooled `httpx.AsyncClient`; an `httpx.Auth` per inbound request adds the e-Suite JWT and
the end user's `X-Esuite-Request-User-Id`; tenacity retries idempotent calls only; every
logical call has one time budget. Failures become `Problem`s (502/504), never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import httpx
import jwt
import orjson
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
)

from adapter import __version__
from adapter.config import Limits
from adapter.esuite_client.breaker import CircuitBreaker
from adapter.esuite_client.transport import is_json_media_type
from adapter.esuite_client.url_objects import outbound_url
from adapter.esuite_client.urls import ROOTS, UrlMap, foreign_provider_origins, is_under_root
from adapter.mapping.common import json_values_bound, renderable
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.query import encode_query
from adapter.metrics import Metrics
from adapter.problems import Problem, upstream_invalid_response, upstream_invalid_url

log = structlog.get_logger("adapter.upstream")

TOKEN_REUSE_SECONDS = 300
MAX_ATTEMPTS = 3
RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
USER_HEADER = "X-Esuite-Request-User-Id"
ESUITE_TARGETS = tuple(name for name, _, _ in ROOTS)
# Path segments a DEBUG line may show: the provider roots and the ZGW resource names. Any other
# segment (an id, or whatever a client put in a pass-through path: an e-mail address, a BSN)
# is shown as `{id}`.
_PATH_WORDS = frozenset(
    segment for _, _, esuite in ROOTS for segment in esuite.split("/") if segment
) | frozenset(
    (
        "contactmomenten", "klantcontactmomenten", "objectcontactmomenten", "klanten", "zaken",
        "zaakcontactmomenten", "zaakobjecten", "zaakinformatieobjecten", "rollen", "statussen",
        "resultaten", "zaaktypen", "statustypen", "roltypen", "resultaattypen", "informatieobjecttypen",
        "catalogussen", "enkelvoudiginformatieobjecten", "objectinformatieobjecten", "download",
        "schema", "openapi.yaml", "objects", "api", "v1", "v2",
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


class RefusedUrl(Exception):
    """SEC-3, SEC-15: e-Suite credentials would go to a URL outside the call's own root."""


class UnusableAnswer(Exception):
    """A buffered answer past its byte cap, or in an encoding the adapter never asked for."""


def _decompressor(content_encoding: str):
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
    try:
        return _checked_size(response.content, limits.answer_bytes)  # a transport that read it already
    except httpx.ResponseNotRead:
        pass
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return b""  # no body, whatever Content-Length describes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.answer_compressed_bytes:
        raise UnusableAnswer()
    decoder = _decompressor(response.headers.get("content-encoding", ""))
    cap, received, body = limits.answer_bytes, 0, bytearray()
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limits.answer_compressed_bytes:
            raise UnusableAnswer()
        while chunk:
            if decoder is None:
                body += chunk
                chunk = b""
            else:
                try:
                    body += decoder.decompress(chunk, cap + 1 - len(body))
                except zlib.error:
                    raise UnusableAnswer() from None
                chunk = decoder.unconsumed_tail
            if len(body) > cap:
                raise UnusableAnswer()
    if decoder is not None and not decoder.eof and received:
        raise UnusableAnswer()  # a truncated gzip stream
    return bytes(body)


def _checked_size(content: bytes, cap: int) -> bytes:
    if len(content) > cap:
        raise UnusableAnswer()
    return content


def buffered_answer(response: httpx.Response, body: bytes) -> httpx.Response:
    """The answer with its decoded body in memory (no Content-Encoding left to decode; the
    length of an encoded body no longer applies)."""
    dropped = (b"content-encoding", b"content-length") if "content-encoding" in response.headers else ()
    headers = [(name, value) for name, value in response.headers.raw if name.lower() not in dropped]
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=response.request, extensions=response.extensions
    )


def answer_json(raw: bytes) -> Any:
    """A buffered answer parsed; None when it is not JSON. Refused (502) when it holds more
    values than MAX_ANSWER_VALUES or nests deeper than the renderer goes (item 5 of issue 13)."""
    if not raw:
        return None
    if json_values_bound(raw) > MAX_ANSWER_VALUES:
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
            issued = int(now) - 60
            claims = {
                "iss": self._client_id,
                "client_id": self._client_id,
                "iat": issued,
                "nbf": issued,
                "exp": int(now) + 3600,
            }
            self._token = "Bearer " + jwt.encode(claims, self._secret, algorithm="HS256")
            self._minted_at = now
        return self._token


class TokenAuth(httpx.Auth):
    """The smoelenboek's static `Token`, sent only to its objects URL (S-2, SEC-3)."""

    def __init__(self, token: str, objects_url: str) -> None:
        self._header = f"Token {token}"
        self._objects_url = objects_url

    def auth_flow(self, request: httpx.Request):
        url = str(request.url)
        rest = url[len(self._objects_url):]
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

    def auth_flow(self, request: httpx.Request):
        if not is_under_root(str(request.url), self._root):
            raise RefusedUrl()
        request.headers["Authorization"] = self._tokens.bearer()
        if self._user_id:
            request.headers[USER_HEADER] = self._user_id  # replaces any other value
        else:
            request.headers.pop(USER_HEADER, None)
        yield request


@attrs.frozen
class JsonAnswer:
    status: int
    body: Any  # parsed JSON, or None when the answer was not JSON
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _retryable_exception(idempotent: bool, error: BaseException) -> bool:
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
        return True  # nothing was sent yet: safe for every method
    # A reset after sending may have been processed: only idempotent calls go again.
    return idempotent and isinstance(error, (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError))


# The request left and no answer came: the e-Suite may have processed it (operations.md §5.4).
_SENT_WITHOUT_ANSWER = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, TimeoutError)


def sent_without_answer(problem: Problem) -> bool:
    return isinstance(problem.__cause__, _SENT_WITHOUT_ANSWER)


def _problem_for(error: BaseException, target: str) -> Problem:
    if isinstance(error, RefusedUrl):
        return upstream_invalid_url()
    if isinstance(error, (httpx.TimeoutException, TimeoutError)):
        return Problem(504, "upstream-timeout")  # the same code for both upstreams (§4.2)
    return Problem(502, "smoelenboek-unavailable" if target == "smoelenboek" else "upstream-unavailable")


class _NoCookies(httpx.Cookies):
    """Never stores a cookie: one pooled client serves every user, so an e-Suite cookie of one
    user's answer must never ride along with another user's request (Set-Cookie is never
    passed on either, SEC-6). Also skips httpx's per-response cookie parsing (bench: ~8%)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    cookies = property(lambda self: _NO_COOKIES, lambda self, value: None)


_NO_COOKIES = _NoCookies()


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
    ) -> None:
        self._tokens = tokens
        self._metrics = metrics
        self._timeout = timeout_seconds
        self.limits = limits or Limits()
        # Streamed GET answers (downloads) each hold a pooled connection while the client reads.
        self.download_slots = asyncio.Semaphore(self.limits.max_downloads)
        self._monotonic = monotonic
        self._foreign_origins: set[str] = set()
        self.esuite_breaker = CircuitBreaker("esuite", lambda is_open: self._circuit_gauge(ESUITE_TARGETS, is_open))
        self.smoelenboek_breaker = CircuitBreaker("smoelenboek", lambda is_open: self._circuit_gauge(("smoelenboek",), is_open))
        self._default_headers = {
            "accept": "application/json",
            "user-agent": f"kiss-esuite-adapter/{__version__}",
            "accept-encoding": "gzip",
        }
        self._http = _CookielessClient(
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
        )

    @property
    def timeout_seconds(self) -> float:
        """The budget of one logical call (ESUITE_TIMEOUT_SECONDS)."""
        return self._timeout

    async def aclose(self) -> None:
        await self._http.aclose()

    def _circuit_gauge(self, targets: tuple[str, ...], is_open: bool) -> None:
        for target in targets:
            self._metrics.circuit_open.labels(target=target).set(1 if is_open else 0)

    def check_origins(self, call: CallContext, raw: bytes) -> None:
        """RW-11: warn once per origin when an answer prints provider paths elsewhere than
        under ESUITE_BASE_URL (those URLs are not rewritten, and KISS would get them)."""
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
        headers: dict[str, str] | None = None,
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
        if params:
            # Q-5 encoding (a space is %20), not httpx's form encoding.
            url = f"{url}{'&' if '?' in url else '?'}{encode_query(params)}"
        request_url = outbound_url(url)
        deadline = self._monotonic() + (timeout or self._timeout)
        idempotent = method in IDEMPOTENT_METHODS
        auth = auth or EsuiteAuth(self._tokens, call.urls.esuite_root(target), call.user_id)
        # One plain dict, names in lower case so a caller's header replaces a default one;
        # httpx builds its `Headers` from it once.
        all_headers = {**self._default_headers, "x-request-id": call.request_id}
        if headers:
            all_headers.update((name.lower(), value) for name, value in headers.items())
        started = self._monotonic()
        breaker = self.breaker_for(target)

        async def attempt() -> httpx.Response:
            breaker.before_call()
            try:
                response = await exchange()
            except (httpx.TransportError, TimeoutError):
                if call.client_failed():
                    breaker.abandon()
                else:
                    breaker.record(False)
                raise
            except BaseException:
                breaker.abandon()
                raise
            breaker.record(response.status_code < 500)
            return response

        async def exchange() -> httpx.Response:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise httpx.TimeoutException("budget exhausted")
            # Built directly, not with `build_request`: that parses the URL a second time to
            # merge an empty set of client params (bench S3: a fifth of each call's CPU).
            request = httpx.Request(
                method,
                request_url,
                content=content,
                headers=all_headers,
                extensions={"timeout": httpx.Timeout(remaining, connect=min(5.0, remaining)).as_dict()},
            )
            async with asyncio.timeout(remaining):
                response = await self._http.send(request, auth=auth, stream=True)
                if not stream or must_buffer(method, response):
                    try:
                        body = await read_capped(response, self.limits)
                    finally:
                        await response.aclose()
                    return buffered_answer(response, body)
            return response

        def retry_error(error: BaseException) -> bool:
            return _retryable_exception(idempotent, error)

        def retry_answer(response: httpx.Response) -> bool:
            return idempotent and response.status_code in RETRY_STATUSES

        def backoff(attempt_number: int) -> float:
            delay = min(2.0, 0.2 * 2 ** (attempt_number - 1)) * random.uniform(0.8, 1.2)
            return max(0.0, min(delay, deadline - self._monotonic()))

        def note_retry(attempt_number: int, reason: str) -> None:
            self._metrics.upstream_retries.labels(target=target).inc()
            log.warning("retry", target=target, method=method, attempt=attempt_number, reason=reason)

        def reason_of(state: RetryCallState) -> str:
            outcome = state.outcome
            return type(outcome.exception()).__name__ if outcome.failed else str(outcome.result().status_code)

        async def with_retries() -> httpx.Response:
            # Nearly every call succeeds at once: tenacity's machinery (bench: ~8% of the CPU
            # of a POST) only runs once a retry is due, for attempts 2 and 3.
            try:
                response = await attempt()
            except Exception as error:
                if not retry_error(error):
                    raise
                reason = type(error).__name__
            else:
                if not retry_answer(response):
                    return response
                reason = str(response.status_code)
            note_retry(1, reason)
            await asyncio.sleep(backoff(1))
            retrying = AsyncRetrying(
                stop=stop_after_attempt(MAX_ATTEMPTS - 1),
                wait=lambda state: backoff(state.attempt_number + 1),
                retry=retry_if_exception(retry_error) | retry_if_result(retry_answer),
                before_sleep=lambda state: note_retry(state.attempt_number + 1, reason_of(state)),
                retry_error_callback=lambda state: state.outcome.result(),
            )
            return await retrying(attempt)

        status_label = "error"
        try:
            response = await with_retries()
            status_label = str(response.status_code)
            return response
        except httpx.InvalidURL:
            # Only client-supplied path or query parts can make it invalid.
            raise Problem(400, "invalid", detail="Het adres van het verzoek is ongeldig.", invalid_params=[]) from None
        except UnusableAnswer:
            status_label = "unusable"
            raise upstream_invalid_response() from None
        except (httpx.HTTPError, TimeoutError, RefusedUrl) as error:
            if call.client_failed():
                # The client's body stalled or broke off: its fault, answered as such.
                status_label = "client"
                raise Problem(408, "request-timeout", detail="De inhoud van het verzoek kwam niet op tijd binnen.") from None
            status_label = "timeout" if isinstance(error, (httpx.TimeoutException, TimeoutError)) else "error"
            # The cause stays attached: `sent_without_answer` reads it (never rendered or logged).
            raise _problem_for(error, target) from error
        finally:
            elapsed = self._monotonic() - started
            call.upstream_calls += 1
            call.upstream_seconds += elapsed
            self._metrics.upstream_count(target, method, status_label).inc()
            self._metrics.upstream_seconds(target, method).observe(elapsed)
            if log.is_enabled_for(logging.DEBUG):  # the path template costs a URL parse
                log.debug(
                    "upstream",
                    target=target,
                    method=method,
                    path=path_template(url),
                    status=status_label,
                    duration_ms=round(elapsed * 1000, 2),
                )

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
