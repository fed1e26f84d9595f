"""The mapped corners of the Zaken and Klanten pass-through fronts (kiss-front.md §6.2–6.3)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapter.kiss_api.passthrough import call_of, esuite, inbound_query, make_passthrough, read_json_body, relay
from adapter.mapping import klanten, zaken

zaken_list = make_passthrough(
    "zaken", query_hook=lambda pairs, call: zaken.translate_zaken_query(pairs, call.urls), answer_hook=zaken.zaken_page
)
zaak_detail = make_passthrough("zaken", answer_hook=zaken.zaak_identificatie)
_klanten_passthrough = make_passthrough("klanten")


async def zaakcontactmomenten(request: Request) -> Response:
    """Z-3: older KISS versions send it; the link is made through objectcontactmomenten."""
    return Response(status_code=204)


async def klanten_list(request: Request) -> Response:
    """§6.2: a search the e-Suite cannot filter is refused, never widened to everyone's data."""
    klanten.refuse_contact_search(inbound_query(request))
    return await _klanten_passthrough(request)


async def klant_put(request: Request) -> Response:
    """K-1: the e-Suite has no PUT; the writable contact fields go as a PATCH."""
    call = call_of(request)
    patch = klanten.klant_put_to_patch(await read_json_body(request))
    url = call.urls.esuite_root("klanten") + "/klanten/" + request.path_params["uuid"]
    upstream = await esuite(request).send(
        call,
        "PATCH",
        url,
        target="klanten",
        content=orjson.dumps(call.urls.json_to_esuite(patch)),
        headers={"Content-Type": "application/json"},
        stream=True,
    )
    return await relay(request, upstream)
