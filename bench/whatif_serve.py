"""What-if launcher: the adapter exactly as `python -m adapter serve`, with another e-Suite transport.

Used to compare e-Suite transports without editing adapter code (the default is the adapter's
own `H1Transport`):

    BENCH_TRANSPORT=httpcore  httpx's own transport (httpcore + anyio + h11)
    BENCH_TRANSPORT=aiohttp   the stock `httpx-aiohttp` transport, as released; only when aiohttp
                              and httpx-aiohttp are installed (not dependencies:
                              `.venv/bin/pip install aiohttp httpx-aiohttp`), else it exits with 2

The adapter's own aiohttp transport (`EsuiteTransport`, `BENCH_TRANSPORT=esuite`, used until
issue 17) was removed from the product; check out commit 2f863f8 to run it again.

`python -m bench --adapter-module bench.whatif_serve --adapter-env BENCH_TRANSPORT=httpcore`
runs the bench against it.
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx
import uvicorn

from adapter.app import create_app
from adapter.config import load_settings
from adapter.logging import configure_logging


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("serve",))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    result = load_settings(os.environ)
    if result.errors:
        print(result.report(), file=sys.stderr)
        return 2
    settings = result.settings
    configure_logging(settings.log_level, settings.log_format)
    transport = None
    limits = httpx.Limits(
        max_connections=settings.esuite_max_connections, max_keepalive_connections=settings.esuite_max_connections
    )
    if os.environ.get("BENCH_TRANSPORT") == "aiohttp":
        try:
            from httpx_aiohttp import AiohttpTransport
        except ImportError:
            print(
                "whatif: BENCH_TRANSPORT=aiohttp needs aiohttp and httpx-aiohttp installed (not dependencies:"
                " .venv/bin/pip install aiohttp httpx-aiohttp)",
                file=sys.stderr,
            )
            return 2
        transport = AiohttpTransport(limits=limits)
    elif os.environ.get("BENCH_TRANSPORT") == "httpcore":
        transport = httpx.AsyncHTTPTransport(limits=limits)
    elif os.environ.get("BENCH_TRANSPORT") not in (None, ""):
        print(
            f"whatif: unknown BENCH_TRANSPORT {os.environ['BENCH_TRANSPORT']!r} (httpcore or aiohttp)", file=sys.stderr
        )
        return 2
    print(f"whatif: transport={type(transport).__name__ if transport else 'H1Transport'}", file=sys.stderr)
    uvicorn.run(
        create_app(settings, esuite_transport=transport),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
