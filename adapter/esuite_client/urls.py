"""The one URL map between the adapter's roots and the five e-Suite roots (operations.md §7)."""

from __future__ import annotations

from typing import Any

import attrs

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
        return _walk(value, self.to_adapter)

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
