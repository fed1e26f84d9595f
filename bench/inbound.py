"""The inbound path alone: the app's middlewares, router and auth around a stub endpoint.

    .venv/bin/python -m bench.inbound [--requests 2000] [--repeat 5] [--resumes 5]

Builds the app with `create_app` (no e-Suite: its transport answers nothing and is never
called), swaps the endpoint of the S1 route (`GET /contactmomenten/api/v1/contactmomenten`) and
of `GET /zaken/api/v1/zaken` (late in the route table) for a stub that awaits `--resumes` times
(the wake-ups of a request's task while it waits for the e-Suite) and answers `{}`, and calls
the app as an ASGI application, one request at a time. Prints the CPU per request, min and
median of the repeats, for:

- `healthz`: anonymous, Host equal to ADAPTER_BASE_URL's;
- `s1`: the S1 route, authenticated, Host and scheme equal to ADAPTER_BASE_URL's;
- `s1-behind-tls`: the same behind a TLS proxy (ADAPTER_BASE_URL `https://…`, the request `http`);
- `zaken`: `GET /zaken/api/v1/zaken`.

For A/B: run it on two checkouts back to back (`cd <other checkout> && <this venv>/bin/python
-m bench.inbound`), twice, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time

import httpx
from starlette.responses import Response

from adapter.app import create_app
from adapter.config import load_settings
from adapter.kiss_api.auth import mint_token
from adapter.logging import configure_logging

try:  # this branch's runner of endpoints; Starlette's on a checkout without it
    from adapter.kiss_api.routing import endpoint_app as as_asgi
except ImportError:  # pragma: no cover
    from starlette.routing import request_response as as_asgi

BASE = "https://kiss-adapter.example.org"
KEYS = {"esuite": secrets.token_urlsafe(36), "kiss": secrets.token_urlsafe(36)}


def _app(resumes: int):
    settings = load_settings(
        {
            "ADAPTER_BASE_URL": BASE,
            "ESUITE_BASE_URL": "https://esuite.example.org",
            "ESUITE_CLIENT_ID": "kiss-adapter",
            "ESUITE_CLIENT_SECRET": KEYS["esuite"],
            "CLIENTS__0__ID": "kiss",
            "CLIENTS__0__SECRET": KEYS["kiss"],
            "CONTACTVERZOEK_TYPES__0": "Terugbelverzoek",
            "INTERNE_TAAK_OBJECT_TYPE_URL": "https://objecttypen.example.org/api/v2/objecttypes/1",
        }
    ).valid_settings
    app = create_app(settings, esuite_transport=httpx.MockTransport(lambda request: httpx.Response(500)))

    async def stub(request):
        for _ in range(resumes):
            await asyncio.sleep(0)
        return Response(b"{}", media_type="application/json")

    for route in app.router.routes:
        path = getattr(route, "path", None)
        if path == "/contactmomenten/api/v1/contactmomenten" and hasattr(route, "handlers"):
            route.handlers["GET"] = as_asgi(stub)
        elif path == "/zaken/api/v1/zaken":
            route.app = as_asgi(stub)  # type: ignore[attr-defined]
    return app


def _scope(path: str, headers: list, query: bytes, scheme: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def _run(args) -> None:
    configure_logging("INFO", "json", stream=open(os.devnull, "w"), cache=True)  # noqa: SIM115
    app = _app(args.resumes)
    token = mint_token("kiss", KEYS["kiss"], time.time(), ttl=86400, user_id="bench")
    host = [(b"host", BASE.split("//")[1].encode())]
    auth = host + [(b"authorization", f"Bearer {token}".encode()), (b"accept", b"application/json")]
    cases = {
        "healthz": ("/healthz", host, b"", "https"),
        "s1": ("/contactmomenten/api/v1/contactmomenten", auth, b"klant=x", "https"),
        "s1-behind-tls": ("/contactmomenten/api/v1/contactmomenten", auth, b"klant=x", "http"),
        "zaken": ("/zaken/api/v1/zaken", auth, b"", "https"),
    }
    statuses: list[int] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async with app.router.lifespan_context(app):
        for name, (path, headers, query, scheme) in cases.items():
            runs = []
            for _ in range(1 + args.repeat):
                started = time.process_time()
                for _ in range(args.requests):
                    await app(_scope(path, headers, query, scheme), receive, send)
                runs.append((time.process_time() - started) / args.requests * 1e6)
            assert set(statuses) == {200}, (name, set(statuses))
            statuses.clear()
            runs = runs[1:]
            print(f"{name}: {min(runs):.1f} µs CPU/request min, {statistics.median(runs):.1f} median", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--resumes", type=int, default=5, help="awaits in the stub endpoint")
    args = parser.parse_args()
    import uvloop

    uvloop.run(_run(args))


if __name__ == "__main__":
    main()
