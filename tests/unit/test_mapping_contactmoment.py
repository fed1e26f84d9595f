"""mapping.md §2–§4: POST contactmoment (V, P), reads (R) and lists (C), one test per rule."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from adapter.esuite_client.urls import UrlMap
from adapter.mapping import contact_create, contactmoment_body, contactmoment_lists, contactmoment_read, paging
from adapter.mapping.query import parse_query
from adapter.problems import Problem
from tests.conftest import FIXTURES

TYPES = ["Terugbelverzoek", "Contactverzoek"]
A = "https://kiss-adapter.example.org"
E = "https://esuite.example.org"
URLS = UrlMap(A, E)
CM_A = A + "/contactmomenten/api/v1"
CM_E = E + "/contactmomenten-api-provider/api/v1"
UUID1 = "cb7b21e1-708d-4ea3-8d81-147dd041f296"
UUID2 = "b2272f29-1e69-411e-b853-1e0156652230"
ROUTE = "/contactmomenten/api/v1/contactmomenten"


def load(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def assert_same(actual: Any, expected: Any) -> None:
    """Equal values and equal key order at every depth."""
    assert actual == expected
    assert json.dumps(actual, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def build(body: Any) -> dict:
    return contact_create.build_esuite_contact(body, TYPES)


def failures(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(Problem) as caught:
        build(body)
    problem = caught.value
    assert (problem.status, problem.code) == (400, "invalid")
    assert problem.detail == "De gegevens van het contactmoment zijn niet geldig."
    return [(p.name, p.code) for p in problem.invalid_params]


def problem_of(call, *args) -> Problem:
    with pytest.raises(Problem) as caught:
        call(*args)
    return caught.value


def cv(**extra: Any) -> dict:
    """A minimal valid contactverzoek for an afdeling."""
    body = {
        "gespreksresultaat": "Contactverzoek gemaakt",
        "actor": {
            "naam": "Burgerzaken",
            "soortActor": "organisatorische eenheid",
            "typeOrganisatorischeEenheid": "afdeling",
        },
    }
    body.update(extra)
    return body


def medewerker(**actor: Any) -> dict:
    return cv(actor={"soortActor": "medewerker", **actor})


# --- fixtures --------------------------------------------------------------------------------

POST_FIXTURES = sorted(
    p.stem
    for p in (FIXTURES / "kiss").glob("post-*.json")
    if p.stem.startswith(("post-contactmoment-", "post-contactverzoek-"))
)


@pytest.mark.parametrize("name", POST_FIXTURES)
def test_P13_V_fixtures(name: str) -> None:
    body = load(f"kiss/{name}.json")
    request_file = FIXTURES / "expected" / f"{name}.esuite-request.json"
    problem_file = FIXTURES / "expected" / f"{name}.problem.json"
    assert request_file.exists() != problem_file.exists()
    if request_file.exists():
        assert_same(build(body), load(f"expected/{name}.esuite-request.json"))
        return
    expected = load(f"expected/{name}.problem.json")
    # `upstreamCalls` is test metadata (nothing may be sent), not a body field.
    assert expected.pop("upstreamCalls") == 0
    body_of_problem = problem_of(build, body).to_body("urn:uuid:0")
    for key, value in expected.items():
        if key == "invalidParams":
            assert len(body_of_problem[key]) == len(value)
            pairs = zip(body_of_problem[key], value, strict=True)
            actual = [{k: param[k] for k in expected_param} for param, expected_param in pairs]
            assert_same(actual, value)
        else:
            assert body_of_problem[key] == value


@pytest.mark.parametrize(
    ("esuite", "kiss", "expected"),
    [
        ("contactmoment-created-plain", "post-contactmoment-plain-v1", "post-contactmoment-plain-v1"),
        (
            "contactmoment-created-second-vraag",
            "post-contactmoment-plain-second-vraag-v2",
            "post-contactmoment-plain-second-vraag-v2",
        ),
        (
            "contactmoment-created-contactverzoek",
            "post-contactverzoek-afdeling-anonymous-v0.6",
            "post-contactverzoek-afdeling-anonymous-v0.6",
        ),
    ],
)
def test_R1_R2_R3_R5_created_fixtures(esuite: str, kiss: str, expected: str) -> None:
    gespreks_id = load(f"kiss/{kiss}.json").get("gespreksId")
    result = contactmoment_read.created_contactmoment(load(f"esuite/{esuite}.json"), URLS, gespreks_id)
    assert_same(result, load(f"expected/{expected}.response.json"))


# --- V-rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [[], "tekst", 42, None, True])
def test_V2_body_not_an_object(body: Any) -> None:
    problem = problem_of(build, body)
    assert [(p.name, p.code) for p in problem.invalid_params] == [("nonFieldErrors", "invalid")]


# V-3's fields in the order of the rule text (docs/behaviour/mapping.md V-3), written out here so
# the test does not take its answer from the code under test.
V3_FIELDS = [
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
]


def test_V3_text_fields_wrong_type_in_rule_order() -> None:
    body = {field: 1 for field in reversed(V3_FIELDS)}  # the body's order is not the report's
    assert failures(body) == [(field, "invalid") for field in V3_FIELDS]
    for field in V3_FIELDS:
        assert failures({field: 1}) == [(field, "invalid")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # blank or null: P-3, P-4, P-5, P-11 find nothing; a plain contactmoment (P-1, P-6)
        (None, {"tekst": "N.v.t.", "antwoord": "N.v.t.", "status": "afgehandeld"}),
        ("", {"tekst": "N.v.t.", "antwoord": "N.v.t.", "status": "afgehandeld"}),
        ("  ", {"tekst": "N.v.t.", "antwoord": "N.v.t.", "status": "afgehandeld"}),
        # P-3 kanaal, P-4 vraag + specifiekevraag (specifiekeVraag only when that is blank),
        # P-5 antwoord from tekst, P-11 afdeling; toelichting and gespreksId are not sent (P-13)
        ("x", {"kanaal": "x", "tekst": "x\nx", "antwoord": "x", "status": "afgehandeld", "afdeling": "x"}),
    ],
)
def test_V3_string_or_null_accepted(value: Any, expected: dict) -> None:
    body = {field: value for field in V3_FIELDS if field not in ("registratiedatum", "startdatum")}
    assert_same(build(body), expected)


@pytest.mark.parametrize("value", [[], {}, 1.5, True])
def test_V3_any_non_string(value: Any) -> None:
    assert failures({"kanaal": value}) == [("kanaal", "invalid")]


def test_V4_objects_and_arrays() -> None:
    assert failures({"betrokkene": "klant", "actor": [], "medewerkerIdentificatie": "jjansen"}) == [
        ("betrokkene", "invalid"),
        ("actor", "invalid"),
        ("medewerkerIdentificatie", "invalid"),
    ]
    body = cv(betrokkene={"persoonsnaam": "Eva", "digitaleAdressen": {"adres": "x"}})
    assert failures(body) == [("betrokkene.persoonsnaam", "invalid"), ("betrokkene.digitaleAdressen", "invalid")]


def test_V4_null_is_allowed() -> None:
    body = {"betrokkene": None, "actor": None, "medewerkerIdentificatie": None}
    assert build(body)["status"] == "afgehandeld"
    body = cv(betrokkene={"persoonsnaam": None, "organisatie": None, "digitaleAdressen": None})
    assert build(body)["status"] == "nieuw"


def test_V4_nested_strings_in_field_order() -> None:
    body = cv(
        actor={"naamOrganisatorischeEenheid": 1, "soortActor": 2, "naam": "Burgerzaken"},
        medewerkerIdentificatie={"identificatie": 7},
        betrokkene={
            "organisatie": False,
            "persoonsnaam": {"achternaam": 1, "voornaam": 2, "voorvoegselAchternaam": 3},
            "digitaleAdressen": [
                "0612345678",
                {"soortDigitaalAdres": 1, "adres": 2},
                None,
                {"omschrijving": 3, "adres": "ok"},
            ],
        },
    )
    assert failures(body) == [
        ("betrokkene.digitaleAdressen.0", "invalid"),
        ("betrokkene.digitaleAdressen.2", "invalid"),
        ("betrokkene.organisatie", "invalid"),
        ("betrokkene.persoonsnaam.voornaam", "invalid"),
        ("betrokkene.persoonsnaam.voorvoegselAchternaam", "invalid"),
        ("betrokkene.persoonsnaam.achternaam", "invalid"),
        ("betrokkene.digitaleAdressen.1.adres", "invalid"),
        ("betrokkene.digitaleAdressen.1.soortDigitaalAdres", "invalid"),
        ("betrokkene.digitaleAdressen.3.omschrijving", "invalid"),
        ("actor.soortActor", "invalid"),
        ("actor.naamOrganisatorischeEenheid", "invalid"),
        ("medewerkerIdentificatie.identificatie", "invalid"),
    ]


def test_V4_children_of_a_wrong_parent_not_checked() -> None:
    assert failures({"betrokkene": ["x"], "medewerkerIdentificatie": [{"identificatie": 1}]}) == [
        ("betrokkene", "invalid"),
        ("medewerkerIdentificatie", "invalid"),
    ]


def test_V4_unread_fields_not_validated() -> None:
    body = {"onderwerpLinks": 5, "einddatum": 5, "status": 5, "bronorganisatie": 5, "actor": None, "x": object()}
    assert build(body)["tekst"] == "N.v.t."


def test_V4_every_path_in_the_order_of_the_rule_text() -> None:
    """V-4 reports its paths left to right as the rule lists them, whatever the body's order:
    the three objects; persoonsnaam; digitaleAdressen and its elements; then the strings
    (organisatie, persoonsnaam's three, each address's three, actor's five, identificatie)."""
    objects = {"medewerkerIdentificatie": "jjansen", "actor": "Burgerzaken", "betrokkene": 1}
    assert failures(objects) == [
        ("betrokkene", "invalid"),
        ("actor", "invalid"),
        ("medewerkerIdentificatie", "invalid"),
    ]
    assert failures({"betrokkene": {"digitaleAdressen": "x", "persoonsnaam": "Eva"}}) == [
        ("betrokkene.persoonsnaam", "invalid"),
        ("betrokkene.digitaleAdressen", "invalid"),
    ]
    body = {
        "medewerkerIdentificatie": {"identificatie": 1},
        "actor": {
            "naamOrganisatorischeEenheid": 1,
            "typeOrganisatorischeEenheid": 1,
            "soortActor": 1,
            "identificatie": 1,
            "naam": 1,
        },
        "betrokkene": {
            "digitaleAdressen": [
                {"soortDigitaalAdres": 1, "omschrijving": 1, "adres": 1},
                7,
                {"soortDigitaalAdres": 2, "omschrijving": 2, "adres": 2},
            ],
            "persoonsnaam": {"achternaam": 1, "voorvoegselAchternaam": 1, "voornaam": 1},
            "organisatie": 1,
        },
    }
    assert failures(body) == [
        ("betrokkene.digitaleAdressen.1", "invalid"),
        ("betrokkene.organisatie", "invalid"),
        ("betrokkene.persoonsnaam.voornaam", "invalid"),
        ("betrokkene.persoonsnaam.voorvoegselAchternaam", "invalid"),
        ("betrokkene.persoonsnaam.achternaam", "invalid"),
        ("betrokkene.digitaleAdressen.0.adres", "invalid"),
        ("betrokkene.digitaleAdressen.0.omschrijving", "invalid"),
        ("betrokkene.digitaleAdressen.0.soortDigitaalAdres", "invalid"),
        ("betrokkene.digitaleAdressen.2.adres", "invalid"),
        ("betrokkene.digitaleAdressen.2.omschrijving", "invalid"),
        ("betrokkene.digitaleAdressen.2.soortDigitaalAdres", "invalid"),
        ("actor.naam", "invalid"),
        ("actor.identificatie", "invalid"),
        ("actor.soortActor", "invalid"),
        ("actor.typeOrganisatorischeEenheid", "invalid"),
        ("actor.naamOrganisatorischeEenheid", "invalid"),
        ("medewerkerIdentificatie.identificatie", "invalid"),
        # a contactverzoek (P-1: actor is an object) with no usable unit or behandelaar
        ("actor", "required"),
    ]


@pytest.mark.parametrize("field", ["registratiedatum", "startdatum"])
@pytest.mark.parametrize(
    "value", ["2025-05-20", "20-05-2025 10:00", "gisteren", "2025-05-20T25:00:00Z", "2025-05-20 10:00:00"]
)
def test_V5_not_an_iso_datetime(field: str, value: str) -> None:
    assert failures({field: value}) == [(field, "invalid")]


@pytest.mark.parametrize(
    "value",
    [
        "2025-05-20T09:14:03.512Z",
        "2025-05-20T11:14:03+02:00",
        "2025-05-20T11:14",
        "2025-05-20T11:14:03.1234567",
        "",
        "  ",
    ],
)
def test_V5_accepted(value: str) -> None:
    sent = build({"registratiedatum": value, "startdatum": value})
    # P-2: a non-blank registratiedatum goes verbatim, first in the body (P-13); blank: omitted.
    expected = {"registratiedatum": value} if value.strip() else {}
    assert_same(sent, {**expected, "tekst": "N.v.t.", "antwoord": "N.v.t.", "status": "afgehandeld"})
    if value.strip():
        assert build({"registratiedatum": "", "startdatum": value})["registratiedatum"] == value  # P-2 fallback


def test_V5_both_dates_checked_and_wrong_type_reported_once() -> None:
    assert failures({"registratiedatum": "nu", "startdatum": "straks"}) == [
        ("registratiedatum", "invalid"),
        ("startdatum", "invalid"),
    ]
    assert failures({"registratiedatum": 20250520}) == [("registratiedatum", "invalid")]


def test_V6_kanaal_too_long() -> None:
    assert build({"kanaal": "k" * 255})["kanaal"] == "k" * 255
    assert failures({"kanaal": "k" * 256}) == [("kanaal", "max_length")]


def test_V6_counts_code_points() -> None:
    assert build({"kanaal": "😀" * 255})["kanaal"] == "😀" * 255
    assert failures({"medewerkerIdentificatie": {"identificatie": "é" * 129}}) == [
        ("medewerkerIdentificatie.identificatie", "max_length")
    ]


def test_V6_measured_on_the_value_sent() -> None:
    # U-1 strips the prefix and the spaces before the length is measured.
    assert build({"verantwoordelijkeAfdeling": "  afdeling: " + "a" * 128 + "  "})["afdeling"] == "a" * 128
    assert failures({"verantwoordelijkeAfdeling": "groep:" + "g" * 129}) == [
        ("verantwoordelijkeAfdeling", "max_length")
    ]
    # A contactverzoek ignores verantwoordelijkeAfdeling, so its length does not matter.
    assert build(cv(verantwoordelijkeAfdeling="a" * 300))["afdeling"] == "Burgerzaken"


def test_V6_actor_fields() -> None:
    long = "x" * 129
    assert failures(cv(actor={"naam": long, "typeOrganisatorischeEenheid": "groep"})) == [("actor.naam", "max_length")]
    assert failures(medewerker(identificatie=long, naamOrganisatorischeEenheid=long)) == [
        ("actor.naamOrganisatorischeEenheid", "max_length"),
        ("actor.identificatie", "max_length"),
    ]
    # Not sent, so not measured: the naam of a medewerker, the identificatie of an eenheid.
    assert build(medewerker(identificatie="pdvries", naam=long))["behandelaar"] == {"gebruikersnaam": "pdvries"}
    assert build(cv(actor={"naam": "Afval", "identificatie": long}))["afdeling"] == "Afval"


def test_V6_all_limits_in_rule_order() -> None:
    body = medewerker(
        identificatie="i" * 129, naamOrganisatorischeEenheid="n" * 129, typeOrganisatorischeEenheid="afdeling"
    )
    body.update(kanaal="k" * 256, medewerkerIdentificatie={"identificatie": "m" * 129})
    assert failures(body) == [
        ("kanaal", "max_length"),
        ("actor.naamOrganisatorischeEenheid", "max_length"),
        ("actor.identificatie", "max_length"),
        ("medewerkerIdentificatie.identificatie", "max_length"),
    ]


def test_V7_type_not_afdeling_or_groep() -> None:
    assert failures(cv(actor={"naam": "Parkeren", "typeOrganisatorischeEenheid": "team"})) == [
        ("actor.typeOrganisatorischeEenheid", "invalid_choice")
    ]
    # Also for a medewerker, and also without a unit name; V-9 is then not reported.
    assert failures(medewerker(identificatie="pdvries", typeOrganisatorischeEenheid="Team")) == [
        ("actor.typeOrganisatorischeEenheid", "invalid_choice")
    ]


@pytest.mark.parametrize("soort", [" Afdeling ", "GROEP", "groep"])
def test_V7_allowed_types_trimmed_case_insensitive(soort: str) -> None:
    result = build(cv(actor={"naam": "Afval", "typeOrganisatorischeEenheid": soort}))
    assert result[soort.strip().lower()] == "Afval"


@pytest.mark.parametrize("identificatie", [None, "", "   "])
def test_V8_medewerker_without_identificatie(identificatie: Any) -> None:
    actor = {"soortActor": "medewerker", "naamOrganisatorischeEenheid": "Vergunningen"}
    if identificatie is not None:
        actor["identificatie"] = identificatie
    assert failures(cv(actor=actor)) == [("actor.identificatie", "required")]


def test_V9_no_actor() -> None:
    body = {"betrokkene": {"digitaleAdressen": []}, "verantwoordelijkeAfdeling": "Burgerzaken"}
    problem = problem_of(build, body)
    assert [(p.name, p.code, p.reason) for p in problem.invalid_params] == [
        ("actor", "required", "Een contactverzoek heeft een behandelaar, afdeling of groep nodig.")
    ]


@pytest.mark.parametrize(
    "actor",
    [
        {},
        {"naam": "  ", "soortActor": "organisatorische eenheid"},
        {"naam": "groep:  ", "soortActor": "organisatorische eenheid"},
        {
            "naam": "Afval",
            "identificatie": "afval",
            "soortActor": "x",
            "typeOrganisatorischeEenheid": None,
            "naamOrganisatorischeEenheid": None,
        }
        | {"naam": "afdeling:"},
    ],
)
def test_V9_actor_without_unit(actor: dict) -> None:
    assert failures(cv(actor=actor)) == [("actor", "required")]


def test_V9_reported_with_type_failures() -> None:
    # V-4 makes actor.naam unusable, so after P-10 there is nothing: both are reported.
    assert failures(cv(actor={"naam": 5})) == [("actor.naam", "invalid"), ("actor", "required")]


def test_V_all_failures_in_rule_order() -> None:
    body = medewerker(typeOrganisatorischeEenheid="team")
    body.update(tekst=1, betrokkene=[], registratiedatum="morgen", kanaal="k" * 256)
    assert failures(body) == [
        ("tekst", "invalid"),
        ("betrokkene", "invalid"),
        ("registratiedatum", "invalid"),
        ("kanaal", "max_length"),
        ("actor.typeOrganisatorischeEenheid", "invalid_choice"),
        ("actor.identificatie", "required"),
    ]


def test_V_reasons_are_dutch_and_never_hold_the_value() -> None:
    secret = "Geheim-999993653"
    body = medewerker(typeOrganisatorischeEenheid=secret + "x", naamOrganisatorischeEenheid=secret * 20)
    body.update(kanaal=secret * 30, registratiedatum=secret, betrokkene={"organisatie": 999993653})
    problem = problem_of(build, body)
    assert len(problem.invalid_params) == 5
    for param in problem.invalid_params:
        assert param.reason and secret not in param.reason and "999993653" not in param.reason


# --- P-rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"betrokkene": {"digitaleAdressen": []}}, True),
        ({"betrokkene": {"persoonsnaam": {}}}, False),
        ({"betrokkene": {"digitaleAdressen": None}}, False),
        ({"actor": {}}, True),
        ({"actor": None}, False),
        ({"gespreksresultaat": "  Contactverzoek gemaakt \n"}, True),
        ({"gespreksresultaat": "contactverzoek gemaakt"}, False),
        ({"gespreksresultaat": "Zelfstandig afgehandeld"}, False),
        ({}, False),
        ("Contactverzoek gemaakt", False),
    ],
)
def test_P1_contactverzoek_detection(body: Any, expected: bool) -> None:
    assert contactmoment_body.body_asks_for_contactverzoek(body) is expected


def test_P2_registratiedatum_else_startdatum_verbatim() -> None:
    assert (
        build({"registratiedatum": "2025-05-20T11:14", "startdatum": "2025-05-20T10:00:00Z"})["registratiedatum"]
        == "2025-05-20T11:14"
    )
    assert (
        build({"registratiedatum": " ", "startdatum": "2025-05-20T10:00:00Z"})["registratiedatum"]
        == "2025-05-20T10:00:00Z"
    )
    assert "registratiedatum" not in build({"registratiedatum": None, "startdatum": ""})


def test_P3_kanaal_verbatim_or_omitted() -> None:
    assert build({"kanaal": " telefoon "})["kanaal"] == " telefoon "
    assert "kanaal" not in build({"kanaal": "  "})


@pytest.mark.parametrize(
    ("body", "tekst"),
    [
        ({"vraag": "Paspoort", "specifiekevraag": "Kosten?"}, "Paspoort\nKosten?"),
        ({"vraag": "Paspoort", "specifiekevraag": " ", "specifiekeVraag": "Spoed?"}, "Paspoort\nSpoed?"),
        ({"specifiekevraag": "A", "specifiekeVraag": "B"}, "A"),
        ({"vraag": " ", "specifiekeVraag": " Spoed? "}, " Spoed? "),
        ({"vraag": "", "specifiekevraag": None}, "N.v.t."),
        ({"tekst": "notitie"}, "N.v.t."),
    ],
)
def test_P4_tekst(body: dict, tekst: str) -> None:
    assert build(body)["tekst"] == tekst


def test_P5_antwoord_from_kiss_tekst() -> None:
    assert build({"tekst": " Uitgelegd. ", "antwoord": "genegeerd"})["antwoord"] == " Uitgelegd. "
    assert build({"tekst": "\t"})["antwoord"] == "N.v.t."
    assert build({})["antwoord"] == "N.v.t."


def test_P6_status() -> None:
    assert build({"status": "te verwerken"})["status"] == "afgehandeld"
    assert build(cv(status="te verwerken"))["status"] == "nieuw"


def test_P7_type_first_configured() -> None:
    assert contact_create.build_esuite_contact(cv(), ["Contactverzoek", "Terugbelverzoek"])["type"] == "Contactverzoek"
    assert "type" not in build({"type": "Terugbelverzoek"})


def adressen(*entries: tuple[Any, Any, Any]) -> dict:
    return {"digitaleAdressen": [{"adres": a, "omschrijving": o, "soortDigitaalAdres": s} for a, o, s in entries]}


def test_P8_contactgegevens() -> None:
    body = cv(
        betrokkene=adressen(
            ("  ", "e-mailadres", "email"),
            ("0611111111", "telefoonnummer", " Telefoonnummer "),
            ("oud@example.org", "e-mailadres", "E-mailadres"),
            ("nieuw@example.org", "e-mailadres", "email"),
            ("www.example.org", "website", "overig"),
            ("", "telefoonnummer", "telefoonnummer"),
            ("0622222222", "werk", "telefoonnummer"),
            ("0633333333", "derde", "telefoonnummer"),
        )
    )
    assert_same(
        build(body)["contactgegevens"],
        {"emailadres": "oud@example.org", "telefoonnummer": "0611111111", "telefoonnummerAlternatief": "0622222222"},
    )


def test_P8_only_keys_with_a_value() -> None:
    assert_same(
        build(cv(betrokkene=adressen(("0612", None, "telefoonnummer"))))["contactgegevens"], {"telefoonnummer": "0612"}
    )
    assert "contactgegevens" not in build(cv(betrokkene=adressen(("x", None, "overig"), ("y", None, None))))
    assert "contactgegevens" not in build(cv())


def test_P8_not_for_a_plain_contactmoment() -> None:
    # betrokkene without digitaleAdressen keeps the contactmoment plain.
    assert "contactgegevens" not in build({"betrokkene": {"persoonsnaam": {"voornaam": "Eva"}}})


def test_P9_toelichting_full_name_organisatie_and_lines() -> None:
    betrokkene = {
        "persoonsnaam": {"voornaam": "Kees", "voorvoegselAchternaam": "van", "achternaam": "Dijk"},
        "organisatie": "Van Dijk Bouw B.V.",
        **adressen(
            ("a@example.org", "privé", "email"),
            ("0612", "mobiel", "telefoonnummer"),
            ("020", "kantoor", "telefoonnummer"),
        ),
    }
    result = build(cv(betrokkene=betrokkene, toelichting=" Graag\nsnel. "))
    assert result["toelichting"] == (
        "Contact opnemen met: Kees van Dijk (Van Dijk Bouw B.V.)\n"
        "Omschrijving tweede telefoonnummer: kantoor\n"
        " Graag\nsnel. "
    )


def test_P9_toelichting_organisatie_only() -> None:
    body = cv(
        betrokkene={
            "persoonsnaam": {"voornaam": "", "achternaam": " "},
            "organisatie": "Bakkerij",
            "digitaleAdressen": [],
        }
    )
    assert build(body)["toelichting"] == "Contact opnemen met: (Bakkerij)"


def test_P9_voorvoegsel_alone_gives_no_name_line() -> None:
    body = cv(betrokkene={"persoonsnaam": {"voorvoegselAchternaam": "de"}}, toelichting="Bellen")
    assert build(body)["toelichting"] == "Bellen"
    body = cv(betrokkene={"persoonsnaam": {"voorvoegselAchternaam": "de", "achternaam": "Boer"}})
    assert build(body)["toelichting"] == "Contact opnemen met: de Boer"


def test_P9_second_phone_omschrijving_only() -> None:
    one_phone = cv(betrokkene=adressen(("a@example.org", "werk-mail", "email"), ("0612", "mobiel", "telefoonnummer")))
    assert "toelichting" not in build(one_phone)
    default = cv(
        betrokkene=adressen(("0612", "telefoonnummer", "telefoonnummer"), ("020", "telefoonnummer", "telefoonnummer"))
    )
    assert build(default)["toelichting"] == "Omschrijving tweede telefoonnummer: telefoonnummer"
    blank = cv(betrokkene=adressen(("0612", "x", "telefoonnummer"), ("020", " ", "telefoonnummer")))
    assert "toelichting" not in build(blank)


def test_P9_not_for_a_plain_contactmoment() -> None:
    assert "toelichting" not in build({"toelichting": "Notitie"})


def test_P10_medewerker_with_unit() -> None:
    result = build(
        medewerker(
            identificatie="p.devries@example.org",
            naam="Piet",
            naamOrganisatorischeEenheid="Team Wabo",
            typeOrganisatorischeEenheid="groep",
        )
    )
    assert result["behandelaar"] == {"gebruikersnaam": "p.devries@example.org"}
    assert result["groep"] == "Team Wabo" and "afdeling" not in result


def test_P10_medewerker_without_unit_naam_not_an_afdeling() -> None:
    result = build(cv(actor={"naam": "Piet de Vries", "soortActor": " Medewerker ", "identificatie": "pdvries"}))
    assert result["behandelaar"] == {"gebruikersnaam": "pdvries"}
    assert "afdeling" not in result and "groep" not in result


def test_P10_medewerker_unit_without_type_uses_U1() -> None:
    result = build(medewerker(identificatie="pdvries", naamOrganisatorischeEenheid="groep:Team Wabo"))
    assert result["groep"] == "Team Wabo"


def test_P10_eenheid_verbatim_and_identificatie_unused() -> None:
    actor = {
        "naam": " Team Afval ",
        "soortActor": "organisatorische eenheid",
        "identificatie": "grp",
        "identificatieOrganisatorischeEenheid": "x",
        "typeOrganisatorischeEenheid": "groep",
    }
    result = build(cv(actor=actor, verantwoordelijkeAfdeling="Publiekszaken"))
    assert result["groep"] == " Team Afval "
    assert "afdeling" not in result and "behandelaar" not in result


def test_P10_typed_name_is_not_prefix_stripped() -> None:
    # With a type the name is taken verbatim (U-1 is only for names without a type).
    assert build(cv(actor={"naam": "groep:X", "typeOrganisatorischeEenheid": "afdeling"}))["afdeling"] == "groep:X"


@pytest.mark.parametrize(
    ("naam", "key", "value"),
    [
        ("afdeling:Afval", "afdeling", "Afval"),
        ("  AFDELING:  Afval  ", "afdeling", "Afval"),
        ("Groep: Team Handhaving", "groep", "Team Handhaving"),
        (" Burgerzaken ", "afdeling", " Burgerzaken "),
        ("afdelingen:Afval", "afdeling", "afdelingen:Afval"),
        ("team:Afval", "afdeling", "team:Afval"),
    ],
)
def test_U1_prefix_rule(naam: str, key: str, value: str) -> None:
    assert build(cv(actor={"naam": naam}))[key] == value
    assert build({"verantwoordelijkeAfdeling": naam})[key] == value


def test_U1_blank_rest_gives_no_unit() -> None:
    assert "afdeling" not in build({"verantwoordelijkeAfdeling": "afdeling:  "})
    assert failures(cv(actor={"naam": "groep:"})) == [("actor", "required")]


def test_P11_plain_afdeling_and_nothing_else() -> None:
    body = {
        "verantwoordelijkeAfdeling": "groep:Team Afval",
        "toelichting": "x",
        "gespreksresultaat": "Zelfstandig afgehandeld",
        "betrokkene": {"persoonsnaam": {"voornaam": "Eva"}},
    }
    assert_same(build(body), {"tekst": "N.v.t.", "antwoord": "N.v.t.", "status": "afgehandeld", "groep": "Team Afval"})
    assert "afdeling" not in build({"verantwoordelijkeAfdeling": ""})


def test_P12_medewerkerIdentificatie_only_identificatie() -> None:
    body = {"medewerkerIdentificatie": {"achternaam": "Jansen", "identificatie": " jjansen", "voorletters": "J"}}
    assert_same(build(body)["medewerkerIdentificatie"], {"identificatie": " jjansen"})
    assert "medewerkerIdentificatie" not in build({"medewerkerIdentificatie": {"identificatie": " "}})


def test_P13_shape_and_key_order() -> None:
    body = medewerker(
        identificatie="pdvries", naamOrganisatorischeEenheid="Vergunningen", typeOrganisatorischeEenheid="afdeling"
    )
    body = {
        "medewerkerIdentificatie": {"identificatie": "jjansen"},
        "betrokkene": {"persoonsnaam": {"achternaam": "Dijk"}, **adressen(("a@example.org", "", "email"))},
        **body,
        "toelichting": "Bellen",
        "tekst": "Notitie",
        "vraag": "Vraag",
        "kanaal": "Telefoon",
        "startdatum": "2025-01-01T10:00:00Z",
        "bronorganisatie": "001234567",
        "onderwerp": "x",
        "url": "https://example.org",
        "identificatie": "1",
        "onderwerpLinks": [],
        "einddatum": "2025-01-01T10:00:00Z",
        "gespreksId": "g",
        "initiatiefnemer": "klant",
        "voorkeurskanaal": "",
        "voorkeurstaal": "",
        "medewerker": "",
        "vorigContactmoment": None,
        "onbekend": 1,
    }
    assert list(build(body)) == [
        "registratiedatum",
        "kanaal",
        "type",
        "tekst",
        "antwoord",
        "status",
        "toelichting",
        "behandelaar",
        "afdeling",
        "contactgegevens",
        "medewerkerIdentificatie",
    ]
    assert_same(build({}), {"tekst": "N.v.t.", "antwoord": "N.v.t.", "status": "afgehandeld"})


def test_P13_input_not_modified() -> None:
    body = load("kiss/post-contactverzoek-groep-known-klant-v1.json")
    before = copy.deepcopy(body)
    build(body)
    assert body == before


# --- R-rules ---------------------------------------------------------------------------------


def test_R1_every_string_rewritten() -> None:
    contact = {
        "url": f"{CM_E}/contactmomenten/{UUID1}",
        "objectcontactmomenten": [
            {"object": E + "/zgw-apis-provider/zrc/api/v1/zaken/1", "contactmoment": f"{CM_E}/contactmomenten/{UUID1}"}
        ],
        "elders": "https://elders.example.org/contactmomenten-api-provider/api/v1/x",
    }
    result = contactmoment_read.contactmoment_from_esuite(contact, URLS)
    assert result["url"] == f"{CM_A}/contactmomenten/{UUID1}"
    assert result["objectcontactmomenten"] == [
        {"object": A + "/zaken/api/v1/zaken/1", "contactmoment": f"{CM_A}/contactmomenten/{UUID1}"}
    ]
    assert result["elders"] == contact["elders"]


@pytest.mark.parametrize(
    ("tekst", "antwoord", "expected"),
    [
        ("Vraag", "Antwoord", "Vraag\nAntwoord"),
        ("Vraag", "", "Vraag\n"),
        (None, "Antwoord", "\nAntwoord"),
        (5, "Antwoord", "\nAntwoord"),
    ],
)
def test_R2_antwoord_after_tekst(tekst: Any, antwoord: str, expected: str) -> None:
    contact = {"url": "u", "tekst": tekst, "antwoord": antwoord, "status": "afgehandeld"}
    assert_same(
        contactmoment_read.contactmoment_from_esuite(contact, URLS),
        {"url": "u", "tekst": expected, "antwoord": antwoord, "status": "afgehandeld"},
    )


def test_R1_R2_rendered_page_equals_the_rewritten_values_and_contacts_stay_untouched() -> None:
    """The list and detail routes render `contacts_for_kiss` with one text rewrite (R-1 last);
    that text must be the one of the rewritten values, R-1 before R-2 included."""
    import copy

    import orjson

    contacts = [
        *load("esuite/contactmomenten-page-klant.json")["results"],
        {"url": f"{CM_E}/contactmomenten/{UUID1}", "tekst": f"{CM_E}/contactmomenten/{UUID2}", "antwoord": f"{CM_E}/x"},
        {
            "url": f"{CM_E}/contactmomenten/{UUID2}",
            "tekst": f"{CM_E}0/x",
            "antwoord": f"{E}/klanten-api-provider/api/v1",
        },
        {"url": "u", "tekst": None, "antwoord": f'zie "{CM_E}/y"', "n": [f"{CM_E}?a=b", {f"{CM_E}/k": f"{CM_E}#f"}]},
    ]
    before = copy.deepcopy(contacts)
    rendered = URLS.rendered(contactmoment_read.contacts_for_kiss(contacts, URLS))
    assert rendered == orjson.dumps(contactmoment_read.contactmomenten_from_esuite(contacts, URLS))
    assert orjson.loads(rendered)[-3]["tekst"] == f"{CM_A}/contactmomenten/{UUID2}\n{CM_A}/x"
    assert contacts == before


def test_R2_without_antwoord_tekst_unchanged_and_missing_tekst_appended() -> None:
    assert (
        contactmoment_read.contactmoment_from_esuite({"url": "u", "tekst": "Vraag", "antwoord": None}, URLS)["tekst"]
        == "Vraag"
    )
    assert "tekst" not in contactmoment_read.contactmoment_from_esuite({"url": "u"}, URLS)
    assert list(contactmoment_read.contactmoment_from_esuite({"url": "u", "antwoord": "A", "x": 1}, URLS)) == [
        "url",
        "antwoord",
        "x",
        "tekst",
    ]


def test_R3_other_fields_kept_in_position() -> None:
    contact = load("esuite/contactmoment-detail-contactverzoek.json")
    result = contactmoment_read.contactmoment_from_esuite(contact, URLS)
    assert list(result) == list(contact)
    for key in ("behandelaar", "voorlopigeAntwoorden", "recentsteVoorlopigAntwoord", "contactgegevens"):
        assert_same(result[key], contact[key])


def test_R3_input_not_modified() -> None:
    contact = load("esuite/contactmoment-created-plain.json")
    before = copy.deepcopy(contact)
    contactmoment_read.contactmoment_from_esuite(contact, URLS)
    assert contact == before


def test_R5_gespreksId_appended() -> None:
    contact = load("esuite/contactmoment-created-plain.json")
    assert list(contactmoment_read.created_contactmoment(contact, URLS, " g1 "))[-1] == "gespreksId"
    assert contactmoment_read.created_contactmoment(contact, URLS, " g1 ")["gespreksId"] == " g1 "
    for blank in (None, "", "  ", 5):
        assert "gespreksId" not in contactmoment_read.created_contactmoment(contact, URLS, blank)


@pytest.mark.parametrize("contact", [None, [], "x", {"url": None}, {"url": 5}, {"tekst": "x"}])
def test_R6_not_an_object_or_url_not_a_string(contact: Any) -> None:
    problem = problem_of(contactmoment_read.contactmoment_from_esuite, contact, URLS)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")
    problem = problem_of(contactmoment_read.created_contactmoment, contact, URLS, None)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")


@pytest.mark.parametrize(
    "url",
    [
        f"https://elders.example.org/contactmomenten-api-provider/api/v1/contactmomenten/{UUID1}",
        f"{CM_E}/klantcontactmomenten/{UUID1}",
        f"{CM_E}/contactmomenten/1201-2025",
        f"{CM_E}/contactmomenten/{UUID1}/extra",
        f"{CM_E}/contactmomenten/{UUID1}?x=1",
        f"{CM_E}/contactmomenten/{UUID1}\n",
        f"{CM_A}/contactmomenten/{UUID1}",
    ],
)
def test_R6_created_url_under_the_esuite_root_ending_in_uuid(url: str) -> None:
    contact = {**load("esuite/contactmoment-created-plain.json"), "url": url}
    problem = problem_of(contactmoment_read.created_contactmoment, contact, URLS, None)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")


def test_R6_created_upper_case_uuid_accepted() -> None:
    contact = {"url": f"{CM_E}/contactmomenten/{UUID1.upper()}"}
    assert (
        contactmoment_read.created_contactmoment(contact, URLS, None)["url"]
        == f"{CM_A}/contactmomenten/{UUID1.upper()}"
    )


# --- C-rules ---------------------------------------------------------------------------------


def parse(raw: str) -> contactmoment_lists.ContactmomentenQuery:
    return contactmoment_lists.parse_contactmomenten_list_query(parse_query(raw), URLS)


def test_C1_forwarded_filters_in_order() -> None:
    query = parse(
        "??type=Terugbelverzoek&ordering=-registratiedatum"
        "&klant=https%3A%2F%2Fkiss-adapter.example.org%2Fklanten%2Fapi%2Fv1%2Fklanten%2Fk1"
        "&expand=objectcontactmomenten&page=02&identificatie=1201-2025&type=Contactverzoek"
        "&telefoonnummerOfEmailadres=a+b%40c&object="
    )
    assert query.mode == "default" and query.object_url is None
    assert query.upstream == [
        ("type", "Terugbelverzoek"),
        ("klant", E + "/klanten-api-provider/api/v1/klanten/k1"),
        ("page", "2"),
        ("identificatie", "1201-2025"),
        ("type", "Contactverzoek"),
        ("telefoonnummerOfEmailadres", "a b@c"),
    ]
    assert (query.page, query.expand, query.ordering) == (2, ("objectcontactmomenten",), "desc")


def test_C1_empty_page_absent_and_first_page_only() -> None:
    assert parse("klant=k&page=").upstream == [("klant", "k")]
    assert parse("page=3&klant=k&page=9").upstream == [("page", "3"), ("klant", "k")]


def test_C1_W8_request() -> None:
    case = next(c for c in load("kiss/requests-get.json") if c["case"] == "contactmomenten-by-klant-v1")
    query = parse(case["target"].partition("?")[2])
    expected_upstream = case["upstream"][0].removeprefix(f"GET {CM_E}/contactmomenten?")
    assert query.upstream == parse_query(expected_upstream)
    assert (query.expand, query.ordering, query.page) == (("objectcontactmomenten",), "desc", None)


def test_C1_Q4_invalid_page() -> None:
    problem = problem_of(parse, "page=0&expand=x&ordering=datum")
    assert (problem.status, problem.code) == (400, "invalid")
    assert [(p.name, p.code) for p in problem.invalid_params] == [
        ("page", "invalid"),
        ("expand", "invalid_choice"),
        ("ordering", "invalid_choice"),
    ]


def test_C1_Q6_unknown_parameters() -> None:
    problem = problem_of(parse, "klant=k&pageSize=10&Klant=x&pageSize=5&object=z")
    assert (problem.status, problem.code) == (400, "unknown-parameters")
    assert [p.name for p in problem.invalid_params] == ["pageSize", "Klant"]


def test_C3_object_mode() -> None:
    case = next(c for c in load("kiss/requests-get.json") if c["case"] == "contactmomenten-by-zaak-2024")
    query = parse(case["target"].partition("?")[2])
    assert query.mode == "object"
    assert query.object_url == E + "/zgw-apis-provider/zrc/api/v1/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"
    assert query.upstream == []
    assert (query.expand, query.ordering) == (("objectcontactmomenten",), "desc")
    assert parse("object=z&page=2&object=z").page == 2


@pytest.mark.parametrize(
    "raw",
    [
        "object=z&klant=k",
        "type=t&object=z",
        "object=z&identificatie=",
        "object=z&telefoonnummerOfEmailadres=1",
        "object=z1&object=z2",
    ],
)
def test_C3_object_with_other_filters(raw: str) -> None:
    problem = problem_of(parse, raw)
    assert (problem.status, problem.code) == (400, "unsupported-filter-combination")
    assert [p.name for p in problem.invalid_params] == ["object"]


def test_C3_blank_object_is_default_mode() -> None:
    query = parse("object=%20&klant=k")
    assert (query.mode, query.upstream) == ("default", [("klant", "k")])


def test_C3_next_link_checked() -> None:
    prefix = CM_E + "/objectcontactmomenten"
    assert contactmoment_lists.check_next_link(None, prefix) is None
    assert contactmoment_lists.check_next_link(5, prefix) is None
    assert (
        contactmoment_lists.check_next_link(prefix + "?object=z&page=2", prefix, pages_read=1)
        == prefix + "?object=z&page=2"
    )
    for wrong in (
        "https://elders.example.org/objectcontactmomenten?page=2",
        prefix + "X?page=2",
        CM_E + "/contactmomenten?page=2",
    ):
        problem = problem_of(contactmoment_lists.check_next_link, wrong, prefix)
        assert (problem.status, problem.code) == (502, "upstream-invalid-url")


def test_C3_at_most_100_pages() -> None:
    prefix = CM_E + "/objectcontactmomenten"
    assert contactmoment_lists.MAX_LINK_PAGES == 100
    assert contactmoment_lists.check_next_link(prefix + "?page=100", prefix, pages_read=99)
    problem = problem_of(contactmoment_lists.check_next_link, prefix + "?page=101", prefix, 100)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")
    assert contactmoment_lists.check_next_link(None, prefix, pages_read=100) is None


def test_C3_contact_urls_checked_and_deduplicated() -> None:
    items = [
        {"contactmoment": f"{CM_E}/contactmomenten/{UUID1}"},
        {"contactmoment": "  "},
        {"object": "z"},
        {"contactmoment": f"{CM_E}/contactmomenten/{UUID2}"},
        {"contactmoment": f"{CM_E}/contactmomenten/{UUID1.upper()}"},
    ]
    assert contactmoment_lists.object_mode_contact_urls(items, URLS) == [
        f"{CM_E}/contactmomenten/{UUID1}",
        f"{CM_E}/contactmomenten/{UUID2}",
    ]
    assert contactmoment_lists.object_mode_contact_urls([], URLS) == []


@pytest.mark.parametrize(
    "url",
    [
        f"https://elders.example.org/contactmomenten-api-provider/api/v1/contactmomenten/{UUID1}",
        f"{CM_E}/contactmomenten/{UUID1}/",
        f"{CM_E}/contactmomenten/abc",
        f"{CM_A}/contactmomenten/{UUID1}",
    ],
)
def test_C3_contact_url_outside_the_root(url: str) -> None:
    problem = problem_of(contactmoment_lists.object_mode_contact_urls, [{"contactmoment": url}], URLS)
    assert (problem.status, problem.code) == (502, "upstream-invalid-url")


def test_C3_contact_urls_item_not_an_object() -> None:
    problem = problem_of(contactmoment_lists.object_mode_contact_urls, ["x"], URLS)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")


def test_C3_adapter_paging() -> None:
    contact_urls = [f"u{i}" for i in range(250)]
    assert contactmoment_lists.OBJECT_MODE_PAGE_SIZE == 100
    assert contactmoment_lists.object_mode_page(contact_urls, None) == contact_urls[:100]
    assert contactmoment_lists.object_mode_page(contact_urls, 3) == contact_urls[200:]
    assert contactmoment_lists.object_mode_page([], None) == []
    assert contactmoment_lists.object_mode_page([], 1) == []
    for urls, page in ((contact_urls, 4), ([], 2), (contact_urls[:100], 2)):
        problem = problem_of(contactmoment_lists.object_mode_page, urls, page)
        assert (problem.status, problem.code) == (404, "not_found")


def test_C3_object_mode_links() -> None:
    inbound = parse_query("object=https%3A%2F%2Fz&page=2&ordering=-registratiedatum")
    links = contactmoment_lists.object_mode_links(A, ROUTE, inbound, 2, 250)
    assert links.next == f"{A}{ROUTE}?object=https%3A%2F%2Fz&page=3&ordering=-registratiedatum"
    assert links.previous == f"{A}{ROUTE}?object=https%3A%2F%2Fz&page=1&ordering=-registratiedatum"
    last = contactmoment_lists.object_mode_links(A, ROUTE, inbound, 3, 250)
    assert (last.next, last.previous is not None) == (None, True)
    only = contactmoment_lists.object_mode_links(A, ROUTE, parse_query("object=z"), None, 100)
    assert (only.next, only.previous) == (None, None)
    first = contactmoment_lists.object_mode_links(A, ROUTE, parse_query("object=z"), None, 101)
    assert (first.next, first.previous) == (f"{A}{ROUTE}?object=z&page=2", None)


def test_C4_expand_values() -> None:
    pairs = parse_query(
        "expand=objectcontactmomenten,%20klantcontactmomenten%20,,&expand=&expand=objectcontactmomenten"
    )
    assert contactmoment_lists.expand_values(pairs) == ("objectcontactmomenten", "klantcontactmomenten")
    assert contactmoment_lists.parse_expand(pairs) == ("objectcontactmomenten", "klantcontactmomenten")
    assert contactmoment_lists.parse_expand(parse_query("expand=,&x=1")) == ()


@pytest.mark.parametrize(
    "raw",
    ["expand=zaken", "expand=objectcontactmomenten,Klantcontactmomenten", "expand=objectcontactmomenten&expand=x"],
)
def test_C4_invalid_expand(raw: str) -> None:
    for call in (
        contactmoment_lists.parse_expand,
        lambda pairs: contactmoment_lists.parse_contactmomenten_list_query(pairs, URLS),
    ):
        problem = problem_of(call, parse_query(raw))
        assert (problem.status, problem.code) == (400, "invalid")
        assert [(p.name, p.code) for p in problem.invalid_params] == [("expand", "invalid_choice")]


@pytest.mark.parametrize(
    ("item", "embedded"),
    [
        ({"objectcontactmomenten": []}, True),
        ({"objectcontactmomenten": [{"object": "z"}]}, True),
        ({"objectcontactmomenten": [{"object": "z"}, "https://x"]}, False),
        ({"objectcontactmomenten": None}, False),
        ({"objectcontactmomenten": {}}, False),
        ({}, False),
        ("x", False),
    ],
)
def test_C4_has_embedded_objectcontactmomenten(item: Any, embedded: bool) -> None:
    assert contactmoment_lists.has_embedded_objectcontactmomenten(item) is embedded


def test_C4_klantcontactmomenten_for_same_contact_only() -> None:
    own = {"contactmoment": f"{CM_E}/contactmomenten/{UUID1.upper()}/", "klant": "k1"}
    unlinked = {"klant": "k2"}
    null = {"contactmoment": None, "klant": "k3"}
    other = {"contactmoment": f"{CM_E}/contactmomenten/{UUID2}", "klant": "k4"}
    results = [own, other, unlinked, "x", null, {"contactmoment": 5}]
    assert contactmoment_lists.klantcontactmomenten_for(results, f"{CM_E}/contactmomenten/{UUID1}") == [
        own,
        unlinked,
        null,
    ]
    assert contactmoment_lists.klantcontactmomenten_for(results, f"{CM_A}/contactmomenten/{UUID1}") == [
        own,
        unlinked,
        null,
    ]


def test_C4_with_expansion_replaces_in_place_or_appends() -> None:
    results = load("esuite/objectcontactmomenten-page.json")["results"]
    item = {"url": "u", "objectcontactmomenten": None, "status": "x"}
    expanded = contactmoment_lists.with_expansion(item, "objectcontactmomenten", results, URLS)
    assert list(expanded) == ["url", "objectcontactmomenten", "status"]
    assert (
        expanded["objectcontactmomenten"][0]["object"] == A + "/zaken/api/v1/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"
    )
    assert item["objectcontactmomenten"] is None
    appended = contactmoment_lists.with_expansion({"url": "u"}, "klantcontactmomenten", [], URLS)
    assert_same(appended, {"url": "u", "klantcontactmomenten": []})


def test_C4_C5_R2_W8_contactmomenten_of_a_klant() -> None:
    """The pure steps of W8 in route order: R-1 … R-3, C-4, C-5 (C-2 envelope, C-6 links)."""
    page = paging.esuite_page(load("esuite/contactmomenten-page-klant.json"))
    query = parse("??klant=k&ordering=-registratiedatum&expand=objectcontactmomenten")
    items = []
    for contact in page.results:
        item = contactmoment_read.contactmoment_from_esuite(contact, URLS)
        if "objectcontactmomenten" in query.expand and not contactmoment_lists.has_embedded_objectcontactmomenten(item):
            assert contact["url"].endswith(UUID1)  # the one call of W8
            results = load("esuite/objectcontactmomenten-page.json")["results"]
            item = contactmoment_lists.with_expansion(item, "objectcontactmomenten", results, URLS)
        items.append(item)
    inbound = parse_query("??klant=k&ordering=-registratiedatum&expand=objectcontactmomenten")
    answer = {
        "count": page.count,
        "next": paging.pagination_link(A, ROUTE, inbound, page.next),
        "previous": paging.pagination_link(A, ROUTE, inbound, page.previous),
        "results": contactmoment_lists.ordered(items, query.ordering),
    }
    assert_same(answer, load("expected/get-contactmomenten-by-klant-v1.response.json"))


def test_C4_R2_detail_fixture() -> None:
    item = contactmoment_read.contactmoment_from_esuite(load("esuite/contactmoment-detail-contactverzoek.json"), URLS)
    assert not contactmoment_lists.has_embedded_objectcontactmomenten(item)
    item = contactmoment_lists.with_expansion(
        item, "objectcontactmomenten", load("esuite/objectcontactmomenten-page-empty.json")["results"], URLS
    )
    assert_same(item, load("expected/get-contactmoment-detail-v1.response.json"))


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        {"count": "2", "results": []},
        {"count": True, "results": []},
        {"count": 1, "results": {}},
        {"results": []},
    ],
)
def test_C2_envelope_checked(answer: Any) -> None:
    problem = problem_of(paging.esuite_page, answer)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")


def dated(*dates: Any) -> list[dict]:
    return [{"id": index, "registratiedatum": date} for index, date in enumerate(dates)]


def ids(items: list[dict]) -> list[int]:
    return [item["id"] for item in items]


def test_C5_sorted_by_instant() -> None:
    items = dated("2025-01-15T10:12:00+01:00", "2025-01-15T09:30:00Z", "2025-01-15T10:00:00")
    # 09:12Z, 09:30Z, 09:00Z (no offset: Amsterdam, CET)
    assert ids(paging.sort_by_registratiedatum(items, descending=False)) == [2, 0, 1]
    assert ids(paging.sort_by_registratiedatum(items, descending=True)) == [1, 0, 2]


def test_C5_no_offset_is_amsterdam_summer_time() -> None:
    items = dated("2025-06-10T14:05:00", "2025-06-10T12:30:00Z")  # 12:05Z, 12:30Z
    assert ids(paging.sort_by_registratiedatum(items, descending=True)) == [1, 0]


def test_C5_unparsable_dates_last() -> None:
    items = dated("x", "2025-01-02T00:00:00Z", None, "2025-01-01T00:00:00Z", 5, "") + [{"id": 6}]
    assert ids(paging.sort_by_registratiedatum(items, descending=False)) == [3, 1, 0, 2, 4, 5, 6]
    assert ids(paging.sort_by_registratiedatum(items, descending=True)) == [1, 3, 0, 2, 4, 5, 6]


def test_C5_stable_for_equal_instants() -> None:
    items = dated("2025-01-01T01:00:00+01:00", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000Z")
    assert ids(paging.sort_by_registratiedatum(items, descending=False)) == [0, 1, 2]
    assert ids(paging.sort_by_registratiedatum(items, descending=True)) == [0, 1, 2]


def test_C5_custom_getter_for_interne_taken() -> None:
    items = [
        {"id": 0, "record": {"data": {"registratiedatum": "2025-01-01T00:00:00Z"}}},
        {"id": 1, "record": {"data": {"registratiedatum": "2025-02-01T00:00:00Z"}}},
    ]
    result = paging.sort_by_registratiedatum(items, True, get=lambda item: item["record"]["data"]["registratiedatum"])
    assert ids(result) == [1, 0]
    assert ids(items) == [0, 1]


def test_C5_ordering_parameter() -> None:
    assert parse("ordering=registratiedatum").ordering == "asc"
    assert parse("ordering=-registratiedatum&ordering=-registratiedatum").ordering == "desc"
    assert parse("ordering=").ordering is None
    assert ids(contactmoment_lists.ordered(dated("2025-02-01T00:00:00Z", "2025-01-01T00:00:00Z"), None)) == [0, 1]
    for raw in (
        "ordering=-registratieDatum",
        "ordering=registratiedatum&ordering=-registratiedatum",
        "ordering=-startdatum",
    ):
        problem = problem_of(parse, raw)
        assert [(p.name, p.code) for p in problem.invalid_params] == [("ordering", "invalid_choice")]


def test_C6_pagination_links() -> None:
    inbound = parse_query("??klant=https%3A%2F%2Fk%20x&page=1&type=a+b")
    assert paging.pagination_link(A, ROUTE, inbound, None) is None
    assert paging.pagination_link(A, ROUTE, inbound, f"{CM_E}/contactmomenten?klant=x&page=2") == (
        f"{A}{ROUTE}?klant=https%3A%2F%2Fk%20x&page=2&type=a%20b"
    )
    assert paging.pagination_link(A, ROUTE, inbound, f"{CM_E}/contactmomenten?klant=x") == (
        f"{A}{ROUTE}?klant=https%3A%2F%2Fk%20x&page=1&type=a%20b"
    )
    assert (
        paging.pagination_link(A, ROUTE, parse_query("klant=k"), f"{CM_E}/contactmomenten?page=3")
        == f"{A}{ROUTE}?klant=k&page=3"
    )
    problem = problem_of(paging.pagination_link, A, ROUTE, inbound, 2)
    assert (problem.status, problem.code) == (502, "upstream-invalid-response")


def test_C6_W9_next_link() -> None:
    case = next(c for c in load("kiss/requests-get.json") if c["case"] == "interne-taken-search-phone-v1")
    path, _, raw = case["target"].partition("?")
    upstream_next = load("esuite/contactmomenten-page-1-contactverzoeken.json")["next"]
    expected = load("expected/get-interne-taken-search-v1.response.json")
    assert paging.pagination_link(A, path, parse_query(raw), upstream_next) == expected["next"]
