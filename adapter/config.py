"""Configuration from the environment, validated once at start-up (operations.md §2).

Variable names are podiumd-adapter's, matched case-insensitively, so existing deployments
switch without renaming anything. Every problem is collected; nothing fails lazily later.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import math
import os
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import attrs

MIN_SECRET_LENGTH = 32

OBSOLETE_VARIABLES = (
    "AFDELINGEN_BASE_URL",
    "AFDELINGEN_TOKEN",
    "AFDELINGEN_OBJECT_TYPE_URL",
    "GROEPEN_BASE_URL",
    "GROEPEN_TOKEN",
    "GROEPEN_OBJECT_TYPE_URL",
)
DEFAULT_CA_CERTIFICATES_DIR = "/etc/ssl/certs"
OTLP_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
OTLP_PROTOCOL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
)
_CLIENT_VAR = re.compile(r"^CLIENTS__(\d+)__(ID|SECRET)$")
_INDEXED_VAR = re.compile(r"^(CONTACTVERZOEK_TYPES|OBJECTS_TOKENS|ESUITE_PUBLIC_ORIGINS)__(\d+)$")


@attrs.frozen
class Client:
    id: str
    secret: str


@attrs.frozen
class ObjectsToken:
    index: int
    token: str = attrs.field(repr=False)


@attrs.frozen
class Smoelenboek:
    object_type_url: str
    base_url: str
    token: str


@attrs.frozen
class ProxyServer:
    """An HTTP proxy the outbound calls go through (operations.md §2, "Egress proxy")."""

    host: str
    port: int
    # `Basic …` from the URL's user:password; the URL itself is not kept (it holds the password).
    authorization: bytes | None = attrs.field(default=None, repr=False)


@attrs.frozen
class EgressProxies:
    """HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY as .NET's HttpClient reads them, so a
    podiumd-adapter deployment keeps its egress path (operations.md §2, "Egress proxy")."""

    http: ProxyServer | None
    https: ProxyServer | None
    no_proxy: tuple[str, ...] = ()  # lower case

    def for_origin(self, scheme: str, host: str) -> ProxyServer | None:
        """The proxy for a call to scheme://host, or None: connect directly."""
        proxy = self.https if scheme == "https" else self.http
        if proxy is None or _bypassed(host.lower(), self.no_proxy):
            return None
        return proxy


def _bypassed(host: str, no_proxy: tuple[str, ...]) -> bool:
    """.NET's rule: `.example.org` matches example.org and every name under it, any other entry
    only the host itself (`*` is no wildcard there, so none here: the egress path stays)."""
    host = host.strip("[]")  # an IPv6 literal as the URL gives it
    for entry in no_proxy:
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


KIB, MIB = 1024, 1024 * 1024


@attrs.frozen
class Limits:
    """Bounds on what a client or an upstream can make the adapter read (README "Security")."""

    request_head_bytes: int = 16 * KIB
    request_head_seconds: float = 10.0  # the whole head, from the connection or the first byte
    authorization_bytes: int = 8 * KIB
    passthrough_json_bytes: int = 64 * MIB  # kiss-front.md §3.2
    passthrough_json_values: int = 100_000
    answer_bytes: int = 8 * MIB  # decompressed
    answer_compressed_bytes: int = 8 * MIB  # as received (an identity answer counts against both)
    download_chunk_seconds: float = 30.0
    max_downloads: int = 50


@attrs.frozen
class Settings:
    esuite_base_url: str
    esuite_client_id: str
    esuite_client_secret: str = attrs.field(repr=False)
    clients: tuple[Client, ...] = attrs.field(repr=False)
    contactverzoek_types: tuple[str, ...]
    interne_taak_object_type_url: str
    smoelenboek: Smoelenboek | None = attrs.field(default=None, repr=False)
    adapter_base_url: str | None = None
    objects_tokens: tuple[ObjectsToken, ...] = attrs.field(default=(), repr=False)
    esuite_timeout_seconds: float = 30.0
    esuite_max_connections: int = 100
    log_level: str = "INFO"
    log_format: str = "json"
    idempotency_redis_url: str | None = attrs.field(default=None, repr=False)
    shutdown_grace_seconds: int = 35  # derived: ESUITE_TIMEOUT_SECONDS + SHUTDOWN_MARGIN_SECONDS
    ordered_list_max_pages: int = 10  # mapping.md C-5: e-Suite pages sorted per ordered list
    limits: Limits = attrs.field(factory=lambda: Limits())
    ca_certificates_dir: str | None = DEFAULT_CA_CERTIFICATES_DIR
    extra_ca_certs: str | None = None
    otel_enabled: bool = False
    esuite_public_origins: tuple[str, ...] = ()
    idempotency_max_entries: int = 20_000
    idempotency_max_bytes: int = 128 * 1024 * 1024
    egress_proxies: EgressProxies | None = attrs.field(default=None, repr=False)


@attrs.frozen
class Finding:
    level: str  # "ERROR" or "WARNING"
    variable: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.variable}: {self.message}"


class InvalidConfiguration(Exception):
    """Raised when settings are asked of a configuration with errors; the message is the
    report, which names variables and lengths but never repeats a secret."""


@attrs.frozen
class ConfigResult:
    settings: Settings | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "ERROR")

    @property
    def valid_settings(self) -> Settings:
        """The settings of a configuration without errors; callers check `errors` first."""
        if self.settings is None:
            raise InvalidConfiguration(self.report())
        return self.settings

    def report(self) -> str:
        lines = [str(f) for f in self.findings]
        errors = len(self.errors)
        lines.append(f"configuration invalid: {errors} error(s)" if errors else "configuration valid")
        return "\n".join(lines)


class _Reader:
    """Collects findings while reading variables; never prints a secret, only its length."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.env = {name.upper(): value for name, value in environ.items()}
        self.findings: list[Finding] = []

    def error(self, variable: str, message: str) -> None:
        self.findings.append(Finding("ERROR", variable, message))

    def warning(self, variable: str, message: str) -> None:
        self.findings.append(Finding("WARNING", variable, message))

    def get(self, name: str) -> str | None:
        value = self.env.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def required(self, name: str) -> str | None:
        value = self.get(name)
        if value is None:
            self.error(name, "required but not set")
        return value

    def secret(self, name: str, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_SECRET_LENGTH:
            self.error(name, f"must be at least {MIN_SECRET_LENGTH} characters (has {len(value)})")
            return None
        return value

    def http_url(self, name: str, value: str | None, *, origin_only: bool = False) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.error(name, "must be an absolute http or https URL")
            return None
        if "@" in parts.netloc:
            # A password would be printed wherever the URL is (start-up line, errors); the
            # message never repeats the value.
            self.error(name, "must not contain user information (user:password@); use the token variables")
            return None
        if parts.query or parts.fragment or value.endswith(("?", "#")):
            self.error(name, "must not have a query or fragment")
            return None
        if origin_only and parts.path not in ("", "/"):
            self.error(name, "must be an origin without a path (scheme://host[:port])")
            return None
        return value.rstrip("/")

    def number(self, name: str, default: float, low: float, high: float, integer: bool) -> float:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            self.error(name, f"must be {'an integer' if integer else 'a number'} from {low:g} to {high:g}")
            return default
        if not low <= value <= high:
            self.error(name, f"must be from {low:g} to {high:g}")
            return default
        return value

    def indexed(self, prefix: str) -> list[tuple[int, str, str]]:
        """`PREFIX__{n}` entries ordered by numeric n: (n, variable name, value)."""
        entries = []
        for name, value in self.env.items():
            match = _INDEXED_VAR.match(name)
            if match and match.group(1) == prefix:
                entries.append((int(match.group(2)), name, value.strip()))
        return sorted(entries)


def load_settings(environ: Mapping[str, str]) -> ConfigResult:
    r = _Reader(environ)

    esuite_base_url = r.http_url("ESUITE_BASE_URL", r.required("ESUITE_BASE_URL"))
    esuite_client_id = r.required("ESUITE_CLIENT_ID")
    esuite_client_secret = r.secret("ESUITE_CLIENT_SECRET", r.required("ESUITE_CLIENT_SECRET"))
    clients = _clients(r)
    types = _contactverzoek_types(r)

    interne_taak_type = r.required("INTERNE_TAAK_OBJECT_TYPE_URL")
    if interne_taak_type is not None and "@" in urlsplit(interne_taak_type).netloc:
        r.error("INTERNE_TAAK_OBJECT_TYPE_URL", "must not contain user information (user:password@)")
    elif interne_taak_type is not None and urlsplit(interne_taak_type).scheme not in ("http", "https"):
        r.warning("INTERNE_TAAK_OBJECT_TYPE_URL", "is not an absolute URL; KISS must use the same value")
    smoelenboek = _smoelenboek(r, interne_taak_type)

    adapter_base_url = r.http_url("ADAPTER_BASE_URL", r.get("ADAPTER_BASE_URL"), origin_only=True)
    if r.get("ADAPTER_BASE_URL") is None:
        r.warning("ADAPTER_BASE_URL", "not set; emitted URLs will follow the request's Host header")

    objects_tokens = _objects_tokens(r)
    timeout = r.number("ESUITE_TIMEOUT_SECONDS", 30.0, 1, 300, integer=False)
    max_connections = int(r.number("ESUITE_MAX_CONNECTIONS", 100, 1, 10000, integer=True))
    grace = _shutdown_grace(r, timeout)
    ordered_pages = int(r.number("ORDERED_LIST_MAX_PAGES", 10, 1, 100, integer=True))
    limits = _limits(r, max_connections)
    public_origins = _public_origins(r)
    # The in-process duplicate store's bounds (README, "Duplicate protection and its limits").
    max_entries = int(r.number("IDEMPOTENCY_MAX_ENTRIES", 20_000, 100, 100_000, integer=True))
    max_bytes = int(r.number("IDEMPOTENCY_MAX_MIB", 128, 1, 4096, integer=True)) * 1024 * 1024

    log_level = (r.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        r.error("LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")
    log_format = (r.get("LOG_FORMAT") or "json").lower()
    if log_format not in ("json", "console"):
        r.error("LOG_FORMAT", "must be json or console")

    redis_url = r.get("IDEMPOTENCY_REDIS_URL")
    if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss"):
        r.error("IDEMPOTENCY_REDIS_URL", "must be a redis:// or rediss:// URL")
    # redis://:password@host is how a Redis password is given, so userinfo is allowed there
    # alone; that URL is never printed (repr=False, and no finding repeats it).

    ca_dir = r.get("CA_CERTIFICATES_DIR")
    if ca_dir is not None and not os.path.isdir(ca_dir):
        r.warning("CA_CERTIFICATES_DIR", f"{ca_dir} is not a readable directory; no certificates added from it")
    extra_ca_certs = r.get("EXTRA_CA_CERTS")
    otel_enabled = _otel_enabled(r)

    egress_proxies = _egress_proxies(r, environ)

    for name in OBSOLETE_VARIABLES:
        if name in r.env:
            r.warning(name, "obsolete and ignored: KISS reads afdelingen and groepen from the Objects API itself")

    # Every required value that is None has recorded an error; the explicit tests say so to
    # the type checker as well.
    if (
        any(f.level == "ERROR" for f in r.findings)
        or esuite_base_url is None
        or esuite_client_id is None
        or esuite_client_secret is None
        or interne_taak_type is None
    ):
        return ConfigResult(None, tuple(r.findings))
    settings = Settings(
        esuite_base_url=esuite_base_url,
        esuite_client_id=esuite_client_id,
        esuite_client_secret=esuite_client_secret,
        clients=clients,
        contactverzoek_types=types,
        interne_taak_object_type_url=interne_taak_type,
        smoelenboek=smoelenboek,
        adapter_base_url=adapter_base_url,
        objects_tokens=objects_tokens,
        esuite_timeout_seconds=float(timeout),
        esuite_max_connections=max_connections,
        log_level=log_level,
        log_format=log_format,
        idempotency_redis_url=redis_url,
        shutdown_grace_seconds=grace,
        ordered_list_max_pages=ordered_pages,
        limits=limits,
        ca_certificates_dir=ca_dir or DEFAULT_CA_CERTIFICATES_DIR,
        extra_ca_certs=extra_ca_certs,
        otel_enabled=otel_enabled,
        esuite_public_origins=public_origins,
        idempotency_max_entries=max_entries,
        idempotency_max_bytes=max_bytes,
        egress_proxies=egress_proxies,
    )
    return ConfigResult(settings, tuple(r.findings))


# A host name as .NET's Uri takes one for a proxy: letters, digits, '-' and '_' (compose and
# Docker names), an optional final dot.
_HOST_NAME = re.compile(
    r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?", re.ASCII | re.IGNORECASE
)
_ZONE = re.compile(r"[A-Za-z0-9_.-]{1,15}")  # an IPv6 zone: an interface name (IFNAMSIZ 16)
_PROXY_FORM = "must be a proxy URL, http://[user:password@]host[:port]"


class _Unusable(ValueError):
    """A proxy value that cannot be used; its text is fixed, never a piece of the value."""


def _egress_proxies(r: _Reader, environ: Mapping[str, str]) -> EgressProxies | None:
    """As .NET's HttpClient: HTTP_PROXY for http:// calls, HTTPS_PROXY for https://, ALL_PROXY
    for either when its own is not set (or not usable); NO_PROXY for both."""
    own_http, http_problems = _proxy_setting(r, environ, "HTTP_PROXY")
    own_https, https_problems = _proxy_setting(r, environ, "HTTPS_PROXY")
    every, all_problems = _proxy_setting(r, environ, "ALL_PROXY")
    for problems, own in ((http_problems, own_http), (https_problems, own_https)):
        if own is None:
            _report(r, problems, None if every is None else "ALL_PROXY is used instead (as in .NET)")
    _report(r, all_problems, "not needed, both schemes have their own" if own_http and own_https else None)
    http, https = own_http or every, own_https or every
    if http is None and https is None:
        return None
    # The lower-case spelling wins even when set empty: .NET reads it so.
    spelling = "no_proxy" if "no_proxy" in environ else "NO_PROXY"
    no_proxy = environ[spelling] if spelling in environ else r.get("NO_PROXY")
    return EgressProxies(http, https, () if no_proxy is None else _no_proxy(r, spelling, no_proxy))


def _report(r: _Reader, problems: list[tuple[str, str]], instead: str | None) -> None:
    """Unusable spellings: warnings when something else serves (`instead` says what), else
    errors (where .NET would silently call directly)."""
    for spelling, reason in problems:
        if instead is None:
            r.error(spelling, reason)
        else:
            r.warning(spelling, f"{reason}; ignored, {instead}")


def _proxy_setting(
    r: _Reader, environ: Mapping[str, str], name: str
) -> tuple[ProxyServer | None, list[tuple[str, str]]]:
    """The first usable spelling, lower case first, as .NET takes it (one skipped for it is a
    warning), or None and the problems of every spelling set."""
    problems: list[tuple[str, str]] = []
    for spelling, value in _proxy_spellings(r, environ, name):
        try:
            server, note = _proxy_server(value)
        except _Unusable as problem:
            problems.append((spelling, str(problem)))
            continue
        _report(r, problems, f"{spelling} is used instead (as in .NET)")
        if note is not None:
            r.warning(spelling, note)
        return server, []
    return None, problems


def _proxy_spellings(r: _Reader, environ: Mapping[str, str], name: str) -> list[tuple[str, str]]:
    """(spelling, value) in .NET's order: lower case, then upper case; any other spelling last
    (every variable here is matched case-insensitively). Under CGI (GATEWAY_INTERFACE set),
    HTTP_PROXY in upper case can come from a client's `Proxy:` header (httpoxy): .NET skips it."""
    found = [(spelling, environ[spelling].strip()) for spelling in (name.lower(), name) if spelling in environ]
    other = None if found else r.get(name)
    if other is not None:
        found = [(name, other)]
    if name == "HTTP_PROXY" and "GATEWAY_INTERFACE" in environ:
        if any(spelling != "http_proxy" and value for spelling, value in found):
            r.warning(name, "ignored because GATEWAY_INTERFACE is set (httpoxy), as in .NET; use http_proxy")
        found = [(spelling, value) for spelling, value in found if spelling == "http_proxy"]
    return [(spelling, value) for spelling, value in found if value]


def _proxy_server(value: str) -> tuple[ProxyServer, str | None]:
    """`[http://][user:password@]host[:port]` split as .NET's HttpEnvironmentProxy splits it:
    the credentials run to the last `@` and may be raw (curl's form) or percent-encoded, and
    what follows the port's digits is ignored. With a note for that; `_Unusable` when unusable.
    No message repeats the value (it may hold a password)."""
    rest = value[7:] if value[:7].lower() == "http://" else value
    if "://" in rest:
        raise _Unusable("must be an http:// proxy (https:// and SOCKS proxies are not supported)")
    credentials, at, rest = rest.rpartition("@")
    host, port, tail = _proxy_address(rest[:-1] if rest.endswith("/") else rest)
    authorization = None
    if at and credentials:
        with contextlib.suppress(UnicodeDecodeError):  # opportunistic, as .NET: else the raw text
            credentials = unquote(credentials, errors="strict")
        user, _, password = credentials.partition(":")
        # A byte that is no UTF-8 came from the environment as a lone surrogate: sent as it was set.
        authorization = b"Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8", "surrogateescape"))
    note = None if tail in ("", "/") else "what follows the port is ignored, as in .NET"
    return ProxyServer(host, port, authorization), note


def _proxy_address(rest: str) -> tuple[str, int, str]:
    """(host, port, the rest after the port's digits) of `host[:port]`; an IPv6 address in []."""
    colon = rest.rfind(":")
    bracket_end = rest.find("]")
    if colon == -1 or colon < bracket_end:
        host, port, tail = rest, 80, ""
    else:
        digits = re.match(r"[0-9]*", rest[colon + 1 :])
        port_text = digits.group() if digits else ""
        host, tail = rest[:colon], rest[colon + 1 + len(port_text) :]
        significant = port_text.lstrip("0")  # leading zeros count for nothing, as in .NET
        port = int(significant) if 0 < len(significant) <= 5 else 0
        if not 0 < port < 65536:
            raise _Unusable(f"{_PROXY_FORM}, with a port from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        address, percent, zone = host[1:-1].partition("%")
        if ":" in address and _is_ip_address(address) and (not percent or _ZONE.fullmatch(zone)):
            return host[1:-1], port, tail
    elif _is_host_name(host) or _is_ip_address(host):
        return host, port, tail
    raise _Unusable(f"{_PROXY_FORM}; the host is not a valid name or address")


def _is_host_name(host: str) -> bool:
    """DNS's bounds too: labels of at most 63 characters, 253 in all (Python's resolver refuses
    longer ones with a UnicodeError, not an OSError)."""
    name = host[:-1] if host.endswith(".") else host
    return bool(_HOST_NAME.fullmatch(host)) and len(name) <= 253 and all(len(label) <= 63 for label in name.split("."))


def _no_proxy(r: _Reader, name: str, value: str) -> tuple[str, ...]:
    entries = []
    for raw in value.lower().split(","):
        entry = raw.strip()
        if not entry:
            continue
        if "*" in entry:
            # .NET reads `*` literally (dotnet/runtime#61840): such an entry never matches there.
            r.warning(name, f"{entry!r} holds a '*', which is no wildcard; it matches no host (as in .NET)")
        if "/" in entry or (":" in entry and not _is_ip_address(entry.strip("[]"))):
            # .NET compares each entry with the host alone: a range or a port never matches.
            r.warning(name, f"{entry!r} has a port or an address range; it matches no host (as in .NET)")
        entries.append(entry.strip("[]"))
    return tuple(entries)


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _limits(r: _Reader, max_connections: int) -> Limits:
    """The limits of README "Security"; each variable in bytes, values or seconds."""
    default = Limits()

    def size(name: str, value: int, low: int, high: int) -> int:
        return int(r.number(name, value, low, high, integer=True))

    head = size("MAX_REQUEST_HEAD_BYTES", default.request_head_bytes, 4 * KIB, 1 * MIB)
    authorization = size("MAX_AUTHORIZATION_BYTES", default.authorization_bytes, 1 * KIB, 1 * MIB)
    if authorization > head:
        r.error("MAX_AUTHORIZATION_BYTES", "must not exceed MAX_REQUEST_HEAD_BYTES")
    # Downloads may hold at most half the pool: the JSON routes always keep connections.
    downloads = size("MAX_CONCURRENT_DOWNLOADS", max(1, max_connections // 2), 1, 10000)
    if max_connections > 1 and downloads >= max_connections:
        r.error("MAX_CONCURRENT_DOWNLOADS", "must be less than ESUITE_MAX_CONNECTIONS")
    return Limits(
        request_head_bytes=head,
        request_head_seconds=r.number(
            "REQUEST_HEAD_TIMEOUT_SECONDS", default.request_head_seconds, 1, 600, integer=False
        ),
        authorization_bytes=authorization,
        passthrough_json_bytes=size("MAX_PASSTHROUGH_JSON_BYTES", default.passthrough_json_bytes, 1 * KIB, 1024 * MIB),
        passthrough_json_values=size("MAX_PASSTHROUGH_JSON_VALUES", default.passthrough_json_values, 100, 10_000_000),
        answer_bytes=size("MAX_UPSTREAM_ANSWER_BYTES", default.answer_bytes, 64 * KIB, 1024 * MIB),
        answer_compressed_bytes=size(
            "MAX_UPSTREAM_COMPRESSED_ANSWER_BYTES", default.answer_compressed_bytes, 64 * KIB, 1024 * MIB
        ),
        download_chunk_seconds=r.number(
            "DOWNLOAD_CHUNK_TIMEOUT_SECONDS", default.download_chunk_seconds, 1, 600, integer=False
        ),
        max_downloads=downloads,
    )


# A create sent just before SIGTERM ends within its budget; the margin covers recording its
# outcome in the duplicate store (Redis socket time-out 2 s) and the answer (operations.md §5.7).
SHUTDOWN_MARGIN_SECONDS = 5


def _shutdown_grace(r: _Reader, timeout: float) -> int:
    derived = math.ceil(timeout) + SHUTDOWN_MARGIN_SECONDS
    grace = int(r.number("SHUTDOWN_GRACE_SECONDS", derived, 0, 600, integer=True))
    if grace < derived:
        r.warning(
            "SHUTDOWN_GRACE_SECONDS",
            f"shorter than ESUITE_TIMEOUT_SECONDS + {SHUTDOWN_MARGIN_SECONDS} s ({derived}): a create in flight at "
            "shutdown may be cut short; it is then answered 503 and recorded as uncertain",
        )
    return grace


def _public_origins(r: _Reader) -> tuple[str, ...]:
    """ESUITE_PUBLIC_ORIGINS__{n}: bases under which the e-Suite prints its own URLs besides
    ESUITE_BASE_URL (a gateway host name); a create answered under one of them is accepted."""
    origins: list[str] = []
    for _, name, value in r.indexed("ESUITE_PUBLIC_ORIGINS"):
        url = r.http_url(name, value)  # refuses user information too (README "Security")
        if url is not None:
            origins.append(url)
    return tuple(origins)


def _clients(r: _Reader) -> tuple[Client, ...]:
    by_index: dict[int, dict[str, str]] = {}
    for name, value in r.env.items():
        match = _CLIENT_VAR.match(name)
        if match:
            by_index.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
    clients: list[Client] = []
    seen: set[str] = set()
    for index in sorted(by_index):
        entry = by_index[index]
        client_id, secret = entry.get("ID") or None, entry.get("SECRET") or None
        if client_id is None:
            r.error(f"CLIENTS__{index}__ID", f"missing for CLIENTS__{index}__SECRET")
            continue
        if secret is None:
            r.error(f"CLIENTS__{index}__SECRET", f"missing for CLIENTS__{index}__ID")
            continue
        if client_id in seen:
            r.error(f"CLIENTS__{index}__ID", "duplicate client id")
            continue
        seen.add(client_id)
        if r.secret(f"CLIENTS__{index}__SECRET", secret) is not None:
            clients.append(Client(client_id, secret))
    if not by_index:
        r.error("CLIENTS__0__ID", "at least one client (CLIENTS__{n}__ID and CLIENTS__{n}__SECRET) is required")
    return tuple(clients)


def _contactverzoek_types(r: _Reader) -> tuple[str, ...]:
    types: list[str] = []
    for _, name, value in r.indexed("CONTACTVERZOEK_TYPES"):
        if value == "":
            r.error(name, "must not be blank")
        elif len(value) > 255:
            r.error(name, "must be at most 255 characters")
        elif value in types:
            r.warning(name, "duplicate contactverzoek type")
        else:
            types.append(value)
    if not r.indexed("CONTACTVERZOEK_TYPES"):
        r.error("CONTACTVERZOEK_TYPES__0", "at least one contactverzoek type is required")
    return tuple(types)


def _smoelenboek(r: _Reader, interne_taak_type: str | None) -> Smoelenboek | None:
    names = ("SMOELENBOEK_OBJECT_TYPE_URL", "SMOELENBOEK_BASE_URL", "SMOELENBOEK_TOKEN")
    object_type, base_value, token = (r.get(name) for name in names)
    missing = [name for name, value in zip(names, (object_type, base_value, token), strict=True) if value is None]
    if len(missing) == len(names):
        return None
    for name in missing:
        r.error(name, f"SMOELENBOEK_* must be set all three or none (missing: {name})")
    if object_type is None or base_value is None or token is None:
        return None
    if "@" in urlsplit(object_type).netloc:
        r.error("SMOELENBOEK_OBJECT_TYPE_URL", "must not contain user information (user:password@)")
    if object_type == interne_taak_type:
        r.error("SMOELENBOEK_OBJECT_TYPE_URL", "must differ from INTERNE_TAAK_OBJECT_TYPE_URL")
    base_url = r.http_url("SMOELENBOEK_BASE_URL", base_value)
    if base_url is None:
        return None
    return Smoelenboek(object_type, base_url, token)


def _objects_tokens(r: _Reader) -> tuple[ObjectsToken, ...]:
    tokens: list[ObjectsToken] = []
    for index, name, value in r.indexed("OBJECTS_TOKENS"):
        if r.secret(name, value) is None:
            continue
        if any(t.token == value for t in tokens):
            r.error(name, "duplicate token")
            continue
        tokens.append(ObjectsToken(index, value))
    return tuple(tokens)


def _otel_enabled(r: _Reader) -> bool:
    """OpenTelemetry is on when an OTLP endpoint is set and `OTEL_SDK_DISABLED` is not `true`
    (the SDK reads the other `OTEL_*` variables itself). Only OTLP over HTTP is shipped."""
    endpoints = [name for name in OTLP_ENDPOINT_VARIABLES if r.get(name) is not None]
    for name in endpoints:
        r.http_url(name, r.get(name))
    for name in OTLP_PROTOCOL_VARIABLES:
        protocol = r.get(name)
        if protocol is not None and protocol != "http/protobuf":
            r.error(name, "must be http/protobuf (OTLP over HTTP, port 4318); gRPC is not included")
    disabled = (r.get("OTEL_SDK_DISABLED") or "").lower() == "true"
    return bool(endpoints) and not disabled
