"""P-2 … P-9 and P-13: a KISS contactmoment POST as the body of one e-Suite contact (mapping.md §2).

P-1, P-10 … P-12 and U-1 (contactverzoek or not, who handles it) are read in
contactmoment_body.py, because the V-rules measure the same values. `build_esuite_contact` runs
every V-rule first (validation.py); nothing is built from a body that fails one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapter.mapping.common import NOT_AN_OBJECT_REASON
from adapter.mapping.contactmoment_body import (
    EMAIL_SOORTEN,
    PERSOONSNAAM_FIELDS,
    TELEFOON_SOORTEN,
    Toewijzing,
    body_asks_for_contactverzoek,
    contactverzoek_toewijzing,
    digitaal_adres_soort,
    medewerker_identificatie,
    non_blank,
    object_or_empty,
    plain_toewijzing,
)
from adapter.mapping.validation import contactmoment_failures, invalid_contactmoment
from adapter.problems import InvalidParam

NIET_VAN_TOEPASSING = "N.v.t."
STATUS_NIEUW = "nieuw"
STATUS_AFGEHANDELD = "afgehandeld"


def build_esuite_contact(body: Any, contactverzoek_types: Sequence[str]) -> dict:
    """V-2 … V-9, then P-1 … P-13: the body of `POST {cm root}/contactmomenten`.

    `contactverzoek_types` is the configured `CONTACTVERZOEK_TYPES` (non-empty, config order).
    Raises a 400 `invalid` Problem listing every failure (V-1 is the caller's `parse_json_body`).
    """
    if not isinstance(body, dict):
        raise invalid_contactmoment([InvalidParam("nonFieldErrors", "invalid", NOT_AN_OBJECT_REASON)])
    cv = body_asks_for_contactverzoek(body)
    toewijzing = contactverzoek_toewijzing(body) if cv else plain_toewijzing(body)
    failures = contactmoment_failures(body, toewijzing, cv)
    if failures:
        raise invalid_contactmoment(failures)
    return _esuite_contact(body, toewijzing, contactverzoek_types[0] if cv else None)


def _digitale_adressen(body: dict) -> list[dict]:
    adressen = object_or_empty(body.get("betrokkene")).get("digitaleAdressen")
    return [adres for adres in adressen if isinstance(adres, dict)] if isinstance(adressen, list) else []


def _usable(adressen: list[dict], soorten: frozenset[str]) -> list[dict]:
    return [
        adres for adres in adressen if digitaal_adres_soort(adres) in soorten and non_blank(adres, "adres") is not None
    ]


def _contactgegevens(emails: list[dict], phones: list[dict]) -> dict | None:
    """P-8: only keys with a value (the e-Suite contract allows no nulls); None when empty."""
    gegevens = _without_none(
        (
            ("emailadres", emails[0]["adres"] if emails else None),
            ("telefoonnummer", phones[0]["adres"] if phones else None),
            ("telefoonnummerAlternatief", phones[1]["adres"] if len(phones) > 1 else None),
        )
    )
    return gegevens or None


def _toelichting(body: dict, phones: list[dict]) -> str | None:
    """P-9: the e-Suite has no place for the name, so it goes in the first line."""
    betrokkene = object_or_empty(body.get("betrokkene"))
    persoonsnaam = object_or_empty(betrokkene.get("persoonsnaam"))
    organisatie = non_blank(betrokkene, "organisatie")
    lines = []
    if non_blank(persoonsnaam, "voornaam") or non_blank(persoonsnaam, "achternaam") or organisatie:
        naam = [" " + part for f in PERSOONSNAAM_FIELDS if (part := non_blank(persoonsnaam, f))]
        lines.append("Contact opnemen met:" + "".join(naam) + (f" ({organisatie})" if organisatie else ""))
    omschrijving = non_blank(phones[1], "omschrijving") if len(phones) > 1 else None
    if omschrijving:
        lines.append("Omschrijving tweede telefoonnummer: " + omschrijving)
    if toelichting := non_blank(body, "toelichting"):
        lines.append(toelichting)
    return "\n".join(lines) or None


def _tekst(body: dict) -> str:
    """P-4."""
    specifieke_vraag = non_blank(body, "specifiekevraag") or non_blank(body, "specifiekeVraag")
    parts = [part for part in (non_blank(body, "vraag"), specifieke_vraag) if part]
    return "\n".join(parts) or NIET_VAN_TOEPASSING


def _esuite_contact(body: dict, toewijzing: Toewijzing, contactverzoek_type: str | None) -> dict:
    """P-2 … P-13; the key order is P-13's."""
    cv = contactverzoek_type is not None
    adressen = _digitale_adressen(body)
    phones = _usable(adressen, TELEFOON_SOORTEN)
    eenheid = toewijzing.eenheid
    medewerker = medewerker_identificatie(body)
    return _without_none(
        (
            ("registratiedatum", non_blank(body, "registratiedatum") or non_blank(body, "startdatum")),
            ("kanaal", non_blank(body, "kanaal")),
            ("type", contactverzoek_type),
            ("tekst", _tekst(body)),
            # The e-Suite requires an antwoord on a finished contact; KISS's note is that answer.
            ("antwoord", non_blank(body, "tekst") or NIET_VAN_TOEPASSING),
            ("status", STATUS_NIEUW if cv else STATUS_AFGEHANDELD),
            ("toelichting", _toelichting(body, phones) if cv else None),
            ("behandelaar", {"gebruikersnaam": toewijzing.behandelaar.value} if toewijzing.behandelaar else None),
            ("afdeling", eenheid.naam.value if eenheid and eenheid.soort == "afdeling" else None),
            ("groep", eenheid.naam.value if eenheid and eenheid.soort == "groep" else None),
            ("contactgegevens", _contactgegevens(_usable(adressen, EMAIL_SOORTEN), phones) if cv else None),
            ("medewerkerIdentificatie", {"identificatie": medewerker.value} if medewerker else None),
        )
    )


def _without_none(pairs: Sequence[tuple[str, Any]]) -> dict:
    return {key: value for key, value in pairs if value is not None}
