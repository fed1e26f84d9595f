"""The URL map of a request on a compatibility root (urls.CompatUrlMap, issue 16 §5)."""

from adapter.esuite_client.urls import CompatUrlMap, UrlMap, compat_map

A = "https://adapter.example.org"
E = "https://esuite.example.org/base"


def test_emits_zaken_catalogi_documenten_under_the_compat_roots_and_others_as_usual():
    urls = compat_map(UrlMap(A, E))
    assert isinstance(urls, CompatUrlMap)
    assert urls.to_adapter(f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1") == f"{A}/zgw-apis-provider/zrc/api/v1/zaken/1"
    assert urls.to_adapter(f"{E}/zgw-apis-provider/ztc/api/v1") == f"{A}/zgw-apis-provider/ztc/api/v1"
    assert urls.to_adapter(f"{E}/zgw-apis-provider/drc/api/v1?x=1") == f"{A}/zgw-apis-provider/drc/api/v1?x=1"
    assert urls.to_adapter(f"{E}/klanten-api-provider/api/v1/klanten/2") == f"{A}/klanten/api/v1/klanten/2"
    assert (
        urls.to_adapter(f"{E}/contactmomenten-api-provider/api/v1/contactmomenten/3")
        == f"{A}/contactmomenten/api/v1/contactmomenten/3"
    )
    assert urls.to_adapter(f"{E}/zgw-apis-provider/zrcx") == f"{E}/zgw-apis-provider/zrcx"  # RW-3 boundary


def test_rendered_text_and_the_exact_walk_agree():
    urls = compat_map(UrlMap(A, E))
    value = {"zaak": f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1", "klant": f"{E}/klanten-api-provider/api/v1/klanten/2"}
    assert urls.rendered(value) == (
        b'{"zaak":"https://adapter.example.org/zgw-apis-provider/zrc/api/v1/zaken/1",'
        b'"klant":"https://adapter.example.org/klanten/api/v1/klanten/2"}'
    )
    escaped = {**value, "tekst": f'zie \\"{E}/zgw-apis-provider/zrc/api/v1/zaken/1\\"'}  # takes the walk
    assert urls.json_to_adapter(escaped)["zaak"] == f"{A}/zgw-apis-provider/zrc/api/v1/zaken/1"


def test_both_forms_are_read_in_requests_by_either_map():
    for urls in (UrlMap(A, E), compat_map(UrlMap(A, E))):
        assert (
            urls.to_esuite(f"{A}/zgw-apis-provider/zrc/api/v1/zaken/1") == f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1"
        )
        assert urls.to_esuite(f"{A}/zaken/api/v1/zaken/1") == f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1"
        assert urls.to_esuite(f"{A}/zgw-apis-provider/drc/api/v1") == f"{E}/zgw-apis-provider/drc/api/v1"
        assert urls.to_esuite(f"{A}/zgw-apis-provider/brc/api/v1") == f"{A}/zgw-apis-provider/brc/api/v1"


def test_request_origins_are_kept_and_the_map_is_built_once_per_origin():
    request_map = UrlMap(A, E).for_request("http://adapter.internal:8080", configured=True)
    urls = compat_map(request_map)
    assert urls.request_origins == ("http://adapter.internal:8080",)
    assert (
        urls.to_esuite("http://adapter.internal:8080/zgw-apis-provider/ztc/api/v1/x")
        == f"{E}/zgw-apis-provider/ztc/api/v1/x"
    )
    assert compat_map(UrlMap(A, E).for_request("http://adapter.internal:8080", configured=True)) is urls
    assert compat_map(urls) is urls
