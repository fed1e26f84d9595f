"""Pages of the mapped lists: the e-Suite envelope, C-5 global ordering, C-6 links (mapping.md §4).

Pure functions. The routes read the e-Suite pages these functions ask for, and render what
they return. KISS reads only the first page of a klant's contactmomenten and contactverzoeken
and expects the newest there; the e-Suite has no ordering parameter and its own order is not
known (the one real sample lists oldest first), so an ordered list is read across pages,
sorted here and sliced into the adapter's own pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from adapter.mapping.common import parse_datetime
from adapter.mapping.query import Params, encode_query, page_of_link, with_page
from adapter.problems import Problem, upstream_invalid_response

# C-5 (decision): a klant with more e-Suite pages than this is answered in best-effort order.
# 10 pages of the e-Suite's 20 = 200 contacts of one klant or one phone number.
DEFAULT_MAX_ORDERED_PAGES = 10
# And never more contacts than 100 pages of 20 (the most ORDERED_LIST_MAX_PAGES allows), so an
# e-Suite that pages by thousands cannot make one request hold tens of thousands (decision).
MAX_ORDERED_CONTACTS = 2000


# --- C-2: the e-Suite list envelope ------------------------------------------------------------


@attrs.frozen(slots=True)
class EsuitePage:
    count: int
    results: list
    next: Any
    previous: Any


def esuite_page(answer: Any) -> EsuitePage:
    """C-2: an object with an integer `count` and an array `results`, else 502."""
    if not isinstance(answer, dict):
        raise upstream_invalid_response()
    count, results = answer.get("count"), answer.get("results")
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(results, list):
        raise upstream_invalid_response()
    return EsuitePage(count, results, answer.get("next"), answer.get("previous"))


# --- C-5 ordering ----------------------------------------------------------------------------


def registratiedatum_of(item: Any) -> Any:
    return item.get("registratiedatum") if isinstance(item, dict) else None


def sort_by_registratiedatum(items: list, descending: bool, get: Callable[[Any], Any] = registratiedatum_of) -> list:
    """C-5: a stable sort by instant (no offset = Europe/Amsterdam); items whose date is
    missing or does not parse go last, in their original order, in both directions."""
    keyed = [(parse_datetime(get(item)), item) for item in items]
    dated = [(instant, item) for instant, item in keyed if instant is not None]
    dated.sort(key=lambda pair: pair[0], reverse=descending)  # list.sort stays stable with reverse
    return [item for _, item in dated] + [item for instant, item in keyed if instant is None]


@attrs.frozen(slots=True)
class ReadPlan:
    """Which further e-Suite pages an ordered list reads after the first one."""

    page_size: int  # the e-Suite's, and so the adapter's own page size for this list
    pages: tuple[int, ...]  # e-Suite page numbers still to read (2 …), at most `max_pages` in all
    total_pages: int  # as the e-Suite's `count` implies
    truncated: bool  # the e-Suite has more pages than the bound: best-effort order past it

    @property
    def pages_read(self) -> int:
        return 1 + len(self.pages)


def read_plan(first: EsuitePage, max_pages: int) -> ReadPlan:
    """C-5: from the e-Suite's first page, the pages to read as well.

    `count` says how many there are, so they can be read concurrently; a hostile `count`
    cannot make the adapter read more than `max_pages` pages, nor more than
    MAX_ORDERED_CONTACTS contacts. A `next` that is neither a string nor null is 502, as
    everywhere (C-6).
    """
    if first.next is not None and not isinstance(first.next, str):
        raise upstream_invalid_response()
    if first.next is None:
        return ReadPlan(max(1, len(first.results)), (), 1, False)
    size = len(first.results)
    if size == 0:  # "more pages" after an empty one: no page size to slice by
        raise upstream_invalid_response()
    total_pages = max(2, -(-first.count // size))  # `next` says there is a second page
    last = min(total_pages, max(1, max_pages), max(1, MAX_ORDERED_CONTACTS // size))
    return ReadPlan(size, tuple(range(2, last + 1)), total_pages, total_pages > last)


def merged_results(pages: Sequence[list]) -> list[dict]:
    """The contacts of the pages read, in read order, each once (by `url`).

    A contact created while the pages are read shifts a newest-first e-Suite's pages by one,
    so the last contact of a page can come again on the next. Every item must be an object
    with a string `url` (R-6, I-1): no half-mapped answer, also for items not on the page served.
    """
    seen: set[str] = set()
    merged: list[dict] = []
    for results in pages:
        for item in results:
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                raise upstream_invalid_response()
            if item["url"] not in seen:
                seen.add(item["url"])
                merged.append(item)
    return merged


@attrs.frozen(slots=True)
class ServedPage:
    """One page of a mapped list, with the adapter page numbers of its C-6 links."""

    results: list
    count: int
    next_page: int | None
    previous_page: int | None


def ordered_page(sorted_items: list, page: int | None, plan: ReadPlan, esuite_count: int) -> ServedPage:
    """C-5: page `page` (default 1) of the sorted items, `plan.page_size` per page.

    Fully read, `count` is the number of distinct contacts. Past the bound it is the
    e-Suite's `count`, and the links go on into the pages that are not sorted globally
    (`esuite_fallback_page`), so that KISS's loop until `next` is null still sees every one.
    A page past the end is 404, as the e-Suite answers.
    """
    number = page or 1
    size = plan.page_size
    count = max(esuite_count, len(sorted_items)) if plan.truncated else len(sorted_items)
    start = (number - 1) * size
    if number > 1 and start >= len(sorted_items):
        raise Problem(404, "not_found")
    return ServedPage(
        results=sorted_items[start : start + size],
        count=count,
        next_page=number + 1 if number * size < count else None,
        previous_page=number - 1 if number > 1 else None,
    )


def beyond_sorted_pages(page: int | None, plan: ReadPlan) -> bool:
    """The requested page lies past the pages an ordered list reads."""
    return (page or 1) > plan.pages_read


def esuite_fallback_page(page: EsuitePage, descending: bool) -> ServedPage:
    """C-5 past the bound: the e-Suite's own page, sorted within itself, its own links."""
    return ServedPage(
        results=sort_by_registratiedatum(page.results, descending),
        count=page.count,
        next_page=_page_of(page.next),
        previous_page=_page_of(page.previous),
    )


def _page_of(link: Any) -> int | None:
    if link is None:
        return None
    if not isinstance(link, str):
        raise upstream_invalid_response()
    return page_of_link(link)


def esuite_page_query(params: Params, page: int) -> Params:
    """The e-Suite query of page `page`: an inbound `page` replaced where it stood; without
    one, the first page is asked without `page` and later ones with it appended."""
    if any(name == "page" for name, _ in params):
        return with_page(params, page)
    return list(params) if page == 1 else [*params, ("page", str(page))]


# --- C-6 pagination links --------------------------------------------------------------------


@attrs.frozen(slots=True)
class PageLinks:
    next: str | None
    previous: str | None


def pagination_link(adapter_base: str, route_path: str, inbound: Params, upstream_link: Any) -> str | None:
    """C-6: the adapter URL with the inbound query and the `page` of the e-Suite link."""
    if upstream_link is None:
        return None
    if not isinstance(upstream_link, str):
        raise upstream_invalid_response()
    return page_url(adapter_base, route_path, inbound, page_of_link(upstream_link))


def page_links(adapter_base: str, route_path: str, inbound: Params, served: ServedPage) -> PageLinks:
    """C-6 for a page the adapter cut itself."""

    def link(number: int | None) -> str | None:
        return None if number is None else page_url(adapter_base, route_path, inbound, number)

    return PageLinks(link(served.next_page), link(served.previous_page))


def page_url(adapter_base: str, route_path: str, inbound: Params, page: int) -> str:
    return f"{adapter_base}{route_path}?{encode_query(with_page(inbound, page))}"
