"""The Contactmomenten API in the Open Klant 1 dialect (kiss-front.md §4).

The POST turns KISS's extended body into exactly one e-Suite contact; the reads emulate the
OK1 extensions the e-Suite lacks (`object`, `expand`, `ordering`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response

from adapter.esuite_client.client import CallContext, EsuiteClient, ListAbsent, sent_without_answer
from adapter.esuite_client.urls import rebased_provider_urls
from adapter.idempotency import (
    Claim,
    InFlightTimeout,
    StoredAnswer,
    StoreUnavailable,
    UncertainAttempt,
    duplicate_key,
)
from adapter.kiss_api.fanout import bounded_gather
from adapter.kiss_api.ordered import ordered_contacts
from adapter.kiss_api.passthrough import (
    call_of,
    esuite,
    inbound_query,
    make_passthrough,
    read_json_body,
)
from adapter.kiss_api.responses import JsonResponse, rewritten_json
from adapter.mapping import contact_create, contactmoment_lists, contactmoment_read, paging, uncertain
from adapter.mapping.common import is_uuid
from adapter.mapping.paths import is_under_root
from adapter.problems import Problem
from adapter.services import services

log = structlog.get_logger("adapter.contactmomenten")

LIST_PATH = "/contactmomenten/api/v1/contactmomenten"
EMPTY_PAGE: dict[str, Any] = {"count": 0, "next": None, "previous": None, "results": []}
# C-4, kiss-front.md §4.6: the e-Suite may not support the `contactmoment` filter at all.
NO_LINKS_STATUSES = frozenset({400, 403, 404})


async def create(request: Request) -> Response:
    """kiss-front.md §4.1: validate, protect against duplicates, one e-Suite POST, 201."""
    settings = services(request).settings
    body = await read_json_body(request)
    contact = contact_create.build_esuite_contact(body, settings.contactverzoek_types)
    store = services(request).duplicates
    key = duplicate_key(request.state.identity.client_id, body)
    request.state.replayed = False
    try:
        claim = await store.begin(key, settings.esuite_timeout_seconds)
    except InFlightTimeout:
        raise Problem(504, "upstream-timeout") from None
    except StoreUnavailable:
        # Without duplicate protection a retry could create a second call-back request.
        raise Problem(503, "idempotency-store-unavailable", headers={"Retry-After": "5"}) from None
    if claim.answer is not None:
        request.state.replayed = True
        services(request).metrics.duplicate_replays.inc()
        return _stored_response(claim.answer, replayed=True)
    answer: StoredAnswer | None = None
    uncertain: UncertainAttempt | None = None
    try:
        answer = await _found_or_created(request, claim, contact, body)
    except UncertainCreate as failure:
        uncertain = UncertainAttempt(contact, services(request).clock())
        log.warning("uncertain_outcome", problem_code=failure.problem.code)
        # A copy: raised here the problem itself would take `failure` as its context, and
        # `failure` holds it: a reference cycle keeping the request until the collector ran.
        raise attrs.evolve(failure.problem) from None
    except asyncio.CancelledError:
        # Shutdown ended the request past its grace (operations.md §5.7): the POST may have
        # been sent, so a repeat searches first. The answer is 503 (adapter.kiss_api.shutdown).
        uncertain = UncertainAttempt(contact, services(request).clock())
        log.warning("uncertain_outcome", problem_code="shutting-down")
        raise
    finally:
        try:
            await store.finish(key, answer, uncertain)
        except StoreUnavailable:
            # The outcome stands; the lock expires by itself. A later repeat may not be recognised.
            log.warning("idempotency_store_unavailable", stored=answer is not None)
    return _stored_response(answer, replayed=False)


async def _found_or_created(request: Request, claim: Claim, contact: dict, body: dict) -> StoredAnswer:
    """The contact an earlier attempt made (§5.4), else a new one, as the answer to store."""
    earlier = claim.uncertain
    if earlier is None and claim.taken_over:
        # The previous holder died or outlived its lock with this very body in flight.
        log.warning("uncertain_outcome", problem_code="lock-taken-over")
        earlier = UncertainAttempt(contact, services(request).clock())
    if earlier is not None:
        try:
            found = await _find_uncertain_contact(request, earlier)
            if found is not None:
                return _created_answer(request, found, body)
        except Problem as problem:  # still unknown, or found and unusable: the next repeat searches again
            raise UncertainCreate(problem) from None
    created = await _create_contact(request, contact)
    try:
        return _created_answer(request, created, body)
    except Problem as problem:
        # A 2xx means the e-Suite stored the contact, even when its answer is unusable.
        raise UncertainCreate(problem) from None


def _created_answer(request: Request, created: Any, body: dict) -> StoredAnswer:
    """R-6 on the e-Suite's answer, its URLs first moved from an e-Suite public origin to
    ESUITE_BASE_URL (issue 14: the contact exists, whatever host name the e-Suite prints)."""
    call = call_of(request)
    created, foreign = rebased_provider_urls(
        created, call.urls.esuite_base, services(request).settings.esuite_public_origins
    )
    for origin in sorted(foreign):
        log.warning("origin_mismatch", origin=origin, esuite_base=call.urls.esuite_base, accepted=True)
    result = contactmoment_read.created_contactmoment(created, call.urls, body.get("gespreksId"))
    # A copy of exactly its length: orjson's own bytes keep its ~8 KiB output buffer, which the
    # store would hold for ten minutes (2026-12-02, bench.duplicate_store: 8.7 KiB retained per
    # create before, 1.3 KiB after).
    return StoredAnswer(201, memoryview(orjson.dumps(result)).tobytes(), result["url"])


class UncertainCreate(Exception):
    """The create was sent and no usable answer came back (operations.md §5.4)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


async def _create_contact(request: Request, contact: dict) -> Any:
    call = call_of(request)
    client = esuite(request)
    url = call.urls.esuite_root("contactmomenten") + "/contactmomenten"
    try:
        answer = await client.fetch_json(call, "POST", url, json_body=contact)
    except Problem as problem:
        if sent_without_answer(problem):
            raise UncertainCreate(problem) from None
        raise  # not sent (connection refused, the adapter's own open circuit): nothing exists
    try:
        return client.expect_success(call, answer)
    except Problem as problem:
        # Any 5xx: a gateway in front of the e-Suite may have replaced the answer of a create
        # that was stored, and an e-Suite may fail after storing. A 2xx stored it.
        if answer.status >= 500 or answer.ok:
            raise UncertainCreate(problem) from None
        raise


async def _find_uncertain_contact(request: Request, attempt: UncertainAttempt) -> Any:
    """§5.4: the contact an earlier, unanswered attempt may have created, else None."""
    call = call_of(request)
    client = esuite(request)
    outcomes = services(request).metrics.uncertain_creates
    query = uncertain.search_query(attempt.esuite_body)
    if query is None:
        outcomes.labels(resolved="undetectable").inc()
        return None
    collection = call.urls.esuite_root("contactmomenten") + "/contactmomenten"
    public_origins = services(request).settings.esuite_public_origins

    def follow(next_link: Any, pages_read: int) -> str | None:
        # An e-Suite printing another origin links its pages under it too (issue 14 item 4);
        # SEC-15: only a `next` in the same collection is followed (the search is best effort).
        next_url, _ = rebased_provider_urls(next_link, call.urls.esuite_base, public_origins)
        return next_url if isinstance(next_url, str) and is_under_root(next_url, collection) else None

    contacts: list[Any] = []
    async for page in client.pages(call, collection, query, follow=follow, limit=uncertain.SEARCH_PAGES):
        contacts.extend(page.results)
    found = uncertain.newest_match(contacts, attempt.esuite_body)
    outcomes.labels(resolved="found" if found is not None else "created").inc()
    return found


_JSON_CONTENT_TYPE = (b"content-type", b"application/json")
_REPLAYED = (b"idempotent-replayed", b"true")


def _stored_response(answer: StoredAnswer, replayed: bool) -> Response:
    """`Response(body, status, {"Location": …, "Idempotent-Replayed": "true"}, "application/json")`
    with the header list written out, not built by `init_headers` from a dict (2026-12-02:
    timeit on the loaded machine 6.4 → 0.74 µs, callgrind 19.3k → 7.0k instructions; the same
    attributes, the same raw headers in the same order)."""
    raw_headers = [(b"location", answer.location.encode("latin-1"))] if answer.location else []
    if replayed:
        raw_headers.append(_REPLAYED)
    status = answer.status
    if not (status < 200 or status in (204, 304)):
        raw_headers.append((b"content-length", str(len(answer.body)).encode()))
    raw_headers.append(_JSON_CONTENT_TYPE)
    response = Response.__new__(Response)
    response.status_code, response.media_type, response.background = status, "application/json", None
    response.body, response.raw_headers = answer.body, raw_headers
    return response


async def list_contactmomenten(request: Request) -> Response:
    """kiss-front.md §4.2: default mode (C-2) or object mode (C-3), then expand and ordering.

    With `ordering` in default mode the order is global across the e-Suite's pages (C-5);
    in object mode the adapter's page of 100 is sorted, which is global for a zaak with up
    to 100 contactmomenten (one page).
    """
    call = call_of(request)
    client = esuite(request)
    pairs = inbound_query(request)
    query = contactmoment_lists.parse_contactmomenten_list_query(pairs, call.urls)
    cm_root = call.urls.esuite_root("contactmomenten")
    base = call.urls.adapter_base
    if query.object_url is not None:  # object mode (C-3)
        contact_urls = await _object_contact_urls(client, call, query.object_url)
        page_urls = contactmoment_lists.object_mode_page(contact_urls, query.page)
        contacts = [
            c for c in await bounded_gather([_detail_or_none(client, call, url) for url in page_urls]) if c is not None
        ]
        count = len(contact_urls)
        links = contactmoment_lists.object_mode_links(base, LIST_PATH, pairs, query.page, count)
    elif query.ordering is not None:
        served = await ordered_contacts(
            request,
            "contactmomenten",
            cm_root + "/contactmomenten",
            query.upstream,
            query.page,
            query.ordering == "desc",
        )
        contacts, count = served.results, served.count
        links = paging.page_links(base, LIST_PATH, pairs, served)
    else:
        page = paging.esuite_page(await client.get_json(call, cm_root + "/contactmomenten", query.upstream))
        contacts, count = page.results, page.count
        links = paging.PageLinks(
            paging.pagination_link(base, LIST_PATH, pairs, page.next),
            paging.pagination_link(base, LIST_PATH, pairs, page.previous),
        )
    items = await _mapped_and_expanded(client, call, contacts, query.expand)
    return rewritten_json(
        {
            "count": count,
            "next": links.next,
            "previous": links.previous,
            "results": contactmoment_lists.ordered(items, query.ordering),
        },
        call.urls,
    )


async def detail(request: Request) -> Response:
    """kiss-front.md §4.3: one contact; a segment that is not a UUID is 404 without a call."""
    segment = request.path_params["uuid"]
    if not is_uuid(segment):
        raise Problem(404, "not_found")
    call = call_of(request)
    client = esuite(request)
    expand = contactmoment_lists.parse_expand(inbound_query(request))
    url = call.urls.esuite_root("contactmomenten") + "/contactmomenten/" + segment.lower()
    contact = await client.get_json(call, url)
    [item] = await _mapped_and_expanded(client, call, [contact], expand)
    return rewritten_json(item, call.urls)


async def _object_contact_urls(client: EsuiteClient, call: CallContext, object_url: str) -> list[str]:
    """C-3 steps 2–3: every page of the zaak's objectcontactmomenten, as contact URLs."""
    prefix = call.urls.esuite_root("contactmomenten") + "/objectcontactmomenten"

    def follow(next_link: Any, pages_read: int) -> str | None:
        return contactmoment_lists.check_next_link(next_link, prefix, pages_read)

    links: list[Any] = []
    async for page in client.pages(call, prefix, [("object", object_url)], follow=follow):
        links.extend(page.results)
    return contactmoment_lists.object_mode_contact_urls(links, call.urls)


def _detail_or_none(client: EsuiteClient, call: CallContext, url: str):
    async def fetch() -> Any:
        answer = await client.fetch_json(call, "GET", url)
        if answer.status in (403, 404):  # the user may not see it, or it is gone (C-3 step 5)
            return None
        return client.expect_success(call, answer)

    return fetch


async def _mapped_and_expanded(
    client: EsuiteClient, call: CallContext, contacts: list[Any], expand: tuple[str, ...]
) -> list[dict]:
    """R-2 and R-3 for every contact, then C-4 with each distinct call made once, 8 at a time.
    R-1 happens when the answer is rendered (`rewritten_json`)."""
    items = contactmoment_read.contacts_for_kiss(contacts, call.urls)
    if not expand:
        return items
    esuite_urls = [contact["url"] for contact in contacts]
    wanted: dict[tuple[str, str], None] = {}
    for contact, esuite_url in zip(contacts, esuite_urls, strict=True):
        for name in expand:
            if name == contactmoment_lists.EXPAND_OBJECTCONTACTMOMENTEN and (
                contactmoment_lists.has_embedded_objectcontactmomenten(contact)
            ):
                continue
            wanted.setdefault((name, esuite_url))
    keys = list(wanted)
    fetched = dict(
        zip(keys, await bounded_gather([_links_of(client, call, name, url) for name, url in keys]), strict=True)
    )
    expanded = []
    for item, esuite_url in zip(items, esuite_urls, strict=True):
        for name in expand:
            if (name, esuite_url) in fetched:
                item = contactmoment_lists.with_expansion(item, name, fetched[(name, esuite_url)], call.urls)
        expanded.append(item)
    return expanded


def _links_of(client: EsuiteClient, call: CallContext, name: str, contact_url: str):
    """The objectcontactmomenten (all pages) or klantcontactmomenten (one page) of one contact."""
    root = call.urls.esuite_root("contactmomenten") + "/" + name

    def follow(next_link: Any, pages_read: int) -> str | None:
        return contactmoment_lists.check_next_link(next_link, root, pages_read)

    async def fetch() -> list:
        # klantcontactmomenten: the first page only (see the docstring).
        limit = 1 if name == contactmoment_lists.EXPAND_KLANTCONTACTMOMENTEN else None
        results: list = []
        try:
            async for page in client.pages(
                call, root, [("contactmoment", contact_url)], follow=follow, limit=limit, absent=NO_LINKS_STATUSES
            ):
                results.extend(page.results)
        except ListAbsent:
            return []
        if name == contactmoment_lists.EXPAND_KLANTCONTACTMOMENTEN:
            return contactmoment_lists.klantcontactmomenten_for(results, contact_url)
        return results

    return fetch


_passthrough = make_passthrough("contactmomenten")


async def objectcontactmomenten_list(request: Request) -> Response:
    """kiss-front.md §4.6: KISS v1.0+ ignores the status and needs a pagination object."""
    try:
        return await _passthrough(request)
    except Problem as problem:
        asks_for_contact = any(name == "contactmoment" for name, _ in inbound_query(request))
        if asks_for_contact and problem.status in NO_LINKS_STATUSES:
            return JsonResponse(EMPTY_PAGE)
        raise
