"""What the rules need from the URL map: `mapping/` states it, `esuite_client.urls.UrlMap` has it.

A Protocol keeps `mapping/` below the client layer: the rules call these methods and never
import the client package (the import-linter contracts in pyproject.toml check that).
"""

from __future__ import annotations

from typing import Any, Protocol


class UrlRewriter(Protocol):
    """Rewrites URLs between the adapter's own roots and the e-Suite's (RW-4)."""

    @property
    def adapter_base(self) -> str: ...

    @property
    def esuite_base(self) -> str:
        """`{E}`: every e-Suite root starts with it, so `to_adapter` changes no text that does not."""
        ...

    def esuite_root(self, name: str) -> str: ...

    def to_adapter(self, value: str) -> str: ...

    def to_esuite(self, value: str) -> str: ...

    def json_to_adapter(self, value: Any) -> Any: ...
