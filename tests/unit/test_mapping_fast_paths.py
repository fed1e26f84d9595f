"""The mapping path's shortcuts (bench/README.md, "The mapping path") against the plain rule
they replace, on generated inputs; and the facts about the URL map each shortcut relies on,
so that a change there fails here rather than in an answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.esuite_client.urls import UrlMap, compat_map
from adapter.mapping import contactmoment_read
from adapter.problems import Problem
from tests.unit.test_urls_generated import BASES, A, texts

GENERATED = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
MAPS = [UrlMap(A, base) for base in BASES] + [compat_map(UrlMap(A, base)) for base in BASES]


# --- `contacts_for_kiss` calls `to_adapter` only for text on the e-Suite base ----


@pytest.mark.parametrize("urls", MAPS, ids=["map", "map-sub", "compat", "compat-sub"])
@GENERATED
@given(text=texts)
def test_R1_to_adapter_leaves_text_off_the_esuite_base(urls: UrlMap, text: str) -> None:
    """What `contacts_for_kiss` skips the call for: RW-3 rewrites only text starting with a
    root, and every root starts with `esuite_base`."""
    if not text.startswith(urls.esuite_base):
        assert urls.to_adapter(text) == text
    assert all(urls.esuite_root(name).startswith(urls.esuite_base) for name in ("contactmomenten", "klanten"))


def _rule_R2(contact: dict, urls: UrlMap) -> dict:
    """R-2 as written: `tekst` = R-1(tekst, "" when not text) + LF + R-1(antwoord), on a copy."""
    antwoord = contact.get("antwoord")
    if not isinstance(antwoord, str):
        return contact
    tekst = contact.get("tekst")
    return {
        **contact,
        "tekst": (urls.to_adapter(tekst) if isinstance(tekst, str) else "") + "\n" + urls.to_adapter(antwoord),
    }


_field = st.none() | st.integers(0, 3) | texts
contacts = st.lists(
    st.fixed_dictionaries(
        {"url": texts},
        optional={"tekst": _field, "antwoord": _field, "kanaal": texts, "z": st.lists(texts, max_size=2)},
    ),
    max_size=6,
)


@pytest.mark.parametrize("urls", MAPS, ids=["map", "map-sub", "compat", "compat-sub"])
@GENERATED
@given(page=contacts)
def test_R2_contacts_for_kiss_is_the_rule_per_contact_and_leaves_the_page_alone(urls: UrlMap, page: list) -> None:
    before = orjson.dumps(page)
    mapped = contactmoment_read.contacts_for_kiss(page, urls)
    assert orjson.dumps(mapped) == orjson.dumps([_rule_R2(contact, urls) for contact in page])
    assert orjson.dumps(page) == before


@pytest.mark.parametrize("bad", [None, "x", [], {"tekst": "t"}, {"url": 1}])
def test_R6_one_unusable_contact_fails_the_page_wherever_it_stands(bad: Any) -> None:
    good = {"url": "u", "antwoord": "a"}
    for page in ([bad, good], [good, bad], [good, good, bad]):
        with pytest.raises(Problem) as raised:
            contactmoment_read.contacts_for_kiss(page, MAPS[0])
        assert raised.value.status == 502


# --- I-8 step 2: the distinct contact URLs, found by a dict instead of a list scan -------------


@GENERATED
@given(
    page=st.lists(
        st.one_of(
            st.none(),
            st.integers(),
            st.fixed_dictionaries(
                {}, optional={"url": st.none() | st.integers() | st.sampled_from(["a", "b", "A", "c"])}
            ),
        ),
        max_size=12,
    ),
    klant_filter=st.none() | st.just("k"),
)
def test_I8_klant_lookup_urls_are_the_distinct_urls_in_first_order(page: list, klant_filter: str | None) -> None:
    from adapter.mapping.interne_taak_read import klant_lookup_urls

    expected: list[str] = []
    for contact in page if klant_filter is None else []:
        url = contact.get("url") if isinstance(contact, dict) else None
        if isinstance(url, str) and url not in expected:
            expected.append(url)
    assert klant_lookup_urls(page, klant_filter) == expected


# --- V-3 / V-4: a failure's path formatted only when the value fails --------------------------

_TEXTS = ("tekst", "vraag", "specifiekevraag", "specifiekeVraag", "toelichting", "verantwoordelijkeAfdeling")
_TEXTS += ("kanaal", "registratiedatum", "startdatum", "gespreksresultaat", "gespreksId")
_ACTOR = ("naam", "identificatie", "soortActor", "typeOrganisatorischeEenheid", "naamOrganisatorischeEenheid")


def _rule_V3_V4(body: dict) -> list[tuple[str, str]]:
    """V-3 and V-4 as the rule lists them: (path, reason) of every present, non-null value of
    the wrong type, top-level texts, objects, arrays, elements, then the nested texts."""

    def wrong(path: str, value: Any, expected: type, reason: str) -> list[tuple[str, str]]:
        return [] if value is None or isinstance(value, expected) else [(path, reason)]

    def obj(value: Any) -> dict:
        return value if isinstance(value, dict) else {}

    text, an_object = "Dit veld moet een tekst zijn.", "Dit veld moet een object zijn."
    found = [f for name in _TEXTS for f in wrong(name, body.get(name), str, text)]
    found += [
        f
        for name in ("betrokkene", "actor", "medewerkerIdentificatie")
        for f in wrong(name, body.get(name), dict, an_object)
    ]
    betrokkene = obj(body.get("betrokkene"))
    found += wrong("betrokkene.persoonsnaam", betrokkene.get("persoonsnaam"), dict, an_object)
    adressen = betrokkene.get("digitaleAdressen")
    found += wrong("betrokkene.digitaleAdressen", adressen, list, "Dit veld moet een lijst zijn.")
    adressen = adressen if isinstance(adressen, list) else []
    found += [
        (f"betrokkene.digitaleAdressen.{i}", "Elk digitaal adres moet een object zijn.")
        for i, adres in enumerate(adressen)
        if not isinstance(adres, dict)
    ]
    nested = [("betrokkene.organisatie", betrokkene.get("organisatie"))]
    nested += [
        (f"betrokkene.persoonsnaam.{f}", obj(betrokkene.get("persoonsnaam")).get(f))
        for f in ("voornaam", "voorvoegselAchternaam", "achternaam")
    ]
    nested += [
        (f"betrokkene.digitaleAdressen.{i}.{f}", adres.get(f))
        for i, adres in enumerate(adressen)
        if isinstance(adres, dict)
        for f in ("adres", "omschrijving", "soortDigitaalAdres")
    ]
    nested += [(f"actor.{f}", obj(body.get("actor")).get(f)) for f in _ACTOR]
    nested.append(
        ("medewerkerIdentificatie.identificatie", obj(body.get("medewerkerIdentificatie")).get("identificatie"))
    )
    return found + [f for path, value in nested for f in wrong(path, value, str, text)]


_value = st.none() | st.sampled_from(["", " ", "x", 1, True, [], {}, ["x"]])


def _object_of(keys: tuple[str, ...]) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=dict.fromkeys(keys, _value))


_adres = _object_of(("adres", "omschrijving", "soortDigitaalAdres")) | _value
_betrokkene = st.fixed_dictionaries(
    {},
    optional={
        "organisatie": _value,
        "persoonsnaam": _object_of(("voornaam", "voorvoegselAchternaam", "achternaam")) | _value,
        "digitaleAdressen": st.lists(_adres, max_size=3) | _value,
    },
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(_TEXTS, _value),
        "betrokkene": _betrokkene | _value,
        "actor": _object_of(_ACTOR) | _value,
        "medewerkerIdentificatie": _object_of(("identificatie",)) | _value,
    },
)


@GENERATED
@given(body=bodies)
def test_V3_V4_failures_are_the_rules_in_order(body: dict) -> None:
    from adapter.mapping import validation

    found = [(f.name, f.reason) for f in validation._text_failures(body) + validation._structure_failures(body)]
    assert found == _rule_V3_V4(body)
    assert all(f.code == "invalid" for f in validation._text_failures(body) + validation._structure_failures(body))


# --- I-5: the voorlopig antwoord's date and time without strftime ------------------------------


@GENERATED
@given(moment=st.datetimes(timezones=st.none() | st.timezones()))
def test_I5_dag_en_tijd_is_strftime(moment) -> None:
    from adapter.mapping.interne_taak_read import _dag_en_tijd

    assert _dag_en_tijd(moment) == moment.strftime("%d-%m-%Y, %H:%M")
