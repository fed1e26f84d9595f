"""The one URL map between the adapter's roots and the five e-Suite roots (operations.md §7)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote_to_bytes

import attrs
import orjson

# (name, adapter root path, e-Suite root path under ESUITE_BASE_URL) — RW-1.
ROOTS: tuple[tuple[str, str, str], ...] = (
    ("contactmomenten", "/contactmomenten/api/v1", "/contactmomenten-api-provider/api/v1"),
    ("klanten", "/klanten/api/v1", "/klanten-api-provider/api/v1"),
    ("zaken", "/zaken/api/v1", "/zgw-apis-provider/zrc/api/v1"),
    ("catalogi", "/catalogi/api/v1", "/zgw-apis-provider/ztc/api/v1"),
    ("documenten", "/documenten/api/v1", "/zgw-apis-provider/drc/api/v1"),
)
PROVIDER_PATHS = tuple(esuite for _, _, esuite in ROOTS)
_BOUNDARY = ("/", "?", "#")


def _replace_root(value: str, pairs: tuple[tuple[str, str], ...]) -> str | None:
    """RW-3: `value` equals a root, or continues it with `/`, `?` or `#`."""
    for source, target in pairs:
        if value.startswith(source):
            rest = value[len(source):]
            if not rest or rest[0] in _BOUNDARY:
                return target + rest
    return None


# SEC-14: a path is decoded at most this often; one still changing after that is refused
# (no real client nests percent-encoding that deep).
MAX_DECODE_ROUNDS = 8


def path_fault(path: str) -> str | None:
    """SEC-14: why `path` (a path, no query) may not be used, or None when it is clean.

    Checked as it is and after every round of percent-decoding until it stops changing, so
    that `%2e%2e`, `.%2e` and `%252e%252e` count as `..` whichever layer (adapter, a proxy, the
    e-Suite) decodes them. A trailing `/` is not an empty segment (routes own `…/contactmomenten/`).
    Escapes that do not decode to UTF-8 are refused too, and non-ASCII text is checked again
    in its NFKC form (a full-width `．` or `／` is an ASCII one to NFKC and Windows' best fit).
    """
    stage = path
    for _ in range(MAX_DECODE_ROUNDS):
        fault = _stage_fault(stage) or (None if stage.isascii() else _compatibility_fault(stage))
        if fault is not None or "%" not in stage:
            return fault
        octets = unquote_to_bytes(stage)
        try:
            # Overlong forms (`%c0%ae` for `.`) are what old decoders took for ASCII.
            text = octets.decode("utf-8")
        except UnicodeDecodeError:
            return "invalid-utf8"
        if not text.isascii() and (fault := _compatibility_fault(text)) is not None:
            return fault
        decoded = octets.decode("latin-1")  # byte for byte: only ASCII is looked for
        if decoded == stage:
            return None
        stage = decoded
    return "nested-encoding"


def _compatibility_fault(text: str) -> str | None:
    normal = unicodedata.normalize("NFKC", text)
    if normal.count("/") != text.count("/") or "\\" in normal:
        return "encoded-separator"
    return _stage_fault(normal)


# IIS's `%uXXXX` (`%u002e` is a `.` there); TAB, CR, LF and the other controls, which a
# decoding proxy would put into its request line.
_IIS_ESCAPE = re.compile(r"%u[0-9a-f]{4}", re.IGNORECASE)
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")
_BLANKS = " \t"


def _stage_fault(path: str) -> str | None:
    if "\x00" in path:
        return "nul"
    if "\\" in path:
        return "backslash"
    if "%" in path:
        lowered = path.lower()
        if "%2f" in lowered or "%5c" in lowered:
            return "encoded-separator"
        if "%u" in lowered and _IIS_ESCAPE.search(path):
            return "invalid-escape"
    if not path:
        return None
    if path[0] != "/":
        return "relative"
    if not path.isprintable() and _CONTROL.search(path):  # `isprintable` first: in C, on every call
        return "control-character"
    # An empty segment other than the last one (a trailing `/`), or one that is empty once a
    # servlet container cuts its path parameters (`/;x/klanten` is `//klanten` to Tomcat).
    if "//" in path or "/;" in path:
        return "empty-segment"
    if "." in path:  # only then can a segment be a dot segment (on every call: kept cheap)
        for segment in path.split("/"):
            # `..;x` is `..` to a servlet container (path parameters are cut before normalising);
            # `...` and `.. ` are `..` to servers that trim trailing dots and blanks (Windows).
            name = segment.split(";", 1)[0].strip(_BLANKS)
            if name and not name.strip("."):
                return "dot-segment"
    return None


def is_under_root(url: str, root: str) -> bool:
    """SEC-15: `url` is `root` itself or continues it with `/`, `?` or `#`, and its path part
    below `root` is clean (SEC-14), so no normalisation anywhere can lead it out of `root`."""
    if not url.startswith(root):
        return False
    rest = url[len(root):]
    if rest and rest[0] not in _BOUNDARY:
        return False
    if not rest.isprintable() and ("\x00" in rest or _CONTROL.search(rest)):
        return False  # also in the query: httpx refuses such a URL, which is then no client's fault
    return path_fault(rest.partition("?")[0].partition("#")[0]) is None


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

    def __attrs_post_init__(self) -> None:
        origins = (self.adapter_base, *(o for o in self.request_origins if o != self.adapter_base))
        object.__setattr__(
            self, "_to_adapter", tuple((self.esuite_base + e, self.adapter_base + a) for _, a, e in ROOTS)
        )
        object.__setattr__(
            self,
            "_to_esuite",
            tuple((origin + a, self.esuite_base + e) for origin in origins for _, a, e in ROOTS),
        )
        # A whole JSON string value (not a key: no `:` after it) that starts with an e-Suite
        # root, in orjson's compact text (the string body as an unrolled loop: far fewer
        # backtracking steps than an alternation per character). `re` caches the pattern.
        roots = b"|".join(re.escape(e.encode()) for _, _, e in ROOTS)
        pattern = b'"' + re.escape(self.esuite_base.encode()) + b"(" + roots + rb')((?=[/?#"])[^"\\]*(?:\\.[^"\\]*)*)"(?!:)'
        object.__setattr__(self, "_adapter_strings", re.compile(pattern))
        object.__setattr__(self, "_escaped_base", b'\\"' + self.esuite_base.encode())
        object.__setattr__(self, "_string_start", b'"' + self.esuite_base.encode())
        object.__setattr__(
            # JSON-escaped: the text is pasted into JSON (an origin from a Host header never
            # adds keys, even if one got past the pipeline's host[:port] check).
            self, "_adapter_roots", {e.encode(): orjson.dumps(self.adapter_base + a)[1:-1] for _, a, e in ROOTS}
        )

    def for_request(self, origin: str, configured: bool) -> "UrlMap":
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

    def adapter_root(self, name: str) -> str:
        for root_name, adapter, _ in ROOTS:
            if root_name == name:
                return self.adapter_base + adapter
        raise KeyError(name)

    def root_name_of(self, url: str) -> str | None:
        """The name of the e-Suite root `url` lies under (SEC-15), else None."""
        for name, _, esuite in ROOTS:
            if is_under_root(url, self.esuite_base + esuite):
                return name
        return None

    def is_esuite_url(self, url: str) -> bool:
        """SEC-3: e-Suite credentials go only to URLs under the five roots."""
        return _replace_root(url, self._to_adapter) is not None

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
        """On the hot path (every mapped page), so it runs on the compact JSON text with one
        regular expression instead of visiting every value in Python; text with escapes
        (rare in e-Suite answers) takes the exact walk. None when nothing is rewritten."""
        text = orjson.dumps(value)
        if self._string_start not in text:
            return None
        if self._escaped_base in text:
            # The base right after an escaped quote: a match could start inside a string.
            return orjson.dumps(_walk(value, self.to_adapter))
        roots = self._adapter_roots
        return self._adapter_strings.sub(lambda m: b'"' + roots[m.group(1)] + m.group(2) + b'"', text)

    def json_to_esuite(self, value: Any) -> Any:
        return _walk(value, self.to_esuite)


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
_PROVIDER_URL = re.compile(rb'"(https?://[^/"\\]+(?:/[^"\\]*?)?)/(?:contactmomenten-api-provider|klanten-api-provider|zgw-apis-provider)/')


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
