"""The one URL map between the adapter's roots and the five e-Suite roots (operations.md §7)."""

from __future__ import annotations

import functools
import re
from typing import Any

import attrs
import orjson

from adapter.mapping.paths import is_under_root

# (name, adapter root path, e-Suite root path under ESUITE_BASE_URL) — RW-1.
ROOTS: tuple[tuple[str, str, str], ...] = (
    ("contactmomenten", "/contactmomenten/api/v1", "/contactmomenten-api-provider/api/v1"),
    ("klanten", "/klanten/api/v1", "/klanten-api-provider/api/v1"),
    ("zaken", "/zaken/api/v1", "/zgw-apis-provider/zrc/api/v1"),
    ("catalogi", "/catalogi/api/v1", "/zgw-apis-provider/ztc/api/v1"),
    ("documenten", "/documenten/api/v1", "/zgw-apis-provider/drc/api/v1"),
)
PROVIDER_PATHS = tuple(esuite for _, _, esuite in ROOTS)
# Compatibility roots: PodiumD's example e-Suite register points KISS's zaaksysteem at
# `{A}/zgw-apis-provider/{zrc,ztc,drc}/api/v1`. The same fronts answer there (app.py), and a
# request there gets its URLs under these roots (`CompatUrlMap`). Recognised in every request.
COMPAT_ROOTS: tuple[tuple[str, str], ...] = (
    ("zaken", "/zgw-apis-provider/zrc/api/v1"),
    ("catalogi", "/zgw-apis-provider/ztc/api/v1"),
    ("documenten", "/zgw-apis-provider/drc/api/v1"),
)
_INBOUND_ROOTS = ROOTS + tuple(
    (name, compat, esuite) for name, compat in COMPAT_ROOTS for root, _, esuite in ROOTS if root == name
)
_BOUNDARY = ("/", "?", "#")


def _replace_root(value: str, pairs: tuple[tuple[str, str], ...]) -> str | None:
    """RW-3: `value` equals a root, or continues it with `/`, `?` or `#`."""
    for source, target in pairs:
        if value.startswith(source):
            rest = value[len(source) :]
            if not rest or rest[0] in _BOUNDARY:
                return target + rest
    return None


@attrs.frozen
class UrlMap:
    """Rewrites strings between `{A}` (adapter_base) and `{E}` (esuite_base).

    `request_origins` are further adapter origins recognised in requests (RW-2: the request's
    own origin); only `adapter_base` is ever emitted.
    """

    adapter_base: str
    esuite_base: str
    request_origins: tuple[str, ...] = ()
    _to_adapter: tuple[tuple[str, str], ...] = attrs.field(init=False)
    _to_esuite: tuple[tuple[str, str], ...] = attrs.field(init=False)
    _adapter_strings: re.Pattern[bytes] = attrs.field(init=False)
    _adapter_roots: dict[bytes, bytes] = attrs.field(init=False)
    _escaped_base: bytes = attrs.field(init=False)
    _string_start: bytes = attrs.field(init=False)
    _value_roots: tuple[tuple[bytes, bytes], ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        origins = (self.adapter_base, *(o for o in self.request_origins if o != self.adapter_base))
        object.__setattr__(
            self, "_to_adapter", tuple((self.esuite_base + e, self.adapter_base + a) for _, a, e in ROOTS)
        )
        object.__setattr__(
            self,
            "_to_esuite",
            tuple((origin + a, self.esuite_base + e) for origin in origins for _, a, e in _INBOUND_ROOTS),
        )
        # A whole JSON string value (not a key: no `:` after it) that starts with an e-Suite
        # root, in orjson's compact text (the string body as an unrolled loop: far fewer
        # backtracking steps than an alternation per character). `re` caches the pattern.
        roots = b"|".join(re.escape(e.encode()) for _, _, e in ROOTS)
        pattern = (
            b'"' + re.escape(self.esuite_base.encode()) + b"(" + roots + rb')((?=[/?#"])[^"\\]*(?:\\.[^"\\]*)*")(?!:)'
        )
        object.__setattr__(self, "_adapter_strings", re.compile(pattern))
        object.__setattr__(self, "_escaped_base", b'\\"' + self.esuite_base.encode())
        object.__setattr__(self, "_string_start", b'"' + self.esuite_base.encode())
        object.__setattr__(
            # JSON-escaped: the text is pasted into JSON (an origin from a Host header never
            # adds keys, even if one got past the pipeline's host[:port] check). With the
            # opening quote, as the match starts with it.
            self,
            "_adapter_roots",
            {e.encode(): b'"' + orjson.dumps(self.adapter_base + a)[1:-1] for _, a, e in ROOTS},
        )
        self._set_value_roots()

    def _set_value_roots(self) -> None:
        """The needles of `_replaced_values`: `:"{E}<root>/` and its replacement, per root; none
        when a replacement could itself start an e-Suite string (an adapter root under `{E}`,
        or `{E}` under one) or `{E}` is written escaped in JSON: then the regex is used."""
        base = self.esuite_base.encode()
        pairs = tuple((b':"' + base + e, b":" + self._adapter_roots[e]) for e in (e.encode() for _, _, e in ROOTS))
        safe = orjson.dumps(self.esuite_base)[1:-1] == base and base[:1] not in b':,}]"' and bool(base)
        for _, target in pairs:
            emitted = target[2:]
            safe = safe and b'"' not in emitted and b"\\" not in emitted
            safe = safe and not emitted.startswith(base) and not base.startswith(emitted)
        object.__setattr__(self, "_value_roots", tuple((n + b"/", r + b"/") for n, r in pairs) if safe else ())

    def for_request(self, origin: str, configured: bool) -> UrlMap:
        """The map for one request: its origin is recognised; it is emitted only when unconfigured."""
        if configured:
            if origin == self.adapter_base or origin in self.request_origins:
                return self
            return UrlMap(self.adapter_base, self.esuite_base, (origin,))
        return UrlMap(origin, self.esuite_base)

    def esuite_root(self, name: str) -> str:
        for root_name, _, esuite in ROOTS:
            if root_name == name:
                return self.esuite_base + esuite
        raise KeyError(name)

    def root_name_of(self, url: str) -> str | None:
        """The name of the e-Suite root `url` lies under (SEC-15), else None."""
        for name, _, esuite in ROOTS:
            if is_under_root(url, self.esuite_base + esuite):
                return name
        return None

    def to_adapter(self, value: str) -> str:
        if not value.startswith(self.esuite_base):
            return value
        replaced = _replace_root(value, self._to_adapter)
        return value if replaced is None else replaced

    def to_esuite(self, value: str) -> str:
        replaced = _replace_root(value, self._to_esuite)
        return value if replaced is None else replaced

    def json_to_adapter(self, value: Any) -> Any:
        """RW-4 toward KISS, as values."""
        if isinstance(value, str):
            return self.to_adapter(value)
        if not isinstance(value, (dict, list)):
            return value
        text = self._rewritten_text(value)
        return value if text is None else orjson.loads(text)

    def rendered(self, value: Any) -> bytes:
        """`value` as compact JSON text with RW-4 applied: `dumps(json_to_adapter(value))`
        without parsing the rewritten text back (a mapped page is rewritten once, here)."""
        text = self._rewritten_text(value)
        return orjson.dumps(value) if text is None else text

    def _rewritten_text(self, value: Any) -> bytes | None:
        """On the hot path (every mapped page), so it runs on the compact JSON text instead of
        visiting every value in Python: `bytes.replace` where counts prove it exact (the usual
        page), else one regular expression; text with escapes (rare in e-Suite answers) takes
        the exact walk. None when nothing is rewritten."""
        text = orjson.dumps(value)
        found = text.count(self._string_start)
        if not found:
            return None
        replaced = self._replaced_values(text, found)
        if replaced is not None:
            return replaced
        if self._escaped_base in text:
            # The base right after an escaped quote: a match could start inside a string.
            return orjson.dumps(_walk(value, self.to_adapter))
        # Group 2 holds the rest of the string with its closing quote, so a match costs one
        # lookup and one join (2026-12-02, bench S1's page: 55 -> 40 µs).
        roots = self._adapter_roots
        return self._adapter_strings.sub(lambda m: roots[m[1]] + m[2], text)

    def _replaced_values(self, text: bytes, found: int) -> bytes | None:
        """RW-4 with no Python per URL, when counts prove it exact: every `"{E}` in the text
        (`found` of them) is an object value (after `:`) going on with a root and `/`. An
        unescaped `"` after `:` opens a string (orjson escapes every quote inside one and a
        closing quote is followed by `:`, `,`, `]` or `}`), so such a string is a value whose
        root RW-3 matches, and it is replaced as the regex would; a `"{E}` after `\\`, `[`,
        `,` or `{`, or before another boundary, is not counted and sends the text on to the
        regex. A replacement never starts a needle (`_set_value_roots`), so the counts add up.
        The count of each needle is read off the length change (2026-12-02, bench S1's page:
        rendering 96 -> 45 µs). None when not proven."""
        for needle, replacement in self._value_roots:
            if len(needle) == len(replacement):
                count = text.count(needle)
                text = text.replace(needle, replacement)
            else:
                before = len(text)
                text = text.replace(needle, replacement)
                count = (len(text) - before) // (len(replacement) - len(needle))
            found -= count
            if found == 0:
                return text
        return None

    def json_to_esuite(self, value: Any) -> Any:
        return _walk(value, self.to_esuite)


@attrs.frozen
class CompatUrlMap(UrlMap):
    """The map of a request on a compatibility root: zaken, catalogi and documenten URLs are
    emitted under `COMPAT_ROOTS`, the others as usual; requests are read as by `UrlMap`."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        emitted = {name: self.adapter_base + compat for name, compat in COMPAT_ROOTS}
        roots = tuple((name, emitted.get(name, self.adapter_base + a), e) for name, a, e in ROOTS)
        object.__setattr__(self, "_to_adapter", tuple((self.esuite_base + e, adapter) for _, adapter, e in roots))
        object.__setattr__(self, "_adapter_roots", {e.encode(): b'"' + adapter.encode() for _, adapter, e in roots})
        self._set_value_roots()


def compat_map(urls: UrlMap) -> CompatUrlMap:
    """`urls` emitting under the compatibility roots."""
    return (
        urls
        if isinstance(urls, CompatUrlMap)
        else _compat_map(urls.adapter_base, urls.esuite_base, urls.request_origins)
    )


@functools.lru_cache(maxsize=64)  # one per request origin: built once, not per request
def _compat_map(adapter_base: str, esuite_base: str, request_origins: tuple[str, ...]) -> CompatUrlMap:
    return CompatUrlMap(adapter_base, esuite_base, request_origins)


def _walk(value: Any, rewrite) -> Any:
    """RW-4: every string value at any depth; keys untouched, order kept."""
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, dict):
        return {key: _walk(item, rewrite) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, rewrite) for item in value]
    return value


# "/contactmomenten-api-provider/", "/klanten-api-provider/", "/zgw-apis-provider/": all end
# in "-provider/", which `foreign_provider_origins` counts on.
_PROVIDER_SEGMENTS = tuple({("/" + e.strip("/").split("/", 1)[0] + "/").encode() for _, _, e in ROOTS})
# The base is the shortest one (`??`) and has no query or fragment: a provider URL in the query
# of another (`…/objectcontactmomenten?object=<zaak URL>`) does not make a base of the first.
_PROVIDER_URL = re.compile(
    rb'"(https?://[^/"\\]+(?:/[^"\\?#]*?)??)/(?:contactmomenten-api-provider|klanten-api-provider|zgw-apis-provider)/'
)


def foreign_provider_origins(raw: bytes, esuite_base: str) -> set[str]:
    """RW-11 / esuite.md N-14: bases other than `{E}` under which an answer prints provider
    paths, e.g. an e-Suite configured with another public host name. Counting first keeps
    the usual case (every provider path under `{E}`) to four passes in C: every provider
    segment ends in `-provider/`; any other text that does only sends the answer to the
    exact search."""
    base = esuite_base.encode()
    under_base = sum(raw.count(base + segment) for segment in _PROVIDER_SEGMENTS)
    if raw.count(b"-provider/") == under_base:
        return set()
    return {match.group(1).decode("utf-8", "replace") for match in _PROVIDER_URL.finditer(raw)} - {esuite_base}


_PROVIDER_ROOT_IN_URL = re.compile(
    r"^(https?://[^/?#\s]+(?:/[^?#\s]*?)?)(" + "|".join(re.escape(e) for _, _, e in ROOTS) + r")(?=[/?#]|$)"
)


def rebased_provider_urls(value: Any, esuite_base: str, public_origins: tuple[str, ...]) -> tuple[Any, set[str]]:
    """Issue 14: an e-Suite that prints its own URLs under another base than `{E}` (a gateway
    host name, `localhost` for `127.0.0.1`). Every string value that is a provider root path
    under such a base is rewritten under `esuite_base`, so it is mapped like any other.

    With `public_origins` only those bases are accepted; without, any http(s) base in front
    of one of the five provider root paths is (path-based). Returns the value and the
    foreign bases that were rewritten. Only `esuite_base` is ever emitted, so nothing is
    ever sent to a foreign base.
    """
    seen: set[str] = set()

    def rebase(text: str) -> str:
        if text.startswith(esuite_base):
            rest = text[len(esuite_base) :]
            if any(rest.startswith(e) and rest[len(e) : len(e) + 1] in ("", *_BOUNDARY) for e in PROVIDER_PATHS):
                return text
        match = _PROVIDER_ROOT_IN_URL.match(text)
        if match is None:
            return text
        base = match.group(1)
        if public_origins and base not in public_origins:
            return text
        seen.add(base)
        return esuite_base + text[len(base) :]

    return _walk(value, rebase), seen
