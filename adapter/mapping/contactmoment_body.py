"""KISS's contactmoment body as both the V and the P rules read it (mapping.md §2).

Which KISS field a value came from (V-6 names it), whether the body is a contactverzoek (P-1),
and who handles the contact (P-10, P-11, P-12, U-1): validation measures exactly the values
the P-rules send, so both read them here.
"""

from __future__ import annotations

from typing import Any

import attrs

from adapter.mapping.common import non_blank_str, trim

CONTACTVERZOEK_GEMAAKT = "Contactverzoek gemaakt"
PERSOONSNAAM_FIELDS = ("voornaam", "voorvoegselAchternaam", "achternaam")
EENHEID_SOORTEN = ("afdeling", "groep")  # the allow-list of P-10 / V-7, also the U-1 prefixes
EMAIL_SOORTEN = frozenset({"email", "e-mailadres"})  # `e-mailadres` up to KISS v0.5.x
TELEFOON_SOORTEN = frozenset({"telefoonnummer"})


@attrs.frozen(slots=True)
class Sourced:
    """A value that would be sent, with the KISS field it came from (the V-6 `name`)."""

    value: str
    source: str


@attrs.frozen(slots=True)
class Eenheid:
    soort: str  # `afdeling` or `groep`: the e-Suite key
    naam: Sourced


@attrs.frozen(slots=True)
class Toewijzing:
    """Who handles the contact (P-10, P-11)."""

    behandelaar: Sourced | None = None
    eenheid: Eenheid | None = None

    def is_empty(self) -> bool:
        return self.behandelaar is None and self.eenheid is None


def object_or_empty(value: Any) -> dict:
    """A wrongly typed value counts as absent for every rule after V-4 (V-4 reports it)."""
    return value if isinstance(value, dict) else {}


def non_blank(obj: dict, key: str) -> str | None:
    """`obj[key]` verbatim when it is a non-blank string, else None."""
    value = obj.get(key)
    return value if non_blank_str(value) else None


def body_asks_for_contactverzoek(body: Any) -> bool:
    """P-1: a KISS body with digitaleAdressen, an actor or `Contactverzoek gemaakt` asks for a
    contactverzoek (an e-Suite contact left open with a behandelaar); `interne_taak_read.is_contactverzoek`
    is the other question: is an e-Suite contact of a configured contactverzoek type."""
    if not isinstance(body, dict):
        return False
    betrokkene = body.get("betrokkene")
    gespreksresultaat = body.get("gespreksresultaat")
    return (
        (isinstance(betrokkene, dict) and isinstance(betrokkene.get("digitaleAdressen"), list))
        or isinstance(body.get("actor"), dict)
        or (isinstance(gespreksresultaat, str) and trim(gespreksresultaat) == CONTACTVERZOEK_GEMAAKT)
    )


def sourced(obj: dict, key: str, source: str) -> Sourced | None:
    value = non_blank(obj, key)
    return None if value is None else Sourced(value, source)


def medewerker_identificatie(body: dict) -> Sourced | None:
    """P-12."""
    return sourced(
        object_or_empty(body.get("medewerkerIdentificatie")), "identificatie", "medewerkerIdentificatie.identificatie"
    )


def is_medewerker(actor: dict) -> bool:
    soort = non_blank(actor, "soortActor")
    return soort is not None and trim(soort).lower() == "medewerker"


def contactverzoek_toewijzing(body: dict) -> Toewijzing:
    """P-10. `b.verantwoordelijkeAfdeling` is ignored for a contactverzoek."""
    actor = object_or_empty(body.get("actor"))
    if is_medewerker(actor):
        behandelaar = sourced(actor, "identificatie", "actor.identificatie")
        naam = sourced(actor, "naamOrganisatorischeEenheid", "actor.naamOrganisatorischeEenheid")
    else:
        behandelaar = None
        naam = sourced(actor, "naam", "actor.naam")
    return Toewijzing(behandelaar, _eenheid(naam, non_blank(actor, "typeOrganisatorischeEenheid")))


def _eenheid(naam: Sourced | None, soort: str | None) -> Eenheid | None:
    """P-10 step 3."""
    if naam is None:
        return None
    if soort is None:
        return _eenheid_from_prefix(naam)
    soort = trim(soort).lower()
    # An allow-list: no other e-Suite property can ever be set (V-7 refuses the rest).
    return Eenheid(soort, naam) if soort in EENHEID_SOORTEN else None


def _eenheid_from_prefix(naam: Sourced) -> Eenheid | None:
    """U-1: podiumd-adapter served `afdeling:`/`groep:`-prefixed names in Feb–May 2024."""
    trimmed = trim(naam.value)
    for soort in EENHEID_SOORTEN:
        prefix = soort + ":"
        if trimmed[: len(prefix)].lower() == prefix:
            rest = trim(trimmed[len(prefix) :])
            return Eenheid(soort, Sourced(rest, naam.source)) if rest else None
    return Eenheid("afdeling", naam)


def plain_toewijzing(body: dict) -> Toewijzing:
    """P-11: U-1 on `verantwoordelijkeAfdeling`; a plain contactmoment has no behandelaar."""
    naam = sourced(body, "verantwoordelijkeAfdeling", "verantwoordelijkeAfdeling")
    return Toewijzing(eenheid=_eenheid_from_prefix(naam) if naam else None)


def digitaal_adres_soort(adres: dict) -> str:
    soort = non_blank(adres, "soortDigitaalAdres")
    return "" if soort is None else trim(soort).lower()
