"""SEC-14 … SEC-16 as pure functions: the path rules, "under this root", collection spellings."""

import pytest

from adapter.esuite_client.urls import UrlMap
from adapter.kiss_api.routing import collection_name
from adapter.mapping import contactmoment_lists
from adapter.mapping.paths import is_under_root, path_fault
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
    "path, fault",
    [
        # Tomcat cuts `;x` from every segment: `/;x/klanten` is `//klanten`, which Spring
        # collapses to `/klanten` (a mapped collection by a detour).
        ("/;x/klanten", "empty-segment"),
        ("/;/klanten", "empty-segment"),
        ("/klanten/;x", "empty-segment"),
        ("/%3Bx/klanten", "empty-segment"),
        # Windows-style servers trim trailing dots and blanks: `...`, `.. ` are `..` there.
        ("/a/.../b", "dot-segment"),
        ("/a/..%20/b", "dot-segment"),
        ("/a/..%09", "control-character"),
        ("/a/%20../b", "dot-segment"),
        # NFKC (and Windows best fit) make a full-width dot or solidus an ASCII one.
        ("/a/%EF%BC%8E%EF%BC%8E/b", "dot-segment"),
        ("/a/\uff0e\uff0e/b", "dot-segment"),
        ("/a/\u2025/b", "dot-segment"),
        ("/a%EF%BC%8Fb", "encoded-separator"),
        ("/a/%EF%BC%8F/b", "encoded-separator"),
        ("/a%EF%BC%BCb", "encoded-separator"),
        # IIS's `%u` escapes: `%u002e` is a `.` to it.
        ("/a/%u002e%u002e/b", "invalid-escape"),
        ("/a/%U002E/b", "invalid-escape"),
        ("/a/%25u002e/b", "invalid-escape"),
        # A decoded CR/LF, TAB or DEL would split or bend a request line behind a decoding proxy.
        ("/a%0d%0aX-Injected:%201", "control-character"),
        ("/a%7f", "control-character"),
        ("/a\x1b", "control-character"),
    ],
)
def test_SEC14_faults_other_servers_read_as_detours(path, fault):
    assert path_fault(path) == fault


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "/a",
        "/a/",
        "/a/b/",
        "/a/.b",
        "/a/..b",
        "/a/b..",
        "/a/b.",
        "/a/x%20y",
        "/a/%25",
        "/a/%zz",
        "/a;b",
        "/a/b.json",
        "/%C3%A9",
        "/a;x/b",
        "/a/b;x",
        "/%EF%BC%A1",
    ],
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
        (KLANTEN + "?page=2\r\nX-Injected: 1", False),  # a control character anywhere
        (KLANTEN + "#\x00", False),
        (KLANTEN + "?page=2&x=a%20b", True),
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
        ("%EF%BD%8B%EF%BD%8C%EF%BD%81%EF%BD%8E%EF%BD%94%EF%BD%85%EF%BD%8E", "klanten"),  # full width
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
