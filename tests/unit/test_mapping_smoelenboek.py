"""Smoelenboek rules S-1 … S-5 (mapping.md §8, W14)."""

from __future__ import annotations

import json

import pytest

from adapter.mapping.query import parse_query
from adapter.mapping.smoelenboek import (
    smoelenboek_objects_url,
    smoelenboek_page,
    smoelenboek_upstream_url,
)
from adapter.problems import Problem
from tests.conftest import FIXTURES

A = "https://kiss-adapter.example.org"
BASE = "https://objecten.example.org"
OBJECTS = f"{BASE}/api/v2/objects"
SB_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/cadf96e6-63aa-4641-807f-867106fc2566"


def load(relative: str):
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def exact(actual, expected) -> None:
    """Equal values and equal key order at every depth (the order is normative)."""
    assert json.dumps(actual, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def test_S3_S4_W14_fixture_page():
    exact(
        smoelenboek_page(load("objects/smoelenboek-page.json"), OBJECTS, A),
        load("expected/get-smoelenboek.response.json"),
    )


def test_S3_input_is_not_changed():
    page = load("objects/smoelenboek-page.json")
    smoelenboek_page(page, OBJECTS, A)
    assert page == load("objects/smoelenboek-page.json")


@pytest.mark.parametrize(
    "base",
    [BASE, f"{BASE}/", f"{BASE}/api/v2", f"{BASE}/api/v2/", f"{BASE}//"],
)
def test_S1_base_url_suffixes_removed(base):
    assert smoelenboek_objects_url(base) == OBJECTS


def test_S1_path_prefix_kept():
    assert (
        smoelenboek_objects_url("https://x.example.org/objecten/api/v2/")
        == "https://x.example.org/objecten/api/v2/objects"
    )
    assert smoelenboek_objects_url("https://x.example.org/objecten") == "https://x.example.org/objecten/api/v2/objects"


def test_S1_upstream_url_with_inbound_query_reencoded():
    pairs = parse_query(f"??type={SB_TYPE}&page=1&x=a+b")
    assert smoelenboek_upstream_url(BASE, pairs) == (
        f"{OBJECTS}?type=https%3A%2F%2Fobjecttypen.example.org%2Fapi%2Fv2%2Fobjecttypes%2F"
        "cadf96e6-63aa-4641-807f-867106fc2566&page=1&x=a%20b"
    )
    assert smoelenboek_upstream_url(BASE, []) == OBJECTS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"volledigeNaam": "Piet de Vries"}, {"volledigeNaam": "Piet de Vries", "achternaam": "Piet de Vries"}),
        (
            {"achternaam": "Bakker", "volledigeNaam": "Mila Bakker", "x": 1},
            {"achternaam": "Mila Bakker", "volledigeNaam": "Mila Bakker", "x": 1},
        ),
        ({"achternaam": "Bakker", "volledigeNaam": "  "}, {"achternaam": "Bakker", "volledigeNaam": "  "}),
        ({"achternaam": "Bakker", "volledigeNaam": None}, {"achternaam": "Bakker", "volledigeNaam": None}),
        ({"achternaam": "Bakker"}, {"achternaam": "Bakker"}),
    ],
)
def test_S3_achternaam_from_volledige_naam(data, expected):
    page = smoelenboek_page({"results": [{"record": {"data": data}}]}, OBJECTS, A)
    exact(page["results"][0]["record"]["data"], expected)


@pytest.mark.parametrize("item", ["x", {"record": None}, {"record": {"data": ["volledigeNaam"]}}, {}])
def test_S3_other_shapes_pass_unchanged(item):
    assert smoelenboek_page({"results": [item]}, OBJECTS, A)["results"] == [item]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (f"{OBJECTS}?page=3&type=t", f"{A}/api/v2/objects?page=3&type=t"),
        (None, None),
        ("https://elders.example.org/api/v2/objects?page=2", "https://elders.example.org/api/v2/objects?page=2"),
        (7, 7),
    ],
)
def test_S4_links_on_the_adapter(link, expected):
    page = smoelenboek_page({"count": 1, "next": link, "previous": link, "results": []}, OBJECTS, A)
    assert (page["next"], page["previous"]) == (expected, expected)
    assert list(page) == ["count", "next", "previous", "results"]


def test_S4_absent_links_not_added_and_item_urls_unchanged():
    item = {"url": f"{OBJECTS}/5ab140a7-048e-4ad2-9579-3ab24527976a"}
    assert smoelenboek_page({"results": [item]}, OBJECTS, A) == {"results": [item]}


@pytest.mark.parametrize("body", [None, [], "x", 5])
def test_S5_non_object_answer_is_502(body):
    with pytest.raises(Problem) as caught:
        smoelenboek_page(body, OBJECTS, A)
    assert (caught.value.status, caught.value.code) == (502, "upstream-invalid-response")
