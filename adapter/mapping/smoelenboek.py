"""Smoelenboek: the medewerker objects of a real Objects API, proxied (mapping.md §8)."""

from __future__ import annotations

from typing import Any

from adapter.mapping.common import OBJECTS_PATH, non_blank_str
from adapter.mapping.query import Params, encode_query
from adapter.problems import InvalidParam, Problem, upstream_invalid_response

_API_SUFFIX = "/api/v2"


def smoelenboek_objects_url(base_url: str) -> str:
    """S-1: `SMOELENBOEK_BASE_URL` without trailing `/`, `/api/v2` or `/api/v2/`, plus
    `/api/v2/objects`. A path prefix is kept."""
    return base_url.rstrip("/").removesuffix(_API_SUFFIX).rstrip("/") + OBJECTS_PATH


def refuse_repeated_type(pairs: Params) -> None:
    """kiss-front.md §5.5: exactly one `type`. The Objects API (Django) filters on the last of
    a repeated parameter while the adapter dispatches on the first, so a second `type` would
    read another object type with the smoelenboek token. Nothing is forwarded then."""
    if sum(1 for name, _ in pairs if name == "type") > 1:
        raise Problem(
            400,
            "invalid",
            detail="De parameter type mag maar een keer voorkomen.",
            invalid_params=[InvalidParam("type", "invalid", "Geef precies een objecttype op in de parameter type.")],
        )


def smoelenboek_upstream_url(base_url: str, pairs: Params) -> str:
    """S-1: the objects URL with the inbound query (Q-1 applied by the parser, Q-5 here)."""
    query = encode_query(pairs)
    objects_url = smoelenboek_objects_url(base_url)
    return f"{objects_url}?{query}" if query else objects_url


def smoelenboek_page(body: Any, objects_url: str, adapter_base: str) -> dict:
    """S-3 … S-5 on a 2xx answer. `objects_url` is `smoelenboek_objects_url(...)`."""
    if not isinstance(body, dict):
        raise upstream_invalid_response("Het smoelenboek gaf geen JSON-object.")
    page = dict(body)
    for link in ("next", "previous"):
        if link in page:
            page[link] = _link_to_adapter(page[link], objects_url, adapter_base)
    if isinstance(page.get("results"), list):
        page["results"] = [_with_achternaam(item) for item in page["results"]]
    return page


def _link_to_adapter(link: Any, objects_url: str, adapter_base: str) -> Any:
    """S-4: a client following `next` stays on the adapter (and its credentials)."""
    if isinstance(link, str) and link.startswith(objects_url):
        return adapter_base + OBJECTS_PATH + link[len(objects_url) :]
    return link


def _with_achternaam(item: Any) -> Any:
    """S-3: e-Suite-fed records often hold only `volledigeNaam`; KISS searches `achternaam`."""
    record = item.get("record") if isinstance(item, dict) else None
    if not isinstance(record, dict):
        return item
    data = record.get("data")
    if not isinstance(data, dict) or not non_blank_str(data.get("volledigeNaam")):
        return item
    # `{**d, key: v}` keeps an existing key in its position and appends a new one.
    return {**item, "record": {**record, "data": {**data, "achternaam": data["volledigeNaam"]}}}
