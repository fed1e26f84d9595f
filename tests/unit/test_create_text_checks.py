"""`non_blank` and the V-3/V-4 text checks on literal bodies: what is blank, what is not text,
and the paths named, in order."""

from __future__ import annotations

from adapter.mapping import validation
from adapter.mapping.contactmoment_body import non_blank


def test_non_blank_literals() -> None:
    assert non_blank({"a": " x\t"}, "a") == " x\t"
    assert non_blank({"a": " \t\r\n"}, "a") is None
    assert non_blank({"a": "\u00a0"}, "a") == "\u00a0"  # only space, tab, CR, LF are blank
    assert non_blank({"a": 1}, "a") is None
    assert non_blank({}, "a") is None


def test_the_text_checks_literals() -> None:
    body = {"tekst": 1, "vraag": None, "kanaal": "x", "actor": {"naam": [], "identificatie": "i"}}
    assert [p.name for p in validation._text_failures(body)] == ["tekst"]
    nested = validation._nested_text_failures(body, {"persoonsnaam": {"achternaam": {}}}, [{"adres": 5}, 3])
    assert [p.name for p in nested] == [
        "betrokkene.persoonsnaam.achternaam",
        "betrokkene.digitaleAdressen.0.adres",
        "actor.naam",
    ]
