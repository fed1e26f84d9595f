"""C-5: a list in global `registratiedatum` order, read across the e-Suite's pages.

The e-Suite has no ordering parameter. The first page says how many pages there are; the
others (up to `ORDERED_LIST_MAX_PAGES` in all) are read concurrently within the fan-out bound
of operations.md §5.6, and the adapter serves its own page of the sorted whole. The paging
decisions are pure and live in `adapter.mapping.paging`.
"""

from __future__ import annotations

import structlog
from starlette.requests import Request

from adapter.esuite_client.client import CallContext, EsuiteClient
from adapter.kiss_api.fanout import bounded_gather
from adapter.kiss_api.passthrough import call_of, esuite
from adapter.mapping import paging
from adapter.mapping.query import Params
from adapter.problems import Problem
from adapter.services import services

log = structlog.get_logger("adapter.ordered")


async def ordered_contacts(
    request: Request, route: str, url: str, params: Params, page: int | None, descending: bool
) -> paging.ServedPage:
    """Page `page` of the e-Suite list `url?params`, sorted by `registratiedatum` over all its pages.

    Past the bound the requested page is answered in best-effort order (the pages read are
    sorted among themselves, later pages within themselves), with a warning and a metric:
    a KCM still sees a list, and nothing is lost or shown twice (paging.ordered_page).
    """
    call, client = call_of(request), esuite(request)
    first = paging.esuite_page(await client.get_json(call, url, paging.esuite_page_query(params, 1)))
    plan = paging.read_plan(first, services(request).settings.ordered_list_max_pages)
    if plan.truncated:
        services(request).metrics.ordered_list_truncated.labels(route=route).inc()
        log.warning("ordered_list_truncated", route=route, esuite_pages=plan.total_pages, pages_sorted=plan.pages_read)
    if paging.beyond_sorted_pages(page, plan):
        if not plan.truncated:
            raise Problem(404, "not_found")  # past the last page, as the e-Suite answers
        later = await client.get_json(call, url, paging.esuite_page_query(params, page or 1))
        return paging.esuite_fallback_page(paging.esuite_page(later), descending)
    rest = await bounded_gather([_results_of(client, call, url, params, number) for number in plan.pages])
    contacts = paging.merged_results([first.results, *rest])
    return paging.ordered_page(paging.sort_by_registratiedatum(contacts, descending), page, plan, first.count)


def _results_of(client: EsuiteClient, call: CallContext, url: str, params: Params, number: int):
    async def fetch() -> list:
        answer = await client.fetch_json(call, "GET", url, params=paging.esuite_page_query(params, number))
        if answer.status == 404:  # the list got shorter while it was read
            return []
        return paging.esuite_page(client.expect_success(call, answer)).results

    return fetch
