"""The answer bounds of issue 13 item 5, counted in one pass (issue 17, bench/README.md)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.esuite_client.client import MAX_ANSWER_VALUES, answer_json
from adapter.mapping.common import json_structure, json_values_bound, openers_at_most, renderable
from adapter.problems import Problem

TEXT = b'{"a":[1,2],"b":"x,y:[{","c":{}}'


def test_json_structure_keeps_the_four_marks_in_their_order():
    assert json_structure(TEXT) == b"{:[,,:,:[{,:{"


def test_values_bound_counts_every_mark_plus_one_strings_included():
    assert json_values_bound(json_structure(TEXT)) == 14
    assert json_values_bound(b"{:[") == 4  # counted from the structure as given
    assert json_values_bound(json_structure(b"7")) == 1


def test_renderable_up_to_254_levels():
    deep = b"[" * 254 + b"]" * 254
    assert renderable(orjson.loads(deep), json_structure(deep))
    deeper = b"[" * 255 + b"]" * 255
    assert not renderable(orjson.loads(deeper), json_structure(deeper))


def test_renderable_when_the_brackets_are_inside_strings():
    flat = b'["' + b"[{" * 300 + b'"]'
    assert renderable(orjson.loads(flat), json_structure(flat))


def test_answer_json_refuses_too_many_values_and_too_deep():
    many = b"[" + b"0," * MAX_ANSWER_VALUES + b"0]"
    with pytest.raises(Problem) as refused:
        answer_json(many)
    assert refused.value.status == 502
    just_enough = b"[" + b"0," * (MAX_ANSWER_VALUES - 2) + b"0]"
    assert len(answer_json(just_enough)) == MAX_ANSWER_VALUES - 1
    with pytest.raises(Problem) as deep:
        answer_json(b"[" * 255 + b"]" * 255)
    assert deep.value.status == 502
    assert answer_json(b"not json") is None
    assert answer_json(b"") is None


def test_openers_at_most_counts_both_openers_up_to_the_limit():
    assert openers_at_most(b"[{}]", 2)
    assert not openers_at_most(b"[{}]", 1)
    assert openers_at_most(b'{"a":"[[["}', 4)  # inside strings they count too
    assert not openers_at_most(b'{"a":"[[["}', 3)
    assert openers_at_most(b'"x"', 0)
    assert openers_at_most(b"", 0)
    assert not openers_at_most(b"{" * 1000, 254)
    # A text no longer than the limit cannot hold more openers: answered without counting.
    assert openers_at_most(b"[[[", 3)
    assert not openers_at_most(b"[[[[", 3)
    assert not openers_at_most(b"x[[[[", 3)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=64), st.lists(st.sampled_from([b"[", b"{", b"}", b'"', b"x"]), max_size=90).map(b"".join)
    ),
    st.integers(min_value=0, max_value=70),
)
def test_openers_at_most_is_the_count_of_both_openers_against_the_limit(text, limit):
    assert openers_at_most(text, limit) is (text.count(b"[") + text.count(b"{") <= limit)


def test_renderable_reads_raw_text_as_its_structure():
    deep = b'{"a":' * 254 + b"1" + b"}" * 254
    assert renderable(orjson.loads(deep), deep)
    deeper = b'{"a":' * 255 + b"1" + b"}" * 255
    assert not renderable(orjson.loads(deeper), deeper)
    # 254 levels in 300 openers: more openers than the limit, rendered once and found fine.
    wide = b"[" + b"[]," * 299 + b"[]]"
    assert renderable(orjson.loads(wide), wide)


def test_answer_json_counts_values_only_in_a_text_long_enough_to_hold_too_many():
    # 499,999 bytes of `[0,0,…,0]`: 250,000 values, under the bound without counting.
    short = b"[" + b"0," * 249_998 + b"0]"
    assert len(short) == 499_999
    assert len(answer_json(short)) == 249_999
    # The text of exactly MAX_ANSWER_VALUES values in the fewest bytes is counted and refused.
    exact = b"[" + b"0," * (MAX_ANSWER_VALUES - 1) + b"0]"
    with pytest.raises(Problem):
        answer_json(exact)
