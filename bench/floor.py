"""What the libraries under the adapter cost by themselves: the floor under its CPU per request.

    .venv/bin/python -m bench.floor [--calls 3000]

Against the fake e-Suite (`bench/upstream.py`, its own process), one e-Suite call as the S3
klant look-up makes it (GET, 8 at a time), measured in CPU time of this process per call, layer
by layer:

    aiohttp            a bare `ClientSession` GET, body read: the HTTP client's own floor
    httpx + transport  `httpx.AsyncClient.send` over the adapter's `EsuiteTransport`
    EsuiteClient       the adapter's client: auth, budget, breaker, metrics, JSON parse

and the JSON work of the S1 page (50 contacts): `orjson` parse and render, the adapter's R-1
text rewrite. The differences between the lines are what each layer adds; the first lines are
what no change to the adapter's own code can remove.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import timeit
from urllib.parse import quote

import orjson

from bench import canned as C
from bench.procs import free_port, start, wait_http
from bench.run import ROOT


async def _per_call(name: str, call, calls: int, concurrency: int = 8) -> float:
    for _ in range(100):
        await call()
    semaphore = asyncio.Semaphore(concurrency)

    async def limited():
        async with semaphore:
            await call()

    cpu = time.process_time()
    await asyncio.gather(*(limited() for _ in range(calls)))
    per_call = (time.process_time() - cpu) / calls * 1e6
    print(f"  {name:28s} {per_call:7.0f} µs CPU per call", flush=True)
    return per_call


async def _calls(base: str, calls: int) -> None:
    import aiohttp
    import httpx

    from adapter.esuite_client.client import (
        CallContext,
        EsuiteClient,
        EsuiteTokenSource,
        _CookielessClient,
    )
    from adapter.esuite_client.transport import EsuiteTransport
    from adapter.esuite_client.url_objects import outbound_url
    from adapter.esuite_client.urls import UrlMap
    from adapter.metrics import Metrics

    contact = next(iter(C.Canned(base).klant_links))
    url = f"{base}{C.CM}/klantcontactmomenten?contactmoment={quote(contact, safe='')}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200, f"the fake e-Suite answered {response.status}"
    print(f"one e-Suite call (GET, {len(url)}-character URL, 8 at a time):")

    async with aiohttp.ClientSession() as session:

        async def bare_aiohttp():
            async with session.get(url) as response:
                await response.read()

        floor = await _per_call("aiohttp", bare_aiohttp, calls)

    http = _CookielessClient(transport=EsuiteTransport(10))
    headers = {"accept": "application/json", "x-request-id": "r", "authorization": "Bearer t"}
    timeout = httpx.Timeout(10.0).as_dict()

    async def plain_httpx():
        request = httpx.Request("GET", outbound_url(url), headers=headers, extensions={"timeout": timeout})
        response = await http.send(request, stream=True)
        await response.aread()
        await response.aclose()

    with_httpx = await _per_call("httpx + transport", plain_httpx, calls)
    await http.aclose()

    esuite = EsuiteClient(
        EsuiteTokenSource("bench", "s" * 40), Metrics(), timeout_seconds=10, max_connections=10, transport=EsuiteTransport(10)
    )
    call = CallContext("request-id", UrlMap("http://adapter.example", base), "user")

    async def adapter_client():
        await esuite.fetch_json(call, "GET", f"{base}{C.CM}/klantcontactmomenten", params=[("contactmoment", contact)])

    client = await _per_call("EsuiteClient.fetch_json", adapter_client, calls)
    await esuite.aclose()
    print(f"  httpx adds {with_httpx - floor:.0f} µs to aiohttp, the adapter's client {client - with_httpx:.0f} µs more")


def _json(base: str) -> None:
    from adapter.esuite_client.urls import UrlMap
    from adapter.mapping import contactmoment as cm

    raw = C.Canned(base).klant_page
    urls = UrlMap("http://adapter.example", base)
    contacts = orjson.loads(raw)["results"]
    page = {"count": 50, "next": None, "previous": None, "results": cm.contacts_for_kiss(contacts, urls)}

    def per_run(function) -> float:
        runs = 300
        return min(timeit.repeat(function, number=runs, repeat=3)) / runs * 1e6

    print(f"the S1 page ({len(raw):,} bytes, 50 contacts):")
    for name, function in (
        ("orjson parse", lambda: orjson.loads(raw)),
        ("orjson render", lambda: orjson.dumps(page)),
        ("R-2 (contacts_for_kiss)", lambda: cm.contacts_for_kiss(contacts, urls)),
        ("render with R-1 rewrite", lambda: urls.rendered(page)),
    ):
        print(f"  {name:28s} {per_run(function):7.0f} µs CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    port = free_port()
    work_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(work_dir, exist_ok=True)
    upstream = start("upstream", [sys.executable, "-m", "bench.upstream", "--port", str(port)], work_dir, cwd=ROOT)
    base = f"http://127.0.0.1:{port}/esuite"  # the fake e-Suite's default base path
    from adapter.logging import configure_logging

    configure_logging("INFO", "json", stream=open(os.devnull, "w"), cache=True)  # noqa: SIM115
    try:
        wait_http(f"http://127.0.0.1:{port}/_bench/requests", upstream)
        try:
            import uvloop

            uvloop.run(_calls(base, args.calls))
        except ImportError:
            asyncio.run(_calls(base, args.calls))
        _json(base)
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
