"""Trick (issue 17, fourth pass): `non_blank` and the V-3/V-4 text checks with their tests
written out instead of calling `non_blank_str` / `_not_text`. The guard: hypothesis bodies of
mixed JSON types give what the general functions give (the code before, main at 413412b)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapter.mapping import validation
from adapter.mapping.common import non_blank_str
from adapter.mapping.contactmoment_body import PERSOONSNAAM_FIELDS, non_blank
from adapter.problems import InvalidParam

_texts = st.sampled_from(["", " ", "\t\r\n", " x ", "x", "\u00a0", "\x0b", "\x0c", "é"]) | st.text(max_size=6)
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3), max_leaves=6
)
_KEYS = [*validation._TEXT_FIELDS, *validation._ACTOR_FIELDS, *validation._DIGITAAL_ADRES_FIELDS, *PERSOONSNAAM_FIELDS]


def _objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from(_KEYS) | _texts, values, max_size=8)


def _general_non_blank(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value if non_blank_str(value) else None


@given(_objects(_values), st.sampled_from(_KEYS) | _texts)
def test_non_blank_is_the_general_one(obj: dict, key: str) -> None:
    fast, general = non_blank(obj, key), _general_non_blank(obj, key)
    assert fast == general and type(fast) is type(general)
    if fast is not None:
        assert fast is obj[key]  # verbatim: the very string


def test_non_blank_literals() -> None:
    assert non_blank({"a": " x\t"}, "a") == " x\t"
    assert non_blank({"a": " \t\r\n"}, "a") is None
    assert non_blank({"a": "\u00a0"}, "a") == "\u00a0"  # only space, tab, CR, LF are blank
    assert non_blank({"a": 1}, "a") is None
    assert non_blank({}, "a") is None


def _general_text_failures(body: dict) -> list[InvalidParam]:
    return [
        InvalidParam(field, "invalid", validation._REASON_TEXT)
        for field in validation._TEXT_FIELDS
        if validation._not_text(body.get(field))
    ]


def _general_nested_paths(body: dict, betrokkene: dict, adressen: list) -> list[str]:
    persoonsnaam = validation.object_or_empty(betrokkene.get("persoonsnaam"))
    actor = validation.object_or_empty(body.get("actor"))
    paths = ["betrokkene.organisatie"] if validation._not_text(betrokkene.get("organisatie")) else []
    paths += [f"betrokkene.persoonsnaam.{f}" for f in PERSOONSNAAM_FIELDS if validation._not_text(persoonsnaam.get(f))]
    paths += [
        f"betrokkene.digitaleAdressen.{index}.{f}"
        for index, adres in enumerate(adressen)
        if isinstance(adres, dict)
        for f in validation._DIGITAAL_ADRES_FIELDS
        if validation._not_text(adres.get(f))
    ]
    paths += [f"actor.{f}" for f in validation._ACTOR_FIELDS if validation._not_text(actor.get(f))]
    if validation._not_text(validation.object_or_empty(body.get("medewerkerIdentificatie")).get("identificatie")):
        paths.append("medewerkerIdentificatie.identificatie")
    return paths


_bodies = st.fixed_dictionaries(
    {},
    optional={
        **{field: _values for field in validation._TEXT_FIELDS},
        "actor": _objects(_values) | _values,
        "medewerkerIdentificatie": _objects(_values) | _values,
    },
)
_betrokkenen = st.fixed_dictionaries({}, optional={"organisatie": _values, "persoonsnaam": _objects(_values) | _values})


@given(_bodies, _betrokkenen, st.lists(_objects(_values) | _values, max_size=3))
def test_the_text_checks_are_the_general_ones(body: dict, betrokkene: dict, adressen: list) -> None:
    assert validation._text_failures(body) == _general_text_failures(body)
    expected = [
        InvalidParam(path, "invalid", validation._REASON_TEXT)
        for path in _general_nested_paths(body, betrokkene, adressen)
    ]
    assert validation._nested_text_failures(body, betrokkene, adressen) == expected


def test_the_text_checks_literals() -> None:
    body = {"tekst": 1, "vraag": None, "kanaal": "x", "actor": {"naam": [], "identificatie": "i"}}
    assert [p.name for p in validation._text_failures(body)] == ["tekst"]
    nested = validation._nested_text_failures(body, {"persoonsnaam": {"achternaam": {}}}, [{"adres": 5}, 3])
    assert [p.name for p in nested] == [
        "betrokkene.persoonsnaam.achternaam",
        "betrokkene.digitaleAdressen.0.adres",
        "actor.naam",
    ]
