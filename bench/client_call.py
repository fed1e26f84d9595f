"""CPU of one `EsuiteClient` call, the S3 klant look-up: a quick A/B tool for the client.

    .venv/bin/python bench/client_call.py [--calls 3000] [--repeat 7] [--concurrency 1]
    PYTHONPATH=/work/main .venv/bin/python bench/client_call.py      # another checkout's adapter

Run as a file (not `-m`), so that `PYTHONPATH` picks whose `adapter` is measured. Three rows,
each `--repeat` runs of `--calls` calls, min and median CPU µs of this process per call
(`time.process_time`):

    mock  fetch_json   `EsuiteClient.fetch_json` over `httpx.MockTransport` (a 430-byte JSON
                       answer built in memory: the client's own CPU, no socket)
    mock  send POST    `EsuiteClient.send`, a POST with a JSON body, same transport
    raw   fetch_json   `fetch_json` over a transport that answers at once as H1Transport does
                       (head as raw bytes, the body an unread stream of one chunk)
    h1    fetch_json   `fetch_json` over `H1Transport` against `bench/upstream.py` (own process)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # after PYTHONPATH: its `adapter` wins

from bench import canned as C  # noqa: E402
from bench.procs import free_port, start, wait_http  # noqa: E402
from bench.run import ROOT  # noqa: E402


async def _cpu_per_call(call, calls: int, concurrency: int) -> float:
    if concurrency == 1:
        for _ in range(200):
            await call()
        cpu = time.process_time()
        for _ in range(calls):
            await call()
        return (time.process_time() - cpu) / calls * 1e6
    semaphore = asyncio.Semaphore(concurrency)

    async def limited():
        async with semaphore:
            await call()

    await asyncio.gather(*(limited() for _ in range(200)))
    cpu = time.process_time()
    await asyncio.gather(*(limited() for _ in range(calls)))
    return (time.process_time() - cpu) / calls * 1e6


async def _run(base: str, args: argparse.Namespace) -> None:
    import httpx

    import adapter
    from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
    from adapter.esuite_client.h1_transport import H1Transport
    from adapter.esuite_client.urls import UrlMap
    from adapter.metrics import Metrics

    print(f"adapter from {os.path.dirname(adapter.__file__)}")
    canned = C.Canned(base)
    contact, answer = next(iter(canned.klant_links.items()))
    call = CallContext("request-id", UrlMap("http://adapter.example", base), "user")
    url = f"{base}{C.CM}/klantcontactmomenten"
    headers = {"content-type": "application/json"}

    def mock(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=answer)

    def client(transport: httpx.AsyncBaseTransport) -> EsuiteClient:
        return EsuiteClient(
            EsuiteTokenSource("bench", "s" * 40), Metrics(), timeout_seconds=10, max_connections=10, transport=transport
        )

    class Raw(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, headers=list(raw_headers), stream=OneChunk())

    class OneChunk(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield answer

    raw_headers = [(b"Content-Type", b"application/json"), (b"Content-Length", str(len(answer)).encode())]
    over_mock, over_h1, over_raw = client(httpx.MockTransport(mock)), client(H1Transport(10)), client(Raw())

    async def mock_fetch() -> None:
        await over_mock.fetch_json(call, "GET", url, params=[("contactmoment", contact)])

    async def mock_post() -> None:
        await over_mock.send(call, "POST", url, target="contactmomenten", content=b'{"a": 1}', headers=headers)

    async def h1_fetch() -> None:
        await over_h1.fetch_json(call, "GET", url, params=[("contactmoment", contact)])

    async def raw_fetch() -> None:
        await over_raw.fetch_json(call, "GET", url, params=[("contactmoment", contact)])

    rows = {
        "mock  fetch_json": mock_fetch,
        "mock  send POST": mock_post,
        "raw   fetch_json": raw_fetch,
        "h1    fetch_json": h1_fetch,
    }
    found: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.repeat):  # rows interleaved: a noisy moment hits all of them
        for name, row in rows.items():
            found[name].append(await _cpu_per_call(row, args.calls, args.concurrency))
    for name, values in found.items():
        print(f"  {name}   min {min(values):6.1f}   median {statistics.median(values):6.1f} µs", flush=True)
    await over_mock.aclose()
    await over_h1.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    work_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(work_dir, exist_ok=True)
    upstream = start("upstream", [sys.executable, "-m", "bench.upstream", "--port", str(port)], work_dir, cwd=ROOT)
    base = f"http://127.0.0.1:{port}/esuite"
    from adapter.logging import configure_logging

    configure_logging("INFO", "json", stream=open(os.devnull, "w"), cache=True)  # noqa: SIM115
    try:
        wait_http(f"http://127.0.0.1:{port}/_bench/requests", upstream)
        import uvloop

        uvloop.run(_run(base, args))
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
