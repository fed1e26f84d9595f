"""The outbound transport: httpx's API on aiohttp's connection pool and HTTP parser.

The bench profile (bench/README.md) showed httpcore's pool dominating the adapter's CPU: it
checks every pooled connection (a syscall each) on every request and every response. The
`httpx-aiohttp` transport keeps httpx's client, `Auth` and testing tools and swaps only that
layer. Its request path is replaced here, for three reasons:

- Exceptions: it reports a server that closed the connection after the request was sent as
  `ConnectTimeout`, which `EsuiteClient` would retry even for a POST (a second
  contactverzoek). Here every aiohttp error is mapped by whether the request may have left.
- Cookies: its `ClientSession` keeps aiohttp's cookie jar, so an e-Suite cookie set in one
  user's answer would ride along with the next user's request. Ours has no jar (SEC-6).
- Cost (bench S1/S3, per e-Suite call): it hands aiohttp the `httpx.Headers` object, which
  decodes every header again on each access, and a URL string that yarl quotes again; and a
  small JSON answer passed through four async generator layers before `aread` had it. Here
  the headers go as plain pairs, the URL as already encoded, and a JSON answer with a
  `Content-Length` up to `EAGER_JSON_BYTES` is read right away into the response.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport
from multidict import CIMultiDict

from adapter.esuite_client.tls import trusted_context
from adapter.mapping.common import is_json_media_type

DOWNLOAD_CHUNK = 256 * 1024
EAGER_JSON_BYTES = 1024 * 1024


def _translated(cause: BaseException) -> httpx.TransportError:
    """httpx's error class for an aiohttp failure: nothing sent, or maybe processed."""
    message = str(cause)
    if isinstance(cause, aiohttp.ClientConnectorError):  # connecting failed: nothing was sent
        error: httpx.TransportError = httpx.ConnectError(message)
    elif isinstance(cause, aiohttp.ConnectionTimeoutError):  # no connection within the timeout
        error = httpx.ConnectTimeout(message)
    elif isinstance(cause, (aiohttp.ServerTimeoutError, TimeoutError)):  # sent; no answer in time
        error = httpx.ReadTimeout(message)
    elif isinstance(cause, aiohttp.InvalidURL):
        error = httpx.UnsupportedProtocol(message)
    else:  # closed, broken or unreadable after sending: maybe processed
        error = httpx.RemoteProtocolError(message)
    error.__cause__ = cause
    return error


def _header_text(value: bytes) -> str:
    """aiohttp writes header values as UTF-8: decoding UTF-8 here sends the bytes httpx holds
    (a non-ASCII user id arrived double-encoded with latin-1 here)."""
    if value.isascii():
        return value.decode("ascii")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")



class _AiohttpStream(httpx.AsyncByteStream):
    """The body as aiohttp receives it, errors mapped; closing releases the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(DOWNLOAD_CHUNK):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as cause:
            raise _translated(cause) from cause

    async def aclose(self) -> None:
        self._response.release()


class _ReadStream(httpx.AsyncByteStream):
    """A body already read, handed over as it came (still encoded)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._body


class EsuiteTransport(AiohttpTransport):
    """aiohttp under httpx: exceptions mapped by whether the request may have been sent."""

    def __init__(self, max_connections: int, ssl_context: ssl.SSLContext | None = None) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # SEC-10: certificates always verified. The context comes from tls.py (certifi, the
        # system store and the operator's CA files), built once at start-up.
        super().__init__(verify=ssl_context or trusted_context(None, None).context, trust_env=False, limits=limits)

    def get_client(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # httpx decodes; pass-through relays the bytes as they came
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        headers = CIMultiDict((name.decode("latin-1"), _header_text(value)) for name, value in request.headers.raw)
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            data = request.stream
            headers.popall("Transfer-Encoding", None)  # aiohttp chunks the stream itself
        try:
            response = await self.client.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"), sock_read=timeout.get("read"), connect=timeout.get("pool")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
            length = response.content_length
            if length is not None and length <= EAGER_JSON_BYTES and is_json_media_type(response.headers.get("Content-Type")):
                try:
                    body = await response.read()
                finally:
                    response.release()
                # As a stream, not `content=`: httpx would decode (gunzip) `content` right here,
                # unbounded; EsuiteClient decodes it under its caps.
                return httpx.Response(
                    response.status, headers=response.raw_headers, stream=_ReadStream(body), request=request,
                    extensions={"http_version": b"HTTP/1.1"},
                )
        except (aiohttp.ClientError, TimeoutError) as cause:
            raise _translated(cause) from cause
        return httpx.Response(
            response.status, headers=response.raw_headers, stream=_AiohttpStream(response), request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )
