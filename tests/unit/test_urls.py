from adapter.esuite_client.urls import UrlMap

A = "https://kiss-adapter.example.org"
E = "https://gateway.example.org/esuite"
urls = UrlMap(A, E)


def test_RW1_every_root_pair_both_ways_with_a_base_path_prefix():
    pairs = [
        ("/contactmomenten/api/v1", "/contactmomenten-api-provider/api/v1"),
        ("/klanten/api/v1", "/klanten-api-provider/api/v1"),
        ("/zaken/api/v1", "/zgw-apis-provider/zrc/api/v1"),
        ("/catalogi/api/v1", "/zgw-apis-provider/ztc/api/v1"),
        ("/documenten/api/v1", "/zgw-apis-provider/drc/api/v1"),
    ]
    for adapter_root, esuite_root in pairs:
        assert urls.to_esuite(f"{A}{adapter_root}/x/1") == f"{E}{esuite_root}/x/1"
        assert urls.to_adapter(f"{E}{esuite_root}/x/1") == f"{A}{adapter_root}/x/1"


def test_RW3_root_matches_exactly_or_before_slash_query_or_fragment():
    root = f"{E}/klanten-api-provider/api/v1"
    assert urls.to_adapter(root) == f"{A}/klanten/api/v1"
    assert urls.to_adapter(root + "?page=2") == f"{A}/klanten/api/v1?page=2"
    assert urls.to_adapter(root + "#x") == f"{A}/klanten/api/v1#x"
    assert urls.to_adapter(f"{E}/klanten-api-provider/api/v10/x") == f"{E}/klanten-api-provider/api/v10/x"
    assert urls.to_adapter(root.upper()) == root.upper()


def test_RW11_urls_outside_the_roots_are_left_alone():
    for value in ("https://www.example.org/x", f"{E}/other", "", "geen url", f"{A}/klanten/api/v1/k"):
        assert urls.to_adapter(value) == value


def test_RW2_request_origin_is_recognised_inbound_but_only_the_configured_base_is_emitted():
    per_request = urls.for_request("http://podiumd-adapter:8080", configured=True)
    assert (
        per_request.to_esuite("http://podiumd-adapter:8080/zaken/api/v1/zaken/1")
        == f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1"
    )
    assert per_request.to_esuite(f"{A}/zaken/api/v1/zaken/1") == f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1"
    assert per_request.to_adapter(f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1") == f"{A}/zaken/api/v1/zaken/1"


def test_RW2_without_a_configured_base_the_request_origin_is_emitted():
    per_request = urls.for_request("http://localhost:8080", configured=False)
    assert (
        per_request.to_adapter(f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1")
        == "http://localhost:8080/zaken/api/v1/zaken/1"
    )


def test_RW4_json_strings_at_any_depth_keys_untouched_order_kept():
    body = {
        f"{E}/klanten-api-provider/api/v1": 1,
        "results": [{"url": f"{E}/contactmomenten-api-provider/api/v1/contactmomenten/1", "n": 3}, f"{E}/x"],
        "nested": {"deep": [[f"{E}/zgw-apis-provider/drc/api/v1/d"]]},
        "none": None,
    }
    assert urls.json_to_adapter(body) == {
        f"{E}/klanten-api-provider/api/v1": 1,
        "results": [{"url": f"{A}/contactmomenten/api/v1/contactmomenten/1", "n": 3}, f"{E}/x"],
        "nested": {"deep": [[f"{A}/documenten/api/v1/d"]]},
        "none": None,
    }
    assert list(urls.json_to_adapter(body)) == list(body)


def test_SEC3_only_urls_under_the_five_roots_are_esuite_urls():
    assert urls.root_name_of(f"{E}/contactmomenten-api-provider/api/v1/contactmomenten") == "contactmomenten"
    assert urls.root_name_of(f"{E}/elders") is None
    assert urls.root_name_of("https://evil.example.org/contactmomenten-api-provider/api/v1") is None
    assert urls.root_name_of(f"{E}/contactmomenten-api-provider/api/v1.evil.example.org/x") is None


def test_RW4_the_fast_text_rewrite_equals_the_exact_walk():
    from adapter.esuite_client.urls import _walk

    samples = [
        {"url": f"{E}/contactmomenten-api-provider/api/v1/contactmomenten/1", "n": 1, "f": 1.5, "b": True, "z": None},
        [
            f"{E}/klanten-api-provider/api/v1",
            f"{E}/klanten-api-provider/api/v1?x=1",
            f"{E}/klanten-api-provider/api/v1#f",
        ],
        {f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1": f"{E}/zgw-apis-provider/zrc/api/v1/zaken/1"},  # keys stay
        {"deep": [[{"x": [f"{E}/zgw-apis-provider/drc/api/v1/d/download?a=b&c=%20d"]}]]},
        {
            "v10": f"{E}/klanten-api-provider/api/v10/x",
            "other": "https://elders.example.org/klanten-api-provider/api/v1",
        },
        {"text": f"zie {E}/klanten-api-provider/api/v1/k/1", "naam": "Jansen-Ünal ✓"},
        {"escaped": f'{E}/klanten-api-provider/api/v1/k/"1"', "ctrl": "a\nb"},
        {"tekst": "a\\b", "url": f"{E}/klanten-api-provider/api/v1/k/1"},
        {
            "url": f"{E}/klanten-api-provider/api/v1/k/1\nregel 2",
            "q": f'"{E}/klanten-api-provider/api/v1/k/2" stond er',
        },
        {"tekst": f'zij zei "{E}/klanten-api-provider/api/v1/k/1"', "url": f"{E}/klanten-api-provider/api/v1/k/1"},
        [],
        {},
    ]
    for sample in samples:
        fast = urls.json_to_adapter(sample)
        assert fast == _walk(sample, urls.to_adapter)
        assert (
            list(map(type, fast)) == list(map(type, sample)) if isinstance(sample, list) else list(fast) == list(sample)
        )


def test_RW11_provider_paths_under_another_origin_are_found_whatever_else_the_text_holds():
    from adapter.esuite_client.urls import foreign_provider_origins

    own = f'{{"url":"{E}/contactmomenten-api-provider/api/v1/contactmomenten/1","k":"{E}/klanten-api-provider/api/v1/k/1"}}'
    assert foreign_provider_origins(own.encode(), E) == set()
    chatty = own[:-1] + ',"toelichting":"zie de cloud-provider/ pagina"}'
    assert foreign_provider_origins(chatty.encode(), E) == set()
    foreign = own[:-1] + ',"z":"https://esuite.intern:8443/zgw-apis-provider/zrc/api/v1/zaken/1"}'
    assert foreign_provider_origins(foreign.encode(), E) == {"https://esuite.intern:8443"}
    nested = (
        own[:-1]
        + f',"l":"{E}/contactmomenten-api-provider/api/v1/objectcontactmomenten?object={E}/zgw-apis-provider/zrc/api/v1/zaken/4"}}'
    )
    assert foreign_provider_origins(nested.encode(), E) == set()
    gateway = (
        own[:-1] + ',"z":"https://gw.example.org/esuite/zgw-apis-provider/zrc/api/v1/zaken/1?x=/klanten-api-provider/"}'
    )
    assert foreign_provider_origins(gateway.encode(), E) == {"https://gw.example.org/esuite"}


# --- issue 14: e-Suite URLs printed under another base ------------------------------------------

from adapter.esuite_client.urls import rebased_provider_urls  # noqa: E402

E_BASE = "http://127.0.0.1:8081/esuite"
CONTACT = "/contactmomenten-api-provider/api/v1/contactmomenten/09cc50ce-82b6-48ce-bd85-2a3d5b682439"


def test_without_configured_origins_any_base_in_front_of_a_provider_root_is_moved_to_esuite_base():
    answer = {
        "url": "http://localhost:8081/esuite" + CONTACT,
        "klant": "https://gateway.example.net/klanten-api-provider/api/v1/klanten/k1?x=1",
        "tekst": "zie https://example.org/elders",
        "nested": [{"zaak": "https://gw.example.net/zgw-apis-provider/zrc/api/v1/zaken/z1"}],
    }
    rebased, seen = rebased_provider_urls(answer, E_BASE, ())
    assert rebased == {
        "url": E_BASE + CONTACT,
        "klant": E_BASE + "/klanten-api-provider/api/v1/klanten/k1?x=1",
        "tekst": "zie https://example.org/elders",
        "nested": [{"zaak": E_BASE + "/zgw-apis-provider/zrc/api/v1/zaken/z1"}],
    }
    assert seen == {"http://localhost:8081/esuite", "https://gateway.example.net", "https://gw.example.net"}


def test_with_configured_origins_only_those_are_moved():
    answer = {"a": "https://gateway.example.net" + CONTACT, "b": "https://evil.example.net" + CONTACT}
    rebased, seen = rebased_provider_urls(answer, E_BASE, ("https://gateway.example.net",))
    assert rebased == {"a": E_BASE + CONTACT, "b": "https://evil.example.net" + CONTACT}
    assert seen == {"https://gateway.example.net"}


def test_urls_under_esuite_base_and_lookalike_roots_are_left_alone():
    answer = {
        "own": E_BASE + CONTACT,
        "lookalike": "https://gateway.example.net/contactmomenten-api-provider/api/v10/contactmomenten/x",
        "key-https://gateway.example.net" + CONTACT: 1,
    }
    rebased, seen = rebased_provider_urls(answer, E_BASE, ())
    assert rebased == answer
    assert seen == set()
