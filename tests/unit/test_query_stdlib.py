"""Q-1 … Q-3 and Q-5 (docs/behaviour/kiss-front.md §3.1): the standard library's `parse_qsl` and
`urlencode` do what the rules say, on generated inputs. The oracles below are the rules written
out segment by segment, independent of `adapter.mapping.query`."""

from urllib.parse import unquote_plus

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapter.mapping.query import encode_query, parse_client_query, parse_query
from adapter.problems import Problem

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def rule_parse(raw: str, errors: str = "replace") -> list[tuple[str, str]]:
    """Q-1 … Q-3: leading `?`s dropped; split on `&`; empty segments skipped; a segment
    without `=` is a name with an empty value; `+` is a space; %XX decoded as UTF-8."""
    pairs = []
    for segment in raw.lstrip("?").split("&"):
        if segment:
            name, _, value = segment.partition("=")
            pairs.append((unquote_plus(name, errors=errors), unquote_plus(value, errors=errors)))
    return pairs


def rule_encode(pairs: list[tuple[str, str]]) -> str:
    """Q-5: every character but A-Z a-z 0-9 _ . - ~ as %XX of its UTF-8 bytes, upper-case hex."""

    def encoded(text: str) -> str:
        return "".join(c if c in UNRESERVED else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)

    return "&".join(f"{encoded(name)}={encoded(value)}" for name, value in pairs)


# Queries made of the characters that matter (separators, `+`, `%` and hex digits, `?`),
# plain text and percent-escapes of arbitrary bytes (invalid UTF-8 included).
_pieces = st.one_of(
    st.sampled_from(["&", "=", "+", "%", "?", "&&", "==", "%2", "%zz", "%26", "%3D", "%2B", "%20", "a", "é", "€"]),
    st.text(max_size=6),
    st.binary(min_size=1, max_size=4).map(lambda data: "".join(f"%{byte:02X}" for byte in data)),
)
queries = st.lists(_pieces, max_size=16).map("".join)
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


@settings(max_examples=400, deadline=None)
@given(queries)
@example("??a=1&&b&=c&d=&+x+=%20y+")
@example("a=%FF&b=%C3%A9")
def test_Q1_Q3_parse_query_is_the_rule_for_any_query(raw):
    assert parse_query(raw) == rule_parse(raw)


@settings(max_examples=400, deadline=None)
@given(queries)
def test_Q1_Q3_a_clients_query_is_the_rule_or_400_when_not_utf8(raw):
    try:
        expected = rule_parse(raw, errors="strict")
    except UnicodeDecodeError:
        with pytest.raises(Problem) as raised:
            parse_query(raw, strict=True)
        assert (raised.value.status, raised.value.code) == (400, "invalid")
    else:
        assert parse_query(raw, strict=True) == expected


def test_Q1_a_client_value_not_utf8_is_400_naming_its_parameter():
    with pytest.raises(Problem) as raised:
        parse_client_query(b"page=1&telefoonnummer=%FF%FE&x=%FF")
    [param] = raised.value.invalid_params
    assert (param.name, param.code, param.reason) == (
        "telefoonnummer",
        "invalid",
        "De waarde is geen geldige UTF-8-tekst.",
    )


def test_Q1_a_name_not_utf8_is_reported_on_the_query_as_a_whole():
    with pytest.raises(Problem) as raised:
        parse_client_query(b"ok=1&%C3=x")
    [param] = raised.value.invalid_params
    assert param.name == "nonFieldErrors"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(texts, texts), max_size=6))
@example([("telefoonnummerOfEmailadres", "a b+c@example.org"), ("object", "https://x.example/a?b=c&d=é")])
def test_Q5_encode_query_is_the_rule_for_any_pairs(pairs):
    assert encode_query(pairs) == rule_encode(pairs)


def test_Q5_literal():
    assert encode_query([("a b", "x+y/é~"), ("", "")]) == "a%20b=x%2By%2F%C3%A9~&="
