"""Seed data of the e-Suite simulator (esuite.md §8.6). Everything here is fake.

The contacts, klanten, links and the zaak reproduce the fixture answers in
``fixtures/esuite/`` (same uuids, identificaties, fields and list order). URLs are written
with ``{cm}``, ``{kc}``, ``{zrc}`` and ``{ztc}`` placeholders for the configured roots.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class SeedKlant(TypedDict):
    """The fields of a records.Klant but its names, which come from EXTERNAL_REGISTER."""

    uuid: str
    klantnummer: str
    id_kind: str
    id_value: str
    emailadres: str | None
    telefoonnummer: str | None
    telefoonnummerAlternatief: str | None


class SeedBeantwoorder(TypedDict, total=False):
    gebruikersnaam: str
    volledigeNaam: str
    afdeling: str


class SeedVoorlopigAntwoord(SeedBeantwoorder):
    antwoord: str
    registratiedatum: str


class SeedContact(TypedDict):
    """A records.Contact as seeded: the `records.CONTACT_KEYS` present, the rest by name."""

    uuid: str
    identificatie: str
    registratiedatum: str
    tekst: str
    status: str
    kanaal: NotRequired[str]
    type: NotRequired[str]
    onderwerp: NotRequired[str]
    antwoord: NotRequired[str]
    toelichting: NotRequired[str]
    behandelaar: NotRequired[dict[str, str]]
    afdeling: NotRequired[str]
    groep: NotRequired[str]
    contactgegevens: NotRequired[dict[str, str]]
    medewerkerIdentificatie: NotRequired[dict[str, str]]
    voorlopigeAntwoorden: NotRequired[list[SeedVoorlopigAntwoord]]
    allowed_users: NotRequired[tuple[str, ...]]
    extra: NotRequired[dict[str, Any]]


class SeedZaak(TypedDict):
    uuid: str
    bsns: tuple[str, ...]  # rollen: betrokkene natuurlijk persoon (never printed)
    data: dict[str, str]


KANALEN = (
    "Telefoon",
    "telefoon",
    "E-mail",
    "e-mail",
    "Balie",
    "Live chat",
    "live chat",
    "contactformulier",
    "WhatsApp",
    "Twitter",
    "Facebook",
    "LinkedIn",
    "Instagram",
)
CONTACT_TYPES = ("Terugbelverzoek", "Contactverzoek")
AFDELINGEN = (
    "Burgerzaken",
    "Beheer openbare ruimte",
    "Vergunningen",
    "Publiekszaken",
    "Afval",
    "Algemeen",
)
GROEPEN = ("Team Afval", "Team Vergunningen Wabo", "Team Handhaving")

# gebruikersnaam -> (volledige naam, e-mail address, primary afdeling). Users may also be
# named by their e-mail address (KISS's USE_MEDEWERKEREMAIL, mapping.md P-10).
USERS: dict[str, tuple[str, str, str]] = {
    "jjansen": ("Jan Jansen", "j.jansen@example.org", "Burgerzaken"),
    "pdvries": ("Piet de Vries", "p.devries@example.org", "Vergunningen"),
    "mbakker": ("Mila Bakker", "m.bakker@example.org", "Afval"),
    "kcc01": ("KCC Medewerker", "kcc01@example.org", "Publiekszaken"),
}

# The "external register" (BRP / KvK) that POST /klanten copies from.
EXTERNAL_REGISTER: dict[tuple[str, str], dict[str, str]] = {
    ("inpBsn", "999993653"): {"voornaam": "Anna", "voorvoegselAchternaam": "van", "achternaam": "Dijk"},
    ("inpBsn", "999990627"): {"voornaam": "Kees", "voorvoegselAchternaam": "van", "achternaam": "Dijk"},
    ("innNnpId", "69599084"): {"bedrijfsnaam": "Van Dijk Bouw B.V."},
    ("vestigingsNummer", "000012345678"): {"bedrijfsnaam": "Bakkerij De Korenschoof"},
}

KLANTEN: tuple[SeedKlant, ...] = (
    {
        "uuid": "d72e7265-3b76-4410-a9aa-54e20528a3f4",
        "klantnummer": "10000231",
        "id_kind": "inpBsn",
        "id_value": "999993653",
        "emailadres": "anna.vandijk@example.org",
        "telefoonnummer": "0612345678",
        "telefoonnummerAlternatief": None,
    },
)

_JJANSEN = {"identificatie": "jjansen", "achternaam": "Jan Jansen"}
_PDVRIES_VA: SeedBeantwoorder = {
    "gebruikersnaam": "pdvries",
    "volledigeNaam": "Piet de Vries",
    "afdeling": "Vergunningen",
}

# In list order: the fixtures are NOT newest first (contactmomenten-page-klant.json is
# "oldest first"), so seeded contacts keep this order through a pinned sort instant
# (store.py); contacts created later sort by registratiedatum. Keys absent = field absent.
CONTACTS: tuple[SeedContact, ...] = (
    {
        "uuid": "b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3",
        "identificatie": "1187-2025",
        "registratiedatum": "2025-03-04T11:00:00+01:00",
        "kanaal": "Telefoon",
        "type": "Terugbelverzoek",
        "onderwerp": "grp:Team Afval",
        "tekst": "Afval - Container niet geleegd",
        "antwoord": "Klant belt voor de tweede keer.",
        "status": "nieuw",
        "toelichting": "Contact opnemen met: Anna van Dijk\nOmschrijving tweede telefoonnummer: kantoor\n"
        "Container is twee weken niet geleegd.",
        "groep": "Team Afval",
        "contactgegevens": {
            "emailadres": "anna.vandijk@example.org",
            "telefoonnummer": "0612345678",
            "telefoonnummerAlternatief": "0101234567",
        },
        "medewerkerIdentificatie": _JJANSEN,
        "voorlopigeAntwoorden": [
            {
                "antwoord": "We vragen bij de inzameldienst na wanneer de container wordt geleegd.",
                "registratiedatum": "2025-03-05T08:30:00Z",
                "gebruikersnaam": "mbakker",
                "volledigeNaam": "Mila Bakker",
                "afdeling": "Afval",
            },
        ],
    },
    {
        "uuid": "6b49ddb3-f8be-452d-92ba-f780ee8d49db",
        "identificatie": "2044-2025",
        "registratiedatum": "2025-06-10T14:05:00+02:00",
        "kanaal": "Telefoon",
        "type": "Contactverzoek",
        "onderwerp": "afd:Vergunningen",
        "tekst": "Dakkapel - Vergunning nodig?",
        "antwoord": "N.v.t.",
        "status": "in_behandeling",
        "toelichting": "Contact opnemen met: Kees van Dijk (Van Dijk Bouw B.V.)\n"
        "Omschrijving tweede telefoonnummer: telefoonnummer\n"
        "Klant wil weten of voor een dakkapel een vergunning nodig is.",
        "behandelaar": {"gebruikersnaam": "pdvries", "volledigeNaam": "Piet de Vries"},
        "afdeling": "Vergunningen",
        "contactgegevens": {"telefoonnummer": "0612345678", "telefoonnummerAlternatief": "0207654321"},
        "medewerkerIdentificatie": _JJANSEN,
        "voorlopigeAntwoorden": [
            # as in contactmoment-detail-contactverzoek.json (a date without an offset)
            {
                "antwoord": "Tekening ontvangen; beoordeling volgt.",
                "registratiedatum": "2025-06-12T16:45:00",
                **_PDVRIES_VA,
            },
            {
                "antwoord": "Tekening opgevraagd bij de klant.",
                "registratiedatum": "2025-06-11T12:05:00Z",
                **_PDVRIES_VA,
            },
        ],
        "allowed_users": ("pdvries", "jjansen"),
    },
    {
        "uuid": "141a574c-6013-48f9-9d3d-db0e887e2603",
        "identificatie": "1690-2025",
        "registratiedatum": "2025-05-20T12:02:17.220+02:00",
        "kanaal": "Telefoon",
        "type": "Terugbelverzoek",
        "onderwerp": "afd:Burgerzaken",
        "tekst": "Stoeptegels Dorpsstraat",
        "antwoord": "Melding over losliggende stoeptegels.",
        "status": "nieuw",
        "toelichting": "",
        "afdeling": "Burgerzaken",
        "contactgegevens": {"emailadres": "f.bakker@example.org", "telefoonnummer": "0612345678"},
        "medewerkerIdentificatie": _JJANSEN,
    },
    {
        # known only by onderwerp (no groep field) and a voorlopig antwoord without volledigeNaam
        "uuid": "9202e9b2-43d7-4554-88e7-4d7d7cbc4049",
        "identificatie": "1402-2025",
        "registratiedatum": "2025-04-01T09:15:00+02:00",
        "kanaal": "Balie",
        "type": "Terugbelverzoek",
        "onderwerp": "grp:Team Handhaving",
        "tekst": "Overlast melden",
        "antwoord": "N.v.t.",
        "status": "nieuw",
        "toelichting": "Overlast scooters Stationsplein. Bel na 17:00.",
        "contactgegevens": {"telefoonnummer": "0612345678"},
        "medewerkerIdentificatie": {"identificatie": "kcc01", "achternaam": "KCC Medewerker"},
        "voorlopigeAntwoorden": [
            {
                "antwoord": "Handhaving is ingelicht.",
                "registratiedatum": "2025-04-01T09:20:00Z",
                "gebruikersnaam": "kcc01",
            },
        ],
    },
    {
        "uuid": "b2272f29-1e69-411e-b853-1e0156652230",
        "identificatie": "0088-2025",
        "registratiedatum": "2025-01-15T10:12:00+01:00",
        "kanaal": "E-mail",
        "onderwerp": "afd:Afval",
        "tekst": "Afvalkalender",
        "antwoord": "Afvalkalender per e-mail toegestuurd.",
        "status": "afgehandeld",
        "afdeling": "Afval",
        "medewerkerIdentificatie": {"identificatie": "mbakker", "achternaam": "Mila Bakker"},
        # seen in practice (esuite.md N-7); reproduced from contactmomenten-page-klant.json
        "extra": {"objectcontactmomenten": []},
    },
    {
        # the contactmoment of contactmoment-created-plain.json, linked to the klant and the zaak
        "uuid": "cb7b21e1-708d-4ea3-8d81-147dd041f296",
        "identificatie": "1201-2025",
        "registratiedatum": "2025-05-20T11:14:03.512+02:00",
        "kanaal": "Telefoon",
        "onderwerp": "afd:Burgerzaken",
        "tekst": "Paspoort aanvragen - Kosten\nWat kost een spoedaanvraag?",
        "antwoord": "Klant gewezen op de online afspraakmodule.",
        "status": "afgehandeld",
        "afdeling": "Burgerzaken",
        "medewerkerIdentificatie": _JJANSEN,
    },
)

_KLANT = "{kc}/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
_ZAAK = "{zrc}/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"

# (link uuid, contact uuid, klant url)
KLANTCONTACTMOMENTEN: tuple[tuple[str, str, str], ...] = (
    ("09a14ded-6881-4261-a842-fd5fe7ee547f", "b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3", _KLANT),
    ("a7c0ddcb-9728-4952-b458-97940ff0eb10", "b2272f29-1e69-411e-b853-1e0156652230", _KLANT),
    ("c4be673e-df43-4ad5-b69d-222607ccdcd3", "cb7b21e1-708d-4ea3-8d81-147dd041f296", _KLANT),
)
# (link uuid, contact uuid, object url)
OBJECTCONTACTMOMENTEN: tuple[tuple[str, str, str], ...] = (
    ("4030b425-d4e0-43bc-befc-83ada595dff2", "cb7b21e1-708d-4ea3-8d81-147dd041f296", _ZAAK),
)

ZAKEN: tuple[SeedZaak, ...] = (
    {
        "uuid": "a177c7fa-bb70-4d42-9584-6b099e87512b",
        "bsns": ("999993653",),  # rollen: betrokkene natuurlijk persoon (never printed)
        "data": {
            "url": _ZAAK,
            "identificatie": "ZAAK-2025-0000123",
            "identificatieIntern": "Z25.000123",
            "bronorganisatie": "001234567",
            "omschrijving": "Dakkapel Dorpsstraat 12",
            "zaaktype": "{ztc}/zaaktypen/d66b54da-6b63-41af-b84c-e8e9c0349f20",
            "registratiedatum": "2025-06-01",
            "startdatum": "2025-06-01",
            "status": "{zrc}/statussen/b9f40574-5fe6-47ac-9c46-560cbbfbff8f",
        },
    },
)

# What KISS reads to open the zaak (KISS-frontend src/features/zaaksysteem/service.ts): its
# zaaktype (`onderwerp`, `omschrijving`), its status and that status's statustype
# (`omschrijving`), its rollen (`omschrijvingGeneriek` initiator / behandelaar with
# `betrokkeneType` and `betrokkeneIdentificatie`), its zaakinformatieobjecten (a plain array,
# `informatieobject`) and each document (`identificatie`, `titel`, `bestandsomvang`,
# `bestandsnaam`, `creatiedatum`, `vertrouwelijkheidaanduiding`, `formaat`) and its download.
ZAAKTYPE_UUID = "d66b54da-6b63-41af-b84c-e8e9c0349f20"
STATUS_UUID = "b9f40574-5fe6-47ac-9c46-560cbbfbff8f"
STATUSTYPE_UUID = "5d7a6b3c-2f41-4c8e-9a0b-7e6f1d2c3b4a"
DOCUMENT_UUID = "0c8e6f0a-3d2b-4f5e-8a17-2b9c4d6e8f10"
DOCUMENT_FILENAME = "tekening-dakkapel.pdf"
DOCUMENT_TEXT = "Tekening dakkapel Dorpsstraat 12 - fictief"

ZAAKTYPEN = (
    {
        "url": "{ztc}/zaaktypen/" + ZAAKTYPE_UUID,
        "identificatie": "ZT-OMGV-DAKKAPEL",
        "omschrijving": "Omgevingsvergunning dakkapel",
        "omschrijvingGeneriek": "Omgevingsvergunning",
        "vertrouwelijkheidaanduiding": "openbaar",
        "doel": "Beoordelen of een dakkapel vergund kan worden.",
        "aanleiding": "Aanvraag van een burger of bedrijf.",
        "onderwerp": "Dakkapel",
        "handelingInitiator": "Aanvragen",
        "handelingBehandelaar": "Behandelen",
        "doorlooptijd": "P56D",
        "servicenorm": "P42D",
        "statustypen": ["{ztc}/statustypen/" + STATUSTYPE_UUID],
        "beginGeldigheid": "2025-01-01",
        "concept": False,
    },
)
STATUSTYPEN = (
    {
        "url": "{ztc}/statustypen/" + STATUSTYPE_UUID,
        "omschrijving": "In behandeling",
        "omschrijvingGeneriek": "In behandeling",
        "statustekst": "Uw aanvraag is in behandeling.",
        "zaaktype": "{ztc}/zaaktypen/" + ZAAKTYPE_UUID,
        "volgnummer": 2,
        "isEindstatus": False,
        "informeren": False,
    },
)
STATUSSEN = (
    {
        "url": "{zrc}/statussen/" + STATUS_UUID,
        "uuid": STATUS_UUID,
        "zaak": _ZAAK,
        "statustype": "{ztc}/statustypen/" + STATUSTYPE_UUID,
        "datumStatusGezet": "2025-06-03T10:00:00+02:00",
        "statustoelichting": "",
    },
)
ROLLEN = (
    {
        "url": "{zrc}/rollen/6f2b9d4e-1a3c-4b5d-8e7f-9a0b1c2d3e4f",
        "uuid": "6f2b9d4e-1a3c-4b5d-8e7f-9a0b1c2d3e4f",
        "zaak": _ZAAK,
        "betrokkene": "",
        "betrokkeneType": "natuurlijk_persoon",
        "roltype": "{ztc}/roltypen/1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",
        "omschrijving": "Aanvrager",
        "omschrijvingGeneriek": "initiator",
        "roltoelichting": "Aanvrager van de vergunning",
        "registratiedatum": "2025-06-01T09:00:00+02:00",
        "indicatieMachtiging": "",
        "betrokkeneIdentificatie": {
            "inpBsn": "999993653",
            "geslachtsnaam": "Dijk",
            "voorvoegselGeslachtsnaam": "van",
            "voornamen": "Anna",
        },
    },
    {
        "url": "{zrc}/rollen/7a3c0e5f-2b4d-4c6e-9f80-0b1c2d3e4f50",
        "uuid": "7a3c0e5f-2b4d-4c6e-9f80-0b1c2d3e4f50",
        "zaak": _ZAAK,
        "betrokkene": "",
        "betrokkeneType": "medewerker",
        "roltype": "{ztc}/roltypen/2c3d4e5f-6071-4829-93a4-b5c6d7e8f9a0",
        "omschrijving": "Behandelaar",
        "omschrijvingGeneriek": "behandelaar",
        "roltoelichting": "Behandelaar van de aanvraag",
        "registratiedatum": "2025-06-02T09:00:00+02:00",
        "indicatieMachtiging": "",
        "betrokkeneIdentificatie": {
            "identificatie": "pdvries",
            "achternaam": "Vries",
            "voorletters": "P.",
            "voorvoegselAchternaam": "de",
        },
    },
)
ZAAKINFORMATIEOBJECTEN = (
    {
        "url": "{zrc}/zaakinformatieobjecten/8b4d1f60-3c5e-4d7f-a091-1c2d3e4f5061",
        "uuid": "8b4d1f60-3c5e-4d7f-a091-1c2d3e4f5061",
        "informatieobject": "{drc}/enkelvoudiginformatieobjecten/" + DOCUMENT_UUID,
        "zaak": _ZAAK,
        "aardRelatieWeergave": "Hoort bij, omgekeerd: kent",
        "titel": "Tekening dakkapel",
        "beschrijving": "",
        "registratiedatum": "2025-06-01T09:05:00+02:00",
    },
)
# `bestandsomvang` is filled in from the generated PDF (store.py).
ENKELVOUDIGINFORMATIEOBJECTEN = (
    {
        "url": "{drc}/enkelvoudiginformatieobjecten/" + DOCUMENT_UUID,
        "identificatie": "DOC-2025-000045",
        "bronorganisatie": "001234567",
        "creatiedatum": "2025-06-01",
        "titel": "Tekening dakkapel",
        "vertrouwelijkheidaanduiding": "openbaar",
        "auteur": "Anna van Dijk",
        "status": "definitief",
        "formaat": "application/pdf",
        "taal": "dut",
        "versie": 1,
        "bestandsnaam": DOCUMENT_FILENAME,
        "inhoud": "{drc}/enkelvoudiginformatieobjecten/" + DOCUMENT_UUID + "/download",
        "beschrijving": "Bouwtekening bij de aanvraag",
        "informatieobjecttype": "{ztc}/informatieobjecttypen/3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1",
        "locked": False,
    },
)


def pdf_document(text: str) -> bytes:
    """A one-page PDF 1.4 showing `text` (ASCII, no parentheses or backslashes), with a correct
    cross-reference table, so that a PDF reader opens the demo's download."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
