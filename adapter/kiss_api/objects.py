"""The Objects API facade: interne taken from e-Suite contacts, and the smoelenboek proxy (kiss-front.md §5)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import Response

from adapter.config import Smoelenboek
from adapter.esuite_client.client import CallContext, EsuiteClient, TokenAuth
from adapter.kiss_api.fanout import bounded_gather
from adapter.kiss_api.ordered import ordered_contacts
from adapter.kiss_api.passthrough import MAX_MAPPED_BODY, call_of, esuite, inbound_query, read_body
from adapter.kiss_api.responses import JsonResponse
from adapter.mapping import (
    interne_taak_create,
    interne_taak_read,
    objects_dispatch,
    objects_query,
    paging,
    smoelenboek,
)
from adapter.mapping.common import CONTENT_CRS, OBJECTS_PATH, is_uuid
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.query import page_number
from adapter.problems import Problem, upstream_invalid_response
from adapter.services import services

log = structlog.get_logger("adapter.objects")

KLANT_LOOKUP_WARNING_INTERVAL = 60.0


def objects_api(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Every answer on these routes carries `Content-Crs`, as an Objects API's does (§5.1)."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except Problem as problem:
            problem.headers.update(CONTENT_CRS)
            raise
        response.headers.update(CONTENT_CRS)
        return response

    return wrapped


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(services(request).clock(), tz=UTC)


@objects_api
async def create(request: Request) -> Response:
    """§5.2: answered locally. Nothing is stored and nothing is sent anywhere (T-1 … T-5)."""
    call = call_of(request)
    settings = services(request).settings
    answer = interne_taak_create.interne_taak_post_answer(
        await read_body(request, MAX_MAPPED_BODY),
        settings.interne_taak_object_type_url,
        (call.urls.adapter_base, *call.urls.request_origins),  # {A} and the request's own origin
        call.urls.esuite_root("contactmomenten"),
        call.urls.adapter_base,
    )
    return JsonResponse(answer.body, status_code=201, headers={"Location": answer.url})


@objects_api
async def list_objects(request: Request) -> Response:
    settings = services(request).settings
    pairs = inbound_query(request)
    smoelenboek.refuse_repeated_type(pairs)  # before dispatch: JWT and Token clients alike
    smoelenboek_type = settings.smoelenboek.object_type_url if settings.smoelenboek else None
    route = objects_dispatch.dispatch_object_type(pairs, settings.interne_taak_object_type_url, smoelenboek_type)
    # Dispatch routes to the smoelenboek only when one is configured.
    if route is objects_dispatch.ObjectTypeRoute.SMOELENBOEK and settings.smoelenboek is not None:
        return await _smoelenboek(request, settings.smoelenboek, pairs)
    return await _interne_taken(request, pairs)


async def _interne_taken(request: Request, pairs: list[tuple[str, str]]) -> Response:
    """§5.3: the contacts of the contactverzoek types, each as an interne-taak object.

    With `ordering` the order is global across the e-Suite's pages (C-5); the klant
    look-ups (I-8) are made for the rows of the page served only.
    """
    call = call_of(request)
    client = esuite(request)
    settings = services(request).settings
    query = objects_query.parse_interne_taken_query(pairs, settings.contactverzoek_types, call.urls)
    url = call.urls.esuite_root("contactmomenten") + "/contactmomenten"
    base = call.urls.adapter_base
    if query.descending is not None:
        served = await ordered_contacts(request, "objects", url, query.upstream, page_number(pairs), query.descending)
        contacts, count = served.results, served.count
        links = paging.page_links(base, OBJECTS_PATH, pairs, served)
    else:
        page = paging.esuite_page(await client.get_json(call, url, query.upstream))
        contacts, count = page.results, page.count
        links = paging.PageLinks(
            paging.pagination_link(base, OBJECTS_PATH, pairs, page.next),
            paging.pagination_link(base, OBJECTS_PATH, pairs, page.previous),
        )
    klanten = await _klanten(request, contacts, query.klant_filter)
    rows = interne_taak_read.interne_taken_from_esuite(
        contacts, settings.interne_taak_object_type_url, query.klant_filter, klanten, call.urls, _now(request)
    )
    return JsonResponse({"count": count, "next": links.next, "previous": links.previous, "results": rows})


@objects_api
async def detail(request: Request) -> Response:
    """§5.4: one interne taak; a contact that is not a contactverzoek is 404."""
    segment = request.path_params["uuid"]
    if not is_uuid(segment):
        raise Problem(404, "not_found")
    call = call_of(request)
    settings = services(request).settings
    contact = await esuite(request).get_json(
        call, call.urls.esuite_root("contactmomenten") + "/contactmomenten/" + segment.lower()
    )
    if not interne_taak_read.is_contactverzoek(contact, settings.contactverzoek_types):
        raise Problem(404, "not_found")
    klanten = await _klanten(request, [contact], None)
    [row] = interne_taak_read.interne_taken_from_esuite(
        [contact], settings.interne_taak_object_type_url, None, klanten, call.urls, _now(request)
    )
    return JsonResponse(row)


async def _klanten(request: Request, contacts: list[Any], klant_filter: str | None) -> dict[str, str | None]:
    """I-8: one look-up per distinct contact, 8 at a time; a 4xx other than 401 means no klant."""
    call = call_of(request)
    client = esuite(request)
    contact_urls = interne_taak_read.klant_lookup_urls(contacts, klant_filter)
    root = call.urls.esuite_root("contactmomenten") + "/klantcontactmomenten"

    def look_up(contact_url: str) -> Callable[[], Awaitable[str | None]]:
        async def fetch() -> str | None:
            answer = await client.fetch_json(call, "GET", root, params=[("contactmoment", contact_url)])
            if 400 <= answer.status < 500 and answer.status != 401:
                _warn_klant_lookup_rejected(request, answer.status)
                return None
            return interne_taak_read.klant_from_lookup(client.expect_success(call, answer), contact_url, call.urls)

        return fetch

    klanten = await bounded_gather([look_up(url) for url in contact_urls])
    return dict(zip(contact_urls, klanten, strict=True))


def _warn_klant_lookup_rejected(request: Request, status: int) -> None:
    """At most once a minute: the e-Suite may not support the filter at all (esuite.md N-1)."""
    if services(request).klant_lookup_warning.due():
        log.warning("klant_lookup_rejected", status=status)


async def _smoelenboek(request: Request, settings: Smoelenboek, pairs: list[tuple[str, str]]) -> Response:
    """§5.5, S-1 … S-5: proxied to the real Objects API with its own token."""
    call: CallContext = call_of(request)
    client: EsuiteClient = esuite(request)
    objects_url = smoelenboek.smoelenboek_objects_url(settings.base_url)
    headers = {name: request.headers[name] for name in ("accept-crs", "content-crs") if name in request.headers}
    answer = await client.fetch_json(
        call,
        "GET",
        smoelenboek.smoelenboek_upstream_url(settings.base_url, pairs),
        target="smoelenboek",
        auth=TokenAuth(settings.token, objects_url),
        headers=headers,
    )
    if 300 <= answer.status < 400:
        # Redirects are not followed (SEC-3); a 3xx is no answer to pass on (operations.md §4.3).
        raise upstream_invalid_response("Het smoelenboek gaf een doorverwijzing; die wordt niet gevolgd.")
    if not answer.ok:
        raise translate_upstream_error(
            answer.status,
            answer.body,
            lambda value: value,
            source="smoelenboek",
            retry_after=answer.headers.get("retry-after"),
        )
    return JsonResponse(smoelenboek.smoelenboek_page(answer.body, objects_url, call.urls.adapter_base))
