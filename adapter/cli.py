"""Command line: serve, simulate, demo, token, check-config (operations.md §1)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

import structlog
import uvicorn

from adapter import __version__
from adapter.config import MIN_SECRET_LENGTH, ConfigResult, Finding, load_settings

if TYPE_CHECKING:
    import ssl

    from adapter.kiss_api.health import Readiness

EXIT_OK, EXIT_USAGE = 0, 2
DEMO_INTERNE_TAAK_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/interne-taak"
DEMO_TOKEN_TTL = 12 * 3600
LIST_ORDERS = ("newest-first", "oldest-first")  # adapter.esuite_sim.app.LIST_ORDERS (imported lazily there)
LIST_ORDER_HELP = "order of the simulator's contactmomenten lists (oldest-first, as the one real e-Suite sample)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, as the spec's exit codes say
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kiss-esuite-adapter", description="KISS in front of the Dimpact e-Suite.")
    parser.add_argument("--version", action="version", version=f"kiss-esuite-adapter {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="serve the adapter (configuration from the environment)")
    # In a container the adapter must answer on the pod's address, not only on loopback.
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104
    serve.add_argument("--port", type=int, default=8080)

    simulate = commands.add_parser("simulate", help="run the e-Suite simulator alone")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8081)
    simulate.add_argument("--base-path", default="")
    simulate.add_argument("--no-seed", action="store_true")
    simulate.add_argument("--faults", metavar="FILE")
    simulate.add_argument("--list-order", choices=LIST_ORDERS, default="newest-first", help=LIST_ORDER_HELP)

    demo = commands.add_parser("demo", help="adapter and simulator together, with a ready token")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--sim-port", type=int, default=8081)
    demo.add_argument("--list-order", choices=LIST_ORDERS, default="newest-first", help=LIST_ORDER_HELP)

    token = commands.add_parser("token", help="print a ZGW JWT")
    token.add_argument("--client-id", required=True)
    token.add_argument("--secret", required=True)
    token.add_argument("--user-id", default="")
    token.add_argument("--user-representation", default="")
    token.add_argument("--ttl", type=int, default=3600)

    commands.add_parser("check-config", help="validate the environment and list every finding")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    handler = {
        "serve": _serve,
        "simulate": _simulate,
        "demo": _demo,
        "token": _token,
        "check-config": _check_config,
    }[args.command]
    try:
        return handler(args, environ)
    except KeyboardInterrupt:
        return EXIT_OK


def load_with_trust(environ: Mapping[str, str]) -> tuple[ConfigResult, ssl.SSLContext | None]:
    """The settings, plus the outbound TLS context built from them (tls.py); CA files that
    could not be used are findings: a bad EXTRA_CA_CERTS an error, others warnings."""
    from adapter.esuite_client.tls import trusted_context

    result = load_settings(environ)
    if result.settings is None:
        return result, None
    trust = trusted_context(result.settings.ca_certificates_dir, result.settings.extra_ca_certs)
    findings = tuple(
        Finding("ERROR" if problem.fatal else "WARNING", problem.variable, f"{problem.path} {problem.message}")
        for problem in trust.problems
    )
    if any(problem.fatal for problem in trust.problems):
        return ConfigResult(None, result.findings + findings), None
    return ConfigResult(result.settings, result.findings + findings), trust.context


def _check_config(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    result, _ = load_with_trust(environ)
    print(result.report())
    return EXIT_USAGE if result.errors else EXIT_OK


def _token(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from adapter.kiss_api.auth import mint_token

    if len(args.secret) < MIN_SECRET_LENGTH:
        print(f"secret must be at least {MIN_SECRET_LENGTH} characters (has {len(args.secret)})", file=sys.stderr)
        return EXIT_USAGE
    print(mint_token(args.client_id, args.secret, time.time(), args.ttl, args.user_id, args.user_representation))
    return EXIT_OK


def _serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from adapter.app import create_app
    from adapter.logging import configure_logging
    from adapter.services import services_of

    result, ssl_context = load_with_trust(environ)
    if result.errors:
        print(result.report(), file=sys.stderr)
        return EXIT_USAGE
    settings = result.valid_settings
    configure_logging(settings.log_level, settings.log_format, cache=True, tracing=settings.otel_enabled)
    _route_server_logs()
    for finding in result.findings:
        print(finding, file=sys.stderr)
    app = create_app(settings, ssl_context=ssl_context)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # RW-2: X-Forwarded-* never changes the adapter's URLs; uvicorn would otherwise take
        # the scheme from a proxy on 127.0.0.1 (and parse the client address on every request).
        proxy_headers=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        **head_limit_options(settings.limits.request_head_bytes, settings.limits.request_head_seconds),
    )
    # uvicorn re-raises the signal after a graceful stop; with this handler in place a SIGTERM
    # ends in exit code 0 instead of a kill by the default action (operations.md §5.7).
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    server = GracefulServer(config, services_of(app).readiness)
    freeze_startup_heap()
    raise_young_threshold()
    server.run()
    return EXIT_OK


def freeze_startup_heap() -> None:
    """Issue 17: what lives as long as the process (modules, the app and its route table,
    the clients, the metrics registry) is taken out of the cyclic collector's reach, so a full
    collection walks only what requests left behind. Not frozen, each full collection walked
    ~70,000 startup objects: 2026-12-02, bench.inprocess S1, 2,400 requests: 132 ms of
    collections unfrozen (86 ms of it in 2 full ones), 39 ms frozen, ~39 µs per request; S2
    ~45 µs. Reference counting still frees everything as before; only cycles among startup
    objects are never collected, and there are none worth the walk."""
    gc.collect()
    gc.freeze()


# Python's default is (700, 10, 10). Served, each young collection walks what the requests in
# flight hold (32 connections: their parsed pages, answers and protocol objects), so collections
# cost per live object, not per garbage. 2026-12-04, `python -m bench`, 2 rounds x 4 s, each
# threshold twice or more, collector thread CPU from gc.callbacks (`bench.collector`), startup
# left out: 700 → 7,000 took S1 15–19 → 7–8 µs a request, S2 27–29 → 8–11, S5 15–16 → 8,
# S3 ~65 → ~8, S5 with tracing on 28–33 → 13–15; 2,000 and 20,000 were both worse than 7,000
# on S2. The pauses grow: a young collection ~3 ms instead of ~0.5 (with tracing on ~6 ms: it
# walks the spans the batch processor holds), about every 400 requests; a middle one up to
# ~9 ms about every 4,000, where at 700 the full ones took up to ~10 ms. S5's p99 untraced did
# not move; traced, S5o's p99 rose by 1–2 ms in the median of four runs. Peak RSS +1–6 MB.
# What the collector must find waits longer: garbage in cycles 7,000 net allocations instead
# of 700 (10x that once promoted), and the bytes it holds are not counted. So requests leave no
# cycles behind, on their errors least of all (tests/integration/test_no_reference_cycles.py,
# test_transport_h1.py, test_transport_proxy.py; bench/README.md "The ninth pass").
COLLECTOR_THRESHOLDS = (7000, 10, 10)


def raise_young_threshold() -> None:
    """Issue 17: the cyclic collector's young generation collected ten times less often."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def head_limit_options(head_bytes: int, head_seconds: float) -> dict[str, Any]:
    """README "Security": the request head is bounded by the server, before any work. The
    httptools protocol counts it (adapter/server_protocol.py); h11 reads the same option."""
    from adapter.server_protocol import HeadLimitedHttpToolsProtocol

    protocol = functools.partial(HeadLimitedHttpToolsProtocol, head_seconds=head_seconds)
    return {"http": protocol, "h11_max_incomplete_event_size": head_bytes}


class _ServerLogHandler(logging.Handler):
    """uvicorn's own log records (e.g. "Cancel 1 running task(s)" at shutdown) as structured
    lines like every other, instead of Python's plain-text last-resort output; an exception
    keeps only its type and traceback (adapter.logging)."""

    def emit(self, record: logging.LogRecord) -> None:
        log = structlog.get_logger(record.name)
        level = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning"}.get(record.levelno, "error")
        getattr(log, level)("server", message=record.getMessage(), exc_info=record.exc_info or None)


def _route_server_logs() -> None:
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = [_ServerLogHandler()]
        logger.propagate = False
        logger.setLevel(logging.WARNING)


# How long the listener stays open after SIGTERM with /readyz answering `shutting-down`, so a
# load balancer's readiness probe (Kubernetes: every 5 s, after the preStop pause) sees it.
READINESS_DRAIN_SECONDS = 3.0


class GracefulServer(uvicorn.Server):
    """uvicorn's server, which on SIGTERM first reports `shutting-down` on /readyz while it
    keeps serving for READINESS_DRAIN_SECONDS (operations.md §5.7), and only then stops.

    uvicorn then stops accepting, lets in-flight requests finish within the grace period,
    cancels what is left (answered 503 by `ProblemRendering`, a create recorded as uncertain)
    and runs the lifespan shutdown, which closes the client pools and the duplicate store.
    A second signal skips the drain.
    """

    def __init__(
        self, config: uvicorn.Config, readiness: Readiness, drain_seconds: float = READINESS_DRAIN_SECONDS
    ) -> None:
        super().__init__(config)
        self.readiness = readiness
        self.drain_seconds = drain_seconds
        # (when the drain ends, the signal that started it), set together by the first signal
        self._drain: tuple[float, int] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain is None and self.drain_seconds > 0:
            self.readiness.shutting_down = True
            self._drain = (time.monotonic() + self.drain_seconds, sig)
            return
        self.readiness.shutting_down = True
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._drain is not None and not self.should_exit and time.monotonic() >= self._drain[0]:
            super().handle_exit(self._drain[1], None)
        return await super().on_tick(counter)


def _simulate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from adapter.esuite_sim import SimulatorConfig, create_simulator

    client_id = environ.get("ESUITE_CLIENT_ID") or ""
    secret = environ.get("ESUITE_CLIENT_SECRET") or ""
    if not client_id or not secret:
        client_id, secret = "esuite-sim-client", secrets.token_urlsafe(36)
        print(f"ESUITE_CLIENT_ID={client_id}\nESUITE_CLIENT_SECRET={secret}", flush=True)
    base_path = "/" + args.base_path.strip("/") if args.base_path.strip("/") else ""
    faults = None
    if args.faults:
        with open(args.faults, encoding="utf-8") as handle:
            faults = json.load(handle)
    config = SimulatorConfig(
        client_id=client_id,
        client_secret=secret,
        base_url=f"http://{args.host}:{args.port}{base_path}",
        seed=not args.no_seed,
        faults=faults,
        list_order=args.list_order,
    )
    uvicorn.run(create_simulator(config), host=args.host, port=args.port, log_level="warning", server_header=False)
    return EXIT_OK


def demo_environment(port: int, sim_port: int) -> dict[str, str]:
    """The demo's own configuration (operations.md §1): it ignores the environment."""
    return {
        "ESUITE_BASE_URL": f"http://127.0.0.1:{sim_port}/esuite",
        "ESUITE_CLIENT_ID": "demo-adapter",
        "ESUITE_CLIENT_SECRET": secrets.token_urlsafe(36),
        "CLIENTS__0__ID": "demo-kiss",
        "CLIENTS__0__SECRET": secrets.token_urlsafe(36),
        "CONTACTVERZOEK_TYPES__0": "Terugbelverzoek",
        "CONTACTVERZOEK_TYPES__1": "Contactverzoek",
        "INTERNE_TAAK_OBJECT_TYPE_URL": DEMO_INTERNE_TAAK_TYPE,
        "ADAPTER_BASE_URL": f"http://127.0.0.1:{port}",
    }


def _demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from adapter.app import create_app
    from adapter.esuite_sim import SimulatorConfig, create_simulator
    from adapter.kiss_api.auth import mint_token
    from adapter.logging import configure_logging

    env = demo_environment(args.port, args.sim_port)
    for name in ("LOG_LEVEL", "LOG_FORMAT"):
        if environ.get(name):
            env[name] = environ[name]
    settings = load_settings(env).valid_settings
    configure_logging(settings.log_level, settings.log_format)
    simulator = create_simulator(
        SimulatorConfig(
            client_id=env["ESUITE_CLIENT_ID"],
            client_secret=env["ESUITE_CLIENT_SECRET"],
            base_url=env["ESUITE_BASE_URL"],
            list_order=args.list_order,
        )
    )
    adapter_url = env["ADAPTER_BASE_URL"]
    token = mint_token("demo-kiss", env["CLIENTS__0__SECRET"], time.time(), DEMO_TOKEN_TTL, "jjansen", "Jan Jansen")
    objects_url = (
        f"{adapter_url}/api/v2/objects?type={quote(DEMO_INTERNE_TAAK_TYPE, safe='')}"
        "&data_attr=betrokkene__digitaleAdressen__icontains__0612345678"
    )
    print(
        f"kiss-esuite-adapter demo {__version__}\n"
        f"adapter:    {adapter_url}\n"
        f"simulator:  {env['ESUITE_BASE_URL']}\n"
        f"client id:  demo-kiss\n"
        f"token:      {token}\n"
        f"interne-taak type: {DEMO_INTERNE_TAAK_TYPE}\n\n"
        "Try:\n"
        f'curl -H "Authorization: Bearer {token}" "{objects_url}"\n',
        flush=True,
    )

    class _QuietServer(uvicorn.Server):
        """The simulator leaves signal handling to the adapter's server, which stops both."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    adapter_server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=args.port,
            log_config=None,
            access_log=False,
            **head_limit_options(settings.limits.request_head_bytes, settings.limits.request_head_seconds),
        )
    )
    sim_server = _QuietServer(
        uvicorn.Config(simulator, host="127.0.0.1", port=args.sim_port, log_level="warning", access_log=False)
    )

    async def run_both() -> None:
        sim_task = asyncio.create_task(sim_server.serve())
        try:
            await adapter_server.serve()
        finally:
            sim_server.should_exit = True
            await sim_task

    asyncio.run(run_both())
    return EXIT_OK
