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
