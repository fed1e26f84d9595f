"""Rule tests written after the mutation pass over adapter/mapping/ (issue 15).

Each test pins behaviour that a surviving mutant changed while the rest of tests/unit stayed
green. Expected values are literals: from the rule text where the rule states them (the
operations §4.3 translation table, the §4.2 titles, C-2, C-3, Q-5, S-1, K-1, §5.4), and for the
Dutch `detail`/`reason` texts, which no rule spells out, the texts the adapter answers today
(KISS shows `reason` to the KCM, so a changed text is a changed answer).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapter.esuite_client.urls import UrlMap
from adapter.mapping import (
    common,
    contact_create,
    contactmoment_lists,
    interne_taak_create,
    interne_taak_read,
    klanten,
    objects_dispatch,
    objects_query,
    paging,
    smoelenboek,
)
from adapter.mapping.errors import translate_upstream_error
from adapter.mapping.query import page_of_link
from adapter.mapping.uncertain import matches, newest_match, search_query
from adapter.problems import Problem

A = "https://kiss-adapter.example.org"
E = "https://esuite.example.org"
URLS = UrlMap(A, E)
INTERNE_TAAK = "https://objecttypen.example.org/api/v2/objecttypes/30ee8e89-2761-4e35-8eb4-b79980bdc7a9"
TYPES = ["Terugbelverzoek", "Contactverzoek"]
ZAAK = f"{A}/zaken/api/v1/zaken/0f8a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"


def body_of(call, *args) -> dict:
    """The problem+json body `call(*args)` raises, with a fixed instance."""
    with pytest.raises(Problem) as caught:
        call(*args)
    return caught.value.to_body("urn:uuid:0")


def problem(status: int, code: str, title: str, detail: str, invalid_params: list | None = None) -> dict:
    body = {
        "type": f"urn:kiss-esuite-adapter:fout:{code}",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "urn:uuid:0",
    }
    if invalid_params is not None:
        body["invalidParams"] = [{"name": n, "code": c, "reason": r} for n, c, r in invalid_params]
    return body


INVOER = "Ongeldige invoer."  # the §4.2 title of every 400


# --- operations.md §4.3: e-Suite errors, translated ---------------------------------------------


def same(value: Any) -> Any:
    return value


@pytest.mark.parametrize(
    ("status", "esuite_body", "expected"),
    [
        # the e-Suite code wins over the status
        (
            400,
            {"code": "VALIDATION", "title": "Validatiefout", "detail": "Kanaal 'Chat' bestaat niet."},
            problem(
                400,
                "invalid",
                "Validatiefout",
                "Kanaal 'Chat' bestaat niet.",
                [("nonFieldErrors", "invalid", "Kanaal 'Chat' bestaat niet.")],
            ),
        ),
        (
            404,
            {"code": "NOT_FOUND", "title": "Niet gevonden", "detail": "Geen contactmoment."},
            problem(404, "not_found", "Niet gevonden", "Geen contactmoment."),
        ),
        (
            403,
            {"code": "NOT_AUTHORISED", "title": "Geen rechten"},
            problem(403, "permission_denied", "Geen rechten", "Geen rechten"),
        ),
        (409, {"code": "CONFLICT"}, problem(409, "conflict", "Conflict.", "Conflict.")),
        (422, {"code": "VALIDATION"}, problem(422, "invalid", "Onverwerkbare invoer.", "Onverwerkbare invoer.")),
        (400, {"code": "NOT_FOUND"}, problem(400, "not_found", INVOER, INVOER, [])),
        (404, {"code": "NOT_AUTHORISED"}, problem(404, "permission_denied", "Niet gevonden.", "Niet gevonden.")),
        (403, {"code": "CONFLICT"}, problem(403, "conflict", "Geen toegang.", "Geen toegang.")),
        (404, {"code": 5}, problem(404, "not_found", "Niet gevonden.", "Niet gevonden.")),
        (404, {"code": ["VALIDATION"]}, problem(404, "not_found", "Niet gevonden.", "Niet gevonden.")),
        # no or an unknown e-Suite code: the code of the status, else upstream-client-error
        (400, {"code": "ONBEKEND"}, problem(400, "invalid", INVOER, INVOER, [])),
        (403, None, problem(403, "permission_denied", "Geen toegang.", "Geen toegang.")),
        (404, None, problem(404, "not_found", "Niet gevonden.", "Niet gevonden.")),
        (405, None, problem(405, "method_not_allowed", "Methode niet toegestaan.", "Methode niet toegestaan.")),
        (409, None, problem(409, "conflict", "Conflict.", "Conflict.")),
        (412, None, problem(412, "precondition_failed", "Voorwaarde niet vervuld.", "Voorwaarde niet vervuld.")),
        (
            415,
            None,
            problem(415, "unsupported_media_type", "Mediatype niet ondersteund.", "Mediatype niet ondersteund."),
        ),
        (410, None, problem(410, "upstream-client-error", "Niet meer beschikbaar.", "Niet meer beschikbaar.")),
        (422, None, problem(422, "upstream-client-error", "Onverwerkbare invoer.", "Onverwerkbare invoer.")),
        (429, None, problem(429, "upstream-client-error", "Te veel verzoeken.", "Te veel verzoeken.")),
        # a status without a default title gets "Fout."
        (406, None, problem(406, "upstream-client-error", "Fout.", "Fout.")),
        # a blank or non-string title or detail is replaced
        (404, {"title": "  ", "detail": 5}, problem(404, "not_found", "Niet gevonden.", "Niet gevonden.")),
        # 400: the upstream invalidParams when they are an array (non-objects skipped), else the
        # detail as one non-field error, else []
        (
            400,
            {
                "detail": "Fout in invoer.",
                "invalidParams": [{"name": "kanaal", "code": "invalid", "reason": "Onbekend."}, "x"],
            },
            problem(400, "invalid", INVOER, "Fout in invoer.", [("kanaal", "invalid", "Onbekend.")]),
        ),
        (400, {"invalidParams": [{"name": "kanaal"}]}, problem(400, "invalid", INVOER, INVOER, [("kanaal", "", "")])),
        (400, {"invalidParams": [{"code": "invalid"}]}, problem(400, "invalid", INVOER, INVOER, [("", "invalid", "")])),
        (400, {"detail": " "}, problem(400, "invalid", INVOER, INVOER, [])),
    ],
)
def test_operations_4_3_client_errors_translated(status: int, esuite_body: Any, expected: dict) -> None:
    assert translate_upstream_error(status, esuite_body, same).to_body("urn:uuid:0") == expected


def test_operations_4_3_e_suite_urls_in_detail_and_reasons_are_rewritten() -> None:
    body = {
        "detail": f"{E}/contactmomenten-api-provider/api/v1/contactmomenten/1 bestaat niet.",
        "invalidParams": [{"name": "x", "code": "invalid", "reason": f"{E}/klanten-api-provider/api/v1/klanten/2"}],
    }
    result = translate_upstream_error(400, body, URLS.json_to_adapter).to_body("urn:uuid:0")
    assert result["detail"] == f"{A}/contactmomenten/api/v1/contactmomenten/1 bestaat niet."
    assert result["invalidParams"] == [{"name": "x", "code": "invalid", "reason": f"{A}/klanten/api/v1/klanten/2"}]


@pytest.mark.parametrize(
    ("status", "source", "code", "title"),
    [
        (401, "esuite", "upstream-unauthorized", "De adapter kon zich niet aanmelden bij de e-Suite."),
        (500, "esuite", "upstream-error", "De e-Suite gaf een fout."),
        (503, "esuite", "upstream-error", "De e-Suite gaf een fout."),
        (401, "smoelenboek", "smoelenboek-unauthorized", "De adapter kon zich niet aanmelden bij het smoelenboek."),
        (502, "smoelenboek", "smoelenboek-error", "Het smoelenboek gaf een fout."),
    ],
)
def test_operations_4_3_401_and_5xx_become_502(status: int, source: str, code: str, title: str) -> None:
    result = translate_upstream_error(status, {"detail": "intern"}, same, source)
    assert result.to_body("urn:uuid:0") == problem(502, code, title, title)


def test_operations_4_3_the_e_suite_is_the_default_source() -> None:
    title = "De adapter kon zich niet aanmelden bij de e-Suite."
    assert translate_upstream_error(401, None, same).to_body("urn:uuid:0") == problem(
        502, "upstream-unauthorized", title, title
    )


def test_S5_a_smoelenboek_4xx_is_translated_like_the_e_suite_s() -> None:
    result = translate_upstream_error(404, None, same, "smoelenboek").to_body("urn:uuid:0")
    assert result == problem(404, "not_found", "Niet gevonden.", "Niet gevonden.")


# --- mapping.md §1: blank, trim; V-5 dates -----------------------------------------------------


def test_blank_trims_only_space_tab_cr_and_lf() -> None:
    for blank in (None, "", " ", "\t\r\n "):
        assert common.is_blank(blank) and not common.non_blank_str(blank)
    for other in ("\u00a0", "\v", "\f", "\u2003"):  # other whitespace is content
        assert not common.is_blank(other) and common.non_blank_str(other)
    assert common.trim(" \t\u00a0x\u00a0\r\n") == "\u00a0x\u00a0"


def test_V5_z_and_lower_case_z_are_utc_and_nothing_else_ends_a_date_time() -> None:
    utc = datetime(2025, 5, 20, 9, 14, 3, tzinfo=UTC)
    assert common.parse_datetime("2025-05-20T09:14:03Z") == utc
    assert common.parse_datetime("2025-05-20T09:14:03z") == utc
    assert common.parse_datetime("2025-05-20T09:14:03X") is None


def test_V1_V2_problem_bodies() -> None:
    assert body_of(common.parse_json_body, b"{") == problem(
        400,
        "parse_error",
        INVOER,
        "De inhoud van het verzoek is geen geldige JSON.",
        [("nonFieldErrors", "parse_error", "De inhoud is geen geldige JSON.")],
    )
    assert body_of(common.json_object, []) == problem(
        400,
        "invalid",
        INVOER,
        "De inhoud van het verzoek is geen JSON-object.",
        [("nonFieldErrors", "invalid", "De inhoud moet een JSON-object zijn.")],
    )


# --- C-2, C-3, C-6 and the list query -------------------------------------------------------------


def test_C2_the_page_keeps_next_and_previous() -> None:
    page = paging.esuite_page({"count": 7, "next": "n", "previous": "p", "results": [1]})
    assert (page.count, page.results, page.next, page.previous) == (7, [1], "n", "p")


def test_C3_a_next_link_may_end_at_the_prefix_or_continue_after_a_boundary() -> None:
    prefix = f"{E}/contactmomenten-api-provider/api/v1/objectcontactmomenten"
    for link in (prefix, prefix + "/", prefix + "?page=2", prefix + "#x"):
        assert contactmoment_lists.check_next_link(link, prefix, pages_read=1) == link


@pytest.mark.parametrize(
    ("link", "page"),
    [
        (f"{E}/x?page=2#top", 2),  # the fragment is not part of the value
        (f"{E}/x?page=5#a#b", 5),
        (f"{E}/x?page=3&q=a?b", 3),  # the query starts at the first "?"
        (f"{E}/x?q=a", 1),
    ],
)
def test_C6_page_of_an_upstream_link(link: str, page: int) -> None:
    assert page_of_link(link) == page


def test_C_list_query_reports_every_failure_at_once() -> None:
    query_detail = "De query-parameters zijn niet geldig."
    assert body_of(
        contactmoment_lists.parse_contactmomenten_list_query,
        [("klant", ""), ("page", "x"), ("expand", "x"), ("ordering", "x")],
        URLS,
    ) == problem(
        400,
        "invalid",
        INVOER,
        query_detail,
        [
            ("klant", "invalid", "Een filter zonder waarde wordt niet ondersteund."),
            ("page", "invalid", "Het paginanummer moet een geheel getal vanaf 1 zijn."),
            ("expand", "invalid_choice", "Toegestaan zijn objectcontactmomenten en klantcontactmomenten."),
            ("ordering", "invalid_choice", "Sorteer op registratiedatum of -registratiedatum, één keer."),
        ],
    )


def test_C3_object_with_another_filter_is_refused() -> None:
    assert body_of(
        contactmoment_lists.parse_contactmomenten_list_query, [("object", ZAAK), ("klant", "x")], URLS
    ) == problem(
        400,
        "unsupported-filter-combination",
        INVOER,
        "Het filter object kan niet met andere filters worden gecombineerd.",
        [
            (
                "object",
                "unsupported-filter-combination",
                "Zoek op één object, zonder klant, identificatie, telefoonnummerOfEmailadres of type.",
            )
        ],
    )


# --- Objects front: dispatch, ordering, pageSize, Q-11 … Q-14 ------------------------------------


def interne_taken(*pairs: tuple[str, str]) -> Any:
    return objects_query.parse_interne_taken_query([("type", INTERNE_TAAK), *pairs], TYPES, URLS)


def test_objects_without_a_type_is_400() -> None:
    assert body_of(objects_dispatch.dispatch_object_type, [], INTERNE_TAAK, None) == problem(
        400,
        "invalid",
        INVOER,
        "Het objecttype ontbreekt.",
        [("type", "required", "Geef het objecttype op in de parameter type.")],
    )


@pytest.mark.parametrize(
    ("pairs", "reason"),
    [
        ([("ordering", "x")], "Sorteren kan alleen op record__data__registratiedatum, oplopend of aflopend (-)."),
        (
            [("ordering", "record__data__registratiedatum"), ("ordering", "-record__data__registratiedatum")],
            "De sortering is meer dan eens verschillend opgegeven.",
        ),
    ],
)
def test_objects_ordering_refused(pairs: list, reason: str) -> None:
    assert body_of(interne_taken, *pairs) == problem(
        400, "invalid", INVOER, "Ongeldige query-parameters.", [("ordering", "invalid", reason)]
    )


def test_objects_page_size_out_of_range() -> None:
    assert body_of(interne_taken, ("pageSize", "0")) == problem(
        400,
        "invalid",
        INVOER,
        "Ongeldige query-parameters.",
        [("pageSize", "invalid", "pageSize moet een geheel getal van 1 tot en met 500 zijn.")],
    )


def test_Q11_Q12_Q13_problem_bodies() -> None:
    assert body_of(interne_taken, ("data_attr", "betrokkene__x__exact__y")) == problem(
        400,
        "unsupported-filter",
        INVOER,
        "Dit filter wordt door de adapter niet ondersteund.",
        [
            (
                "data_attr",
                "unsupported-filter",
                "Filteren op 'betrokkene__x' met operator 'exact' wordt niet ondersteund.",
            )
        ],
    )
    assert body_of(interne_taken, ("data_attr", "betrokkene__klant__exact__")) == problem(
        400,
        "invalid",
        INVOER,
        "Een filter heeft geen waarde.",
        [("data_attr", "invalid", "Het filter op 'betrokkene__klant' met operator 'exact' heeft geen waarde.")],
    )
    twice = [
        ("data_attr", "betrokkene__digitaleAdressen__icontains__a"),
        ("data_attr", "betrokkene__digitaleAdressen__icontains__b"),
    ]
    assert body_of(interne_taken, *twice) == problem(
        400,
        "unsupported-filter",
        INVOER,
        "Een filter is meer dan eens met verschillende waarden opgegeven.",
        [
            (
                "data_attr",
                "unsupported-filter",
                "Het filter op 'betrokkene__digitaleAdressen' met operator 'icontains' is meer dan eens met verschillende "
                "waarden opgegeven; de e-Suite accepteert één waarde.",
            )
        ],
    )


def test_Q14_the_phone_or_e_mail_filter_is_sent_verbatim_even_when_it_looks_like_an_adapter_url() -> None:
    value = f"{A}/klanten/api/v1/klanten/1"
    query = interne_taken(("data_attr", f"betrokkene__digitaleAdressen__icontains__{value}"))
    assert ("telefoonnummerOfEmailadres", value) in query.upstream


def test_I8_look_ups_only_for_contacts_with_a_url() -> None:
    contacts = ["x", None, {"url": 5}, {"url": "u1"}, {"url": "u1"}, {"url": "u2"}]
    assert interne_taak_read.klant_lookup_urls(contacts, None) == ["u1", "u2"]


# --- K-1, S-1, S-3 ------------------------------------------------------------------------------


def test_K1_values_neither_text_nor_null_are_refused_in_the_rule_s_field_order() -> None:
    body = {"telefoonnummer": 5, "emailadres": [], "telefoonnummerAlternatief": None}
    assert body_of(klanten.klant_put_to_patch, body) == problem(
        400,
        "invalid",
        INVOER,
        "De contactgegevens van de klant zijn niet geldig.",
        [
            ("emailadres", "invalid", "Dit veld moet een tekst of leeg zijn."),
            ("telefoonnummer", "invalid", "Dit veld moet een tekst of leeg zijn."),
        ],
    )


def test_K1_none_of_the_fields_problem_body() -> None:
    assert body_of(klanten.klant_put_to_patch, {"achternaam": "Dijk"}) == problem(
        400,
        "invalid",
        INVOER,
        "Er zijn geen contactgegevens om te wijzigen.",
        [
            (
                "nonFieldErrors",
                "required",
                "Geef ten minste één van emailadres, telefoonnummer of telefoonnummerAlternatief op.",
            )
        ],
    )


@pytest.mark.parametrize(
    ("base", "objects"),
    [
        ("https://objecten.example.org//api/v2/", "https://objecten.example.org/api/v2/objects"),
        ("https://objecten.example.org/LDAPX/api/v2", "https://objecten.example.org/LDAPX/api/v2/objects"),
        ("https://objecten.example.org/LDAPX", "https://objecten.example.org/LDAPX/api/v2/objects"),
    ],
)
def test_S1_only_slashes_and_the_api_suffix_are_removed(base: str, objects: str) -> None:
    assert smoelenboek.smoelenboek_objects_url(base) == objects


def test_S3_an_answer_that_is_not_an_object_is_502() -> None:
    title = "De e-Suite gaf een onbruikbaar antwoord."
    assert body_of(smoelenboek.smoelenboek_page, [], "https://objecten.example.org/api/v2/objects", A) == problem(
        502, "upstream-invalid-response", title, "Het smoelenboek gaf geen JSON-object."
    )


# --- operations.md §5.4: the search after an uncertain create -----------------------------------

SENT = {"type": "Terugbelverzoek", "tekst": "Vraag", "antwoord": "N.v.t.", "status": "nieuw", "afdeling": "Afval"}


@pytest.mark.parametrize("contactgegevens", [{"telefoonnummer": "", "emailadres": ""}, {"telefoonnummer": 5}, {}])
def test_5_4_no_search_without_a_usable_phone_number_or_e_mail_address(contactgegevens: dict) -> None:
    assert search_query({**SENT, "contactgegevens": contactgegevens}) is None


def test_5_4_only_objects_match_and_without_a_sent_date_any_date_does() -> None:
    assert not matches("x", SENT)
    assert matches({**SENT, "registratiedatum": "2025-01-01T10:00:00Z"}, SENT)
    assert matches(dict(SENT), SENT)


def test_5_4_the_newest_match_by_registratiedatum_then_the_e_suite_s_order() -> None:
    def contact(url: str, registratiedatum: str | None = None) -> dict:
        return {**SENT, "url": url, **({"registratiedatum": registratiedatum} if registratiedatum else {})}

    undated = contact("undated")
    old = contact("old", "2025-03-01T10:00:00+01:00")
    new = contact("new", "2025-03-01T10:00:00Z")  # an hour later than `old`
    also_new = contact("also-new", "2025-03-01T11:00:00+01:00")  # the same instant as `new`
    assert newest_match([undated, old, new, also_new], SENT)["url"] == "new"
    assert newest_match([undated, contact("undated-2")], SENT)["url"] == "undated"
    assert newest_match([old, undated], SENT)["url"] == "old"


# --- V-2 … V-4 reasons, P-9, I-1, I-8, I-9 ---------------------------------------------------------


def test_V2_V3_V4_reasons_per_kind_of_failure() -> None:
    def params(body: Any) -> list:
        return body_of(contact_create.build_esuite_contact, body, TYPES)["invalidParams"]

    assert params([]) == [
        {"name": "nonFieldErrors", "code": "invalid", "reason": "De inhoud moet een JSON-object zijn."}
    ]
    text, obj = "Dit veld moet een tekst zijn.", "Dit veld moet een object zijn."
    assert params({"tekst": 1, "betrokkene": "x"}) == [
        {"name": "tekst", "code": "invalid", "reason": text},
        {"name": "betrokkene", "code": "invalid", "reason": obj},
    ]
    assert params({"betrokkene": {"persoonsnaam": 1, "digitaleAdressen": 2}}) == [
        {"name": "betrokkene.persoonsnaam", "code": "invalid", "reason": obj},
        {"name": "betrokkene.digitaleAdressen", "code": "invalid", "reason": "Dit veld moet een lijst zijn."},
    ]
    assert params({"betrokkene": {"digitaleAdressen": [1]}}) == [
        {
            "name": "betrokkene.digitaleAdressen.0",
            "code": "invalid",
            "reason": "Elk digitaal adres moet een object zijn.",
        },
        {
            "name": "actor",
            "code": "required",
            "reason": "Een contactverzoek heeft een behandelaar, afdeling of groep nodig.",
        },
    ]


def test_P9_a_voornaam_alone_gives_the_contact_line() -> None:
    body = {
        "betrokkene": {
            "persoonsnaam": {"voornaam": "Eva"},
            "digitaleAdressen": [{"soortDigitaalAdres": "telefoonnummer", "adres": "0612345678"}],
        },
        "actor": {"naam": "Afval", "soortActor": "organisatorische eenheid", "typeOrganisatorischeEenheid": "afdeling"},
    }
    assert contact_create.build_esuite_contact(body, TYPES)["toelichting"] == "Contact opnemen met: Eva"


NOW = datetime(2025, 5, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("contact", ["x", {"url": ["x"]}, {"url": f"{E}/"}])
def test_I1_a_contact_without_a_usable_url_is_502(contact: Any) -> None:
    """Also before I-8 looks its klant up: a malformed row is the e-Suite's fault, never a 500."""
    assert body_of(
        interne_taak_read.interne_taken_from_esuite, [contact], INTERNE_TAAK, None, {}, URLS, NOW
    ) == problem(
        502,
        "upstream-invalid-response",
        "De e-Suite gaf een onbruikbaar antwoord.",
        "Een e-Suite-contact heeft geen bruikbare url.",
    )


def test_I9_organisatie_right_after_the_colon_and_two_spaces() -> None:
    contact = {
        "url": f"{E}/contactmomenten-api-provider/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db",
        "registratiedatum": "2025-05-20T10:00:00+02:00",
        "toelichting": "Contact opnemen met:  (Bakkerij De Korenschoof)",
    }
    [row] = interne_taak_read.interne_taken_from_esuite([contact], INTERNE_TAAK, None, {}, URLS, NOW)
    betrokkene = row["record"]["data"]["betrokkene"]
    assert betrokkene["persoonsnaam"]["achternaam"] == ""
    assert betrokkene["organisatie"] == "Bakkerij De Korenschoof"


# --- T-1 … T-4, Q-2, Q-4, Q-6 -----------------------------------------------------------------------

CM_ROOT = f"{E}/contactmomenten-api-provider/api/v1"
CONTACTMOMENT = f"{A}/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"


def post_interne_taak(body: dict) -> Any:
    return interne_taak_create.interne_taak_post_answer(json_bytes(body), INTERNE_TAAK, (A,), CM_ROOT, A)


def json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("body", "detail", "invalid_param"),
    [
        (
            {"record": {"typeVersion": 1, "data": {"contactmoment": CONTACTMOMENT}}},
            "Het interne-taakobject is ongeldig.",
            ("type", "required", "Het objecttype ontbreekt."),
        ),
        (
            {
                "type": "https://objecttypen.example.org/x",
                "record": {"typeVersion": 1, "data": {"contactmoment": CONTACTMOMENT}},
            },
            "Het interne-taakobject is ongeldig.",
            ("type", "invalid_choice", "Dit objecttype wordt niet door de adapter bediend."),
        ),
        (
            {"type": INTERNE_TAAK, "record": 5},
            "Het interne-taakobject is ongeldig.",
            ("record", "invalid", "record moet een object zijn."),
        ),
        (
            {"type": INTERNE_TAAK, "record": {"typeVersion": -1, "data": {"contactmoment": CONTACTMOMENT}}},
            "Het interne-taakobject is ongeldig.",
            ("record.typeVersion", "invalid", "typeVersion moet een geheel getal van 0 tot en met 32767 zijn."),
        ),
        (
            {
                "type": INTERNE_TAAK,
                "record": {"typeVersion": 1, "data": {"contactmoment": "https://elders.example.org/x"}},
            },
            "contactmoment ontbreekt of is niet valide",
            (
                "record.data.contactmoment",
                "invalid",
                "Het contactmoment moet de URL van een contactmoment van de adapter zijn.",
            ),
        ),
    ],
)
def test_T2_T3_T4_problem_bodies(body: dict, detail: str, invalid_param: tuple) -> None:
    assert body_of(post_interne_taak, body) == problem(400, "invalid", INVOER, detail, [invalid_param])


def test_Q2_empty_segments_are_skipped_and_only_leading_question_marks_dropped() -> None:
    from adapter.mapping.query import parse_query

    assert parse_query("X=1&&b=2&") == [("X", "1"), ("b", "2")]
    assert parse_query("??a=1") == [("a", "1")]


def test_Q4_page_problem_body() -> None:
    from adapter.mapping.query import page_number

    assert body_of(page_number, [("page", "x")]) == problem(
        400,
        "invalid",
        INVOER,
        "Het paginanummer is ongeldig.",
        [("page", "invalid", "Het paginanummer moet een geheel getal vanaf 1 zijn.")],
    )


def test_Q6_problem_body_names_each_unknown_parameter() -> None:
    from adapter.mapping.query import unknown_parameters

    reason = "Deze parameter wordt niet ondersteund."
    assert body_of(unknown_parameters, [("x", "1"), ("", "2")], frozenset({"a"})) == problem(
        400,
        "unknown-parameters",
        INVOER,
        "Onbekende query-parameters.",
        [("x", "unknown-parameters", reason), ("nonFieldErrors", "unknown-parameters", reason)],
    )


@pytest.mark.parametrize("expression", ["zonder_operator", "__exact__x", "bet rokkene__exact__x"])
def test_Q11_an_unrecognisable_expression_gets_the_general_reason(expression: str) -> None:
    reason = (
        "Dit filter wordt niet ondersteund; alleen betrokkene__klant__exact en "
        "betrokkene__digitaleAdressen__icontains zijn mogelijk."
    )
    assert body_of(interne_taken, ("data_attr", expression)) == problem(
        400,
        "unsupported-filter",
        INVOER,
        "Dit filter wordt door de adapter niet ondersteund.",
        [("data_attr", "unsupported-filter", reason)],
    )


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        (" application/problem+json ", True),
        ("application/vnd.api+json;v=1", True),
        ("application/json; charset=utf-8; q=1", True),
        ("text/plain", False),
        ("application/jsonl", False),
        ("application/json-patch", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types_for_rewriting_and_eager_reads(content_type: str | None, is_json: bool) -> None:
    """RW-4 applies to `application/json` and `+json` answers (operations.md); parameters ignored."""
    assert common.is_json_media_type(content_type) is is_json
