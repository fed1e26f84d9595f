"""Interne taak rules: I-1 … I-11, Q-6/Q-10 … Q-14, T-1 … T-5, kiss-front.md §5.1 (mapping.md W9 … W12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapter.esuite_client.urls import UrlMap
from adapter.mapping.common import parse_datetime
from adapter.mapping.interne_taak_create import CONTACTMOMENT_INVALID_DETAIL, interne_taak_post_answer
from adapter.mapping.interne_taak_read import (
    interne_taak_from_esuite,
    interne_taken_from_esuite,
    is_contactverzoek,
    klant_from_lookup,
    klant_lookup_urls,
    voorlopig_antwoord_line,
)
from adapter.mapping.objects_dispatch import ObjectTypeRoute, dispatch_object_type
from adapter.mapping.objects_query import InterneTakenQuery, parse_interne_taken_query
from adapter.mapping.query import parse_query
from adapter.problems import InvalidParam, Problem
from tests.conftest import FIXTURES

A = "https://kiss-adapter.example.org"
E = "https://esuite.example.org"
CM_ROOT = f"{E}/contactmomenten-api-provider/api/v1"
IT_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/30ee8e89-2761-4e35-8eb4-b79980bdc7a9"
SB_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/cadf96e6-63aa-4641-807f-867106fc2566"
TYPES = ("Terugbelverzoek", "Contactverzoek")
URLS = UrlMap(A, E)
NOW = datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
KLANT_A = f"{A}/klanten/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
KLANT_E = f"{E}/klanten-api-provider/api/v1/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
CM_UUID = "93119562-cb7f-45bf-9976-6923c8ccc1cd"


def load(relative: str):
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def raw(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def problem_of(call, *args) -> Problem:
    with pytest.raises(Problem) as caught:
        call(*args)
    return caught.value


def exact(actual, expected) -> None:
    """Equal values and equal key order at every depth (the order is normative)."""
    assert json.dumps(actual, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def newest_first(rows: list[dict]) -> list[dict]:
    """Stand-in for C-5 (paging.py) so the fixture pages can be compared in their order."""
    return sorted(rows, key=lambda row: parse_datetime(row["record"]["data"]["registratiedatum"]), reverse=True)


def contact(**fields) -> dict:
    return {"url": f"{CM_ROOT}/contactmomenten/{CM_UUID}", **fields}


def data_of(esuite_contact: dict, klant: str | None = None) -> dict:
    return interne_taak_from_esuite(esuite_contact, IT_TYPE, klant, URLS, NOW)["record"]["data"]


# --- fixture pages (W9, detail, by klant) ------------------------------------------------------


def lookups_of_fixtures(contacts: list[dict]) -> dict[str, str | None]:
    """The fixture README: `klantcontactmomenten-page.json` for b54a7b40-…, the empty page otherwise."""
    found = load("esuite/klantcontactmomenten-page.json")
    empty = load("esuite/klantcontactmomenten-page-empty.json")
    return {
        url: klant_from_lookup(found if "b54a7b40" in url else empty, url, URLS)
        for url in klant_lookup_urls(contacts, None)
    }


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("esuite/contactmomenten-page-1-contactverzoeken.json", "expected/get-interne-taken-search-v1.response.json"),
        (
            "esuite/contactmomenten-page-2-contactverzoeken.json",
            "expected/get-interne-taken-search-v1-page-2.response.json",
        ),
    ],
)
def test_I1_to_I10_W9_search_pages_match_fixture(page, expected):
    contacts = load(page)["results"]
    rows = interne_taken_from_esuite(contacts, IT_TYPE, None, lookups_of_fixtures(contacts), URLS, NOW)
    exact(newest_first(rows), load(expected)["results"])


def test_I8_W9_lookup_urls_are_the_distinct_esuite_urls_in_page_order():
    contacts = load("esuite/contactmomenten-page-1-contactverzoeken.json")["results"]
    assert klant_lookup_urls(contacts + contacts[:1], None) == [c["url"] for c in contacts]


def test_I8_by_klant_uses_the_filter_value_and_no_lookups():
    contacts = load("esuite/contactmomenten-page-contactverzoeken-klant.json")["results"]
    query = parse_interne_taken_query(
        parse_query(
            "ordering=-record__data__registratiedatum&pageSize=10&data_attr=betrokkene__klant__exact__"
            "https%3A%2F%2Fkiss-adapter.example.org%2Fklanten%2Fapi%2Fv1%2Fklanten%2Fd72e7265-3b76-4410-a9aa-54e20528a3f4"
            f"&type={IT_TYPE}"
        ),
        TYPES,
        URLS,
    )
    assert klant_lookup_urls(contacts, query.klant_filter) == []
    rows = interne_taken_from_esuite(contacts, IT_TYPE, query.klant_filter, {}, URLS, NOW)
    exact(rows, load("expected/get-interne-taken-by-klant-v1.response.json")["results"])


def test_I5_detail_uses_recentste_voorlopig_antwoord_without_offset():
    esuite_contact = load("esuite/contactmoment-detail-contactverzoek.json")
    klant = klant_from_lookup(load("esuite/klantcontactmomenten-page-empty.json"), esuite_contact["url"], URLS)
    exact(
        interne_taak_from_esuite(esuite_contact, IT_TYPE, klant, URLS, NOW),
        load("expected/get-interne-taak-detail.response.json"),
    )


def test_I11_rows_keep_the_esuite_order():
    contacts = load("esuite/contactmomenten-page-1-contactverzoeken.json")["results"]
    rows = interne_taken_from_esuite(contacts, IT_TYPE, None, {}, URLS, NOW)
    assert [row["uuid"] for row in rows] == [c["url"].rsplit("/", 1)[1] for c in contacts]


def test_I11_is_contactverzoek_by_configured_type():
    assert is_contactverzoek({"type": "Contactverzoek"}, TYPES)
    assert not is_contactverzoek({"type": "Melding"}, TYPES)
    assert not is_contactverzoek(["Contactverzoek"], TYPES)


# --- I-1 … I-4 ----------------------------------------------------------------------------------


def test_I1_uuid_is_last_segment_as_printed():
    taak = interne_taak_from_esuite(contact(url=f"{CM_ROOT}/contactmomenten/ABC-1/"), IT_TYPE, None, URLS, NOW)
    assert taak["uuid"] == "ABC-1"
    assert taak["url"] == f"{A}/api/v2/objects/ABC-1"


@pytest.mark.parametrize(
    "bad", [{"url": None}, {"url": 5}, {}, {"url": "https://x.example.org/"}, {"url": "http://[x/"}, "contact", None]
)
def test_I1_unusable_url_is_502(bad):
    problem = problem_of(interne_taak_from_esuite, bad, IT_TYPE, None, URLS, NOW)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")


def test_I2_url_type_and_key_order():
    taak = interne_taak_from_esuite(contact(), IT_TYPE, None, URLS, NOW)
    assert list(taak) == ["url", "uuid", "type", "record"]
    assert taak["url"] == f"{A}/api/v2/objects/{CM_UUID}"
    assert taak["type"] == IT_TYPE


def test_I3_record_shape_and_date_in_amsterdam():
    record = interne_taak_from_esuite(contact(registratiedatum="2024-12-31T23:15:00Z"), IT_TYPE, None, URLS, NOW)[
        "record"
    ]
    assert list(record) == [
        "index",
        "typeVersion",
        "data",
        "geometry",
        "startAt",
        "endAt",
        "registrationAt",
        "correctionFor",
        "correctedBy",
    ]
    assert (record["index"], record["typeVersion"]) == (1, 1)
    assert (record["startAt"], record["registrationAt"]) == ("2025-01-01", "2025-01-01")
    assert record["geometry"] is record["endAt"] is record["correctionFor"] is record["correctedBy"] is None


@pytest.mark.parametrize("registratiedatum", [None, "gisteren", 20250101])
def test_I3_missing_or_unparsable_date_is_today_in_amsterdam(registratiedatum):
    late_evening_utc = datetime(2025, 6, 30, 22, 30, tzinfo=UTC)
    fields = {} if registratiedatum is None else {"registratiedatum": registratiedatum}
    record = interne_taak_from_esuite(contact(**fields), IT_TYPE, None, URLS, late_evening_utc)["record"]
    assert record["startAt"] == record["registrationAt"] == "2025-07-01"


def test_I4_basics_as_received_and_contactmoment_rewritten():
    data = data_of(contact(registratiedatum="2025-03-04T11:00:00", status="in_behandeling"))
    assert data["contactmoment"] == f"{A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}"
    assert (data["registratiedatum"], data["status"]) == ("2025-03-04T11:00:00", "in_behandeling")


def test_I4_absent_fields_are_null_and_foreign_url_stays():
    data = data_of({"url": f"https://elders.example.org/contactmomenten/{CM_UUID}"})
    assert data["contactmoment"] == f"https://elders.example.org/contactmomenten/{CM_UUID}"
    assert data["registratiedatum"] is None and data["status"] is None


# --- I-5 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registratiedatum", "printed"),
    [
        ("2025-03-05T08:30:00Z", "05-03-2025, 09:30"),
        ("2025-03-05T09:30:00+01:00", "05-03-2025, 09:30"),
        ("2025-06-11T12:05:00Z", "11-06-2025, 14:05"),
        ("2025-06-12T16:45:00", "12-06-2025, 16:45"),
        ("2025-03-30T00:59:00Z", "30-03-2025, 01:59"),
        ("2025-03-30T01:00:00Z", "30-03-2025, 03:00"),
        ("2024-12-31T23:15:00Z", "01-01-2025, 00:15"),
        ("2025-04-01T09:20:00.123456+00:00", "01-04-2025, 11:20"),
    ],
)
def test_I5_W10_voorlopig_antwoord_date_time_in_amsterdam_dst_start(registratiedatum, printed):
    antwoord = {"antwoord": "Bezig.", "registratiedatum": registratiedatum, "volledigeNaam": "Mila Bakker"}
    assert voorlopig_antwoord_line(antwoord) == f"Laatste voorlopige antwoord: Bezig. ({printed}, Mila Bakker)"


@pytest.mark.parametrize(
    ("naam_fields", "suffix"),
    [
        ({"volledigeNaam": "Mila Bakker", "gebruikersnaam": "mbakker"}, ", Mila Bakker)"),
        ({"volledigeNaam": "  ", "gebruikersnaam": "mbakker"}, ", mbakker)"),
        ({"gebruikersnaam": "  "}, ")"),
        ({}, ")"),
    ],
)
def test_I5_naam_volledige_naam_else_gebruikersnaam_else_left_out(naam_fields, suffix):
    antwoord = {"antwoord": "Bezig.", "registratiedatum": "2025-03-05T08:30:00Z", **naam_fields}
    assert voorlopig_antwoord_line(antwoord) == f"Laatste voorlopige antwoord: Bezig. (05-03-2025, 09:30{suffix}"


@pytest.mark.parametrize(
    "antwoord",
    [
        None,
        {"antwoord": " ", "registratiedatum": "2025-03-05T08:30:00Z"},
        {"antwoord": 5, "registratiedatum": "2025-03-05T08:30:00Z"},
        {"antwoord": "Bezig.", "registratiedatum": "morgen"},
        {"antwoord": "Bezig."},
    ],
)
def test_I5_no_line_without_antwoord_or_parsable_date(antwoord):
    assert voorlopig_antwoord_line(antwoord) == ""


def test_I5_antwoord_verbatim():
    antwoord = {"antwoord": "  Bezig  ", "registratiedatum": "2025-03-05T08:30:00Z"}
    assert voorlopig_antwoord_line(antwoord) == "Laatste voorlopige antwoord:   Bezig   (05-03-2025, 09:30)"


VA_OUD = {"antwoord": "Oud.", "registratiedatum": "2025-03-05T08:30:00Z"}
VA_NIEUW = {"antwoord": "Nieuw.", "registratiedatum": "2025-03-06T08:30:00Z"}


def test_I5_recentste_wins_over_the_list():
    data = data_of(contact(recentsteVoorlopigAntwoord=VA_OUD, voorlopigeAntwoorden=[VA_NIEUW]))
    assert data["toelichting"] == "Laatste voorlopige antwoord: Oud. (05-03-2025, 09:30)"


def test_I5_first_of_the_list_when_no_recentste():
    data = data_of(contact(recentsteVoorlopigAntwoord=None, voorlopigeAntwoorden=[VA_NIEUW, VA_OUD]))
    assert data["toelichting"] == "Laatste voorlopige antwoord: Nieuw. (06-03-2025, 09:30)"


@pytest.mark.parametrize("lijst", [[], ["tekst"], "geen lijst"])
def test_I5_list_without_object_gives_no_line(lijst):
    assert data_of(contact(voorlopigeAntwoorden=lijst))["toelichting"] == ""


@pytest.mark.parametrize(
    ("toelichting", "expected"),
    [
        # Only the ends are trimmed (I-5 step 4): t's own trailing newline stays inside.
        ("  Bel na 17:00.\n", "Bel na 17:00.\n\n\nLaatste voorlopige antwoord: Oud. (05-03-2025, 09:30)"),
        ("   ", "Laatste voorlopige antwoord: Oud. (05-03-2025, 09:30)"),
        (None, "Laatste voorlopige antwoord: Oud. (05-03-2025, 09:30)"),
        (7, "Laatste voorlopige antwoord: Oud. (05-03-2025, 09:30)"),
    ],
)
def test_I5_toelichting_joined_and_trimmed(toelichting, expected):
    assert data_of(contact(toelichting=toelichting, recentsteVoorlopigAntwoord=VA_OUD))["toelichting"] == expected


def test_I5_toelichting_without_antwoord_comes_back_trimmed():
    assert data_of(contact(toelichting="\tBel na 17:00.  \n"))["toelichting"] == "Bel na 17:00."


# --- I-6 ----------------------------------------------------------------------------------------

PIET = {"gebruikersnaam": "pdvries", "volledigeNaam": "Piet de Vries"}


def unit_actor(unit_type: str, naam: str) -> dict:
    return {
        "naam": f"{unit_type}:{naam}",
        "soortActor": "organisatorische eenheid",
        "identificatie": f"{unit_type}:{naam}",
        "typeOrganisatorischeEenheid": unit_type,
        "naamOrganisatorischeEenheid": naam,
    }


@pytest.mark.parametrize(
    ("fields", "actor"),
    [
        ({"groep": "Team Afval", "afdeling": "Afval", "onderwerp": "afd:X"}, unit_actor("groep", "Team Afval")),
        ({"groep": " ", "afdeling": "Burgerzaken"}, unit_actor("afdeling", "Burgerzaken")),
        ({"onderwerp": "grp: Team Handhaving "}, unit_actor("groep", "Team Handhaving")),
        ({"onderwerp": "afd:Vergunningen"}, unit_actor("afdeling", "Vergunningen")),
        ({"onderwerp": "afd:  "}, {"naam": "", "soortActor": "", "identificatie": ""}),
        ({"onderwerp": "GRP:Team"}, {"naam": "", "soortActor": "", "identificatie": ""}),
        ({}, {"naam": "", "soortActor": "", "identificatie": ""}),
        (
            {"behandelaar": PIET, "afdeling": "Vergunningen"},
            {
                "naam": "Piet de Vries",
                "soortActor": "medewerker",
                "identificatie": "pdvries",
                "typeOrganisatorischeEenheid": "afdeling",
                "naamOrganisatorischeEenheid": "Vergunningen",
            },
        ),
        (
            {"behandelaar": {"gebruikersnaam": "pdvries", "volledigeNaam": ""}},
            {"naam": "pdvries", "soortActor": "medewerker", "identificatie": "pdvries"},
        ),
        ({"behandelaar": {"gebruikersnaam": " ", "volledigeNaam": "Piet"}, "groep": "G"}, unit_actor("groep", "G")),
    ],
)
def test_I6_actor(fields, actor):
    exact(data_of(contact(**fields))["actor"], actor)


def test_I6_W9_actor_rows():
    contacts = (
        load("esuite/contactmomenten-page-1-contactverzoeken.json")["results"]
        + load("esuite/contactmomenten-page-2-contactverzoeken.json")["results"]
    )
    actors = [data_of(c)["actor"] for c in contacts]
    exact(actors[0], unit_actor("groep", "Team Afval"))
    exact(
        actors[1],
        {
            "naam": "Piet de Vries",
            "soortActor": "medewerker",
            "identificatie": "pdvries",
            "typeOrganisatorischeEenheid": "afdeling",
            "naamOrganisatorischeEenheid": "Vergunningen",
        },
    )
    exact(actors[2], unit_actor("afdeling", "Burgerzaken"))
    exact(actors[3], unit_actor("groep", "Team Handhaving"))


# --- I-7, I-9, I-10 ---------------------------------------------------------------------------


def test_I7_digitale_adressen_order_and_blank_values_skipped():
    adressen = data_of(
        contact(contactgegevens={"telefoonnummerAlternatief": "010", "telefoonnummer": " ", "emailadres": "a@b.nl"})
    )["betrokkene"]["digitaleAdressen"]
    exact(
        adressen,
        [
            {"adres": "a@b.nl", "omschrijving": "e-mailadres", "soortDigitaalAdres": "email"},
            {"adres": "010", "omschrijving": "alternatief telefoonnummer", "soortDigitaalAdres": "telefoonnummer"},
        ],
    )


@pytest.mark.parametrize("contactgegevens", [None, "0612345678", [], {"telefoonnummer": 612345678}])
def test_I7_no_usable_contactgegevens_gives_empty_array(contactgegevens):
    assert data_of(contact(contactgegevens=contactgegevens))["betrokkene"]["digitaleAdressen"] == []


def test_I8_lookup_takes_first_matching_result_rewritten():
    url = f"{CM_ROOT}/contactmomenten/{CM_UUID}"
    results = [
        "geen object",
        {"klant": "  ", "contactmoment": url},
        {"klant": f"{E}/klanten-api-provider/api/v1/klanten/other", "contactmoment": f"{CM_ROOT}/contactmomenten/x"},
        {"klant": KLANT_E, "contactmoment": url.upper().replace(CM_ROOT.upper(), CM_ROOT)},
        {"klant": f"{E}/klanten-api-provider/api/v1/klanten/second", "contactmoment": url},
    ]
    assert klant_from_lookup({"results": results}, url, URLS) == KLANT_A


def test_I8_lookup_result_without_contactmoment_counts():
    url = f"{CM_ROOT}/contactmomenten/{CM_UUID}"
    assert klant_from_lookup([{"klant": KLANT_E}], url, URLS) == KLANT_A


@pytest.mark.parametrize("results", [{"results": []}, {"count": 0}, None, "x", [{"klant": 5}]])
def test_I8_lookup_without_match_is_no_klant(results):
    assert klant_from_lookup(results, f"{CM_ROOT}/contactmomenten/{CM_UUID}", URLS) is None


def test_I8_lookup_ignores_results_of_other_contacts():
    ander = {"klant": KLANT_E, "contactmoment": f"{CM_ROOT}/contactmomenten/141a574c-6013-48f9-9d3d-db0e887e2603"}
    assert klant_from_lookup([ander], f"{CM_ROOT}/contactmomenten/{CM_UUID}", URLS) is None


def test_I8_filter_value_is_used_verbatim_for_every_row():
    contacts = [contact(), {"url": f"{CM_ROOT}/contactmomenten/other"}]
    rows = interne_taken_from_esuite(contacts, IT_TYPE, "12345", {contacts[0]["url"]: KLANT_A}, URLS, NOW)
    assert [row["record"]["data"]["betrokkene"]["klant"] for row in rows] == ["12345", "12345"]


@pytest.mark.parametrize(
    ("toelichting", "achternaam", "organisatie"),
    [
        ("Contact opnemen met: Anna van Dijk\nOmschrijving", "Anna van Dijk", None),
        ("Contact opnemen met: Kees van Dijk (Van Dijk Bouw B.V.)\nVraag", "Kees van Dijk", "Van Dijk Bouw B.V."),
        ("Contact opnemen met: (Bakkerij De Korenschoof)", "", "Bakkerij De Korenschoof"),
        ("Contact opnemen met: Jan (oom) (Bouw (Noord))", "Jan (oom) (Bouw", "Noord)"),
        ("Contact opnemen met: Jan (x) y", "Jan (x) y", None),
        ("Contact opnemen met:Jan", "", None),  # no space after the colon: not the P-9 line
        ("", "", None),
        ("Overlast scooters Stationsplein.", "", None),
        ("Vraag\nContact opnemen met: Anna", "", None),
    ],
)
def test_I9_W9_persoonsnaam_and_organisatie_from_first_line(toelichting, achternaam, organisatie):
    betrokkene = data_of(contact(toelichting=toelichting))["betrokkene"]
    assert betrokkene["persoonsnaam"] == {"voornaam": "", "voorvoegselAchternaam": "", "achternaam": achternaam}
    assert betrokkene.get("organisatie") == organisatie
    assert ("organisatie" in betrokkene) == (organisatie is not None)


def test_I9_key_order_with_klant_and_organisatie():
    betrokkene = data_of(contact(toelichting="Contact opnemen met: K (O)"), klant=KLANT_A)["betrokkene"]
    assert list(betrokkene) == ["rol", "klant", "persoonsnaam", "organisatie", "digitaleAdressen"]
    assert betrokkene["rol"] == "klant"


def test_I9_klant_key_absent_without_klant():
    assert list(data_of(contact())["betrokkene"]) == ["rol", "persoonsnaam", "digitaleAdressen"]


def test_I9_toelichting_keeps_the_name_line():
    data = data_of(contact(toelichting="Contact opnemen met: Anna\nVraag"))
    assert data["toelichting"] == "Contact opnemen met: Anna\nVraag"


def test_I10_data_keys_and_dropped_esuite_fields():
    esuite_contact = load("esuite/contactmomenten-page-1-contactverzoeken.json")["results"][0]
    data = data_of(esuite_contact)
    assert list(data) == [
        "contactmoment",
        "registratiedatum",
        "status",
        "toelichting",
        "actor",
        "betrokkene",
        "medewerkerIdentificatie",
    ]
    assert data["medewerkerIdentificatie"] == {"identificatie": "jjansen", "achternaam": "Jan Jansen"}


@pytest.mark.parametrize("medewerker", [None, "jjansen", ["jjansen"]])
def test_I10_medewerker_identificatie_absent_unless_object(medewerker):
    assert "medewerkerIdentificatie" not in data_of(contact(medewerkerIdentificatie=medewerker))


# --- kiss-front.md §5.1 dispatch ----------------------------------------------------------------


def test_dispatch_interne_taak_and_smoelenboek():
    assert dispatch_object_type([("type", IT_TYPE)], IT_TYPE, SB_TYPE) is ObjectTypeRoute.INTERNE_TAAK
    assert dispatch_object_type([("page", "1"), ("type", SB_TYPE)], IT_TYPE, SB_TYPE) is ObjectTypeRoute.SMOELENBOEK


@pytest.mark.parametrize("pairs", [[], [("type", "")], [("type", "  ")], [("page", "1")]])
def test_dispatch_missing_type_is_required(pairs):
    problem = problem_of(dispatch_object_type, pairs, IT_TYPE, SB_TYPE)
    assert (problem.status, problem.code) == (400, "invalid")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("type", "required")]


@pytest.mark.parametrize(
    ("object_type", "smoelenboek_type"),
    [
        ("https://objecttypen.example.org/api/v2/objecttypes/afdelingen", SB_TYPE),
        (SB_TYPE, None),
        (IT_TYPE + "/", SB_TYPE),
    ],
)
def test_dispatch_unknown_type(object_type, smoelenboek_type):
    problem = problem_of(dispatch_object_type, [("type", object_type)], IT_TYPE, smoelenboek_type)
    assert (problem.status, problem.code) == (400, "objecttype-onbekend")
    assert problem.detail == f"objecttype onbekend: {object_type}"
    assert problem.invalid_params == [
        InvalidParam("type", "invalid_choice", "Dit objecttype wordt niet door de adapter bediend.")
    ]


# --- Q-rules (W11) ------------------------------------------------------------------------------

BASE_UPSTREAM = [("type", "Terugbelverzoek"), ("type", "Contactverzoek")]


def parse(raw_query: str) -> InterneTakenQuery:
    return parse_interne_taken_query(parse_query(raw_query), TYPES, URLS)


@pytest.mark.parametrize(
    ("inbound", "upstream", "klant_filter"),
    [
        (
            f"data_attrs=betrokkene__klant__exact__{KLANT_A}&page=1",
            [("klant", KLANT_E), ("page", "1")],
            KLANT_A,
        ),
        ("data_attr=betrokkene__klant__exact__12345", [("klant", "12345")], "12345"),
        (
            "data_attr=betrokkene__digitaleAdressen__icontains__anna.vandijk%40example.org",
            [("telefoonnummerOfEmailadres", "anna.vandijk@example.org")],
            None,
        ),
        (
            "data_attrs=betrokkene__digitaleAdressen__icontains__06123&page=",
            [("telefoonnummerOfEmailadres", "06123")],
            None,
        ),
        (f"type={IT_TYPE}", [], None),
    ],
)
def test_Q14_W11_upstream_query(inbound, upstream, klant_filter):
    query = parse(inbound)
    assert query.upstream == BASE_UPSTREAM + upstream
    assert query.klant_filter == klant_filter


def test_Q14_order_is_type_klant_telefoon_page_whatever_the_inbound_order():
    query = parse(
        "page=3&data_attr=betrokkene__digitaleAdressen__icontains__06+1%2C2&ordering=record__data__registratiedatum"
        f"&data_attrs=betrokkene__klant__exact__{KLANT_A}&pageSize=500&type=x"
    )
    assert query.upstream == BASE_UPSTREAM + [
        ("klant", KLANT_E),
        ("telefoonnummerOfEmailadres", "06 1,2"),
        ("page", "3"),
    ]
    assert query.descending is False


def test_Q14_W9_request_of_the_fixture():
    query = parse(
        "ordering=-record__data__registratiedatum&pageSize=10&data_attr=betrokkene__digitaleAdressen__icontains__0612345678"
        f"&page=1&type={IT_TYPE}"
    )
    assert query == InterneTakenQuery(
        upstream=BASE_UPSTREAM + [("telefoonnummerOfEmailadres", "0612345678"), ("page", "1")],
        klant_filter=None,
        descending=True,
    )


def test_Q14_klant_from_request_origin_is_rewritten():
    urls = UrlMap(A, E, ("http://localhost:8080",))
    query = parse_interne_taken_query(
        [("data_attr", "betrokkene__klant__exact__http://localhost:8080/klanten/api/v1/klanten/1")], TYPES, urls
    )
    assert query.upstream[-1] == ("klant", f"{E}/klanten-api-provider/api/v1/klanten/1")
    assert query.klant_filter == "http://localhost:8080/klanten/api/v1/klanten/1"


def test_Q10_data_attrs_split_on_comma_and_empty_expressions_skipped():
    query = parse("data_attrs=betrokkene__klant__exact__1,,betrokkene__digitaleAdressen__icontains__06,&data_attr=")
    assert query.upstream == BASE_UPSTREAM + [("klant", "1"), ("telefoonnummerOfEmailadres", "06")]


def test_Q10_data_attr_value_may_hold_a_comma_and_double_underscore():
    query = parse("data_attr=betrokkene__digitaleAdressen__icontains__a__b%2Cc%3A%2F%40%2B")
    assert query.upstream[-1] == ("telefoonnummerOfEmailadres", "a__b,c:/@+")


@pytest.mark.parametrize(
    ("inbound", "entries"),
    [
        (
            "data_attr=status__exact__nieuw",
            [("data_attr", "Filteren op 'status' met operator 'exact' wordt niet ondersteund.")],
        ),
        (
            "data_attrs=betrokkene__klant__icontains__0612345678",
            [("data_attrs", "Filteren op 'betrokkene__klant' met operator 'icontains' wordt niet ondersteund.")],
        ),
        (
            "data_attr=Betrokkene__klant__exact__1&data_attrs=betrokkene__klant__exact__1,record__data__x__gte__5",
            [
                ("data_attr", "Filteren op 'Betrokkene__klant' met operator 'exact' wordt niet ondersteund."),
                ("data_attrs", "Filteren op 'record__data__x' met operator 'gte' wordt niet ondersteund."),
            ],
        ),
    ],
)
def test_Q11_unsupported_filter_names_path_and_operator(inbound, entries):
    problem = problem_of(parse, inbound)
    assert (problem.status, problem.code) == (400, "unsupported-filter")
    assert problem.invalid_params == [InvalidParam(name, "unsupported-filter", reason) for name, reason in entries]


@pytest.mark.parametrize(
    "secret", ["0612345678", "anna@example.org__exact__x", "betrokkene__klant__0612345678", "a b__in__0612345678"]
)
def test_Q11_reason_never_contains_the_value(secret):
    problem = problem_of(parse, f"data_attr={secret}")
    assert problem.code == "unsupported-filter"
    (entry,) = problem.invalid_params
    assert "0612345678" not in entry.reason and "anna" not in entry.reason and "0612345678" not in problem.detail


def test_Q12_blank_value_is_invalid():
    problem = problem_of(
        parse, "data_attr=betrokkene__klant__exact__&data_attrs=betrokkene__digitaleAdressen__icontains__+"
    )
    assert (problem.status, problem.code) == (400, "invalid")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("data_attr", "invalid"), ("data_attrs", "invalid")]


def test_Q13_conflicting_klant_filters():
    problem = problem_of(
        parse, "data_attrs=betrokkene__klant__exact__0611111111&data_attr=betrokkene__klant__exact__0622222222"
    )
    assert (problem.status, problem.code) == (400, "unsupported-filter")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("data_attr", "unsupported-filter")]
    assert "06" not in problem.invalid_params[0].reason and "06" not in problem.detail


def test_Q13_W11_conflicting_values_within_data_attrs():
    problem = problem_of(parse, "data_attrs=betrokkene__klant__exact__A,betrokkene__klant__exact__B")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("data_attrs", "unsupported-filter")]


def test_Q13_identical_repeats_count_once():
    query = parse(
        "data_attrs=betrokkene__digitaleAdressen__icontains__06&data_attr=betrokkene__digitaleAdressen__icontains__06"
    )
    assert query.upstream == BASE_UPSTREAM + [("telefoonnummerOfEmailadres", "06")]


def test_Q6_unknown_parameter():
    problem = problem_of(parse, f"type={IT_TYPE}&data_attr=betrokkene__klant__exact__1&expand=x&expand=y&foo")
    assert problem.code == "unknown-parameters"
    assert [p.name for p in problem.invalid_params] == ["expand", "foo"]


@pytest.mark.parametrize("ordering", ["registratiedatum", "-record__data__registratiedatum,x", ""])
def test_Q6_ordering_other_values_are_invalid(ordering):
    problem = problem_of(parse, f"ordering={ordering}")
    assert (problem.code, [p.name for p in problem.invalid_params]) == ("invalid", ["ordering"])


def test_Q6_conflicting_orderings_are_invalid():
    problem = problem_of(parse, "ordering=record__data__registratiedatum&ordering=-record__data__registratiedatum")
    assert [p.name for p in problem.invalid_params] == ["ordering"]


@pytest.mark.parametrize("page_size", ["0", "501", "ten", "", "-1", "²"])
def test_Q6_page_size_out_of_range(page_size):
    problem = problem_of(parse, f"ordering=x&pageSize={page_size}")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("ordering", "invalid"), ("pageSize", "invalid")]


def test_Q6_page_size_accepted_but_not_forwarded():
    assert parse("pageSize=1").upstream == BASE_UPSTREAM
    assert parse("ordering=-record__data__registratiedatum").descending is True


def test_Q6_invalid_page():
    problem = problem_of(parse, "page=0")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("page", "invalid")]


# --- T-rules (W12) ------------------------------------------------------------------------------

ORIGIN = "http://localhost:8080"


def answer(body: bytes):
    return interne_taak_post_answer(body, IT_TYPE, (A, ORIGIN), CM_ROOT, A)


def post_body(contactmoment=None, **overrides) -> bytes:
    body = {
        "type": IT_TYPE,
        "record": {
            "typeVersion": "1",
            "data": {"contactmoment": contactmoment or f"{A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}"},
        },
    }
    body.update(overrides)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("request_file", "expected_file"),
    [
        ("kiss/post-interne-taak-v1.json", "expected/post-interne-taak-v1.response.json"),
        ("kiss/post-interne-taak-2024.json", "expected/post-interne-taak-2024.response.json"),
    ],
)
def test_T5_W12_answer_echoes_the_body_with_url_and_uuid(request_file, expected_file):
    result = answer(raw(request_file))
    exact(result.body, load(expected_file))
    assert result.url == result.body["url"] and result.uuid == result.body["uuid"]


def test_T4_W12_foreign_contactmoment_fixture():
    problem = problem_of(answer, raw("kiss/post-interne-taak-invalid-contactmoment.json"))
    assert (problem.status, problem.code, problem.detail) == (400, "invalid", CONTACTMOMENT_INVALID_DETAIL)
    assert [(p.name, p.code) for p in problem.invalid_params] == [("record.data.contactmoment", "invalid")]
    assert "example.org" not in problem.invalid_params[0].reason


def test_T5_url_and_uuid_replaced_in_place_and_uuid_lower_cased():
    body = post_body(
        f"{ORIGIN}/contactmomenten/api/v1/contactmomenten/{CM_UUID.upper()}/", uuid="oud", extra=1, url="oud"
    )
    result = answer(body)
    assert list(result.body) == ["type", "record", "uuid", "extra", "url"]
    assert result.body["uuid"] == result.uuid == CM_UUID
    assert result.body["url"] == f"{A}/api/v2/objects/{CM_UUID}"


@pytest.mark.parametrize(
    "contactmoment",
    [
        f"{A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}",
        f"{A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}/",
        f"{ORIGIN}/contactmomenten/api/v1/contactmomenten/{CM_UUID}",
        f"{CM_ROOT}/contactmomenten/{CM_UUID}",
        f"{CM_ROOT}/contactmomenten/{CM_UUID}/",
    ],
)
def test_T4_accepted_contactmoment_forms(contactmoment):
    assert answer(post_body(contactmoment)).uuid == CM_UUID


@pytest.mark.parametrize(
    "contactmoment",
    [
        f"{A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}//",
        f"{A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}?x=1",
        f"{A}/contactmomenten/api/v1/contactmomenten/not-a-uuid",
        f"{A}/contactmomenten/api/v1/klantcontactmomenten/{CM_UUID}",
        f"https://andere.example.org/contactmomenten/api/v1/contactmomenten/{CM_UUID}",
        f"{A.upper()}/contactmomenten/api/v1/contactmomenten/{CM_UUID}",
        f"{E}/contactmomenten/api/v1/contactmomenten/{CM_UUID}",
        f" {A}/contactmomenten/api/v1/contactmomenten/{CM_UUID}",
        5,
    ],
)
def test_T4_refused_contactmoment_forms(contactmoment):
    body = json.loads(post_body())
    body["record"]["data"]["contactmoment"] = contactmoment
    problem = problem_of(answer, json.dumps(body).encode())
    assert problem.detail == CONTACTMOMENT_INVALID_DETAIL


@pytest.mark.parametrize("data", [None, "x", {}, {"contactmoment": None}])
def test_T4_missing_data_or_contactmoment(data):
    problem = problem_of(answer, json.dumps({"type": IT_TYPE, "record": {"typeVersion": 1, "data": data}}).encode())
    assert [(p.name, p.code) for p in problem.invalid_params] == [("record.data.contactmoment", "invalid")]


def test_T1_body_not_json_is_parse_error():
    problem = problem_of(answer, b"{nee")
    assert (problem.status, problem.code) == (400, "parse_error")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("nonFieldErrors", "parse_error")]


@pytest.mark.parametrize("body", [b"[]", b"null", b'"x"'])
def test_T1_body_not_an_object(body):
    problem = problem_of(answer, body)
    assert (problem.code, [(p.name, p.code) for p in problem.invalid_params]) == (
        "invalid",
        [("nonFieldErrors", "invalid")],
    )


def test_T1_utf8_bom_is_tolerated():
    assert answer(b"\xef\xbb\xbf" + post_body()).uuid == CM_UUID


@pytest.mark.parametrize(
    ("object_type", "code"), [(None, "required"), (" ", "required"), (SB_TYPE, "invalid_choice"), (1, "invalid_choice")]
)
def test_T2_type(object_type, code):
    problem = problem_of(answer, post_body(type=object_type))
    assert [(p.name, p.code) for p in problem.invalid_params] == [("type", code)]
    assert problem.detail != CONTACTMOMENT_INVALID_DETAIL


def test_T2_absent_type_is_required():
    body = json.loads(post_body())
    del body["type"]
    assert [(p.name, p.code) for p in problem_of(answer, json.dumps(body).encode()).invalid_params] == [
        ("type", "required")
    ]


@pytest.mark.parametrize("type_version", [0, 1, 32767, "1", "00001", "32767"])
def test_T3_type_version_accepted(type_version):
    body = json.loads(post_body())
    body["record"]["typeVersion"] = type_version
    assert answer(json.dumps(body).encode()).body["record"]["typeVersion"] == type_version


@pytest.mark.parametrize("type_version", [None, -1, 32768, "32768", "", "000001", "1.0", 1.0, True, " 1", "١"])
def test_T3_type_version_refused(type_version):
    body = json.loads(post_body())
    body["record"]["typeVersion"] = type_version
    if type_version is None:
        del body["record"]["typeVersion"]
    problem = problem_of(answer, json.dumps(body).encode())
    assert [(p.name, p.code) for p in problem.invalid_params] == [("record.typeVersion", "invalid")]


@pytest.mark.parametrize("record", [None, [], "x"])
def test_T3_record_not_an_object(record):
    problem = problem_of(answer, post_body(record=record))
    assert [(p.name, p.code) for p in problem.invalid_params] == [("record", "invalid")]


def test_T2_T3_T4_all_failures_in_rule_order():
    body = json.dumps({"type": "x", "record": {"typeVersion": "v1", "data": {"contactmoment": "elders"}}}).encode()
    problem = problem_of(answer, body)
    assert problem.detail == CONTACTMOMENT_INVALID_DETAIL
    assert [(p.name, p.code) for p in problem.invalid_params] == [
        ("type", "invalid_choice"),
        ("record.typeVersion", "invalid"),
        ("record.data.contactmoment", "invalid"),
    ]


def test_T5_same_post_twice_same_answer():
    assert answer(post_body()) == answer(post_body())
