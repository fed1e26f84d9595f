"""What the libraries under the adapter cost by themselves: the floor under its CPU per request.

    .venv/bin/python -m bench.floor [--calls 2000] [--repeat 5]

Against the fake e-Suite (`bench/upstream.py`, its own process), one e-Suite GET, 8 in flight,
for a small answer (the S3 klant look-up) and the S1 page, in CPU time of this process per call
(`time.process_time`: every thread counts, so a client on a thread pool pays its threads), each
candidate `--repeat` times with the order rotated, min and median printed:

    H1Transport alone         adapter/esuite_client/h1_transport.py without httpx above it
    aiohttp ClientSession     a bare GET, body read: the floor of the transport used until issue 17
    pyreqwest, rnet, httpr    Rust-backed clients
    httpx + <transport>       `httpx.AsyncClient.send` over httpcore, H1Transport and the stock
                              `httpx-aiohttp` transport
    EsuiteClient              the adapter's client over H1Transport and over `httpx-aiohttp`:
                              auth, budget, breaker, metrics, JSON parse

aiohttp, httpx-aiohttp and the Rust-backed clients are not dependencies: their rows appear only
when they are installed in the venv (`.venv/bin/pip install aiohttp httpx-aiohttp`), and a
skipped row says so. The adapter's own aiohttp transport (`EsuiteTransport`) was removed after
issue 17; its figures in bench/README.md were measured at commit 2f863f8.

and the JSON work of the S1 page (50 contacts): `orjson` parse and render, the adapter's R-1
text rewrite. The differences between the lines are what each layer adds; the first lines are
what no change to the adapter's own code can remove.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import timeit
from urllib.parse import quote

import orjson

from bench import canned as C
from bench.procs import free_port, start, wait_http
from bench.run import ROOT


def _cookieless_client(transport):
    """httpx's `AsyncClient` as the adapter sent through it until 2026-12-02 (`EsuiteClient._sent`
    replaced it): no cookie jar, so httpx's per-answer cookie parsing is not measured."""
    import httpx

    class NoCookies(httpx.Cookies):
        def extract_cookies(self, response: httpx.Response) -> None:
            return None

    class CookielessClient(httpx.AsyncClient):
        cookies = property(lambda self: NoCookies(), lambda self, value: None)

    return CookielessClient(transport=transport)


async def _cpu_per_call(call, calls: int, concurrency: int = 8) -> float:
    """CPU µs of this process (all threads) per call, `concurrency` calls in flight."""
    semaphore = asyncio.Semaphore(concurrency)

    async def limited():
        async with semaphore:
            await call()

    await asyncio.gather(*(limited() for _ in range(min(200, calls))))  # warm-up: pool, caches
    cpu = time.process_time()
    await asyncio.gather(*(limited() for _ in range(calls)))
    return (time.process_time() - cpu) / calls * 1e6


async def _candidates(url: str, exits: contextlib.AsyncExitStack) -> dict:
    """name -> one GET of `url` with the body read, for every client worth comparing."""
    import httpx

    from adapter.esuite_client.h1_transport import H1Transport
    from adapter.esuite_client.url_objects import outbound_url

    headers = {"accept": "application/json", "x-request-id": "r", "authorization": "Bearer t"}
    timeout = httpx.Timeout(10.0).as_dict()
    h1 = H1Transport(10)
    exits.push_async_callback(h1.aclose)

    prebuilt = httpx.Request("GET", outbound_url(url), headers=headers, extensions={"timeout": timeout})

    async def bare_h1():  # the transport alone: one request built once, the raw body read
        response = await h1.handle_async_request(prebuilt)
        async for _ in response.stream:
            pass
        await response.stream.aclose()

    def over_httpx(transport):
        http = _cookieless_client(transport)
        exits.push_async_callback(http.aclose)

        async def call():
            request = httpx.Request("GET", outbound_url(url), headers=headers, extensions={"timeout": timeout})
            response = await http.send(request, stream=True)
            await response.aread()
            await response.aclose()

        return call

    found = {"H1Transport alone": bare_h1}
    found.update(await _aiohttp_session(url, headers, exits))
    found.update(await _third_party(url, headers, exits))
    found["httpx + httpcore"] = over_httpx(httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=10)))
    found["httpx + H1Transport"] = over_httpx(H1Transport(10))
    stock = _stock_aiohttp_transport()
    if stock is not None:
        found["httpx + httpx-aiohttp"] = over_httpx(stock)
    return found


def _skipped(row: str, packages: str) -> None:
    print(f"  {row:28s} skipped: {packages} not installed (not a dependency; pip install {packages})")


async def _aiohttp_session(url: str, headers: dict, exits: contextlib.AsyncExitStack) -> dict:
    """A bare aiohttp GET, when aiohttp is installed."""
    try:
        import aiohttp
    except ImportError:
        return {}
    session = await exits.enter_async_context(aiohttp.ClientSession())

    async def bare_aiohttp():
        async with session.get(url, headers=headers) as response:
            await response.read()

    return {"aiohttp ClientSession": bare_aiohttp}


def _stock_aiohttp_transport(max_connections: int = 10):
    """The released `httpx-aiohttp` transport (aiohttp's pool under httpx), or None when it is
    not installed. Its cookie jar and error mapping are not the adapter's: a cost yardstick only."""
    try:
        import httpx
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        return None
    return AiohttpTransport(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    )


def _report_skipped() -> None:
    """One line per comparison row left out because its library is not installed."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        _skipped("aiohttp ClientSession", "aiohttp")
    if _stock_aiohttp_transport() is None:
        _skipped("httpx + httpx-aiohttp", "aiohttp httpx-aiohttp")


async def _third_party(url: str, headers: dict, exits: contextlib.AsyncExitStack) -> dict:
    """Rust-backed clients, when installed (they are not dependencies: `pip install` to compare)."""
    found = {}
    try:
        from pyreqwest.client import ClientBuilder

        reqwest = await exits.enter_async_context(ClientBuilder().max_connections(10).build())

        async def pyreqwest_get():
            response = await reqwest.get(url).headers(headers).build().send()
            await response.bytes()

        found["pyreqwest"] = pyreqwest_get
        found["httpx + pyreqwest (buffered)"] = _over_httpx_pyreqwest(reqwest, url, headers, exits)
    except ImportError:
        pass
    try:
        import rnet

        rnet_client = rnet.Client()

        async def rnet_get():
            response = await rnet_client.get(url, headers=headers)
            await response.bytes()
            response.close()

        found["rnet"] = rnet_get
    except ImportError:
        pass
    try:
        import httpr

        httpr_client = httpr.AsyncClient()

        async def httpr_get():  # a thread pool under asyncio: CPU of every thread counts
            (await httpr_client.get(url, headers=headers)).content  # noqa: B018

        found["httpr (threads)"] = httpr_get
    except ImportError:
        pass
    return found


def _over_httpx_pyreqwest(reqwest, url: str, headers: dict, exits: contextlib.AsyncExitStack):
    """The least an httpx transport over pyreqwest must do (GET, whole body, no error mapping):
    a lower bound for that option, not a usable transport."""
    import httpx

    from adapter.esuite_client.url_objects import outbound_url

    class PyreqwestTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent = reqwest.request(request.method, str(request.url))
            answer = await sent.headers(dict(request.headers.items())).build().send()
            body = bytes(await answer.bytes())
            return httpx.Response(answer.status, headers=list(answer.headers.items()), content=body)

    http = _cookieless_client(PyreqwestTransport())
    exits.push_async_callback(http.aclose)
    timeout = httpx.Timeout(10.0).as_dict()

    async def call():
        request = httpx.Request("GET", outbound_url(url), headers=headers, extensions={"timeout": timeout})
        response = await http.send(request, stream=True)
        await response.aread()
        await response.aclose()

    return call


async def _transports(base: str, calls: int, repeat: int) -> None:
    contact = next(iter(C.Canned(base).klant_links))
    answers = {
        "small answer (S3 klant look-up)": f"{base}{C.CM}/klantcontactmomenten?contactmoment={quote(contact, safe='')}",
        "the S1 page (50 contacts)": f"{base}{C.CM}/contactmomenten?klant={quote(contact, safe='')}",
    }
    for title, url in answers.items():
        async with contextlib.AsyncExitStack() as exits:
            candidates = await _candidates(url, exits)
            for call in candidates.values():
                await call()  # every candidate gets an answer before anything is timed
            samples: dict[str, list[float]] = {name: [] for name in candidates}
            for round_number in range(repeat):
                names = list(candidates)
                rotated = names[round_number % len(names) :] + names[: round_number % len(names)]
                for name in rotated:  # the order rotates, so drift of the machine hits all alike
                    samples[name].append(await _cpu_per_call(candidates[name], calls))
            print(f"one e-Suite call, {title}, GET, 8 in flight, CPU µs per call over {repeat} runs of {calls}:")
            for name, values in samples.items():
                print(f"  {name:28s} min {min(values):6.0f}   median {statistics.median(values):6.0f}", flush=True)
            _report_skipped()


async def _calls(base: str, calls: int, repeat: int) -> None:
    from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
    from adapter.esuite_client.h1_transport import H1Transport
    from adapter.esuite_client.urls import UrlMap
    from adapter.metrics import Metrics

    await _transports(base, calls, repeat)
    contact = next(iter(C.Canned(base).klant_links))
    call = CallContext("request-id", UrlMap("http://adapter.example", base), "user")
    print(f"the adapter's EsuiteClient.fetch_json (auth, budget, breaker, metrics, JSON parse), {repeat} runs:")
    transports = {"H1Transport": H1Transport(10), "httpx-aiohttp": _stock_aiohttp_transport()}
    for name, transport in transports.items():
        if transport is None:
            _skipped(f"over {name}", "aiohttp httpx-aiohttp")
            continue
        esuite = EsuiteClient(
            EsuiteTokenSource("bench", "s" * 40), Metrics(), timeout_seconds=10, max_connections=10, transport=transport
        )

        async def adapter_client(esuite: EsuiteClient = esuite) -> None:
            await esuite.fetch_json(
                call, "GET", f"{base}{C.CM}/klantcontactmomenten", params=[("contactmoment", contact)]
            )

        values = [await _cpu_per_call(adapter_client, calls) for _ in range(repeat)]
        await esuite.aclose()
        print(f"  over {name:23s} min {min(values):6.0f}   median {statistics.median(values):6.0f}", flush=True)


def _json(base: str) -> None:
    from adapter.esuite_client.urls import UrlMap
    from adapter.mapping import contactmoment_read

    raw = C.Canned(base).klant_page
    urls = UrlMap("http://adapter.example", base)
    contacts = orjson.loads(raw)["results"]
    page = {
        "count": 50,
        "next": None,
        "previous": None,
        "results": contactmoment_read.contacts_for_kiss(contacts, urls),
    }

    def per_run(function) -> float:
        runs = 300
        return min(timeit.repeat(function, number=runs, repeat=3)) / runs * 1e6

    print(f"the S1 page ({len(raw):,} bytes, 50 contacts):")
    for name, function in (
        ("orjson parse", lambda: orjson.loads(raw)),
        ("orjson render", lambda: orjson.dumps(page)),
        ("R-2 (contacts_for_kiss)", lambda: contactmoment_read.contacts_for_kiss(contacts, urls)),
        ("render with R-1 rewrite", lambda: urls.rendered(page)),
    ):
        print(f"  {name:28s} {per_run(function):7.0f} µs CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per candidate (min and median are printed)")
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

            uvloop.run(_calls(base, args.calls, args.repeat))
        except ImportError:
            asyncio.run(_calls(base, args.calls, args.repeat))
        _json(base)
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
