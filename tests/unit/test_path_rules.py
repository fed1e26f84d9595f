"""SEC-14 … SEC-16 as pure functions: the path rules, "under this root", collection spellings."""

import pytest

from adapter.esuite_client.urls import UrlMap
from adapter.mapping.paths import is_under_root, path_fault
from adapter.kiss_api.routing import collection_name
from adapter.mapping import contactmoment_lists
from adapter.mapping.smoelenboek import refuse_repeated_type
from adapter.problems import Problem

E = "https://esuite.example.org"
KLANTEN = f"{E}/klanten-api-provider/api/v1"


@pytest.mark.parametrize(
    "path, fault",
    [
        ("/a/../b", "dot-segment"),
        ("/a/./b", "dot-segment"),
        ("/a/..", "dot-segment"),
        ("/..", "dot-segment"),
        ("/a/%2e%2e/b", "dot-segment"),
        ("/a/%2E./b", "dot-segment"),
        ("/a/.%2E/b", "dot-segment"),
        ("/a/%2e/b", "dot-segment"),
        ("/a/%252e%252e/b", "dot-segment"),
        ("/a/..;jsessionid=1/b", "dot-segment"),
        ("/a/.;/b", "dot-segment"),
        ("/a/..%3B/b", "dot-segment"),
        ("/a%2Fb", "encoded-separator"),
        ("/a%2fb", "encoded-separator"),
        ("/a%5Cb", "encoded-separator"),
        ("/a%5cb", "encoded-separator"),
        ("/a%252fb", "encoded-separator"),
        ("/a\\b", "backslash"),
        ("/a%255C", "encoded-separator"),
        ("//a", "empty-segment"),
        ("/a//b", "empty-segment"),
        ("/a//", "empty-segment"),
        ("/a\x00", "nul"),
        ("/a%00", "nul"),
        ("/a%2500", "nul"),
        ("a/b", "relative"),
        ("/a/%c0%ae%c0%ae/b", "invalid-utf8"),
        ("/a/%ff", "invalid-utf8"),
        ("/a/%" + "25" * 6 + "2e", "dot-segment"),  # decoded seven times
        ("/a/%" + "25" * 9 + "2e", "nested-encoding"),
    ],
)
def test_SEC14_faults(path, fault):
    assert path_fault(path) == fault


@pytest.mark.parametrize(
    "path",
    ["", "/", "/a", "/a/", "/a/b/", "/a/...", "/a/.b", "/a/b.", "/a/x%20y", "/a/%25", "/a/%zz", "/a;b", "/a/b.json", "/%C3%A9"],
)
def test_SEC14_clean_paths(path):
    assert path_fault(path) is None


@pytest.mark.parametrize(
    "url, under",
    [
        (KLANTEN, True),
        (KLANTEN + "/", True),
        (KLANTEN + "?page=2", True),
        (KLANTEN + "/klanten/k1?x=%2F..%2F", True),  # the query is not a path
        (KLANTEN + "x", False),
        (KLANTEN + "/../zrc", False),
        (KLANTEN + "/%2e%2e/zrc", False),
        (KLANTEN + "/a%2Fb", False),
        (KLANTEN + "//a", False),
        (f"{E}/contactmomenten-api-provider/api/v1/contactmomenten", False),
        ("https://esuite.example.org.elders.example/klanten-api-provider/api/v1", False),
    ],
)
def test_SEC15_under_root(url, under):
    assert is_under_root(url, KLANTEN) is under


def test_SEC15_root_name_of():
    urls = UrlMap("https://kiss-adapter.example.org", E)
    assert urls.root_name_of(f"{E}/zgw-apis-provider/drc/api/v1/enkelvoudiginformatieobjecten") == "documenten"
    assert urls.root_name_of(f"{E}/zgw-apis-provider/drc/api/v1/%2e%2e/ztc/api/v1") is None
    assert urls.root_name_of(f"{E}/elders") is None


@pytest.mark.parametrize(
    "segment, name",
    [
        ("contactmomenten", "contactmomenten"),
        ("Contactmomenten", "contactmomenten"),
        ("contactmomenten;x", "contactmomenten"),
        ("contactmomenten%3Bx", "contactmomenten"),
        ("contactmomenten.json", "contactmomenten"),
        ("contactmomenten%20", "contactmomenten"),
        ("contact%256Domenten", "contactmomenten"),
        ("%E2%84%AAlanten", "klanten"),
        ("contactmomenten%3F", "contactmomenten"),
        ("contactmomenten%23x", "contactmomenten"),
        ("%20contactmomenten", "contactmomenten"),
        ("medewerkers", "medewerkers"),
    ],
)
def test_SEC16_collection_name(segment, name):
    assert collection_name(segment) == name


PREFIX = f"{E}/contactmomenten-api-provider/api/v1/objectcontactmomenten"


@pytest.mark.parametrize(
    "link",
    [
        PREFIX + "/%2e%2e/%2e%2e/x?page=2",
        PREFIX + "/.%2e/x?page=2",
        PREFIX + "/x%2F..%2Fy?page=2",
        PREFIX + "/..;/x?page=2",
        PREFIX + "//x?page=2",
    ],
)
def test_SEC15_next_link_with_a_detour_is_upstream_invalid_url(link):
    with pytest.raises(Problem) as refused:
        contactmoment_lists.check_next_link(link, PREFIX, pages_read=1)
    assert (refused.value.status, refused.value.code) == (502, "upstream-invalid-url")


@pytest.mark.parametrize("pairs", [[("type", "a"), ("type", "a")], [("type", "a"), ("page", "2"), ("type", "b")]])
def test_S_a_repeated_type_is_refused_naming_type(pairs):
    with pytest.raises(Problem) as refused:
        refuse_repeated_type(pairs)
    assert (refused.value.status, refused.value.code) == (400, "invalid")
    assert [p.name for p in refused.value.invalid_params] == ["type"]


def test_S_one_type_passes():
    assert refuse_repeated_type([("type", "a"), ("page", "2"), ("typeVersion", "1")]) is None
