"""The zaak resources KISS reads, and the oldest-first list order (esuite.md §8, issue 14 item 7)."""

from __future__ import annotations

import re

import pytest

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.sim.conftest import BASE, CLIENT_ID, CM, KLANT_URL, SECRET, ZRC, client_for

ZTC = f"{BASE}/zgw-apis-provider/ztc/api/v1"
DRC = f"{BASE}/zgw-apis-provider/drc/api/v1"
ZAAK = f"{ZRC}/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"
DOCUMENT = f"{DRC}/enkelvoudiginformatieobjecten/0c8e6f0a-3d2b-4f5e-8a17-2b9c4d6e8f10"


async def test_zaaktype_status_and_statustype_of_the_seeded_zaak(client):
    zaak = (await client.get(ZAAK)).json()
    assert zaak["zaaktype"] == f"{ZTC}/zaaktypen/d66b54da-6b63-41af-b84c-e8e9c0349f20"
    zaaktype = (await client.get(zaak["zaaktype"])).json()
    assert (zaaktype["url"], zaaktype["onderwerp"], zaaktype["omschrijving"]) == (
        zaak["zaaktype"],
        "Dakkapel",
        "Omgevingsvergunning dakkapel",
    )
    status = (await client.get(zaak["status"])).json()
    assert (status["url"], status["zaak"]) == (zaak["status"], ZAAK)
    statustype = (await client.get(status["statustype"])).json()
    assert (statustype["omschrijving"], statustype["zaaktype"]) == ("In behandeling", zaak["zaaktype"])


async def test_rollen_are_a_page_filtered_on_the_zaak(client):
    page = (await client.get(f"{ZRC}/rollen", params={"zaak": ZAAK})).json()
    assert (page["count"], page["next"], page["previous"]) == (2, None, None)
    assert [(r["omschrijvingGeneriek"], r["betrokkeneType"]) for r in page["results"]] == [
        ("initiator", "natuurlijk_persoon"),
        ("behandelaar", "medewerker"),
    ]
    assert page["results"][0]["betrokkeneIdentificatie"] == {
        "inpBsn": "999993653",
        "geslachtsnaam": "Dijk",
        "voorvoegselGeslachtsnaam": "van",
        "voornamen": "Anna",
    }
    other = await client.get(f"{ZRC}/rollen", params={"zaak": f"{ZRC}/zaken/00000000-0000-4000-8000-000000000000"})
    assert other.json() == {"count": 0, "next": None, "previous": None, "results": []}


async def test_zaakinformatieobjecten_are_a_plain_array_naming_the_document(client):
    response = await client.get(f"{ZRC}/zaakinformatieobjecten", params={"zaak": ZAAK})
    assert [(link["zaak"], link["informatieobject"]) for link in response.json()] == [(ZAAK, DOCUMENT)]


async def test_the_document_and_its_download_a_valid_pdf(client):
    document = (await client.get(DOCUMENT)).json()
    download = await client.get(document["inhoud"])
    assert document["inhoud"] == DOCUMENT + "/download"
    assert (download.status_code, download.headers["content-type"]) == (200, "application/pdf")
    assert download.headers["content-disposition"] == 'attachment; filename="tekening-dakkapel.pdf"'
    pdf = download.content
    assert document["bestandsomvang"] == len(pdf)
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    # The cross-reference table points at each object, and startxref at the table.
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    offsets = [int(offset) for offset in re.findall(rb"(\d{10}) 00000 n ", pdf)]
    assert [pdf[offset:].split(b"\n", 1)[0] for offset in offsets] == [f"{n} 0 obj".encode() for n in range(1, 6)]
    assert b"(Tekening dakkapel Dorpsstraat 12 - fictief) Tj" in pdf


@pytest.mark.parametrize(
    "url",
    [
        f"{ZTC}/zaaktypen/00000000-0000-4000-8000-000000000000",
        f"{ZRC}/statussen/00000000-0000-4000-8000-000000000000",
        f"{DRC}/enkelvoudiginformatieobjecten/00000000-0000-4000-8000-000000000000/download",
        f"{ZTC}/roltypen/1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",  # not served
    ],
)
async def test_unknown_resources_are_404(client, url):
    response = await client.get(url)
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


async def test_the_resources_need_the_esuite_token(sim):
    async with client_for(sim) as client:
        client.headers.pop("Authorization")
        assert (await client.get(DOCUMENT + "/download")).status_code == 401


async def test_contactmomenten_oldest_first_on_request(make_sim):
    oldest_first = make_sim(list_order="oldest-first")
    async with client_for(oldest_first) as client:
        page = (await client.get(f"{CM}/contactmomenten", params={"klant": KLANT_URL})).json()
    assert [(c["identificatie"], c["registratiedatum"]) for c in page["results"]] == [
        ("0088-2025", "2025-01-15T10:12:00+01:00"),
        ("1187-2025", "2025-03-04T11:00:00+01:00"),
        ("1201-2025", "2025-05-20T11:14:03.512+02:00"),
    ]


def test_an_unknown_list_order_is_refused():
    with pytest.raises(ValueError, match="list_order"):
        create_simulator(SimulatorConfig(CLIENT_ID, SECRET, base_url=BASE, list_order="random"))
