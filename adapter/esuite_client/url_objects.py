"""httpx URL and header objects for e-Suite calls, without validating again what is already valid.

httpx checks every character of a URL in a Python generator before it parses it. The klant
look-up of an interne taak carries a whole encoded contact URL, and that check came to about a
fifth of the CPU of each e-Suite call in the bench (S3: 51 calls per request). The URLs the
adapter sends are nearly always in httpx's normal form already: the origin comes from the
configuration, the path from the roots and UUIDs, the query is percent-encoded by Q-5. When a
strict pattern proves a URL normal, its parse is httpx's own parse of the origin (done once)
with this path and query, which is what httpx would produce; anything else is parsed by httpx.
tests/unit/test_url_objects.py holds the two to the same results.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from httpx._urlparse import ParseResult  # what `URL._uri_reference` holds

_PCHARS = r"A-Za-z0-9\-._~!$&'()*+,;=:@"  # RFC 3986 pchar, without the percent escapes
_ESCAPE = r"%[0-9A-Fa-f]{2}"
_NORMAL_URL = re.compile(
    rf"(https?://[a-z0-9.\-]+(?::[1-9][0-9]{{0,4}})?)"
    # Segments that don't start with "." (httpx normalises dot segments). Each run is an
    # unrolled loop (class*, then escape + class*): no per-character branch, no backtracking.
    rf"((?:/(?:(?:[{_PCHARS.replace('.', '')}]|{_ESCAPE})[{_PCHARS}]*(?:{_ESCAPE}[{_PCHARS}]*)*)?)*)"
    rf"(?:\?([{_PCHARS}/?]*(?:{_ESCAPE}[{_PCHARS}/?]*)*))?"
)
_MAX_LENGTH = 65536  # httpx refuses longer URLs: those go to httpx


@functools.lru_cache(maxsize=64)
def _origin(origin: str) -> ParseResult | None:
    try:
        return httpx.URL(origin)._uri_reference
    except httpx.InvalidURL:
        return None


def _prepared(url: str) -> httpx.URL | None:
    match = _NORMAL_URL.fullmatch(url) if len(url) <= _MAX_LENGTH else None
    if match is None:
        return None
    origin = _origin(match.group(1))
    if origin is None:
        return None
    parsed = httpx.URL.__new__(httpx.URL)
    # `origin._replace(path=…, query=…)` without its generic field loop (2026-12-02: ~1 µs).
    scheme, userinfo, host, port, _, _, fragment = origin
    parsed._uri_reference = type(origin)(scheme, userinfo, host, port, match.group(2), match.group(3), fragment)
    return parsed


def _works_with_this_httpx() -> bool:
    """The parse result is httpx's private structure: should a new httpx change it, every URL
    goes to httpx again (slower, still right) instead of failing."""
    sample = "https://esuite.example.org:8443/a/b?c=%20d&e=f"
    try:
        prepared = _prepared(sample)
        return prepared is not None and prepared == httpx.URL(sample) and prepared.raw_path == b"/a/b?c=%20d&e=f"
    except Exception:  # noqa: BLE001 (whatever a changed private structure raises means "not usable")
        return False


ENABLED = _works_with_this_httpx()


def outbound_url(url: str) -> httpx.URL | str:
    """The `httpx.URL` for a normal URL, else the string itself (httpx parses it as usual)."""
    prepared = _prepared(url) if ENABLED else None
    return url if prepared is None else prepared


def _headers_works_with_this_httpx() -> bool:
    """`fast_headers` (and the client's `_framing`, `_buffered_fast`) build and read httpx's
    private `Headers._list` (triples of name as given, name in lower case, value) and
    `_encoding`: should a new httpx change them, every header goes through httpx's public API
    again (slower, still right)."""
    try:
        pairs = [(b"Host", b"a.example"), (b"x-naam", b"\xc3\xa9")]
        general = httpx.Headers(pairs)
        fast = fast_headers([(b"Host", b"host", b"a.example"), (b"x-naam", b"x-naam", b"\xc3\xa9")])
        return (
            general._list == fast._list
            and general._encoding is None
            and fast.raw == pairs
            and fast.encoding == general.encoding == "utf-8"
            and fast["x-naam"] == "é"
            and httpx.Headers(fast)._list == general._list
        )
    except Exception:  # noqa: BLE001 (whatever a changed private structure raises means "not usable")
        return False


def fast_headers(triples: list[tuple[bytes, bytes, bytes]]) -> httpx.Headers:
    """A `Headers` of already encoded triples, as `Headers(pairs)` builds it (encoding found
    lazily), without its loop of two normalising calls per header."""
    headers = httpx.Headers.__new__(httpx.Headers)
    headers._list = triples
    headers._encoding = None
    return headers


FAST_HEADERS = _headers_works_with_this_httpx()
