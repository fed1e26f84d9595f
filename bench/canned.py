"""Canned e-Suite answers and KISS requests for the benchmark, generated (never read from disk).

Shapes follow esuite.md §3 (contacts, list envelope, klantcontactmomenten). Everything is
deterministic (seeded) so two runs send and answer the same bytes.
"""

from __future__ import annotations

import json
import random
import uuid
from urllib.parse import quote

CM = "/contactmomenten-api-provider/api/v1"
KC = "/klanten-api-provider/api/v1"
DRC = "/zgw-apis-provider/drc/api/v1"
PAGE_SIZE = 50
DOWNLOAD_BYTES = 20 * 1024 * 1024
DOCUMENT_UUID = "5d1f6f2b-8d0e-4c3a-9f55-3b9a1c7e2d10"
KLANT_UUID = "d72e7265-3b76-4410-a9aa-54e20528a3f4"
PHONE = "0612345678"
TYPES = ("Terugbelverzoek", "Contactverzoek")
INTERNE_TAAK_TYPE = "https://objecttypen.bench.example/api/v2/objecttypes/interne-taak"

_AFDELINGEN = ("Burgerzaken", "Afval", "Beheer openbare ruimte", "Belastingen", "Vergunningen")
_KANALEN = ("Telefoon", "E-mail", "Balie", "Chat")
_MEDEWERKERS = (("jjansen", "Jan Jansen"), ("mbakker", "Mila Bakker"), ("pdevries", "Pieter de Vries"))
_NAMEN = ("Anna van Dijk", "Fatima Bakker", "Kees de Groot", "Sanne Visser", "Mohamed El Amrani")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(bytes=rng.randbytes(16), version=4))


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _contact(rng: random.Random, base: str, index: int, contactverzoek: bool) -> dict:
    afdeling = _AFDELINGEN[index % len(_AFDELINGEN)]
    user, name = _MEDEWERKERS[index % len(_MEDEWERKERS)]
    day = 1 + index % 28
    contact = {
        "url": f"{base}{CM}/contactmomenten/{_uuid(rng)}",
        "bronorganisatie": "001234567",
        "identificatie": f"{1000 + index}-2025",
        "registratiedatum": f"2025-03-{day:02d}T{8 + index % 9:02d}:{index % 60:02d}:17.220+01:00",
        "kanaal": _KANALEN[index % len(_KANALEN)],
    }
    if contactverzoek:
        klant = _NAMEN[index % len(_NAMEN)]
        contact.update(
            {
                "type": TYPES[index % 2],
                "onderwerp": f"afd:{afdeling}",
                "tekst": f"{afdeling} - vraag {index}",
                "antwoord": "Klant wil teruggebeld worden.",
                "status": "nieuw",
                "toelichting": f"Contact opnemen met: {klant}\nGraag voor 16:00 terugbellen.\n\nKenmerk {index}",
                "afdeling": afdeling,
                "contactgegevens": {
                    "emailadres": f"klant{index}@example.org",
                    "telefoonnummer": PHONE,
                    "telefoonnummerAlternatief": "0101234567",
                },
                "medewerkerIdentificatie": {"identificatie": user, "achternaam": name},
            }
        )
        if index % 3 == 0:
            contact["recentsteVoorlopigAntwoord"] = {
                "antwoord": "We vragen het na bij de vakafdeling.",
                "registratiedatum": f"2025-03-{day:02d}T15:30:00Z",
                "gebruikersnaam": "mbakker",
                "volledigeNaam": "Mila Bakker",
                "afdeling": afdeling,
            }
    else:
        contact.update(
            {
                "onderwerp": f"afd:{afdeling}",
                "tekst": f"{afdeling} - vraag {index}\nWat kost een spoedaanvraag?",
                "antwoord": "Klant gewezen op de website en de online afspraakmodule.",
                "status": "afgehandeld",
                "afdeling": afdeling,
                "medewerkerIdentificatie": {"identificatie": user, "achternaam": name},
            }
        )
        if index % 2 == 0:
            contact["objectcontactmomenten"] = []
    return contact


class Canned:
    """Every answer the fake e-Suite gives, pre-serialised for one upstream base URL."""

    def __init__(self, esuite_base: str) -> None:
        rng = random.Random(8)
        self.base = esuite_base
        klant_url = f"{esuite_base}{KC}/klanten/{KLANT_UUID}"
        self.klant_page = dumps(
            {
                "count": 137,
                "next": f"{esuite_base}{CM}/contactmomenten?klant={quote(klant_url, safe='')}&page=2",
                "previous": None,
                "results": [_contact(rng, esuite_base, i, contactverzoek=i % 4 == 0) for i in range(PAGE_SIZE)],
            }
        )
        verzoeken = [_contact(rng, esuite_base, i, contactverzoek=True) for i in range(PAGE_SIZE)]
        self.verzoeken_page = dumps(
            {
                "count": 50 * 3,
                "next": f"{esuite_base}{CM}/contactmomenten?page=2&telefoonnummerOfEmailadres={PHONE}"
                "&type=Terugbelverzoek&type=Contactverzoek",
                "previous": None,
                "results": verzoeken,
            }
        )
        # klantcontactmomenten?contactmoment=<url>: one link to a klant per contact.
        self.klant_links = {c["url"]: self.klant_link(c["url"], rng) for c in verzoeken}
        self.created = [dumps(_created(rng, esuite_base, i)) for i in range(256)]
        self.empty_page = dumps({"count": 0, "next": None, "previous": None, "results": []})
        self.not_found = dumps({"type": "about:blank", "code": "not_found", "title": "Niet gevonden.", "status": 404})

    def klant_link(self, contact_url: str, rng: random.Random | None = None) -> bytes:
        rng = rng or random.Random(contact_url)
        return dumps(
            {
                "count": 1,
                "next": None,
                "previous": None,
                "results": [
                    {
                        "url": f"{self.base}{CM}/klantcontactmomenten/{_uuid(rng)}",
                        "contactmoment": contact_url,
                        "klant": f"{self.base}{KC}/klanten/{_uuid(rng)}",
                        "rol": "gesprekspartner",
                    }
                ],
            }
        )


def _created(rng: random.Random, base: str, index: int) -> dict:
    return {
        "url": f"{base}{CM}/contactmomenten/{_uuid(rng)}",
        "bronorganisatie": "001234567",
        "identificatie": f"{5000 + index}-2025",
        "registratiedatum": "2025-03-18T11:02:17.220+01:00",
        "kanaal": "Telefoon",
        "type": "Terugbelverzoek",
        "onderwerp": "afd:Beheer openbare ruimte",
        "tekst": "Stoeptegels Dorpsstraat",
        "antwoord": "Melding over losliggende stoeptegels.",
        "status": "nieuw",
        "toelichting": "Contact opnemen met: Fatima Bakker\nGraag voor 16:00 terugbellen.",
        "afdeling": "Beheer openbare ruimte",
        "contactgegevens": {"emailadres": "f.bakker@example.org", "telefoonnummer": PHONE},
        "medewerkerIdentificatie": {"identificatie": "jjansen", "achternaam": "Jan Jansen"},
    }


# --- KISS side --------------------------------------------------------------------------------

UNIQUE_MARK = "@@UNIQUE@@"


def contactverzoek_body() -> str:
    """A KISS v1 contactverzoek POST; UNIQUE_MARK is replaced per request (unique bodies)."""
    body = {
        "bronorganisatie": "001234567",
        "registratiedatum": "2025-03-18T10:02:17.220Z",
        "kanaal": "Telefoon",
        "tekst": "Melding over losliggende stoeptegels.",
        "onderwerpLinks": [],
        "initiatiefnemer": "klant",
        "specifiekevraag": "Stoeptegels Dorpsstraat",
        "gespreksresultaat": "Contactverzoek gemaakt",
        "verantwoordelijkeAfdeling": "Beheer openbare ruimte",
        "startdatum": "2025-03-18T09:58:02.114Z",
        "einddatum": "2025-03-18T10:02:17.220Z",
        "voorkeurskanaal": "",
        "voorkeurstaal": "",
        "medewerker": "",
        "status": "te verwerken",
        "toelichting": f"Graag voor 16:00 terugbellen. Kenmerk {UNIQUE_MARK}",
        "actor": {
            "naam": "Beheer openbare ruimte",
            "soortActor": "organisatorische eenheid",
            "identificatie": "bor",
            "typeOrganisatorischeEenheid": "afdeling",
        },
        "betrokkene": {
            "rol": "klant",
            "persoonsnaam": {"voornaam": "Fatima", "achternaam": "Bakker"},
            "digitaleAdressen": [
                {"adres": "f.bakker@example.org", "omschrijving": "e-mailadres", "soortDigitaalAdres": "email"},
                {"adres": PHONE, "omschrijving": "telefoonnummer", "soortDigitaalAdres": "telefoonnummer"},
            ],
        },
        "medewerkerIdentificatie": {"achternaam": "Jansen", "identificatie": "jjansen", "voorletters": "Jan"},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
