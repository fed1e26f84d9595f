"""Compatibility roots: /zgw-apis-provider/{zrc,ztc,drc}/api/v1 answer as the zaken, catalogi and
documenten fronts, with URLs emitted under the root the client used (issue 16 §5).

The contract (contracts/kiss-front.openapi.yaml) does not describe these roots, so the app is
called here without the contract-validating client.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import httpx
import orjson
import pytest

from adapter.app import create_app
from tests.conftest import ADAPTER, ESUITE, fixture_settings, kiss_headers

pytestmark = pytest.mark.anyio

ZAAK_UUID = "a177c7fa-bb70-4d42-9584-6b099e87512b"
ZAAKTYPE_UUID = "0b3e3c4d-1f2a-4b5c-8d6e-7f8091a2b3c4"
DOC_UUID = "5d0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
KLANT_UUID = "d72e7265-3b76-4410-a9aa-54e20528a3f4"

E_ZRC, E_ZTC, E_DRC = (f"{ESUITE}/zgw-apis-provider/{api}/api/v1" for api in ("zrc", "ztc", "drc"))
A_ZRC, A_ZTC, A_DRC = (f"{ADAPTER}/zgw-apis-provider/{api}/api/v1" for api in ("zrc", "ztc", "drc"))
E_KLANTEN = f"{ESUITE}/klanten-api-provider/api/v1"
A_KLANTEN = f"{ADAPTER}/klanten/api/v1"


def esuite_zaak() -> dict:
    return {
        "url": f"{E_ZRC}/zaken/{ZAAK_UUID}",
        "identificatie": "ZAAK-2026-0000000123",
        "identificatieIntern": "Z25.000123",
        "zaaktype": f"{E_ZTC}/zaaktypen/{ZAAKTYPE_UUID}",
        "zaakinformatieobjecten": [f"{E_DRC}/enkelvoudiginformatieobjecten/{DOC_UUID}"],
        "klant": f"{E_KLANTEN}/klanten/{KLANT_UUID}",
    }


def zaak_on_compat_roots() -> dict:
    return {
        "url": f"{A_ZRC}/zaken/{ZAAK_UUID}",
        "identificatie": "Z25.000123",
        "identificatieIntern": "Z25.000123",
        "zaaktype": f"{A_ZTC}/zaaktypen/{ZAAKTYPE_UUID}",
        "zaakinformatieobjecten": [f"{A_DRC}/enkelvoudiginformatieobjecten/{DOC_UUID}"],
        "klant": f"{A_KLANTEN}/klanten/{KLANT_UUID}",  # klanten has no compatibility root
    }


class Esuite:
    """A mock e-Suite that records every request and answers with `answer(request)`."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        return self.answer(request)


def client_for(esuite: Esuite) -> httpx.AsyncClient:
    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(esuite))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER, headers=kiss_headers())


async def test_zrc_zaken_list_is_mapped_and_emitted_under_the_compat_roots():
    esuite = Esuite(
        lambda r: httpx.Response(200, json={"count": 1, "next": f"{E_ZRC}/zaken?page=2", "results": [esuite_zaak()]})
    )
    async with client_for(esuite) as client:
        response = await client.get(
            "/zgw-apis-provider/zrc/api/v1/zaken",
            params={"zaaktype": f"{A_ZTC}/zaaktypen/{ZAAKTYPE_UUID}", "ordering": "-startdatum"},
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 1, "next": f"{A_ZRC}/zaken?page=2", "results": [zaak_on_compat_roots()]}
    [sent] = esuite.seen
    assert sent.url.path == "/zgw-apis-provider/zrc/api/v1/zaken"
    assert parse_qsl(sent.url.query.decode()) == [
        ("zaaktype", f"{E_ZTC}/zaaktypen/{ZAAKTYPE_UUID}"),  # compat URL in the query → e-Suite
        ("ordering", "startdatum_aflopend"),  # Z-1 as on /zaken/api/v1
    ]


async def test_zrc_zaak_detail_is_mapped():
    esuite = Esuite(lambda r: httpx.Response(200, json=esuite_zaak()))
    async with client_for(esuite) as client:
        response = await client.get(f"/zgw-apis-provider/zrc/api/v1/zaken/{ZAAK_UUID}")
    assert response.status_code == 200
    assert response.json() == zaak_on_compat_roots()
    assert [str(r.url) for r in esuite.seen] == [f"{E_ZRC}/zaken/{ZAAK_UUID}"]


async def test_zrc_pass_through_rewrites_body_query_and_location_both_ways():
    created = {"url": f"{E_ZRC}/zaakobjecten/1", "zaak": f"{E_ZRC}/zaken/{ZAAK_UUID}"}
    esuite = Esuite(lambda r: httpx.Response(201, json=created, headers={"Location": f"{E_ZRC}/zaakobjecten/1"}))
    async with client_for(esuite) as client:
        response = await client.post(
            f"/zgw-apis-provider/zrc/api/v1/zaakobjecten?zaak={quote(A_ZRC + '/zaken/' + ZAAK_UUID, safe='')}",
            json={"zaak": f"{A_ZRC}/zaken/{ZAAK_UUID}", "object": f"{ADAPTER}/zaken/api/v1/zaken/{ZAAK_UUID}"},
        )
    assert response.status_code == 201
    assert response.json() == {"url": f"{A_ZRC}/zaakobjecten/1", "zaak": f"{A_ZRC}/zaken/{ZAAK_UUID}"}
    assert response.headers["location"] == f"{A_ZRC}/zaakobjecten/1"
    [sent] = esuite.seen
    assert sent.url.path == "/zgw-apis-provider/zrc/api/v1/zaakobjecten"
    assert parse_qsl(sent.url.query.decode()) == [("zaak", f"{E_ZRC}/zaken/{ZAAK_UUID}")]
    # Both the compat and the usual root are read as the e-Suite's.
    assert orjson.loads(sent.content) == {"zaak": f"{E_ZRC}/zaken/{ZAAK_UUID}", "object": f"{E_ZRC}/zaken/{ZAAK_UUID}"}


async def test_zrc_zaakcontactmomenten_is_answered_locally():
    esuite = Esuite(lambda r: httpx.Response(500))
    async with client_for(esuite) as client:
        response = await client.post("/zgw-apis-provider/zrc/api/v1/zaakcontactmomenten", json={"zaak": "x"})
    assert response.status_code == 204
    assert esuite.seen == []


async def test_ztc_pass_through_detail_and_root():
    zaaktype = {
        "url": f"{E_ZTC}/zaaktypen/{ZAAKTYPE_UUID}",
        "catalogus": f"{E_ZTC}/catalogussen/1",
        "omschrijving": "Melding",
    }
    esuite = Esuite(
        lambda r: httpx.Response(
            200, json=zaaktype if r.url.path.endswith(ZAAKTYPE_UUID) else {"zaaktypen": f"{E_ZTC}/zaaktypen"}
        )
    )
    async with client_for(esuite) as client:
        detail = await client.get(f"/zgw-apis-provider/ztc/api/v1/zaaktypen/{ZAAKTYPE_UUID}")
        root = await client.get("/zgw-apis-provider/ztc/api/v1")
    assert detail.json() == {
        "url": f"{A_ZTC}/zaaktypen/{ZAAKTYPE_UUID}",
        "catalogus": f"{A_ZTC}/catalogussen/1",
        "omschrijving": "Melding",
    }
    assert root.json() == {"zaaktypen": f"{A_ZTC}/zaaktypen"}
    assert [r.url.path for r in esuite.seen] == [
        f"/zgw-apis-provider/ztc/api/v1/zaaktypen/{ZAAKTYPE_UUID}",
        "/zgw-apis-provider/ztc/api/v1",
    ]


async def test_drc_pass_through_list_and_download():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/download"):
            return httpx.Response(
                200, stream=httpx.ByteStream(b"%PDF-1.7 bytes"), headers={"Content-Type": "application/pdf"}
            )
        return httpx.Response(
            200,
            json={
                "results": [
                    {
                        "url": f"{E_DRC}/enkelvoudiginformatieobjecten/{DOC_UUID}",
                        "inhoud": f"{E_DRC}/enkelvoudiginformatieobjecten/{DOC_UUID}/download",
                    }
                ]
            },
        )

    esuite = Esuite(answer)
    async with client_for(esuite) as client:
        listed = await client.get(
            f"/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten?zaak={quote(A_ZRC + '/zaken/' + ZAAK_UUID, safe='')}"
        )
        download = await client.get(f"/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten/{DOC_UUID}/download")
    assert listed.json() == {
        "results": [
            {
                "url": f"{A_DRC}/enkelvoudiginformatieobjecten/{DOC_UUID}",
                "inhoud": f"{A_DRC}/enkelvoudiginformatieobjecten/{DOC_UUID}/download",
            }
        ]
    }
    assert parse_qsl(esuite.seen[0].url.query.decode()) == [("zaak", f"{E_ZRC}/zaken/{ZAAK_UUID}")]
    assert download.content == b"%PDF-1.7 bytes" and download.headers["content-type"] == "application/pdf"
    assert esuite.seen[1].url.path == f"/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten/{DOC_UUID}/download"


async def test_the_usual_roots_still_emit_the_usual_urls_and_read_compat_urls():
    esuite = Esuite(lambda r: httpx.Response(200, json=esuite_zaak()))
    async with client_for(esuite) as client:
        response = await client.get(
            f"/zaken/api/v1/zaken?zaaktype={quote(A_ZTC + '/zaaktypen/' + ZAAKTYPE_UUID, safe='')}"
        )
        detail = await client.get(f"/zaken/api/v1/zaken/{ZAAK_UUID}")
    assert response.status_code == 200
    assert detail.json() == {
        "url": f"{ADAPTER}/zaken/api/v1/zaken/{ZAAK_UUID}",
        "identificatie": "Z25.000123",
        "identificatieIntern": "Z25.000123",
        "zaaktype": f"{ADAPTER}/catalogi/api/v1/zaaktypen/{ZAAKTYPE_UUID}",
        "zaakinformatieobjecten": [f"{ADAPTER}/documenten/api/v1/enkelvoudiginformatieobjecten/{DOC_UUID}"],
        "klant": f"{A_KLANTEN}/klanten/{KLANT_UUID}",
    }
    assert parse_qsl(esuite.seen[0].url.query.decode()) == [("zaaktype", f"{E_ZTC}/zaaktypen/{ZAAKTYPE_UUID}")]


@pytest.mark.parametrize(
    "root", ["/zgw-apis-provider/zrc/api/v1", "/zgw-apis-provider/ztc/api/v1", "/zgw-apis-provider/drc/api/v1"]
)
async def test_compat_roots_need_a_kiss_token(root):
    esuite = Esuite(lambda r: httpx.Response(200, json={}))
    app = create_app(fixture_settings(), esuite_transport=httpx.MockTransport(esuite))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as client:
        response = await client.get(root + "/x")
    assert response.status_code == 401
    assert esuite.seen == []


async def test_unknown_neighbours_of_the_compat_roots_are_404():
    esuite = Esuite(lambda r: httpx.Response(200, json={}))
    async with client_for(esuite) as client:
        for path in (
            "/zgw-apis-provider/brc/api/v1/besluiten",
            "/zgw-apis-provider/zrc/api/v2/zaken",
            "/zgw-apis-provider",
        ):
            assert (await client.get(path)).status_code == 404, path
    assert esuite.seen == []
