"""The outbound transport: httpx's API on aiohttp's connection pool and HTTP parser.

The bench profile (bench/README.md) showed httpcore's pool dominating the adapter's CPU: it
checks every pooled connection (a syscall each) on every request and every response. The
`httpx-aiohttp` transport keeps httpx's client, `Auth` and testing tools and swaps only that
layer. Its exception mapping is too coarse for our retry rules, though: it reports a server
that closed the connection after the request was sent as `ConnectTimeout`, which
`EsuiteClient` would retry even for a POST (a second contactverzoek). Here every aiohttp error
is mapped by whether the request may have left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

DOWNLOAD_CHUNK = 256 * 1024


def _precise(error: httpx.TransportError) -> httpx.TransportError:
    """httpx's error class for an aiohttp failure: nothing sent, or maybe processed."""
    cause = error.__cause__
    message = str(error)
    if isinstance(cause, aiohttp.ClientConnectorError):  # connecting failed: nothing was sent
        return httpx.ConnectError(message)
    if isinstance(cause, aiohttp.ConnectionTimeoutError):  # no connection within the timeout
        return httpx.ConnectTimeout(message)
    if isinstance(cause, aiohttp.ServerTimeoutError):  # the request left; no answer in time
        return httpx.ReadTimeout(message)
    if isinstance(cause, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return httpx.RemoteProtocolError(message)  # closed or broken after sending: maybe processed
    return error


class _PreciseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, inner: httpx.AsyncByteStream) -> None:
        self._response = response
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(DOWNLOAD_CHUNK):
                yield chunk
        except aiohttp.ClientError as cause:
            error = httpx.ReadError(str(cause))
            error.__cause__ = cause
            raise _precise(error) from cause
        except TimeoutError as cause:
            raise httpx.ReadTimeout(str(cause)) from cause

    async def aclose(self) -> None:
        await self._inner.aclose()


class EsuiteTransport(AiohttpTransport):
    """`AiohttpTransport` with exceptions mapped by whether the request may have been sent."""

    def __init__(self, max_connections: int) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # SEC-10: certificates always verified; extra CAs through SSL_CERT_FILE / SSL_CERT_DIR.
        super().__init__(verify=True, trust_env=True, limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as error:
            raise _precise(error) from error.__cause__
        aiohttp_response = getattr(response.stream, "_aiohttp_response", None)
        if aiohttp_response is not None:
            response.stream = _PreciseStream(aiohttp_response, response.stream)
        return response
