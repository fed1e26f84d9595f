"""The outbound URL objects equal httpx's own parse, and normal URLs skip httpx's re-check."""

import random

import httpx
import pytest

from adapter.esuite_client.url_objects import ENABLED, outbound_url
from adapter.mapping.query import encode_query

E = "https://esuite.example.org"
CONTACT = f"{E}/contactmomenten-api-provider/api/v1/contactmomenten/6b49ddb3-8f0c-4d8e-9a1b-2c3d4e5f6a7b"

NORMAL = [
    f"{E}/contactmomenten-api-provider/api/v1/klantcontactmomenten?{encode_query([('contactmoment', CONTACT)])}",
    f"{E}/contactmomenten-api-provider/api/v1/contactmomenten?{encode_query([('klant', 'https://x.org/k/1'), ('page', '2')])}",
    f"{E}/zgw-apis-provider/zrc/api/v1/zaken?identificatie=ZAAK-2024-0000001&x=%20a%2F",
    "http://127.0.0.1:8081/esuite/klanten-api-provider/api/v1/klanten/1",
    "http://esuite:80/klanten-api-provider/api/v1/klanten?",
    "https://esuite.example.org:8443",
    "https://esuite.example.org/a//b/c",
    "https://esuite.example.org/contactmomenten-api-provider/api/v1/objectcontactmomenten?object=a?b/c",
]


def test_the_fast_path_works_with_the_installed_httpx():
    assert ENABLED  # else every URL silently goes through httpx's slow check again


@pytest.mark.parametrize("url", NORMAL)
def test_normal_urls_get_httpx_s_own_parse_without_the_character_check(url):
    fast = outbound_url(url)
    assert isinstance(fast, httpx.URL)  # the fast path is taken (an httpx upgrade may not break it silently)
    assert fast._uri_reference == httpx.URL(url)._uri_reference
    assert fast == httpx.URL(url) and str(fast) == str(httpx.URL(url)) and fast.raw_path == httpx.URL(url).raw_path


@pytest.mark.parametrize(
    "url",
    [
        "https://esuite.example.org/a/../b",  # dot segments: httpx normalises
        "https://esuite.example.org/a/./b",
        "https://Esuite.example.org/a",  # upper-case host: httpx lower-cases
        "https://esuite.example.org/a b",  # space: httpx encodes
        "https://esuite.example.org/a%zz",  # stray percent
        "https://esuite.example.org/a\r\nHost: evil",  # control characters: httpx refuses
        "https://esuite.example.org/a#fragment",
        "https://esuite.example.org/é",
        "https://user:pw@esuite.example.org/a",
        "https://999.1.1.1/a",  # invalid IPv4: httpx refuses
        "https://esuite.example.org:0123/a",
        "https://esuite.example.org/" + "a" * 70000,
    ],
)
def test_anything_else_is_left_to_httpx(url):
    assert outbound_url(url) == url


def test_random_urls_parse_as_httpx_parses_them():
    rng = random.Random(8)
    wide = "aZ09-._~!$&'()*+,;=:@/?#%[]{}|\\^`\"<> é\t"
    narrow = "aZ09-._~=&/?%2F"
    origins = [
        "https://esuite.example.org",
        "http://127.0.0.1:8081",
        "http://h:80",
        "https://h:443",
        "http://H",
        "http://1.2.3.999",
    ]
    fast_paths = 0
    for _ in range(5000):
        alphabet = rng.choice((wide, narrow))
        url = rng.choice(origins) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        fast = outbound_url(url)
        try:
            expected = httpx.URL(url)
        except httpx.InvalidURL:
            assert fast == url
            continue
        if isinstance(fast, httpx.URL):
            fast_paths += 1
            assert fast._uri_reference == expected._uri_reference, url
        else:
            assert fast == url
    assert fast_paths > 200


def test_a_changed_httpx_structure_turns_the_fast_path_off_instead_of_failing(monkeypatch):
    from adapter.esuite_client import url_objects

    monkeypatch.setattr(
        url_objects, "_origin", lambda origin: ("https", "", "esuite.example.org", None, "", None, None)
    )
    assert url_objects._works_with_this_httpx() is False
