"""Zaken front: ordering and identificatie (mapping.md §9). URL rewriting is the caller's."""

from __future__ import annotations

from typing import Any

from adapter.mapping.common import non_blank_str
from adapter.mapping.query import Params
from adapter.mapping.url_rewriter import UrlRewriter

ASCENDING = "_oplopend"
DESCENDING = "_aflopend"


def translate_zaken_query(pairs: Params, urls: UrlRewriter) -> Params:
    """Z-1: `ordering` in e-Suite form; every other value rewritten adapter → e-Suite.
    Parameter order is kept; encode the result with Q-5."""
    return [(name, translate_ordering(value) if name == "ordering" else urls.to_esuite(value)) for name, value in pairs]


def translate_ordering(value: str) -> str:
    """Z-1: `-x` → `x_aflopend`, `x` → `x_oplopend`; parts already in e-Suite form are kept."""
    parts = [part.strip() for part in value.split(",")]
    return ",".join(_esuite_ordering(part) for part in parts if part)


def _esuite_ordering(part: str) -> str:
    if part.endswith((ASCENDING, DESCENDING)):
        return part
    if part.startswith("-"):
        return part[1:] + DESCENDING
    return part + ASCENDING


def zaak_identificatie(zaak: Any) -> Any:
    """Z-2: KISS shows and searches the e-Suite's internal case number."""
    if isinstance(zaak, dict) and non_blank_str(zaak.get("identificatieIntern")):
        return {**zaak, "identificatie": zaak["identificatieIntern"]}
    return zaak


def zaken_page(body: Any) -> Any:
    """Z-2 on every object in `results[]`; everything else passes through."""
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return {**body, "results": [zaak_identificatie(zaak) for zaak in body["results"]]}
    return body
