"""Zaken rules Z-1, Z-2 (W13), klanten K-1 and the refused contact search (kiss-front.md §6.2)."""

from __future__ import annotations

import json

import pytest

from adapter.esuite_client.urls import UrlMap
from adapter.mapping.klanten import CONTACT_SEARCH_REFUSED, klant_put_to_patch, refuse_contact_search
from adapter.mapping.query import encode_query, parse_query
from adapter.mapping.zaken import translate_zaken_query, zaak_identificatie, zaken_page
from adapter.problems import InvalidParam, Problem
from tests.conftest import FIXTURES

A = "https://kiss-adapter.example.org"
E = "https://esuite.example.org"
URLS = UrlMap(A, E)


def load(relative: str):
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def exact(actual, expected) -> None:
    """Equal values and equal key order at every depth (the order is normative)."""
    assert json.dumps(actual, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def problem_of(call, *args) -> Problem:
    with pytest.raises(Problem) as caught:
        call(*args)
    return caught.value


# --- Z-1 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "esuite"),
    [
        ("-startdatum", "startdatum_aflopend"),
        ("startdatum", "startdatum_oplopend"),
        ("-startdatum,identificatie", "startdatum_aflopend,identificatie_oplopend"),
        ("startdatum_aflopend", "startdatum_aflopend"),
        (" -startdatum , ,identificatie_oplopend,", "startdatum_aflopend,identificatie_oplopend"),
    ],
)
def test_Z1_W13_ordering(ordering, esuite):
    assert translate_zaken_query([("ordering", ordering)], URLS) == [("ordering", esuite)]


def test_Z1_each_ordering_parameter_and_other_values_rewritten_in_order():
    pairs = parse_query(
        "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=999993653&ordering=-startdatum"
        "&zaaktype=https%3A%2F%2Fkiss-adapter.example.org%2Fcatalogi%2Fapi%2Fv1%2Fzaaktypen%2F1&ordering=x"
    )
    assert translate_zaken_query(pairs, URLS) == [
        ("rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn", "999993653"),
        ("ordering", "startdatum_aflopend"),
        ("zaaktype", f"{E}/zgw-apis-provider/ztc/api/v1/zaaktypen/1"),
        ("ordering", "x_oplopend"),
    ]


def test_Z1_fixture_request_zaken_by_bsn():
    pairs = parse_query("rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=999993653&ordering=-startdatum")
    assert encode_query(translate_zaken_query(pairs, URLS)) == (
        "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=999993653&ordering=startdatum_aflopend"
    )


# --- Z-2 ----------------------------------------------------------------------------------------


def test_Z2_W13_identificatie_intern_replaces_identificatie_in_place():
    exact(
        zaken_page({"results": [{"identificatieIntern": "Z-100", "identificatie": "E-555"}]}),
        {"results": [{"identificatieIntern": "Z-100", "identificatie": "Z-100"}]},
    )


def test_Z2_W13_without_identificatie_intern_unchanged():
    assert zaken_page({"results": [{"identificatie": "E-555"}]}) == {"results": [{"identificatie": "E-555"}]}


@pytest.mark.parametrize("intern", [None, "", "  ", 5])
def test_Z2_blank_identificatie_intern_ignored(intern):
    zaak = {"identificatie": "E-555", "identificatieIntern": intern}
    assert zaak_identificatie(zaak) == zaak


def test_Z2_appended_when_identificatie_absent():
    assert list(zaak_identificatie({"identificatieIntern": "Z-1", "x": 1})) == [
        "identificatieIntern",
        "x",
        "identificatie",
    ]


def test_Z2_fixture_zaken_page_rewritten():
    exact(zaken_page(URLS.json_to_adapter(load("esuite/zaken-page.json"))), load("expected/get-zaken.response.json"))


def test_Z2_fixture_zaak_detail():
    zaak = zaak_identificatie(URLS.json_to_adapter(load("esuite/zaak.json")))
    exact(zaak, load("expected/get-zaken.response.json")["results"][0])


@pytest.mark.parametrize("body", [None, [], {"count": 0}, {"results": "x"}, {"results": ["x", None]}])
def test_Z2_other_shapes_pass_through(body):
    assert zaken_page(body) == body


# --- K-1 ----------------------------------------------------------------------------------------


def test_K1_fixture_put_becomes_patch():
    assert klant_put_to_patch(load("kiss/put-klant-contactgegevens-2024.json")) == {
        "emailadres": "anna.vandijk@example.org",
        "telefoonnummer": "0687654321",
    }


def test_K1_null_values_kept_and_fixed_field_order():
    body = {"telefoonnummerAlternatief": None, "achternaam": "Dijk", "emailadres": ""}
    exact(klant_put_to_patch(body), {"emailadres": "", "telefoonnummerAlternatief": None})


def test_K1_none_of_the_fields_is_400():
    problem = problem_of(klant_put_to_patch, {"achternaam": "Dijk"})
    assert (problem.status, problem.code) == (400, "invalid")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("nonFieldErrors", "required")]


@pytest.mark.parametrize("body", [None, [], "x", 3])
def test_K1_body_not_an_object_is_400(body):
    problem = problem_of(klant_put_to_patch, body)
    assert (problem.status, problem.code) == (400, "invalid")
    assert [(p.name, p.code) for p in problem.invalid_params] == [("nonFieldErrors", "invalid")]


# --- kiss-front.md §6.2 ---------------------------------------------------------------------------


def test_K_contact_search_refused_one_entry_per_name_in_first_appearance_order():
    pairs = parse_query("subjectType=vestiging&telefoonnummer=0612345678&emailadres=a%40b.nl&telefoonnummer=")
    problem = problem_of(refuse_contact_search, pairs)
    assert (problem.status, problem.code, problem.detail) == (400, "unsupported-filter", CONTACT_SEARCH_REFUSED)
    assert problem.detail == "Zoeken op e-mailadres of telefoonnummer wordt door de e-Suite niet ondersteund."
    assert problem.resolved_title() == "Ongeldige invoer."
    assert problem.invalid_params == [
        InvalidParam("telefoonnummer", "unsupported-filter", CONTACT_SEARCH_REFUSED),
        InvalidParam("emailadres", "unsupported-filter", CONTACT_SEARCH_REFUSED),
    ]


def test_K_other_klanten_searches_pass():
    assert refuse_contact_search(parse_query("subjectNatuurlijkPersoon__inpBsn=999993653&Emailadres=x")) is None


def test_Q5_encoding_equals_quote_with_nothing_safe_for_any_text():
    import random
    from urllib.parse import quote

    rng = random.Random(5)
    alphabet = "aZ09-._~ !\"#$%&'()*+,/:;<=>?@[\\]^`{|}\t\n\x7féü€😀"
    samples = [
        "",
        "https://esuite.example.org/a?b=c&d=e f",
        *("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(2000)),
    ]
    for text in samples:
        assert encode_query([(text, text)]) == f"{quote(text, safe='')}={quote(text, safe='')}"
