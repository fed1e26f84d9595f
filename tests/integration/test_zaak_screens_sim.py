"""KISS opens the seeded zaak through the adapter, against the simulator (issue 14, item 7).

Exactly the calls KISS-frontend's zaaksysteem service makes for a zaak (through its BFF, whose
`/api/zaken`, `/api/catalogi` and `/api/documenten` are the adapter's roots), in its order:
the zaak, its zaaktype, its rollen (`rollen?zaak=<url>`, the URL not encoded), its status and
that status's statustype, its zaakinformatieobjecten, each document, and a download. The
simulator is configured as in the demo: its roots under the `/esuite` path prefix.
"""

from urllib.parse import quote

import pytest

from tests.conftest import ADAPTER, Stack, fixture_settings, kiss_headers

pytestmark = pytest.mark.anyio

ZAAK_UUID = "a177c7fa-bb70-4d42-9584-6b099e87512b"
ZAAK_URL = f"{ADAPTER}/zaken/api/v1/zaken/{ZAAK_UUID}"
DOCUMENT_URL = f"{ADAPTER}/documenten/api/v1/enkelvoudiginformatieobjecten/0c8e6f0a-3d2b-4f5e-8a17-2b9c4d6e8f10"


@pytest.fixture
async def demo_stack():
    stack = Stack(fixture_settings(ESUITE_BASE_URL="https://esuite.example.org/esuite"))
    yield stack
    await stack.aclose()


def last_segment(url: str) -> str:
    return url.split("/")[-1]  # as KISS does: `x.split("/").pop()`


def kiss_name(rol: dict) -> str:
    """KISS's getNamePerRoltype for the two betrokkeneTypes of the seed."""
    who = rol["betrokkeneIdentificatie"]
    if rol["betrokkeneType"] == "natuurlijk_persoon":
        parts = (who["voornamen"], who["voorvoegselGeslachtsnaam"], who["geslachtsnaam"])
    else:
        parts = (who["voorletters"], who["voorvoegselAchternaam"], who["achternaam"])
    return " ".join(part for part in parts if part)


async def test_the_seeded_zaak_opens_with_zaaktype_status_rollen_and_a_document(demo_stack):
    client, headers = demo_stack.client, kiss_headers()

    async def get(path: str):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        return response

    zaak = (await get(f"/zaken/api/v1/zaken/{ZAAK_UUID}")).json()
    assert (zaak["url"], zaak["identificatie"], zaak["omschrijving"]) == (
        ZAAK_URL,
        "Z25.000123",
        "Dakkapel Dorpsstraat 12",
    )

    zaaktype = (await get(f"/catalogi/api/v1/zaaktypen/{last_segment(zaak['zaaktype'])}")).json()
    assert (zaaktype["onderwerp"], zaaktype["omschrijving"]) == ("Dakkapel", "Omgevingsvergunning dakkapel")

    rollen = (await get(f"/zaken/api/v1/rollen?zaak={zaak['url']}")).json()
    assert (rollen["count"], rollen["next"], rollen["previous"]) == (2, None, None)
    by_role = {rol["omschrijvingGeneriek"]: kiss_name(rol) for rol in rollen["results"]}
    assert by_role == {"initiator": "Anna van Dijk", "behandelaar": "P. de Vries"}
    assert {rol["zaak"] for rol in rollen["results"]} == {ZAAK_URL}

    status = (await get(f"/zaken/api/v1/statussen/{last_segment(zaak['status'])}")).json()
    statustype = (await get(f"/catalogi/api/v1/statustypen/{last_segment(status['statustype'])}")).json()
    assert statustype["omschrijving"] == "In behandeling"

    links = (await get(f"/zaken/api/v1/zaakinformatieobjecten?zaak={quote(zaak['url'], safe='')}")).json()
    assert [link["informatieobject"] for link in links] == [DOCUMENT_URL]
    document_path = f"/documenten/api/v1/enkelvoudiginformatieobjecten/{last_segment(links[0]['informatieobject'])}"
    document = (await get(document_path)).json()
    download = await get(document_path + "/download")

    assert {
        key: document[key]
        for key in ("identificatie", "titel", "bestandsnaam", "creatiedatum", "vertrouwelijkheidaanduiding", "formaat")
    } == {
        "identificatie": "DOC-2025-000045",
        "titel": "Tekening dakkapel",
        "bestandsnaam": "tekening-dakkapel.pdf",
        "creatiedatum": "2025-06-01",
        "vertrouwelijkheidaanduiding": "openbaar",
        "formaat": "application/pdf",
    }
    assert document["inhoud"] == DOCUMENT_URL + "/download"  # on the adapter, not the e-Suite
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="tekening-dakkapel.pdf"'
    assert download.content.startswith(b"%PDF-1.4\n") and download.content.endswith(b"%%EOF\n")
    assert document["bestandsomvang"] == len(download.content)

    # The e-Suite got the zaak URL as its own, under the demo's prefix, with the user's identity.
    [rollen_call] = demo_stack.upstream_requests("GET", "/zrc/api/v1/rollen")
    assert rollen_call["query"] == [
        ["zaak", f"https://esuite.example.org/esuite/zgw-apis-provider/zrc/api/v1/zaken/{ZAAK_UUID}"]
    ]
    assert {entry["user_id"] for entry in demo_stack.upstream_requests()} == {"jjansen"}
    assert len(demo_stack.upstream_requests()) == 8
