"""RW-4 on generated JSON: the text-level rewrite (`UrlMap.rendered`, `json_to_adapter`) gives
what the exact walk over every string value gives, for any JSON value.

The rewrite is a deliberate performance trick (docs/architecture.md): one regular expression
over the compact JSON text instead of a walk in Python. The hand-picked samples in
test_urls.py show the known corners; here hypothesis builds values whose strings are made of
the pieces that matter (the e-Suite base and roots, the adapter base, boundaries, quotes,
backslashes, control and non-ASCII characters) at any depth, keys included.
"""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.esuite_client.urls import ROOTS, UrlMap, _walk

A = "https://kiss-adapter.example.org"
BASES = ("https://esuite.example.org", "https://gateway.example.org/esuite")

PIECES = [
    *BASES,
    *(esuite for _, _, esuite in ROOTS),
    *(adapter for _, adapter, _ in ROOTS),
    A,
    "/api/v10",
    "/",
    "?",
    "#",
    "&",
    "=",
    "%20",
    '"',
    "\\",
    '\\"',
    "\n",
    "\t",
    "\u2028",
    " ",
    "x",
    "1",
    "ü",
    "✓",
    "https://elders.example.org",
]
# Mostly URL-shaped: something (or nothing) before a base, a root (or not), something after;
# so a quote or backslash right before an e-Suite URL, the case the text rewrite must get
# right, turns up often.
BEFORE = ["", "x", '"', 'x"', "\\", '\\"', "zie ", "\n", A]
ROOT_PATHS = [esuite for _, _, esuite in ROOTS] + [adapter for _, adapter, _ in ROOTS] + ["", "/api/v10"]
AFTER = ["", "/", "/k/1", "?a=b&c=%20d", "#f", '"', "\\", "X", "/k/1\nregel", " ✓"]
url_like = st.tuples(
    st.sampled_from(BEFORE), st.sampled_from([*BASES, ""]), st.sampled_from(ROOT_PATHS), st.sampled_from(AFTER)
).map("".join)
texts = url_like | st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize("esuite_base", BASES)
@settings(
    max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(value=json_values)
def test_RW4_text_rewrite_equals_the_exact_walk_on_generated_json(esuite_base: str, value) -> None:
    urls = UrlMap(A, esuite_base)
    exact = _walk(value, urls.to_adapter)
    assert urls.json_to_adapter(value) == exact
    assert urls.rendered(value) == orjson.dumps(exact)


# `_replaced_values`, the path with no Python per URL: it fires only when counts prove that
# every `"{E}` in the text is an object value going on with a root and `/`. The values below
# are made to pass that proof often and to fail it in every way that matters: URLs as keys,
# after `[` or `,` in arrays, after an escaped quote, roots without a boundary or with another
# one, the bare base, URLs inside longer strings.
CM = "/contactmomenten-api-provider/api/v1"
# len(A_SAME + "/contactmomenten/api/v1") == len(BASES[0] + CM): the count is not read off the
# length change there.
A_SAME = "https://k" + "x" * (len(BASES[0] + CM) - len("/contactmomenten/api/v1") - len("https://k.org")) + ".org"
ESUITE_URL_ENDS = ["/k/1", "/", "/k/1?a=b", "", "?a", "#f", "x", "0", '/"x', "/\\", "/\n"]


def esuite_urls(base: str):
    return st.tuples(
        st.sampled_from(["", "", "", '"', '\\"', "zie "]),
        st.sampled_from([esuite for _, _, esuite in ROOTS] + ["/api/v10", ""]),
        st.sampled_from(ESUITE_URL_ENDS),
    ).map(lambda parts: parts[0] + base + parts[1] + parts[2])


def page_like(base: str):
    # Weighted towards what passes the proof (URL values in objects), so both outcomes are common.
    urls, names = esuite_urls(base), st.sampled_from(["url", "tekst", "a", "b"])
    leaves = st.one_of(urls, urls, texts, st.integers(0, 9), st.none())
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.dictionaries(st.one_of(names, names, names, urls), children, max_size=4),
            st.dictionaries(names, children, max_size=4),
            st.lists(children, max_size=3),
        ),
        max_leaves=16,
    )


# Built once per base: a strategy made inside the test, for every example, was validated and
# its recursion set up again each time (2026-12-03: 29 ms an example, 44 s for the six cases).
PAGES = {
    base: st.lists(page_like(base), max_size=4).map(lambda items: {"count": 1, "results": items}) for base in BASES
}


@pytest.mark.parametrize("adapter_base", [A, A_SAME, "http://127.0.0.1:8000/kiss"])
@pytest.mark.parametrize("esuite_base", BASES)
@settings(
    max_examples=250, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_RW4_value_replace_equals_the_exact_walk_when_it_fires(esuite_base: str, adapter_base: str, data) -> None:
    value = data.draw(PAGES[esuite_base])
    urls = UrlMap(adapter_base, esuite_base)
    text = orjson.dumps(value)
    exact = orjson.dumps(_walk(value, urls.to_adapter))
    fast = urls._replaced_values(text, text.count(b'"' + esuite_base.encode()))
    assert fast is None or fast == exact
    assert urls.rendered(value) == exact
    assert urls.json_to_adapter(value) == _walk(value, urls.to_adapter)


@pytest.mark.parametrize("adapter_base", [A, A_SAME])
def test_RW4_value_replace_fires_on_object_values_and_not_on_keys_arrays_escapes_or_other_boundaries(
    adapter_base: str,
) -> None:
    e, k = BASES[1], "/klanten-api-provider/api/v1"
    urls = UrlMap(adapter_base, e)

    def fast(value):
        text = orjson.dumps(value)
        return urls._replaced_values(text, text.count(b'"' + e.encode()))

    page = {"results": [{"url": e + CM + "/contactmomenten/1", "k": {"klant": e + k + "/klanten/2"}}]}
    expected = {
        "results": [
            {
                "url": adapter_base + "/contactmomenten/api/v1/contactmomenten/1",
                "k": {"klant": adapter_base + "/klanten/api/v1/klanten/2"},
            }
        ]
    }
    assert fast(page) == orjson.dumps(expected)
    for unproven in (
        {e + CM + "/x": 1},  # a key
        {"a": [e + CM + "/x"]},  # after `[`
        {"a": [1, e + CM + "/x"]},  # after `,` in an array
        {"a": 'x"' + e + CM + "/x"},  # after an escaped quote
        {"a": e + CM},  # the root itself
        {"a": e + CM + "?q"},  # another boundary
        {"a": e + CM + "0/x"},  # no boundary
        {"a": e + "/elders"},  # no root
    ):
        assert fast(unproven) is None, unproven
        assert urls.rendered(unproven) == orjson.dumps(_walk(unproven, urls.to_adapter))


def test_RW4_value_replace_is_off_when_a_replacement_could_start_an_esuite_url() -> None:
    # An adapter base under the e-Suite base (or the other way round): a replaced URL would
    # start with `{E}` again, so counts would not add up; the regex does it then.
    for adapter_base, esuite_base in (
        ("https://esuite.example.org/adapter", "https://esuite.example.org"),
        ("https://esuite.example.org", "https://esuite.example.org/contactmomenten/api/v1/x"),
    ):
        urls = UrlMap(adapter_base, esuite_base)
        assert urls._value_roots == ()
        value = {"a": esuite_base + CM + "/x", "b": [esuite_base + CM]}
        assert urls.rendered(value) == orjson.dumps(_walk(value, urls.to_adapter))
    assert UrlMap(A, BASES[0])._value_roots != ()
