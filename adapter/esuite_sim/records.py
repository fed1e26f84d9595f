"""The simulator's records and how each is printed: contacts, links, klanten, zaken (esuite.md §3, §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from adapter.esuite_sim.dates import format_amsterdam


@attrs.define
class Roots:
    cm: str
    kc: str
    zrc: str
    ztc: str
    drc: str

    @classmethod
    def from_base(cls, base_url: str) -> Roots:
        return cls(
            cm=f"{base_url}/contactmomenten-api-provider/api/v1",
            kc=f"{base_url}/klanten-api-provider/api/v1",
            zrc=f"{base_url}/zgw-apis-provider/zrc/api/v1",
            ztc=f"{base_url}/zgw-apis-provider/ztc/api/v1",
            drc=f"{base_url}/zgw-apis-provider/drc/api/v1",
        )

    def fill(self, template: str) -> str:
        return template.format(cm=self.cm, kc=self.kc, zrc=self.zrc, ztc=self.ztc, drc=self.drc)


@attrs.define
class VoorlopigAntwoord:
    antwoord: str
    registratiedatum: str  # printed verbatim, as the e-Suite does
    instant: datetime
    gebruikersnaam: str | None = None
    volledigeNaam: str | None = None
    afdeling: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"antwoord": self.antwoord, "registratiedatum": self.registratiedatum}
        for key in ("gebruikersnaam", "volledigeNaam", "afdeling"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


# Output order of a contact (fixtures); None = absent.
CONTACT_KEYS = (
    "kanaal",
    "type",
    "onderwerp",
    "tekst",
    "antwoord",
    "status",
    "toelichting",
    "behandelaar",
    "afdeling",
    "groep",
    "contactgegevens",
    "medewerkerIdentificatie",
)


@attrs.define
class Contact:
    uuid: str
    identificatie: str
    instant: datetime
    frac: str
    tekst: str
    status: str
    sort_at: datetime  # list order: newest first (seeded contacts: pinned, see seed.py)
    seq: int
    kanaal: str | None = None
    type: str | None = None
    onderwerp: str | None = None
    antwoord: str | None = None
    toelichting: str | None = None
    behandelaar: dict[str, str] | None = None
    afdeling: str | None = None
    groep: str | None = None
    contactgegevens: dict[str, str] | None = None
    medewerkerIdentificatie: dict[str, str] | None = None
    voorlopige: list[VoorlopigAntwoord] = attrs.Factory(list)
    allowed_users: tuple[str, ...] | None = None  # §8.4; never printed
    extra: dict[str, Any] = attrs.Factory(dict)  # seeded quirks, printed last

    def to_json(self, url: str, bronorganisatie: str, *, with_history: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": url,
            "bronorganisatie": bronorganisatie,
            "identificatie": self.identificatie,
            "registratiedatum": format_amsterdam(self.instant, self.frac),
        }
        for key in CONTACT_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = dict(value) if isinstance(value, dict) else value
        history = sorted(self.voorlopige, key=lambda va: va.instant, reverse=True)
        if history:
            out["recentsteVoorlopigAntwoord"] = history[0].to_json()
            if with_history:
                out["voorlopigeAntwoorden"] = [va.to_json() for va in history]
        out.update(self.extra)
        return out


@attrs.define
class Link:
    """A klantcontactmoment (target = klant URL) or objectcontactmoment (target = object URL)."""

    uuid: str
    contactmoment: str
    target: str
    seq: int


@attrs.define
class Klant:
    uuid: str
    klantnummer: str
    id_kind: str  # inpBsn | innNnpId | vestigingsNummer
    id_value: str
    names: dict[str, str | None]
    emailadres: str | None = None
    telefoonnummer: str | None = None
    telefoonnummerAlternatief: str | None = None

    SUBJECT_TYPES = {
        "inpBsn": "natuurlijk_persoon",
        "innNnpId": "niet_natuurlijk_persoon",
        "vestigingsNummer": "vestiging",
    }

    def to_json(self, url: str, bronorganisatie: str) -> dict[str, Any]:
        out: dict[str, Any] = {"url": url, "bronorganisatie": bronorganisatie, "klantnummer": self.klantnummer}
        if self.id_kind == "inpBsn":
            out.update({k: self.names.get(k) for k in ("voornaam", "voorvoegselAchternaam", "achternaam")})
        else:
            out["bedrijfsnaam"] = self.names.get("bedrijfsnaam")
        out.update(
            emailadres=self.emailadres,
            telefoonnummer=self.telefoonnummer,
            telefoonnummerAlternatief=self.telefoonnummerAlternatief,
            subjectType=self.SUBJECT_TYPES[self.id_kind],
            subjectIdentificatie={self.id_kind: self.id_value},
        )
        return out


@attrs.define
class Zaak:
    uuid: str
    data: dict[str, Any]
    bsns: tuple[str, ...] = ()
