import pytest

from adapter.cli import main
from adapter.config import EgressProxies, InvalidConfiguration, ProxyServer, load_settings
from tests.conftest import fixture_env


def test_fixture_configuration_is_valid_and_typed():
    result = load_settings(fixture_env())
    assert result.errors == ()
    settings = result.settings
    assert settings.esuite_base_url == "https://esuite.example.org"
    assert settings.contactverzoek_types == ("Terugbelverzoek", "Contactverzoek")
    assert [c.id for c in settings.clients] == ["kiss"]
    assert settings.smoelenboek.base_url == "https://objecten.example.org"
    assert settings.esuite_timeout_seconds == 5.0


def test_names_are_case_insensitive_and_indexes_ordered_numerically_with_gaps():
    env = fixture_env(CONTACTVERZOEK_TYPES__0="", CONTACTVERZOEK_TYPES__1="")
    env.pop("CONTACTVERZOEK_TYPES__0", None)
    env["contactverzoek_types__10"] = "Later"
    env["CONTACTVERZOEK_TYPES__2"] = "Eerst"
    settings = load_settings(env).settings
    assert settings.contactverzoek_types == ("Eerst", "Later")


def test_every_problem_is_listed_at_once():
    env = fixture_env(
        ESUITE_CLIENT_SECRET="twenty-characters-xx",
        CLIENTS__1__ID="second",
        ADAPTER_BASE_URL="https://adapter.example.org/kiss",
        ESUITE_BASE_URL="ftp://esuite.example.org",
        SMOELENBOEK_TOKEN="",
        ESUITE_TIMEOUT_SECONDS="0",
        ESUITE_MAX_CONNECTIONS="many",
    )
    result = load_settings(env)
    assert result.settings is None
    assert [str(f) for f in result.errors] == [
        "ERROR ESUITE_BASE_URL: must be an absolute http or https URL",
        "ERROR ESUITE_CLIENT_SECRET: must be at least 32 characters (has 20)",
        "ERROR CLIENTS__1__SECRET: missing for CLIENTS__1__ID",
        "ERROR SMOELENBOEK_TOKEN: SMOELENBOEK_* must be set all three or none (missing: SMOELENBOEK_TOKEN)",
        "ERROR ADAPTER_BASE_URL: must be an origin without a path (scheme://host[:port])",
        "ERROR ESUITE_TIMEOUT_SECONDS: must be from 1 to 300",
        "ERROR ESUITE_MAX_CONNECTIONS: must be an integer from 1 to 10000",
    ]
    assert result.report().endswith("configuration invalid: 7 error(s)")


def test_secrets_are_never_printed_only_their_length():
    result = load_settings(fixture_env(CLIENTS__0__SECRET="geheim-kort"))
    assert "geheim" not in result.report()
    assert "(has 11)" in result.report()


def test_warnings_for_unset_base_url_duplicates_and_obsolete_variables():
    env = fixture_env(ADAPTER_BASE_URL="", CONTACTVERZOEK_TYPES__1="Terugbelverzoek", GROEPEN_TOKEN="x")
    result = load_settings(env)
    assert result.settings is not None
    assert [f.variable for f in result.findings] == [
        "CONTACTVERZOEK_TYPES__1",
        "ADAPTER_BASE_URL",
        "GROEPEN_TOKEN",
    ]
    assert all(f.level == "WARNING" for f in result.findings)


# Egress proxy (operations.md §2, "Egress proxy"): the variables as .NET's HttpClient reads them.
# base64("user:geheim") == "dXNlcjpnZWhlaW0="
USER_GEHEIM = b"Basic dXNlcjpnZWhlaW0="


def test_proxy_variables_are_read_as_dotnet_reads_them_lower_case_first_and_never_printed():
    env = fixture_env(https_proxy="http://user:geheim@proxy.example.org:3128", HTTPS_PROXY="http://other:8080")
    result = load_settings(env)
    assert result.findings == ()
    proxies = result.settings.egress_proxies
    assert proxies == EgressProxies(http=None, https=ProxyServer("proxy.example.org", 3128, USER_GEHEIM))
    assert proxies.https.authorization == USER_GEHEIM  # attrs equality leaves repr=False fields in
    assert "geheim" not in repr(result.settings) and "dXNlcjpnZWhlaW0" not in repr(result.settings)
    assert "proxy.example.org" not in repr(result.settings)


def test_all_proxy_serves_both_schemes_unless_their_own_variable_is_set():
    only_all = load_settings(fixture_env(ALL_PROXY="proxy.example.org:3128")).settings.egress_proxies
    assert only_all.http == only_all.https == ProxyServer("proxy.example.org", 3128)
    mixed = load_settings(fixture_env(ALL_PROXY="http://all:3128", HTTP_PROXY="http://plain")).settings.egress_proxies
    assert mixed.http == ProxyServer("plain", 80)  # no port: 80, as .NET
    assert mixed.https == ProxyServer("all", 3128)
    assert load_settings(fixture_env()).settings.egress_proxies is None


def test_a_password_in_a_proxy_url_is_percent_decoded_before_it_is_encoded():
    proxies = load_settings(fixture_env(HTTPS_PROXY="http://kcc%40gemeente:p%3Ass@proxy:3128")).settings.egress_proxies
    # base64("kcc@gemeente:p:ss") == "a2NjQGdlbWVlbnRlOnA6c3M="
    assert proxies.https.authorization == b"Basic a2NjQGdlbWVlbnRlOnA6c3M="


@pytest.mark.parametrize(
    ("value", "server"),
    [
        # .NET splits the credentials off at the last '@', so a raw password may hold '@#/?'.
        ("http://kcc:p@ss#1/?x@proxy_1:3128", ProxyServer("proxy_1", 3128, b"Basic a2NjOnBAc3MjMS8/eA==")),
        # an escape that is no UTF-8 is not decoded (.NET: "the original string if it fails")
        ("user:caf%E9@proxy", ProxyServer("proxy", 80, b"Basic dXNlcjpjYWYlRTk=")),
        (
            "HTTP://user@squid.proxy.svc.cluster.local.:3128/",
            ProxyServer("squid.proxy.svc.cluster.local.", 3128, b"Basic dXNlcjo="),
        ),
        ("http://[fd00::5]:3128", ProxyServer("fd00::5", 3128)),
        ("[fd00::5]", ProxyServer("fd00::5", 80)),
        ("http://@proxy:8080", ProxyServer("proxy", 8080)),  # nothing before the '@': no credentials
        ("proxy:000080", ProxyServer("proxy", 80)),  # .NET's ushort.TryParse takes leading zeros
        ("http://[fe80::1%eth0]:3128", ProxyServer("fe80::1%eth0", 3128)),
        # a password byte that is no UTF-8 (os.environ holds it as a lone surrogate): sent as set
        ("http://kcc:geheim\udce9@proxy:3128", ProxyServer("proxy", 3128, b"Basic a2NjOmdlaGVpbek=")),
    ],
)
def test_proxy_urls_are_split_as_dotnet_splits_them(value, server):
    result = load_settings(fixture_env(HTTPS_PROXY=value))
    assert result.findings == ()
    assert result.settings.egress_proxies.https == server
    assert result.settings.egress_proxies.https.authorization == server.authorization


@pytest.mark.parametrize("value", ["http://user:geheim@proxy:3128/pad", "http://user:geheim@proxy:3128?x=1"])
def test_what_follows_the_port_is_ignored_as_in_dotnet_with_a_warning(value):
    result = load_settings(fixture_env(HTTPS_PROXY=value))
    assert [str(f) for f in result.findings] == ["WARNING HTTPS_PROXY: what follows the port is ignored, as in .NET"]
    assert result.settings.egress_proxies.https == ProxyServer("proxy", 3128, USER_GEHEIM)


PROXY_FORM = "must be a proxy URL, http://[user:password@]host[:port]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://user:geheim@proxy:3128", "must be an http:// proxy (https:// and SOCKS proxies are not supported)"),
        ("socks5://user:geheim@proxy:1080", "must be an http:// proxy (https:// and SOCKS proxies are not supported)"),
        ("http://user:geheim@proxy:99999", f"{PROXY_FORM}, with a port from 1 to 65535"),
        ("http://user:geheim@proxy:0", f"{PROXY_FORM}, with a port from 1 to 65535"),
        ("http://user:geheim@proxy:", f"{PROXY_FORM}, with a port from 1 to 65535"),
        ("http://user:geheim@pro xy:3128", f"{PROXY_FORM}; the host is not a valid name or address"),
        ("http://user:geheim@proxy/pad", f"{PROXY_FORM}; the host is not a valid name or address"),
        ("http://user:geheim@[proxy]:3128", f"{PROXY_FORM}; the host is not a valid name or address"),
        ("http://user:geheim@", f"{PROXY_FORM}; the host is not a valid name or address"),
        ("http://user:geheim@\u212aelvin:3128", f"{PROXY_FORM}; the host is not a valid name or address"),
        ("http://user:geheim@proxy:" + "9" * 5000, f"{PROXY_FORM}, with a port from 1 to 65535"),
        # DNS's bounds: Python's resolver would refuse these with a UnicodeError at every call
        ("http://user:geheim@" + "a" * 64 + ".svc:3128", f"{PROXY_FORM}; the host is not a valid name or address"),
        (
            "http://user:geheim@" + ".".join(["a" * 50] * 5) + ":3128",
            f"{PROXY_FORM}; the host is not a valid name or address",
        ),
        # an IPv6 zone is an interface name, never free text for the messages that name the proxy
        ("http://user:geheim@[fe80::1%\r\nX-Evil: 1]:3128", f"{PROXY_FORM}; the host is not a valid name or address"),
        (
            "http://user:geheim@[fe80::1%" + "e" * 16 + "]:3128",
            f"{PROXY_FORM}; the host is not a valid name or address",
        ),
    ],
)
def test_an_unusable_proxy_url_is_an_error_that_never_repeats_it(value, message):
    result = load_settings(fixture_env(HTTPS_PROXY=value))
    assert result.settings is None
    assert [str(f) for f in result.errors] == [f"ERROR HTTPS_PROXY: {message}"]
    assert "geheim" not in result.report()


def test_an_unusable_lower_case_spelling_gives_way_to_a_usable_upper_case_one_as_in_dotnet():
    result = load_settings(fixture_env(https_proxy="http://user:geheim@proxy:0", HTTPS_PROXY="http://other:8080"))
    assert [str(f) for f in result.findings] == [
        f"WARNING https_proxy: {PROXY_FORM}, with a port from 1 to 65535; ignored, HTTPS_PROXY is used instead (as in .NET)"
    ]
    assert result.settings.egress_proxies.https == ProxyServer("other", 8080)
    both_unusable = load_settings(fixture_env(https_proxy="socks5://proxy:1080", HTTPS_PROXY="http://pro xy"))
    assert [str(f) for f in both_unusable.errors] == [
        "ERROR https_proxy: must be an http:// proxy (https:// and SOCKS proxies are not supported)",
        f"ERROR HTTPS_PROXY: {PROXY_FORM}; the host is not a valid name or address",
    ]


def test_an_unusable_scheme_variable_gives_way_to_a_usable_all_proxy_as_in_dotnet():
    result = load_settings(fixture_env(HTTP_PROXY="http://user:geheim@proxy:0", ALL_PROXY="http://all:3128"))
    assert [str(f) for f in result.findings] == [
        f"WARNING HTTP_PROXY: {PROXY_FORM}, with a port from 1 to 65535; ignored, ALL_PROXY is used instead (as in .NET)"
    ]
    assert result.settings.egress_proxies.http == result.settings.egress_proxies.https == ProxyServer("all", 3128)
    not_needed = load_settings(
        fixture_env(HTTP_PROXY="http://plain:3128", HTTPS_PROXY="http://tls:3128", ALL_PROXY="socks5://all:1080")
    )
    assert [str(f) for f in not_needed.findings] == [
        "WARNING ALL_PROXY: must be an http:// proxy (https:// and SOCKS proxies are not supported); "
        "ignored, not needed, both schemes have their own"
    ]
    needed = load_settings(fixture_env(HTTP_PROXY="http://plain:3128", ALL_PROXY="socks5://all:1080"))
    assert [str(f) for f in needed.errors] == [
        "ERROR ALL_PROXY: must be an http:// proxy (https:// and SOCKS proxies are not supported)"
    ]


def test_under_cgi_upper_case_http_proxy_is_skipped_as_dotnet_skips_it_httpoxy():
    result = load_settings(fixture_env(GATEWAY_INTERFACE="CGI/1.1", HTTP_PROXY="http://attacker:3128"))
    assert [str(f) for f in result.findings] == [
        "WARNING HTTP_PROXY: ignored because GATEWAY_INTERFACE is set (httpoxy), as in .NET; use http_proxy"
    ]
    assert result.settings.egress_proxies is None
    lower = load_settings(fixture_env(GATEWAY_INTERFACE="CGI/1.1", http_proxy="http://proxy:3128"))
    assert lower.findings == ()
    assert lower.settings.egress_proxies.http == ProxyServer("proxy", 3128)


def test_no_proxy_in_lower_case_wins_even_when_empty_as_in_dotnet():
    env = {**fixture_env(HTTPS_PROXY="http://proxy:3128", NO_PROXY=".svc"), "no_proxy": ""}  # set, empty
    assert load_settings(env).settings.egress_proxies.no_proxy == ()
    upper = load_settings(fixture_env(HTTPS_PROXY="http://proxy:3128", NO_PROXY=".svc"))
    assert upper.settings.egress_proxies.no_proxy == (".svc",)


def test_no_proxy_entries_with_a_port_a_range_or_a_star_are_warnings_as_they_match_nothing():
    env = fixture_env(
        HTTPS_PROXY="http://proxy:3128", NO_PROXY=" .svc, 10.0.0.0/8 ,esuite.local:8443,[::1],,*.gemeente.nl,*"
    )
    result = load_settings(env)
    assert [str(f) for f in result.findings] == [
        "WARNING NO_PROXY: '10.0.0.0/8' has a port or an address range; it matches no host (as in .NET)",
        "WARNING NO_PROXY: 'esuite.local:8443' has a port or an address range; it matches no host (as in .NET)",
        "WARNING NO_PROXY: '*.gemeente.nl' holds a '*', which is no wildcard; it matches no host (as in .NET)",
        "WARNING NO_PROXY: '*' holds a '*', which is no wildcard; it matches no host (as in .NET)",
    ]
    assert result.settings.egress_proxies.no_proxy == (
        ".svc",
        "10.0.0.0/8",
        "esuite.local:8443",
        "::1",
        "*.gemeente.nl",
        "*",
    )


PROXY = ProxyServer("proxy", 3128)


@pytest.mark.parametrize(
    ("entries", "host", "direct"),
    [
        ((".example.org",), "example.org", True),
        ((".example.org",), "esuite.example.org", True),
        ((".example.org",), "badexample.org", False),
        (("esuite.local",), "esuite.local", True),
        (("esuite.local",), "api.esuite.local", False),  # .NET: without the dot, the host alone
        (("esuite.local",), "ESUITE.Local", True),
        (("*",), "anything.example", False),  # .NET: no wildcard (dotnet/runtime#61840)
        (("*.example.org",), "esuite.example.org", False),
        (("::1",), "::1", True),
        (("10.0.0.0/8",), "10.1.2.3", False),
        ((), "esuite.example.org", False),
    ],
)
def test_no_proxy_matches_as_dotnet_does(entries, host, direct):
    proxies = EgressProxies(http=PROXY, https=PROXY, no_proxy=entries)
    assert proxies.for_origin("https", host) == (None if direct else PROXY)


def test_each_scheme_takes_its_own_proxy_and_none_is_direct():
    proxies = EgressProxies(http=None, https=PROXY)
    assert proxies.for_origin("https", "esuite.example.org") == PROXY
    assert proxies.for_origin("http", "esuite.example.org") is None


def test_base_urls_lose_their_trailing_slash_and_keep_a_path_prefix():
    settings = load_settings(
        fixture_env(
            ESUITE_BASE_URL="https://gateway.example.org/esuite/", ADAPTER_BASE_URL="http://podiumd-adapter:8080/"
        )
    ).settings
    assert settings.esuite_base_url == "https://gateway.example.org/esuite"
    assert settings.adapter_base_url == "http://podiumd-adapter:8080"


def test_duplicate_client_ids_and_short_objects_tokens_are_errors():
    env = fixture_env(CLIENTS__1__ID="kiss", CLIENTS__1__SECRET="s" * 40, OBJECTS_TOKENS__3="short")
    assert [f.variable for f in load_settings(env).errors] == ["CLIENTS__1__ID", "OBJECTS_TOKENS__3"]


def test_check_config_exits_2_and_lists_findings(capsys):
    assert main(["check-config"], environ={"ESUITE_BASE_URL": "https://e.example.org"}) == 2
    out = capsys.readouterr().out
    assert "ERROR ESUITE_CLIENT_ID: required but not set" in out
    assert out.rstrip().endswith("error(s)")


def test_check_config_exits_0_when_valid(capsys):
    assert main(["check-config"], environ=fixture_env()) == 0
    assert capsys.readouterr().out.strip() == "configuration valid"


def test_serve_refuses_invalid_configuration_with_exit_2(capsys):
    assert main(["serve", "--port", "0"], environ={}) == 2
    assert "configuration invalid" in capsys.readouterr().err


def test_token_command_prints_a_verifiable_jwt(capsys):
    import jwt

    secret = "t" * 32
    assert main(["token", "--client-id", "kiss", "--secret", secret, "--user-id", "jjansen", "--ttl", "60"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), secret, algorithms=["HS256"])
    assert claims["iss"] == claims["client_id"] == "kiss"
    assert claims["user_id"] == "jjansen"
    assert claims["exp"] - claims["iat"] == 120
    assert claims["nbf"] == claims["iat"]


# --- issue 14: shutdown grace from the budget, e-Suite public origins, store bounds -------------


def test_the_shutdown_grace_is_derived_from_the_budget_plus_five_seconds():
    assert load_settings(fixture_env(ESUITE_TIMEOUT_SECONDS="30")).settings.shutdown_grace_seconds == 35
    assert load_settings(fixture_env(ESUITE_TIMEOUT_SECONDS="12.5")).settings.shutdown_grace_seconds == 18


def test_a_grace_shorter_than_the_budget_plus_margin_is_a_warning_and_an_override():
    result = load_settings(fixture_env(ESUITE_TIMEOUT_SECONDS="30", SHUTDOWN_GRACE_SECONDS="25"))
    assert result.settings.shutdown_grace_seconds == 25
    assert [str(f) for f in result.findings if f.variable == "SHUTDOWN_GRACE_SECONDS"] == [
        "WARNING SHUTDOWN_GRACE_SECONDS: shorter than ESUITE_TIMEOUT_SECONDS + 5 s (35): a create in flight at "
        "shutdown may be cut short; it is then answered 503 and recorded as uncertain"
    ]
    longer = load_settings(fixture_env(ESUITE_TIMEOUT_SECONDS="30", SHUTDOWN_GRACE_SECONDS="40"))
    assert longer.settings.shutdown_grace_seconds == 40
    assert [f for f in longer.findings if f.variable == "SHUTDOWN_GRACE_SECONDS"] == []


def test_esuite_public_origins_are_checked_urls_in_index_order():
    result = load_settings(
        fixture_env(
            ESUITE_PUBLIC_ORIGINS__1="https://gateway.example.net/", ESUITE_PUBLIC_ORIGINS__0="http://localhost:8081"
        )
    )
    assert result.settings.esuite_public_origins == ("http://localhost:8081", "https://gateway.example.net")
    bad = load_settings(
        fixture_env(
            ESUITE_PUBLIC_ORIGINS__0="gateway.example.net", ESUITE_PUBLIC_ORIGINS__1="https://u:p@gateway.example.net"
        )
    )
    assert [str(f) for f in bad.errors] == [
        "ERROR ESUITE_PUBLIC_ORIGINS__0: must be an absolute http or https URL",
        "ERROR ESUITE_PUBLIC_ORIGINS__1: must not contain user information (user:password@); use the token variables",
    ]


def test_duplicate_store_bounds_have_defaults_and_ranges():
    settings = load_settings(fixture_env()).settings
    assert (settings.idempotency_max_entries, settings.idempotency_max_bytes) == (20_000, 134_217_728)
    chosen = load_settings(fixture_env(IDEMPOTENCY_MAX_ENTRIES="500", IDEMPOTENCY_MAX_MIB="2")).settings
    assert (chosen.idempotency_max_entries, chosen.idempotency_max_bytes) == (500, 2_097_152)
    bad = load_settings(fixture_env(IDEMPOTENCY_MAX_ENTRIES="0", IDEMPOTENCY_MAX_MIB="0.5"))
    assert [str(f) for f in bad.errors] == [
        "ERROR IDEMPOTENCY_MAX_ENTRIES: must be from 100 to 100000",
        "ERROR IDEMPOTENCY_MAX_MIB: must be an integer from 1 to 4096",
    ]


def test_valid_settings_are_the_settings_of_a_configuration_without_errors():
    result = load_settings(fixture_env())
    assert result.valid_settings is result.settings
    assert result.valid_settings.esuite_base_url == "https://esuite.example.org"


def test_valid_settings_of_an_invalid_configuration_raise_with_the_report_and_no_secret():
    result = load_settings(fixture_env(ESUITE_CLIENT_SECRET="geheim-te-kort"))
    with pytest.raises(InvalidConfiguration) as raised:
        _ = result.valid_settings
    assert str(raised.value) == result.report()
    assert "ERROR ESUITE_CLIENT_SECRET: must be at least 32 characters (has 14)" in str(raised.value)
    assert "geheim" not in str(raised.value)


def test_smoelenboek_set_in_part_names_every_missing_variable_in_order():
    result = load_settings(fixture_env(SMOELENBOEK_OBJECT_TYPE_URL="", SMOELENBOEK_TOKEN=""))
    assert result.settings is None
    assert [str(f) for f in result.errors] == [
        "ERROR SMOELENBOEK_OBJECT_TYPE_URL: SMOELENBOEK_* must be set all three or none (missing: SMOELENBOEK_OBJECT_TYPE_URL)",
        "ERROR SMOELENBOEK_TOKEN: SMOELENBOEK_* must be set all three or none (missing: SMOELENBOEK_TOKEN)",
    ]


def test_no_smoelenboek_variables_mean_no_smoelenboek_and_no_finding():
    result = load_settings(fixture_env(SMOELENBOEK_OBJECT_TYPE_URL="", SMOELENBOEK_BASE_URL="", SMOELENBOEK_TOKEN=""))
    assert result.valid_settings.smoelenboek is None
    assert not [f for f in result.findings if f.variable.startswith("SMOELENBOEK")]
