"""Contactmomenten: the POST body (V, P), reads (R) and lists (C) — mapping.md §2–§4.

Pure functions over plain dicts and lists. The routes do the HTTP calls; everything they decide
on (what to validate, what to send, which URL to trust, how to page and sort) lives here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs

from adapter.mapping.paths import is_under_root
from adapter.mapping.common import (
    NOT_AN_OBJECT_REASON,
    UUID_RE,
    is_blank,
    last_path_segment,
    non_blank_str,
    parse_datetime,
    trim,
)
from adapter.mapping.paging import (  # noqa: F401  re-exported: routes and tests use cm.esuite_page
    EsuitePage,
    PageLinks,
    esuite_page,
    page_url,
    pagination_link,
    sort_by_registratiedatum,
)
from adapter.mapping.query import (
    Params,
    page_number,
    unknown_parameters,
    values,
)
from adapter.mapping.url_rewriter import UrlRewriter
from adapter.problems import InvalidParam, Problem, upstream_invalid_response, upstream_invalid_url

# ---------------------------------------------------------------------------------------------
# §2 POST contactmoment — KISS → e-Suite
# ---------------------------------------------------------------------------------------------

CONTACTVERZOEK_GEMAAKT = "Contactverzoek gemaakt"
NIET_VAN_TOEPASSING = "N.v.t."
STATUS_NIEUW = "nieuw"
STATUS_AFGEHANDELD = "afgehandeld"
INVALID_CONTACTMOMENT_DETAIL = "De gegevens van het contactmoment zijn niet geldig."
NO_BEHANDELAAR_REASON = "Een contactverzoek heeft een behandelaar, afdeling of groep nodig."

# V-3, in the order of the rule text (it is the order of `invalidParams`).
_TEXT_FIELDS = (
    "tekst",
    "vraag",
    "specifiekevraag",
    "specifiekeVraag",
    "toelichting",
    "verantwoordelijkeAfdeling",
    "kanaal",
    "registratiedatum",
    "startdatum",
    "gespreksresultaat",
    "gespreksId",
)
_OBJECT_FIELDS = ("betrokkene", "actor", "medewerkerIdentificatie")  # V-4, first part
_PERSOONSNAAM_FIELDS = ("voornaam", "voorvoegselAchternaam", "achternaam")
_DIGITAAL_ADRES_FIELDS = ("adres", "omschrijving", "soortDigitaalAdres")
_ACTOR_FIELDS = ("naam", "identificatie", "soortActor", "typeOrganisatorischeEenheid", "naamOrganisatorischeEenheid")
_DATE_FIELDS = ("registratiedatum", "startdatum")  # V-5, P-2
_EENHEID_SOORTEN = ("afdeling", "groep")  # the allow-list of P-10 / V-7, also the U-1 prefixes
_EMAIL_SOORTEN = frozenset({"email", "e-mailadres"})  # `e-mailadres` up to KISS v0.5.x
_TELEFOON_SOORTEN = frozenset({"telefoonnummer"})
# V-6 limits (code points), of the e-Suite fields.
_MAX_KANAAL = 255
_MAX_EENHEID = 128
_MAX_GEBRUIKERSNAAM = 128
_MAX_MEDEWERKER_IDENTIFICATIE = 128

_REASON_TEXT = "Dit veld moet een tekst zijn."
_REASON_OBJECT = "Dit veld moet een object zijn."
_REASON_ARRAY = "Dit veld moet een lijst zijn."
_REASON_ELEMENT = "Elk digitaal adres moet een object zijn."
_REASON_DATETIME = "Dit veld moet een datum en tijd zijn (ISO 8601)."
_REASON_EENHEID_SOORT = "Het type organisatorische eenheid moet afdeling of groep zijn."
_REASON_MEDEWERKER_ID = "Een medewerker als behandelaar heeft een identificatie nodig."
_REASON_EMAIL = "Dit is geen geldig e-mailadres."
# The e-Suite contract's `format: email` (contracts/esuite.openapi.yaml): an ASCII mailbox,
# local part of dot-atom characters, a domain of at least two labels.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" + _LABEL + r"(?:\." + _LABEL + r")+")
_MAX_EMAIL = 254


@attrs.frozen(slots=True)
class _Sourced:
    """A value that would be sent, with the KISS field it came from (the V-6 `name`)."""

    value: str
    source: str


@attrs.frozen(slots=True)
class _Eenheid:
    soort: str  # `afdeling` or `groep`: the e-Suite key
    naam: _Sourced


@attrs.frozen(slots=True)
class _Toewijzing:
    """Who handles the contact (P-10, P-11)."""

    behandelaar: _Sourced | None = None
    eenheid: _Eenheid | None = None

    def is_empty(self) -> bool:
        return self.behandelaar is None and self.eenheid is None


def _object(value: Any) -> dict:
    """A wrongly typed value counts as absent for every rule after V-4 (V-4 reports it)."""
    return value if isinstance(value, dict) else {}


def _non_blank(obj: dict, key: str) -> str | None:
    """`obj[key]` verbatim when it is a non-blank string, else None."""
    value = obj.get(key)
    return value if non_blank_str(value) else None


def body_asks_for_contactverzoek(body: Any) -> bool:
    """P-1: a KISS body with digitaleAdressen, an actor or `Contactverzoek gemaakt` asks for a
    contactverzoek (an e-Suite contact left open with a behandelaar); `interne_taak.is_contactverzoek`
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


def build_esuite_contact(body: Any, contactverzoek_types: Sequence[str]) -> dict:
    """V-2 … V-9, then P-1 … P-13: the body of `POST {cm root}/contactmomenten`.

    `contactverzoek_types` is the configured `CONTACTVERZOEK_TYPES` (non-empty, config order).
    Raises a 400 `invalid` Problem listing every failure (V-1 is the caller's `parse_json_body`).
    """
    if not isinstance(body, dict):
        raise _invalid_contactmoment(
            [InvalidParam("nonFieldErrors", "invalid", NOT_AN_OBJECT_REASON)]
        )
    cv = body_asks_for_contactverzoek(body)
    toewijzing = _contactverzoek_toewijzing(body) if cv else _plain_toewijzing(body)
    failures = [
        *_text_failures(body),
        *_structure_failures(body),
        *_date_failures(body),
        *_length_failures(body, toewijzing),
        *(_contactverzoek_failures(body, toewijzing) if cv else []),
        *(_email_failures(body) if cv else []),
    ]
    if failures:
        raise _invalid_contactmoment(failures)
    return _esuite_contact(body, toewijzing, contactverzoek_types[0] if cv else None)


def _invalid_contactmoment(failures: list[InvalidParam]) -> Problem:
    return Problem(400, "invalid", detail=INVALID_CONTACTMOMENT_DETAIL, invalid_params=failures)


# --- validation ------------------------------------------------------------------------------


def _wrong_type(path: str, value: Any, expected: type, reason: str) -> list[InvalidParam]:
    """Present and neither `expected` nor null (absent reads as None, which is allowed)."""
    if value is None or isinstance(value, expected):
        return []
    return [InvalidParam(path, "invalid", reason)]


def _text_failures(body: dict) -> list[InvalidParam]:
    """V-3."""
    return [f for field in _TEXT_FIELDS for f in _wrong_type(field, body.get(field), str, _REASON_TEXT)]


def _structure_failures(body: dict) -> list[InvalidParam]:
    """V-4, in the order of the rule text; array elements by ascending index, each element's
    fields in the listed order (decision: the document order of the body)."""
    failures: list[InvalidParam] = []
    for field in _OBJECT_FIELDS:
        failures += _wrong_type(field, body.get(field), dict, _REASON_OBJECT)
    betrokkene = _object(body.get("betrokkene"))
    failures += _wrong_type("betrokkene.persoonsnaam", betrokkene.get("persoonsnaam"), dict, _REASON_OBJECT)
    adressen = betrokkene.get("digitaleAdressen")
    failures += _wrong_type("betrokkene.digitaleAdressen", adressen, list, _REASON_ARRAY)
    adressen = adressen if isinstance(adressen, list) else []
    for index, adres in enumerate(adressen):
        if not isinstance(adres, dict):
            failures.append(InvalidParam(f"betrokkene.digitaleAdressen.{index}", "invalid", _REASON_ELEMENT))

    persoonsnaam = _object(betrokkene.get("persoonsnaam"))
    actor = _object(body.get("actor"))
    texts: list[tuple[str, Any]] = [("betrokkene.organisatie", betrokkene.get("organisatie"))]
    texts += [(f"betrokkene.persoonsnaam.{f}", persoonsnaam.get(f)) for f in _PERSOONSNAAM_FIELDS]
    texts += [
        (f"betrokkene.digitaleAdressen.{index}.{f}", adres.get(f))
        for index, adres in enumerate(adressen)
        if isinstance(adres, dict)
        for f in _DIGITAAL_ADRES_FIELDS
    ]
    texts += [(f"actor.{f}", actor.get(f)) for f in _ACTOR_FIELDS]
    texts.append(
        ("medewerkerIdentificatie.identificatie", _object(body.get("medewerkerIdentificatie")).get("identificatie"))
    )
    for path, value in texts:
        failures += _wrong_type(path, value, str, _REASON_TEXT)
    return failures


def _date_failures(body: dict) -> list[InvalidParam]:
    """V-5."""
    return [
        InvalidParam(field, "invalid", _REASON_DATETIME)
        for field in _DATE_FIELDS
        if (value := _non_blank(body, field)) is not None and parse_datetime(value) is None
    ]


def _length_failures(body: dict, toewijzing: _Toewijzing) -> list[InvalidParam]:
    """V-6, measured on the values P-rules would actually send."""
    checks = (
        (_sourced(body, "kanaal", "kanaal"), _MAX_KANAAL),
        (toewijzing.eenheid.naam if toewijzing.eenheid else None, _MAX_EENHEID),
        (toewijzing.behandelaar, _MAX_GEBRUIKERSNAAM),
        (_medewerker_identificatie(body), _MAX_MEDEWERKER_IDENTIFICATIE),
    )
    return [
        InvalidParam(sent.source, "max_length", f"Dit veld mag hoogstens {limit} tekens lang zijn.")
        for sent, limit in checks
        if sent is not None and len(sent.value) > limit
    ]


def _contactverzoek_failures(body: dict, toewijzing: _Toewijzing) -> list[InvalidParam]:
    """V-7, V-8, and V-9 only when neither of those fired."""
    actor = _object(body.get("actor"))
    failures = []
    soort = _non_blank(actor, "typeOrganisatorischeEenheid")
    if soort is not None and trim(soort).lower() not in _EENHEID_SOORTEN:
        failures.append(InvalidParam("actor.typeOrganisatorischeEenheid", "invalid_choice", _REASON_EENHEID_SOORT))
    if _is_medewerker(actor) and _non_blank(actor, "identificatie") is None:
        failures.append(InvalidParam("actor.identificatie", "required", _REASON_MEDEWERKER_ID))
    if not failures and toewijzing.is_empty():
        failures.append(InvalidParam("actor", "required", NO_BEHANDELAAR_REASON))
    return failures


def _email_failures(body: dict) -> list[InvalidParam]:
    """The e-mail address P-8 would send must be one (the e-Suite's `format: email`): refused
    here, nothing sent, instead of a contactverzoek the KCM cannot answer."""
    adressen = _object(body.get("betrokkene")).get("digitaleAdressen")
    for index, adres in enumerate(adressen if isinstance(adressen, list) else []):
        if isinstance(adres, dict) and _soort(adres) in _EMAIL_SOORTEN and (value := _non_blank(adres, "adres")):
            # Measured on the value P-8 sends: verbatim, so surrounding white space is refused too.
            if len(value) > _MAX_EMAIL or not _EMAIL.fullmatch(value):
                return [InvalidParam(f"betrokkene.digitaleAdressen.{index}.adres", "invalid", _REASON_EMAIL)]
            return []
    return []


# --- mapping ---------------------------------------------------------------------------------


def _sourced(obj: dict, key: str, source: str) -> _Sourced | None:
    value = _non_blank(obj, key)
    return None if value is None else _Sourced(value, source)


def _medewerker_identificatie(body: dict) -> _Sourced | None:
    """P-12."""
    return _sourced(
        _object(body.get("medewerkerIdentificatie")), "identificatie", "medewerkerIdentificatie.identificatie"
    )


def _is_medewerker(actor: dict) -> bool:
    soort = _non_blank(actor, "soortActor")
    return soort is not None and trim(soort).lower() == "medewerker"


def _contactverzoek_toewijzing(body: dict) -> _Toewijzing:
    """P-10. `b.verantwoordelijkeAfdeling` is ignored for a contactverzoek."""
    actor = _object(body.get("actor"))
    if _is_medewerker(actor):
        behandelaar = _sourced(actor, "identificatie", "actor.identificatie")
        naam = _sourced(actor, "naamOrganisatorischeEenheid", "actor.naamOrganisatorischeEenheid")
    else:
        behandelaar = None
        naam = _sourced(actor, "naam", "actor.naam")
    return _Toewijzing(behandelaar, _eenheid(naam, _non_blank(actor, "typeOrganisatorischeEenheid")))


def _eenheid(naam: _Sourced | None, soort: str | None) -> _Eenheid | None:
    """P-10 step 3."""
    if naam is None:
        return None
    if soort is None:
        return _eenheid_from_prefix(naam)
    soort = trim(soort).lower()
    # An allow-list: no other e-Suite property can ever be set (V-7 refuses the rest).
    return _Eenheid(soort, naam) if soort in _EENHEID_SOORTEN else None


def _eenheid_from_prefix(naam: _Sourced) -> _Eenheid | None:
    """U-1: podiumd-adapter served `afdeling:`/`groep:`-prefixed names in Feb–May 2024."""
    trimmed = trim(naam.value)
    for soort in _EENHEID_SOORTEN:
        prefix = soort + ":"
        if trimmed[: len(prefix)].lower() == prefix:
            rest = trim(trimmed[len(prefix) :])
            return _Eenheid(soort, _Sourced(rest, naam.source)) if rest else None
    return _Eenheid("afdeling", naam)


def _plain_toewijzing(body: dict) -> _Toewijzing:
    """P-11: U-1 on `verantwoordelijkeAfdeling`; a plain contactmoment has no behandelaar."""
    naam = _sourced(body, "verantwoordelijkeAfdeling", "verantwoordelijkeAfdeling")
    return _Toewijzing(eenheid=_eenheid_from_prefix(naam) if naam else None)


def _digitale_adressen(body: dict) -> list[dict]:
    adressen = _object(body.get("betrokkene")).get("digitaleAdressen")
    return [adres for adres in adressen if isinstance(adres, dict)] if isinstance(adressen, list) else []


def _soort(adres: dict) -> str:
    soort = _non_blank(adres, "soortDigitaalAdres")
    return "" if soort is None else trim(soort).lower()


def _usable(adressen: list[dict], soorten: frozenset[str]) -> list[dict]:
    return [adres for adres in adressen if _soort(adres) in soorten and _non_blank(adres, "adres") is not None]


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
    betrokkene = _object(body.get("betrokkene"))
    persoonsnaam = _object(betrokkene.get("persoonsnaam"))
    organisatie = _non_blank(betrokkene, "organisatie")
    lines = []
    if _non_blank(persoonsnaam, "voornaam") or _non_blank(persoonsnaam, "achternaam") or organisatie:
        naam = [" " + part for f in _PERSOONSNAAM_FIELDS if (part := _non_blank(persoonsnaam, f))]
        lines.append("Contact opnemen met:" + "".join(naam) + (f" ({organisatie})" if organisatie else ""))
    omschrijving = _non_blank(phones[1], "omschrijving") if len(phones) > 1 else None
    if omschrijving:
        lines.append("Omschrijving tweede telefoonnummer: " + omschrijving)
    if toelichting := _non_blank(body, "toelichting"):
        lines.append(toelichting)
    return "\n".join(lines) or None


def _tekst(body: dict) -> str:
    """P-4."""
    specifieke_vraag = _non_blank(body, "specifiekevraag") or _non_blank(body, "specifiekeVraag")
    parts = [part for part in (_non_blank(body, "vraag"), specifieke_vraag) if part]
    return "\n".join(parts) or NIET_VAN_TOEPASSING


def _esuite_contact(body: dict, toewijzing: _Toewijzing, contactverzoek_type: str | None) -> dict:
    """P-2 … P-13; the key order is P-13's."""
    cv = contactverzoek_type is not None
    adressen = _digitale_adressen(body)
    phones = _usable(adressen, _TELEFOON_SOORTEN)
    eenheid = toewijzing.eenheid
    medewerker = _medewerker_identificatie(body)
    return _without_none(
        (
            ("registratiedatum", _non_blank(body, "registratiedatum") or _non_blank(body, "startdatum")),
            ("kanaal", _non_blank(body, "kanaal")),
            ("type", contactverzoek_type),
            ("tekst", _tekst(body)),
            # The e-Suite requires an antwoord on a finished contact; KISS's note is that answer.
            ("antwoord", _non_blank(body, "tekst") or NIET_VAN_TOEPASSING),
            ("status", STATUS_NIEUW if cv else STATUS_AFGEHANDELD),
            ("toelichting", _toelichting(body, phones) if cv else None),
            ("behandelaar", {"gebruikersnaam": toewijzing.behandelaar.value} if toewijzing.behandelaar else None),
            ("afdeling", eenheid.naam.value if eenheid and eenheid.soort == "afdeling" else None),
            ("groep", eenheid.naam.value if eenheid and eenheid.soort == "groep" else None),
            ("contactgegevens", _contactgegevens(_usable(adressen, _EMAIL_SOORTEN), phones) if cv else None),
            ("medewerkerIdentificatie", {"identificatie": medewerker.value} if medewerker else None),
        )
    )


def _without_none(pairs: Sequence[tuple[str, Any]]) -> dict:
    return {key: value for key, value in pairs if value is not None}


# ---------------------------------------------------------------------------------------------
# §3 Contactmoment reads — e-Suite → KISS (R)
# ---------------------------------------------------------------------------------------------


def contactmoment_from_esuite(contact: Any, urls: UrlRewriter) -> dict:
    """R-1 … R-3 and R-6 for every contact returned as a contactmoment."""
    return contactmomenten_from_esuite([contact], urls)[0]


def contactmomenten_from_esuite(contacts: list[Any], urls: UrlRewriter) -> list[dict]:
    """R-1 … R-3 and R-6 for a page of contacts; one of them unusable fails the whole page."""
    return urls.json_to_adapter(contacts_for_kiss(contacts, urls))


def contacts_for_kiss(contacts: list[Any], urls: UrlRewriter) -> list[dict]:
    """R-6 and R-2, with R-1 left for the rendering: `urls.rendered(contacts_for_kiss(c))` is
    the text of `contactmomenten_from_esuite(c)`. A mapped page is rewritten once, as text,
    when its whole answer is rendered, instead of rendered, rewritten and parsed back first."""
    for contact in contacts:
        if not isinstance(contact, dict) or not isinstance(contact.get("url"), str):
            raise upstream_invalid_response()
    return [_antwoord_after_tekst(contact, urls) for contact in contacts]


def _antwoord_after_tekst(contact: dict, urls: UrlRewriter) -> dict:
    """R-2: KISS shows only `tekst`; the e-Suite keeps the question and the answer apart.

    R-1 comes first: both texts are rewritten before they are joined, as they would be in a
    rewritten contact. The contact itself is never changed."""
    antwoord = contact.get("antwoord")
    if not isinstance(antwoord, str):
        return contact
    tekst = contact.get("tekst")
    result = dict(contact)
    result["tekst"] = (urls.to_adapter(tekst) if isinstance(tekst, str) else "") + "\n" + urls.to_adapter(antwoord)
    return result


def created_contactmoment(contact: Any, urls: UrlRewriter, gespreks_id: Any) -> dict:
    """The 201 answer to the POST: R-6 (strict), R-1 … R-3, R-5.

    `gespreks_id` is `b.gespreksId` as KISS sent it. The answer's `url` is also the Location.
    """
    if not isinstance(contact, dict) or esuite_contactmoment_uuid(contact.get("url"), urls) is None:
        raise upstream_invalid_response()
    result = contactmoment_from_esuite(contact, urls)
    if non_blank_str(gespreks_id):
        result["gespreksId"] = gespreks_id
    return result


def esuite_contactmoment_uuid(url: Any, urls: UrlRewriter) -> str | None:
    """The uuid of `{cm root}/contactmomenten/<uuid>` (exactly that), else None.

    The adapter sends its e-Suite token only to URLs of this form (R-6, C-3 step 3).
    """
    prefix = urls.esuite_root("contactmomenten") + "/contactmomenten/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    rest = url[len(prefix) :]
    return rest if UUID_RE.fullmatch(rest) else None


# ---------------------------------------------------------------------------------------------
# §4 Contactmomenten lists (C)
# ---------------------------------------------------------------------------------------------

EXPAND_OBJECTCONTACTMOMENTEN = "objectcontactmomenten"
EXPAND_KLANTCONTACTMOMENTEN = "klantcontactmomenten"
EXPAND_ALLOWED = (EXPAND_OBJECTCONTACTMOMENTEN, EXPAND_KLANTCONTACTMOMENTEN)
OBJECT_MODE_PAGE_SIZE = 100  # C-3 step 4 (decision)
MAX_LINK_PAGES = 100  # C-3 step 2 (decision)
_FORWARDED_FILTERS = ("klant", "identificatie", "telefoonnummerOfEmailadres", "type")  # C-1, with `page`
_LIST_PARAMETERS = frozenset({*_FORWARDED_FILTERS, "page", "object", "ordering", "expand"})
Ordering = Literal["asc", "desc"]
_ORDERINGS: dict[str, Ordering] = {"registratiedatum": "asc", "-registratiedatum": "desc"}
INVALID_QUERY_DETAIL = "De query-parameters zijn niet geldig."


@attrs.frozen(slots=True)
class ContactmomentenQuery:
    """The inbound query of `GET /contactmomenten`, checked and translated (C-1, C-3, C-4, C-5).

    `upstream` is the query of `GET {cm root}/contactmomenten` in default mode; in object mode
    it is empty (the adapter pages itself) and `object_url` is the e-Suite zaak URL.
    """

    mode: Literal["default", "object"]
    upstream: Params
    object_url: str | None
    page: int | None
    expand: tuple[str, ...]
    ordering: Ordering | None


def parse_contactmomenten_list_query(pairs: Params, urls: UrlRewriter) -> ContactmomentenQuery:
    """Q-6, then `object` combinations, then every invalid value at once (Q-4, C-4, C-5)."""
    unknown_parameters(pairs, _LIST_PARAMETERS)
    object_url = _object_filter(pairs, urls)
    failures = _blank_filters(pairs)
    page, page_failures = _checked(page_number, pairs)
    failures += page_failures
    expand, expand_failures = _checked_expand(pairs)
    ordering, ordering_failures = _checked_ordering(pairs)
    failures += expand_failures + ordering_failures
    if failures:
        raise _invalid_query(failures)
    if object_url is not None:
        return ContactmomentenQuery("object", [], object_url, page, expand, ordering)
    return ContactmomentenQuery("default", _forwarded_filters(pairs, page, urls), None, page, expand, ordering)


def _object_filter(pairs: Params, urls: UrlRewriter) -> str | None:
    """C-3 step 1: the e-Suite URL of a non-blank `object`, or None (default mode).

    The e-Suite cannot intersect `object` with other filters, and dropping one would widen
    the result; two different objects cannot be served by one upstream call either.
    """
    objects = [value for value in values(pairs, "object") if not is_blank(value)]
    if not objects:
        return None
    others = [name for name in _FORWARDED_FILTERS if values(pairs, name)]
    if others or len(set(objects)) > 1:
        raise Problem(
            400,
            "unsupported-filter-combination",
            detail="Het filter object kan niet met andere filters worden gecombineerd.",
            invalid_params=[
                InvalidParam(
                    "object",
                    "unsupported-filter-combination",
                    "Zoek op één object, zonder klant, identificatie, telefoonnummerOfEmailadres of type.",
                )
            ],
        )
    return urls.to_esuite(objects[0])


def _blank_filters(pairs: Params) -> list[InvalidParam]:
    """A blank filter is refused, never forwarded empty or dropped: without it the e-Suite
    would answer with everyone's contactmomenten (as Q-12 for interne taken)."""
    reason = "Een filter zonder waarde wordt niet ondersteund."
    return [InvalidParam(name, "invalid", reason) for name, value in pairs if name in _FORWARDED_FILTERS and is_blank(value)]


def _forwarded_filters(pairs: Params, page: int | None, urls: UrlRewriter) -> Params:
    """C-1: original order; `klant` rewritten; `page` once, validated, where it first stood."""
    forwarded: Params = []
    page_placed = False
    for name, value in pairs:
        if name == "klant":
            forwarded.append((name, urls.to_esuite(value)))
        elif name in _FORWARDED_FILTERS:
            forwarded.append((name, value))
        elif name == "page" and page is not None and not page_placed:
            forwarded.append((name, str(page)))
            page_placed = True
    return forwarded


def _checked(parse: Callable[[Params], Any], pairs: Params) -> tuple[Any, list[InvalidParam]]:
    """Runs a raising 400 parser so that its failures can be reported with the others."""
    try:
        return parse(pairs), []
    except Problem as problem:
        if problem.status != 400:
            raise
        return None, list(problem.invalid_params or [])


def _invalid_query(failures: list[InvalidParam]) -> Problem:
    return Problem(400, "invalid", detail=INVALID_QUERY_DETAIL, invalid_params=failures)


def expand_values(pairs: Params) -> tuple[str, ...]:
    """C-4: every `expand` split on `,`, trimmed, empty parts and repeats dropped, in order."""
    found: list[str] = []
    for value in values(pairs, "expand"):
        for part in value.split(","):
            part = trim(part)
            if part and part not in found:
                found.append(part)
    return tuple(found)


def _checked_expand(pairs: Params) -> tuple[tuple[str, ...], list[InvalidParam]]:
    expand = expand_values(pairs)
    if all(value in EXPAND_ALLOWED for value in expand):
        return expand, []
    reason = "Toegestaan zijn objectcontactmomenten en klantcontactmomenten."
    return (), [InvalidParam("expand", "invalid_choice", reason)]


def parse_expand(pairs: Params) -> tuple[str, ...]:
    """C-4 for the detail route, where other parameters are ignored."""
    expand, failures = _checked_expand(pairs)
    if failures:
        raise _invalid_query(failures)
    return expand


def _checked_ordering(pairs: Params) -> tuple[Ordering | None, list[InvalidParam]]:
    """C-5. An empty `ordering` is absent (as an empty `page`, Q-4) (decision). Two different
    orderings are refused rather than one silently dropped (decision)."""
    given = {value for value in values(pairs, "ordering") if value != ""}
    if not given:
        return None, []
    if len(given) == 1 and (ordering := _ORDERINGS.get(next(iter(given)))):
        return ordering, []
    reason = "Sorteer op registratiedatum of -registratiedatum, één keer."
    return None, [InvalidParam("ordering", "invalid_choice", reason)]


# --- C-3 object mode -------------------------------------------------------------------------


def check_next_link(next_url: Any, expected_prefix: str, pages_read: int = 0) -> str | None:
    """C-3 step 2: the next page to read, or None when `next` is not a string (the end).

    `expected_prefix` is `{cm root}/objectcontactmomenten`; a link elsewhere would carry the
    e-Suite token to another address (502 `upstream-invalid-url`). `pages_read` is the number
    of pages already read: after MAX_LINK_PAGES a further `next` is 502 `upstream-invalid-response`.
    """
    if not isinstance(next_url, str):
        return None
    # A boundary after the prefix, so that `…/objectcontactmomentenX` does not pass, and no
    # detour below it (`%2e%2e`, `.%2e`, `%2F`: SEC-15).
    if not is_under_root(next_url, expected_prefix):
        raise upstream_invalid_url()
    if pages_read >= MAX_LINK_PAGES:
        raise upstream_invalid_response()
    return next_url


def object_mode_contact_urls(link_items: list[Any], urls: UrlRewriter) -> list[str]:
    """C-3 step 3: the contact URLs of objectcontactmomenten, first occurrence first.

    A `contactmoment` that is not `{cm root}/contactmomenten/<uuid>` is 502
    `upstream-invalid-url`. The uuid is lower-cased, so one contact is fetched once and always
    by the same URL.
    """
    root = urls.esuite_root("contactmomenten") + "/contactmomenten/"
    found: dict[str, None] = {}
    for item in link_items:
        if not isinstance(item, dict):
            raise upstream_invalid_response()
        contactmoment = _non_blank(item, "contactmoment")
        if contactmoment is None:
            continue
        uuid = esuite_contactmoment_uuid(contactmoment, urls)
        if uuid is None:
            raise upstream_invalid_url()
        found.setdefault(root + uuid.lower())
    return list(found)


def object_mode_page(contact_urls: list[str], page: int | None) -> list[str]:
    """C-3 step 4: the adapter's own page of `L`; a page > 1 beyond the end is 404."""
    page = page or 1
    start = (page - 1) * OBJECT_MODE_PAGE_SIZE
    if page > 1 and start >= len(contact_urls):
        raise Problem(404, "not_found")
    return contact_urls[start : start + OBJECT_MODE_PAGE_SIZE]


# --- C-4 expand ------------------------------------------------------------------------------


def has_embedded_objectcontactmomenten(item: Any) -> bool:
    """An `objectcontactmomenten` array of objects only (empty counts) needs no call."""
    embedded = item.get("objectcontactmomenten") if isinstance(item, dict) else None
    return isinstance(embedded, list) and all(isinstance(link, dict) for link in embedded)


def klantcontactmomenten_for(results: list[Any], contact_url: str) -> list:
    """C-4: the results that belong to this contact, in case the e-Suite ignored the filter.

    A result belongs when its `contactmoment` is absent (or null) or has the same last path
    segment, case-insensitive; `contact_url` may be the e-Suite or the adapter URL.
    """
    own = last_path_segment(contact_url).lower()

    def belongs(result: Any) -> bool:
        if not isinstance(result, dict):
            return False
        contactmoment = result.get("contactmoment")
        if contactmoment is None:
            return True
        return isinstance(contactmoment, str) and last_path_segment(contactmoment).lower() == own

    return [result for result in results if belongs(result)]


def with_expansion(item: dict, name: str, esuite_results: list, urls: UrlRewriter) -> dict:
    """A copy of `item` with `name` = the results rewritten to the adapter; an existing key
    keeps its position, a new one is appended (kiss-front.md §3.5)."""
    expanded = dict(item)
    expanded[name] = urls.json_to_adapter(esuite_results)
    return expanded


# --- C-5 ordering ----------------------------------------------------------------------------


def ordered(items: list[dict], ordering: Ordering | None) -> list[dict]:
    """C-5 for contactmomenten: without `ordering` the e-Suite's order is kept."""
    return items if ordering is None else sort_by_registratiedatum(items, ordering == "desc")


# --- C-6 pagination links --------------------------------------------------------------------


def object_mode_links(adapter_base: str, route_path: str, inbound: Params, page: int | None, total: int) -> PageLinks:
    """C-3 step 6: links to page p+1 / p−1 when such a page exists."""
    page = page or 1
    has_next = page * OBJECT_MODE_PAGE_SIZE < total
    return PageLinks(
        next=page_url(adapter_base, route_path, inbound, page + 1) if has_next else None,
        previous=page_url(adapter_base, route_path, inbound, page - 1) if page > 1 else None,
    )
