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


# --- the fast paths against the standard library they replace (a guard on Python upgrades) ---
# `parse_query`, `encode_query` and `page_of_link` decode and encode ASCII text without
# `parse_qsl`, `urlencode` and `quote` (bench/README.md, "The mapping path"). These oracles are
# those stdlib calls themselves, on any text: ASCII, non-ASCII, escapes of arbitrary bytes,
# and lone surrogates (which cannot be encoded: the same error either way).
_any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)
any_queries = st.lists(st.one_of(_pieces, _any_text), max_size=16).map("".join)


def _stdlib_parse(raw: str, errors: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(raw.lstrip("?"), keep_blank_values=True, errors=errors)


@settings(max_examples=500, deadline=None)
@given(any_queries)
@example("klant=http%3A%2F%2F127.0.0.1%3A8000%2Fklanten%2Fapi%2Fv1%2Fklanten%2Fd72e7265&page=2")
@example("a=%E2%82&b=%E2%82%AC%C3&c+d=%2B+%25")
@example("é=%C3%A9é%C3&%C3é=x")
def test_Q1_Q3_parse_query_equals_parse_qsl(raw):
    assert parse_query(raw) == _stdlib_parse(raw, "replace")
    try:
        expected = _stdlib_parse(raw, "strict")
    except UnicodeDecodeError:
        with pytest.raises(Problem):
            parse_query(raw, strict=True)
    else:
        assert parse_query(raw, strict=True) == expected


def _stdlib_encode(pairs: list[tuple[str, str]]) -> str:
    from urllib.parse import quote, urlencode

    return urlencode(pairs, quote_via=quote, safe="")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_any_text, _any_text), max_size=6))
@example([("klant", "http://127.0.0.1:9999/klanten-api-provider/api/v1/klanten/d72e7265"), ("page", "2")])
@example([("", ""), ("a", "\x00\x7f ~-._"), ("b", "\ud800")])
def test_Q5_encode_query_equals_urlencode(pairs):
    try:
        expected = _stdlib_encode(pairs)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            encode_query(pairs)
    else:
        assert encode_query(pairs) == expected


def _stdlib_page_of_link(link: str) -> int:
    _, _, query = link.partition("?")
    raw = next((value for name, value in _stdlib_parse(query.split("#", 1)[0], "replace") if name == "page"), None)
    return int(raw) if raw and raw.isascii() and raw.isdigit() else 1


@settings(max_examples=500, deadline=None)
@given(
    st.tuples(
        st.sampled_from(["", "http://e.example/cm?", "http://e.example/cm??", "?"]),
        any_queries,
        st.sampled_from(["", "#page=3", "#x"]),
    ).map("".join)
)
@example("http://e.example/cm?klant=http%3A%2F%2Fa%2Fk&page=2")
@example("http://e.example/cm?p%61ge=4&page=5")
@example("http://e.example/cm?page+=4&pag%65=%36&page=7")
@example("http://e.example/cm?=&page&page=3")
def test_C6_page_of_link_equals_the_parse_qsl_reading(link):
    from adapter.mapping.query import page_of_link

    assert page_of_link(link) == _stdlib_page_of_link(link)
