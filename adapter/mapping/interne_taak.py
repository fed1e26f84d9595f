"""Interne taak: e-Suite contactverzoek ↔ Objects-API object (mapping.md §5–§7, kiss-front.md §5).

Pure functions only. The routes fetch the e-Suite contacts and the klant look-ups, then call
these functions; ordering (C-5) and pagination links (C-6) are in `paging.py`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from adapter.mapping.common import (
    json_object,
    AMSTERDAM,
    OBJECTS_PATH,
    amsterdam_date,
    is_blank,
    is_uuid,
    last_path_segment,
    non_blank_str,
    parse_datetime,
    parse_json_body,
    trim,
)
from adapter.mapping.query import Params, first, page_number, unknown_parameters, values
from adapter.mapping.url_rewriter import UrlRewriter
from adapter.problems import InvalidParam, Problem, upstream_invalid_response

OBJECTTYPE_NOT_SERVED = "Dit objecttype wordt niet door de adapter bediend."

# --------------------------------------------------------------------------------------------
# kiss-front.md §5.1 — which object type a GET list asks for
# --------------------------------------------------------------------------------------------


class ObjectTypeRoute(enum.Enum):
    INTERNE_TAAK = "interne-taak"
    SMOELENBOEK = "smoelenboek"


def dispatch_object_type(
    pairs: Params, interne_taak_type: str, smoelenboek_type: str | None
) -> ObjectTypeRoute:
    """The handler of `GET /api/v2/objects` from its (first) `type` parameter, compared exactly."""
    object_type = first(pairs, "type")
    if is_blank(object_type):
        raise Problem(
            400,
            "invalid",
            detail="Het objecttype ontbreekt.",
            invalid_params=[InvalidParam("type", "required", "Geef het objecttype op in de parameter type.")],
        )
    if object_type == interne_taak_type:
        return ObjectTypeRoute.INTERNE_TAAK
    if smoelenboek_type is not None and object_type == smoelenboek_type:
        return ObjectTypeRoute.SMOELENBOEK
    # The object type is configuration, not personal data, so the detail may name it (§5.1).
    raise Problem(
        400,
        "objecttype-onbekend",
        detail=f"objecttype onbekend: {object_type}",
        invalid_params=[InvalidParam("type", "invalid_choice", OBJECTTYPE_NOT_SERVED)],
    )


def is_contactverzoek(contact: Any, contactverzoek_types: Sequence[str]) -> bool:
    """kiss-front.md §5.4: only contacts of a configured contactverzoek type are interne taken."""
    return isinstance(contact, dict) and contact.get("type") in contactverzoek_types


# --------------------------------------------------------------------------------------------
# I-rules — one e-Suite contact as an interne-taak object
# --------------------------------------------------------------------------------------------


def interne_taak_from_esuite(
    contact: Any, object_type: str, klant: str | None, urls: UrlRewriter, now: datetime
) -> dict:
    """I-1 … I-10. `klant` is K of I-8 in its final form: the caller passes the filter value
    as KISS sent it, or the result of `klant_from_lookup` (already rewritten to the adapter);
    it is not rewritten here."""
    uuid = _contact_uuid(contact)
    toelichting_raw = contact.get("toelichting")
    notitie = toelichting_raw if isinstance(toelichting_raw, str) else ""
    date = amsterdam_date(contact.get("registratiedatum"), now)
    data = {
        "contactmoment": urls.to_adapter(contact["url"]),
        "registratiedatum": contact.get("registratiedatum"),
        "status": contact.get("status"),
        "toelichting": _toelichting(notitie, _latest_voorlopig_antwoord(contact)),
        "actor": _actor(contact),
        "betrokkene": _betrokkene(notitie, contact.get("contactgegevens"), klant),
    }
    if isinstance(contact.get("medewerkerIdentificatie"), dict):
        data["medewerkerIdentificatie"] = contact["medewerkerIdentificatie"]
    return {
        "url": f"{urls.adapter_base}{OBJECTS_PATH}/{uuid}",
        "uuid": uuid,
        "type": object_type,
        "record": {
            "index": 1,
            "typeVersion": 1,
            "data": data,
            "geometry": None,
            "startAt": date,
            "endAt": None,
            "registrationAt": date,
            "correctionFor": None,
            "correctedBy": None,
        },
    }


def interne_taken_from_esuite(
    contacts: Sequence[Any],
    object_type: str,
    klant_filter: str | None,
    klanten_by_contact: Mapping[str, str | None],
    urls: UrlRewriter,
    now: datetime,
) -> list[dict]:
    """I-11: the rows of one e-Suite page in the e-Suite's order (C-5 is the caller's).

    I-8: with a klant filter every row gets it; otherwise the look-up result keyed by `c.url`.
    """
    return [
        interne_taak_from_esuite(
            contact,
            object_type,
            klant_filter if klant_filter is not None else _klant_of(contact, klanten_by_contact),
            urls,
            now,
        )
        for contact in contacts
    ]


def klant_lookup_urls(contacts: Sequence[Any], klant_filter: str | None) -> list[str]:
    """I-8 step 2: the distinct e-Suite contact URLs to look a klant up for (none with a filter)."""
    if klant_filter is not None:
        return []
    distinct: list[str] = []
    for contact in contacts:
        url = contact.get("url") if isinstance(contact, dict) else None
        if isinstance(url, str) and url not in distinct:
            distinct.append(url)
    return distinct


def klant_from_lookup(results: Any, contact_url: str, urls: UrlRewriter) -> str | None:
    """I-8 step 2: the klant of the first klantcontactmoment that belongs to this contact.

    `results` is the e-Suite page (its `results` are used) or the results array itself.
    Results naming another contact are skipped: if the e-Suite ignored the `contactmoment`
    filter, nobody else's klant may be attached.
    """
    if isinstance(results, dict):
        results = results.get("results")
    if not isinstance(results, list):
        return None
    for result in results:
        if not isinstance(result, dict) or not non_blank_str(result.get("klant")):
            continue
        if names_same_contact(result, contact_url):
            return urls.to_adapter(result["klant"])
    return None


def names_same_contact(link: dict, contact_url: str) -> bool:
    """I-8 / C-4: the link's `contactmoment` is absent or has the same last segment (any case)."""
    named = link.get("contactmoment")
    if named is None:
        return True
    return isinstance(named, str) and last_path_segment(named).lower() == last_path_segment(contact_url).lower()


def _klant_of(contact: Any, klanten_by_contact: Mapping[str, str | None]) -> str | None:
    url = contact.get("url") if isinstance(contact, dict) else None
    return klanten_by_contact.get(url) if isinstance(url, str) else None


def _contact_uuid(contact: Any) -> str:
    """I-1: the last non-empty path segment of `c.url`, as printed."""
    url = contact.get("url") if isinstance(contact, dict) else None
    uuid = last_path_segment(url) if isinstance(url, str) else ""
    if not uuid:
        raise upstream_invalid_response("Een e-Suite-contact heeft geen bruikbare url.")
    return uuid


VOORLOPIG_ANTWOORD_PREFIX = "Laatste voorlopige antwoord: "


def _latest_voorlopig_antwoord(contact: dict) -> dict | None:
    """I-5 step 1: `recentsteVoorlopigAntwoord`, else the first (newest) of `voorlopigeAntwoorden`."""
    recentste = contact.get("recentsteVoorlopigAntwoord")
    if isinstance(recentste, dict):
        return recentste
    antwoorden = contact.get("voorlopigeAntwoorden")
    if isinstance(antwoorden, list) and antwoorden and isinstance(antwoorden[0], dict):
        return antwoorden[0]
    return None


def voorlopig_antwoord_line(antwoord: dict | None) -> str:
    """I-5 step 2: `Laatste voorlopige antwoord: <a> (dd-MM-yyyy, HH:mm[, naam])`, or `""`."""
    if antwoord is None or not non_blank_str(antwoord.get("antwoord")):
        return ""
    moment = parse_datetime(antwoord.get("registratiedatum"))
    if moment is None:
        return ""
    parts = [moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y, %H:%M")]
    naam = _first_non_blank(antwoord.get("volledigeNaam"), antwoord.get("gebruikersnaam"))
    if naam is not None:
        parts.append(naam)
    return f"{VOORLOPIG_ANTWOORD_PREFIX}{antwoord['antwoord']} ({', '.join(parts)})"


def _toelichting(notitie: str, antwoord: dict | None) -> str:
    """I-5 steps 3–4."""
    line = voorlopig_antwoord_line(antwoord)
    if is_blank(notitie):
        return line
    return trim(f"{notitie}\n\n{line}")


def _first_non_blank(*candidates: Any) -> str | None:
    for candidate in candidates:
        if non_blank_str(candidate):
            return candidate
    return None


# e-Suite `onderwerp` prefixes written for a unit when no afdeling/groep field is set (I-6).
_ONDERWERP_UNITS = (("grp:", "groep"), ("afd:", "afdeling"))


def _organisatorische_eenheid(contact: dict) -> tuple[str, str] | None:
    """I-6: (type, naam) of the unit: groep, else afdeling, else the `onderwerp` prefix."""
    if non_blank_str(contact.get("groep")):
        return "groep", contact["groep"]
    if non_blank_str(contact.get("afdeling")):
        return "afdeling", contact["afdeling"]
    onderwerp = contact.get("onderwerp")
    if isinstance(onderwerp, str):
        for prefix, unit_type in _ONDERWERP_UNITS:
            if onderwerp.startswith(prefix) and non_blank_str(onderwerp[len(prefix):]):
                return unit_type, trim(onderwerp[len(prefix):])
    return None


def _actor(contact: dict) -> dict:
    """I-6: always an object, because 2024 KISS versions crash without one."""
    unit = _organisatorische_eenheid(contact)
    behandelaar = contact.get("behandelaar")
    if isinstance(behandelaar, dict) and non_blank_str(behandelaar.get("gebruikersnaam")):
        gebruikersnaam = behandelaar["gebruikersnaam"]
        actor = {
            "naam": _first_non_blank(behandelaar.get("volledigeNaam"), gebruikersnaam),
            "soortActor": "medewerker",
            "identificatie": gebruikersnaam,
        }
        if unit is not None:
            actor["typeOrganisatorischeEenheid"], actor["naamOrganisatorischeEenheid"] = unit
        return actor
    if unit is not None:
        unit_type, naam = unit
        return {
            "naam": f"{unit_type}:{naam}",
            "soortActor": "organisatorische eenheid",
            "identificatie": f"{unit_type}:{naam}",
            "typeOrganisatorischeEenheid": unit_type,
            "naamOrganisatorischeEenheid": naam,
        }
    return {"naam": "", "soortActor": "", "identificatie": ""}


# (e-Suite contactgegevens field, omschrijving, soortDigitaalAdres) — I-7, in output order.
_DIGITALE_ADRESSEN = (
    ("emailadres", "e-mailadres", "email"),
    ("telefoonnummer", "telefoonnummer", "telefoonnummer"),
    ("telefoonnummerAlternatief", "alternatief telefoonnummer", "telefoonnummer"),
)


def _digitale_adressen(contactgegevens: Any) -> list[dict]:
    """I-7."""
    if not isinstance(contactgegevens, dict):
        return []
    return [
        {"adres": contactgegevens[field], "omschrijving": omschrijving, "soortDigitaalAdres": soort}
        for field, omschrijving, soort in _DIGITALE_ADRESSEN
        if non_blank_str(contactgegevens.get(field))
    ]


CONTACT_OPNEMEN_MET = "Contact opnemen met:"


def _naam_en_organisatie(notitie: str) -> tuple[str, str | None]:
    """I-9: the name (and organisatie) P-9 wrote on the first line of the toelichting."""
    first_line = notitie.split("\n", 1)[0]
    if not first_line.startswith(CONTACT_OPNEMEN_MET + " "):
        return "", None
    rest = first_line[len(CONTACT_OPNEMEN_MET):]
    open_at = rest.rfind(" (")
    if rest.endswith(")") and open_at != -1:
        return trim(rest[:open_at]), rest[open_at + 2 : -1]
    return trim(rest), None


def _betrokkene(notitie: str, contactgegevens: Any, klant: str | None) -> dict:
    """I-9: `klant` and `organisatie` are left out, not null, when unknown (KISS's anonymous
    search drops every row that has a `klant` key)."""
    achternaam, organisatie = _naam_en_organisatie(notitie)
    betrokkene: dict[str, Any] = {"rol": "klant"}
    if klant is not None:
        betrokkene["klant"] = klant
    betrokkene["persoonsnaam"] = {"voornaam": "", "voorvoegselAchternaam": "", "achternaam": achternaam}
    if organisatie is not None:
        betrokkene["organisatie"] = organisatie
    betrokkene["digitaleAdressen"] = _digitale_adressen(contactgegevens)
    return betrokkene


# --------------------------------------------------------------------------------------------
# Q-rules — the Objects query of KISS as an e-Suite contactmomenten query
# --------------------------------------------------------------------------------------------

INTERNE_TAKEN_PARAMETERS = frozenset({"type", "data_attrs", "data_attr", "ordering", "page", "pageSize"})
ORDERINGS = {"record__data__registratiedatum": False, "-record__data__registratiedatum": True}
PAGE_SIZE_MAX = 500
OBJECTS_OPERATORS = frozenset({"exact", "icontains", "gt", "gte", "lt", "lte", "in"})
_ATTRIBUTE_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@attrs.frozen(slots=True)
class SupportedFilter:
    """Q-11: one supported filter expression prefix and the e-Suite parameter it becomes."""

    prefix: str
    esuite_parameter: str
    rewrite_to_esuite: bool

    @property
    def description(self) -> str:
        """`'<attribute path>' met operator '<operator>'` — never the value."""
        path, _, operator = self.prefix.removesuffix("__").rpartition("__")
        return f"'{path}' met operator '{operator}'"


KLANT_PARAMETER = "klant"
# In Q-14 order.
SUPPORTED_FILTERS = (
    SupportedFilter("betrokkene__klant__exact__", KLANT_PARAMETER, rewrite_to_esuite=True),
    SupportedFilter(
        "betrokkene__digitaleAdressen__icontains__", "telefoonnummerOfEmailadres", rewrite_to_esuite=False
    ),
)


@attrs.frozen(slots=True)
class InterneTakenQuery:
    upstream: Params
    """Q-14: the e-Suite `contactmomenten` query (encode with Q-5)."""
    klant_filter: str | None
    """The klant filter value exactly as KISS sent it (decoded); K of I-8 step 1."""
    descending: bool | None
    """`ordering`: True newest first, False oldest first, None keep the e-Suite's order."""


@attrs.frozen(slots=True)
class _Expression:
    parameter: str  # `data_attr` or `data_attrs`, as the client used it
    text: str


def parse_interne_taken_query(
    pairs: Params, contactverzoek_types: Sequence[str], urls: UrlRewriter
) -> InterneTakenQuery:
    """Q-6, Q-4, `ordering`/`pageSize` of kiss-front.md §5.3, then Q-10 … Q-14.

    Checked in that order; the first failing rule raises, with every entry of that rule.
    Nothing here needs the e-Suite, so a refused query never reaches it.
    """
    unknown_parameters(pairs, INTERNE_TAKEN_PARAMETERS)
    page = page_number(pairs)
    descending = _ordering_and_page_size(pairs)
    filters = _filters(pairs)
    upstream: Params = [("type", contactverzoek_type) for contactverzoek_type in contactverzoek_types]
    for supported in SUPPORTED_FILTERS:
        value = filters.get(supported.esuite_parameter)
        if value is not None:
            sent = urls.to_esuite(value) if supported.rewrite_to_esuite else value
            upstream.append((supported.esuite_parameter, sent))
    if page is not None:
        upstream.append(("page", str(page)))
    klant_filter = filters.get(KLANT_PARAMETER)
    return InterneTakenQuery(upstream=upstream, klant_filter=klant_filter, descending=descending)


def _ordering_and_page_size(pairs: Params) -> bool | None:
    """`ordering` (global across the e-Suite's pages, C-5) and `pageSize` (accepted, not forwarded) of §5.3."""
    failures: list[InvalidParam] = []
    orderings = values(pairs, "ordering")
    if any(ordering not in ORDERINGS for ordering in orderings):
        failures.append(
            InvalidParam(
                "ordering",
                "invalid",
                "Sorteren kan alleen op record__data__registratiedatum, oplopend of aflopend (-).",
            )
        )
    elif len(set(orderings)) > 1:
        failures.append(
            InvalidParam("ordering", "invalid", "De sortering is meer dan eens verschillend opgegeven.")
        )
    if any(not _is_page_size(page_size) for page_size in values(pairs, "pageSize")):
        failures.append(
            InvalidParam(
                "pageSize", "invalid", f"pageSize moet een geheel getal van 1 tot en met {PAGE_SIZE_MAX} zijn."
            )
        )
    if failures:
        raise Problem(400, "invalid", detail="Ongeldige query-parameters.", invalid_params=failures)
    return ORDERINGS[orderings[0]] if orderings else None


def _is_page_size(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and 1 <= int(raw) <= PAGE_SIZE_MAX


def _expressions(pairs: Params) -> list[_Expression]:
    """Q-10: `data_attrs` split on `,`, each `data_attr` whole, empty ones skipped, in order."""
    expressions: list[_Expression] = []
    for name, value in pairs:
        parts = value.split(",") if name == "data_attrs" else [value] if name == "data_attr" else []
        expressions.extend(_Expression(name, part) for part in parts if part)
    return expressions


def _supported_filter(expression: str) -> SupportedFilter | None:
    for supported in SUPPORTED_FILTERS:
        if expression.startswith(supported.prefix):
            return supported
    return None


def _filters(pairs: Params) -> dict[str, str]:
    """Q-11 … Q-13: e-Suite parameter → value as KISS sent it."""
    expressions = _expressions(pairs)
    unsupported = [
        InvalidParam(expression.parameter, "unsupported-filter", _unsupported_reason(expression.text))
        for expression in expressions
        if _supported_filter(expression.text) is None
    ]
    if unsupported:
        raise Problem(
            400,
            "unsupported-filter",
            detail="Dit filter wordt door de adapter niet ondersteund.",
            invalid_params=unsupported,
        )

    blank: list[InvalidParam] = []
    chosen: dict[str, str] = {}
    conflicting: list[InvalidParam] = []
    for expression in expressions:
        supported = _supported_filter(expression.text)
        value = expression.text[len(supported.prefix):]
        if is_blank(value):
            blank.append(
                InvalidParam(
                    expression.parameter, "invalid", f"Het filter op {supported.description} heeft geen waarde."
                )
            )
        elif chosen.setdefault(supported.esuite_parameter, value) != value:
            conflicting.append(
                InvalidParam(
                    expression.parameter,
                    "unsupported-filter",
                    f"Het filter op {supported.description} is meer dan eens met verschillende "
                    "waarden opgegeven; de e-Suite accepteert één waarde.",
                )
            )
    if blank:
        raise Problem(400, "invalid", detail="Een filter heeft geen waarde.", invalid_params=blank)
    if conflicting:
        raise Problem(
            400,
            "unsupported-filter",
            detail="Een filter is meer dan eens met verschillende waarden opgegeven.",
            invalid_params=conflicting,
        )
    return chosen


def _unsupported_reason(expression: str) -> str:
    """Q-11: names the attribute path and operator when they are recognisable, never the value."""
    segments = expression.split("__")
    for index, segment in enumerate(segments):
        if segment in OBJECTS_OPERATORS:
            path = segments[:index]
            if path and all(_ATTRIBUTE_SEGMENT.match(part) for part in path):
                return f"Filteren op '{'__'.join(path)}' met operator '{segment}' wordt niet ondersteund."
            break
    return (
        "Dit filter wordt niet ondersteund; alleen betrokkene__klant__exact en "
        "betrokkene__digitaleAdressen__icontains zijn mogelijk."
    )


# --------------------------------------------------------------------------------------------
# T-rules — POST of an interne taak, answered locally
# --------------------------------------------------------------------------------------------

CONTACTMOMENT_INVALID_DETAIL = "contactmoment ontbreekt of is niet valide"
INTERNE_TAAK_INVALID_DETAIL = "Het interne-taakobject is ongeldig."
TYPE_VERSION_MAX = 32767


@attrs.frozen(slots=True)
class InterneTaakAnswer:
    uuid: str
    url: str
    """`{A}/api/v2/objects/{uuid}` — also the `Location` header."""
    body: dict
    """T-5: the request body unchanged, with `url` and `uuid` replaced in place or appended."""


def interne_taak_post_answer(
    body_raw: bytes,
    object_type: str,
    adapter_bases: Sequence[str],
    esuite_cm_root: str,
    adapter_base: str,
) -> InterneTaakAnswer:
    """T-1 … T-5. `adapter_bases`: `{A}` and the request's own origin; `esuite_cm_root`:
    `{E}/contactmomenten-api-provider/api/v1`. Every T-2 … T-4 failure is reported at once."""
    body = json_object(parse_json_body(body_raw))
    failures = _type_failures(body.get("type"), object_type)
    record = body.get("record")
    uuid = None
    if not isinstance(record, dict):
        # Its children cannot be checked; reporting them too would only repeat this entry.
        failures.append(InvalidParam("record", "invalid", "record moet een object zijn."))
    else:
        if not _is_type_version(record.get("typeVersion")):
            failures.append(
                InvalidParam(
                    "record.typeVersion",
                    "invalid",
                    f"typeVersion moet een geheel getal van 0 tot en met {TYPE_VERSION_MAX} zijn.",
                )
            )
        data = record.get("data")
        contactmoment = data.get("contactmoment") if isinstance(data, dict) else None
        uuid = _contactmoment_uuid(contactmoment, adapter_bases, esuite_cm_root)
        if uuid is None:
            failures.append(
                InvalidParam(
                    "record.data.contactmoment",
                    "invalid",
                    "Het contactmoment moet de URL van een contactmoment van de adapter zijn.",
                )
            )
    if failures:
        contactmoment_failed = any(failure.name == "record.data.contactmoment" for failure in failures)
        raise Problem(
            400,
            "invalid",
            detail=CONTACTMOMENT_INVALID_DETAIL if contactmoment_failed else INTERNE_TAAK_INVALID_DETAIL,
            invalid_params=failures,
        )
    url = f"{adapter_base}{OBJECTS_PATH}/{uuid}"
    answer = dict(body)
    answer["url"] = url
    answer["uuid"] = uuid
    return InterneTaakAnswer(uuid=uuid, url=url, body=answer)


def _type_failures(submitted: Any, object_type: str) -> list[InvalidParam]:
    """T-2 (and kiss-front.md §5.1 for POST)."""
    if is_blank(submitted):
        return [InvalidParam("type", "required", "Het objecttype ontbreekt.")]
    if submitted != object_type:
        return [InvalidParam("type", "invalid_choice", OBJECTTYPE_NOT_SERVED)]
    return []


def _is_type_version(value: Any) -> bool:
    """T-3: KISS sends the integer 1 until May 2024 and the string "1" after."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= TYPE_VERSION_MAX
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 5
        and value.isascii()
        and value.isdigit()
        and int(value) <= TYPE_VERSION_MAX
    )


def _contactmoment_uuid(contactmoment: Any, adapter_bases: Sequence[str], esuite_cm_root: str) -> str | None:
    """T-4: the lower-cased uuid of an adapter or e-Suite contactmoment URL, else None."""
    if not isinstance(contactmoment, str):
        return None
    prefixes = [f"{base}/contactmomenten/api/v1/contactmomenten/" for base in adapter_bases]
    prefixes.append(f"{esuite_cm_root}/contactmomenten/")
    for prefix in prefixes:
        if contactmoment.startswith(prefix):
            rest = contactmoment[len(prefix):]
            candidate = rest[:-1] if rest.endswith("/") else rest
            if is_uuid(candidate):
                return candidate.lower()
    return None
