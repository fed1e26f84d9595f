"""C-1 … C-6: the contactmomenten lists — filters, `object` mode, `expand`, `ordering` (mapping.md §4).

The e-Suite list envelope, the C-5 sort and the C-6 links shared with the interne taken are in
paging.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

from adapter.mapping.common import is_blank, last_path_segment, non_blank_str, trim
from adapter.mapping.contactmoment_read import esuite_contactmoment_uuid
from adapter.mapping.paging import PageLinks, page_url, sort_by_registratiedatum
from adapter.mapping.paths import is_under_root
from adapter.mapping.query import Params, page_number, unknown_parameters, values
from adapter.mapping.url_rewriter import UrlRewriter
from adapter.problems import InvalidParam, Problem, upstream_invalid_response, upstream_invalid_url

EXPAND_OBJECTCONTACTMOMENTEN = "objectcontactmomenten"
EXPAND_KLANTCONTACTMOMENTEN = "klantcontactmomenten"
EXPAND_ALLOWED = (EXPAND_OBJECTCONTACTMOMENTEN, EXPAND_KLANTCONTACTMOMENTEN)
OBJECT_MODE_PAGE_SIZE = 100  # C-3 step 4 (decision)
MAX_LINK_PAGES = 100  # C-3 step 2 (decision)
_FORWARDED_FILTERS = ("klant", "identificatie", "telefoonnummerOfEmailadres", "type")  # C-1, with `page`
_LIST_PARAMETERS = frozenset({*_FORWARDED_FILTERS, "page", "object", "ordering", "expand"})
Ordering = Literal["asc", "desc"]
_ORDERINGS: dict[str, Ordering] = {"registratiedatum": "asc", "-registratiedatum": "desc"}
INVALID_QUERY_DETAIL = "De query-parameters zijn niet geldig."


@attrs.frozen(slots=True)
class ContactmomentenQuery:
    """The inbound query of `GET /contactmomenten`, checked and translated (C-1, C-3, C-4, C-5).

    `upstream` is the query of `GET {cm root}/contactmomenten` in default mode; in object mode
    it is empty (the adapter pages itself) and `object_url` is the e-Suite zaak URL.
    """

    mode: Literal["default", "object"]
    upstream: Params
    object_url: str | None
    page: int | None
    expand: tuple[str, ...]
    ordering: Ordering | None


def parse_contactmomenten_list_query(pairs: Params, urls: UrlRewriter) -> ContactmomentenQuery:
    """Q-6, then `object` combinations, then every invalid value at once (Q-4, C-4, C-5)."""
    unknown_parameters(pairs, _LIST_PARAMETERS)
    object_url = _object_filter(pairs, urls)
    failures = _blank_filters(pairs)
    page, page_failures = _checked(page_number, pairs)
    failures += page_failures
    expand, expand_failures = _checked_expand(pairs)
    ordering, ordering_failures = _checked_ordering(pairs)
    failures += expand_failures + ordering_failures
    if failures:
        raise _invalid_query(failures)
    if object_url is not None:
        return ContactmomentenQuery("object", [], object_url, page, expand, ordering)
    return ContactmomentenQuery("default", _forwarded_filters(pairs, page, urls), None, page, expand, ordering)


def _object_filter(pairs: Params, urls: UrlRewriter) -> str | None:
    """C-3 step 1: the e-Suite URL of a non-blank `object`, or None (default mode).

    The e-Suite cannot intersect `object` with other filters, and dropping one would widen
    the result; two different objects cannot be served by one upstream call either.
    """
    objects = [value for value in values(pairs, "object") if not is_blank(value)]
    if not objects:
        return None
    others = [name for name in _FORWARDED_FILTERS if values(pairs, name)]
    if others or len(set(objects)) > 1:
        raise Problem(
            400,
            "unsupported-filter-combination",
            detail="Het filter object kan niet met andere filters worden gecombineerd.",
            invalid_params=[
                InvalidParam(
                    "object",
                    "unsupported-filter-combination",
                    "Zoek op één object, zonder klant, identificatie, telefoonnummerOfEmailadres of type.",
                )
            ],
        )
    return urls.to_esuite(objects[0])


def _blank_filters(pairs: Params) -> list[InvalidParam]:
    """A blank filter is refused, never forwarded empty or dropped: without it the e-Suite
    would answer with everyone's contactmomenten (as Q-12 for interne taken)."""
    reason = "Een filter zonder waarde wordt niet ondersteund."
    return [
        InvalidParam(name, "invalid", reason) for name, value in pairs if name in _FORWARDED_FILTERS and is_blank(value)
    ]


def _forwarded_filters(pairs: Params, page: int | None, urls: UrlRewriter) -> Params:
    """C-1: original order; `klant` rewritten; `page` once, validated, where it first stood."""
    forwarded: Params = []
    page_placed = False
    for name, value in pairs:
        if name == "klant":
            forwarded.append((name, urls.to_esuite(value)))
        elif name in _FORWARDED_FILTERS:
            forwarded.append((name, value))
        elif name == "page" and page is not None and not page_placed:
            forwarded.append((name, str(page)))
            page_placed = True
    return forwarded


def _checked(parse: Callable[[Params], Any], pairs: Params) -> tuple[Any, list[InvalidParam]]:
    """Runs a raising 400 parser so that its failures can be reported with the others."""
    try:
        return parse(pairs), []
    except Problem as problem:
        if problem.status != 400:
            raise
        return None, list(problem.invalid_params or [])


def _invalid_query(failures: list[InvalidParam]) -> Problem:
    return Problem(400, "invalid", detail=INVALID_QUERY_DETAIL, invalid_params=failures)


def expand_values(pairs: Params) -> tuple[str, ...]:
    """C-4: every `expand` split on `,`, trimmed, empty parts and repeats dropped, in order."""
    found: list[str] = []
    for value in values(pairs, "expand"):
        for part in value.split(","):
            part = trim(part)
            if part and part not in found:
                found.append(part)
    return tuple(found)


def _checked_expand(pairs: Params) -> tuple[tuple[str, ...], list[InvalidParam]]:
    expand = expand_values(pairs)
    if all(value in EXPAND_ALLOWED for value in expand):
        return expand, []
    reason = "Toegestaan zijn objectcontactmomenten en klantcontactmomenten."
    return (), [InvalidParam("expand", "invalid_choice", reason)]


def parse_expand(pairs: Params) -> tuple[str, ...]:
    """C-4 for the detail route, where other parameters are ignored."""
    expand, failures = _checked_expand(pairs)
    if failures:
        raise _invalid_query(failures)
    return expand


def _checked_ordering(pairs: Params) -> tuple[Ordering | None, list[InvalidParam]]:
    """C-5. An empty `ordering` is absent (as an empty `page`, Q-4) (decision). Two different
    orderings are refused rather than one silently dropped (decision)."""
    given = {value for value in values(pairs, "ordering") if value != ""}
    if not given:
        return None, []
    if len(given) == 1 and (ordering := _ORDERINGS.get(next(iter(given)))):
        return ordering, []
    reason = "Sorteer op registratiedatum of -registratiedatum, één keer."
    return None, [InvalidParam("ordering", "invalid_choice", reason)]


# --- C-3 object mode -------------------------------------------------------------------------


def check_next_link(next_url: Any, expected_prefix: str, pages_read: int = 0) -> str | None:
    """C-3 step 2: the next page to read, or None when `next` is not a string (the end).

    `expected_prefix` is `{cm root}/objectcontactmomenten`; a link elsewhere would carry the
    e-Suite token to another address (502 `upstream-invalid-url`). `pages_read` is the number
    of pages already read: after MAX_LINK_PAGES a further `next` is 502 `upstream-invalid-response`.
    """
    if not isinstance(next_url, str):
        return None
    # A boundary after the prefix, so that `…/objectcontactmomentenX` does not pass, and no
    # detour below it (`%2e%2e`, `.%2e`, `%2F`: SEC-15).
    if not is_under_root(next_url, expected_prefix):
        raise upstream_invalid_url()
    if pages_read >= MAX_LINK_PAGES:
        raise upstream_invalid_response()
    return next_url


def object_mode_contact_urls(link_items: list[Any], urls: UrlRewriter) -> list[str]:
    """C-3 step 3: the contact URLs of objectcontactmomenten, first occurrence first.

    A `contactmoment` that is not `{cm root}/contactmomenten/<uuid>` is 502
    `upstream-invalid-url`. The uuid is lower-cased, so one contact is fetched once and always
    by the same URL.
    """
    root = urls.esuite_root("contactmomenten") + "/contactmomenten/"
    found: dict[str, None] = {}
    for item in link_items:
        if not isinstance(item, dict):
            raise upstream_invalid_response()
        contactmoment = item.get("contactmoment")
        if not non_blank_str(contactmoment):
            continue
        uuid = esuite_contactmoment_uuid(contactmoment, urls)
        if uuid is None:
            raise upstream_invalid_url()
        found.setdefault(root + uuid.lower())
    return list(found)


def object_mode_page(contact_urls: list[str], page: int | None) -> list[str]:
    """C-3 step 4: the adapter's own page of `L`; a page > 1 beyond the end is 404."""
    page = page or 1
    start = (page - 1) * OBJECT_MODE_PAGE_SIZE
    if page > 1 and start >= len(contact_urls):
        raise Problem(404, "not_found")
    return contact_urls[start : start + OBJECT_MODE_PAGE_SIZE]


# --- C-4 expand ------------------------------------------------------------------------------


def has_embedded_objectcontactmomenten(item: Any) -> bool:
    """An `objectcontactmomenten` array of objects only (empty counts) needs no call."""
    embedded = item.get("objectcontactmomenten") if isinstance(item, dict) else None
    return isinstance(embedded, list) and all(isinstance(link, dict) for link in embedded)


def klantcontactmomenten_for(results: list[Any], contact_url: str) -> list:
    """C-4: the results that belong to this contact, in case the e-Suite ignored the filter.

    A result belongs when its `contactmoment` is absent (or null) or has the same last path
    segment, case-insensitive; `contact_url` may be the e-Suite or the adapter URL.
    """
    own = last_path_segment(contact_url).lower()

    def belongs(result: Any) -> bool:
        if not isinstance(result, dict):
            return False
        contactmoment = result.get("contactmoment")
        if contactmoment is None:
            return True
        return isinstance(contactmoment, str) and last_path_segment(contactmoment).lower() == own

    return [result for result in results if belongs(result)]


def with_expansion(item: dict, name: str, esuite_results: list, urls: UrlRewriter) -> dict:
    """A copy of `item` with `name` = the results rewritten to the adapter; an existing key
    keeps its position, a new one is appended (kiss-front.md §3.5)."""
    expanded = dict(item)
    expanded[name] = urls.json_to_adapter(esuite_results)
    return expanded


# --- C-5 ordering ----------------------------------------------------------------------------


def ordered(items: list[dict], ordering: Ordering | None) -> list[dict]:
    """C-5 for contactmomenten: without `ordering` the e-Suite's order is kept."""
    return items if ordering is None else sort_by_registratiedatum(items, ordering == "desc")


# --- C-6 pagination links --------------------------------------------------------------------


def object_mode_links(adapter_base: str, route_path: str, inbound: Params, page: int | None, total: int) -> PageLinks:
    """C-3 step 6: links to page p+1 / p−1 when such a page exists."""
    page = page or 1
    has_next = page * OBJECT_MODE_PAGE_SIZE < total
    return PageLinks(
        next=page_url(adapter_base, route_path, inbound, page + 1) if has_next else None,
        previous=page_url(adapter_base, route_path, inbound, page - 1) if page > 1 else None,
    )
