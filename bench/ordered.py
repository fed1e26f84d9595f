"""Cost of C-5 global ordering: a klant with 1, 3 and 10 e-Suite pages of contactmomenten.

    .venv/bin/python -m bench.ordered [--requests 200] [--concurrency 4] [--latency-ms 0]

A fake e-Suite (this module with `--serve`, its own process, raw asyncio HTTP/1.1) answers
`GET {cm}/contactmomenten?klant=k<P>[&page=N]` with page N of P pages of 20 contacts
(`bench/canned.py` contacts, pre-serialised). The adapter is built with `create_app` as `serve`
does (production transport) and called as an ASGI app in this process, so the CPU counted
(`time.process_time`) is the adapter's alone, as in `bench.inprocess`. Scenarios:

    plain     `klant=k10` without `ordering`: one e-Suite page, the e-Suite's order (baseline)
    ordered-P `klant=kP&ordering=-registratiedatum`: P pages read (8 at a time), sorted, page 1 served

Printed per scenario: e-Suite round trips per request (counted by the fake e-Suite), CPU per
request, its ratio to `plain`, and wall time per request (with `--latency-ms`, the time the
concurrent page reads save shows here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import time
from urllib.parse import parse_qs, urlsplit

from bench import canned as C
from bench.inprocess import _call, _scope
from bench.procs import free_port, start, wait_http
from bench.run import ROOT, adapter_environment

PAGE_SIZE = 20  # the e-Suite's (esuite.md §8.1)
KLANTEN = {"k1": 1, "k3": 3, "k10": 10}
_DEVNULL = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)


# --- the fake e-Suite -------------------------------------------------------------------------


def _answer(status: int, body: bytes) -> bytes:
    return b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        status,
        len(body),
        body,
    )


def _pages(base: str) -> dict[tuple[str, int], bytes]:
    """Every page of every klant, pre-serialised; contacts of a klant are distinct."""
    rng = random.Random(14)
    listing = f"{base}{C.CM}/contactmomenten"
    answers = {}
    for klant, pages in KLANTEN.items():
        contacts = [C._contact(rng, base, index, contactverzoek=index % 4 == 0) for index in range(pages * PAGE_SIZE)]
        for page in range(1, pages + 1):
            answers[(klant, page)] = _answer(
                200,
                C.dumps(
                    {
                        "count": len(contacts),
                        "next": f"{listing}?klant={klant}&page={page + 1}" if page < pages else None,
                        "previous": (f"{listing}?klant={klant}" + (f"&page={page - 1}" if page > 2 else ""))
                        if page > 1
                        else None,
                        "results": contacts[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
                    }
                ),
            )
    return answers


class _FakeEsuite(asyncio.Protocol):
    answers: dict[tuple[str, int], bytes] = {}
    requests = 0
    latency = 0.0

    def connection_made(self, transport) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            answer = self._answer_for(target)
            if self.latency:
                asyncio.get_running_loop().call_later(self.latency, self.transport.write, answer)
            else:
                self.transport.write(answer)

    def _answer_for(self, target: str) -> bytes:
        url = urlsplit(target)
        query = parse_qs(url.query)
        if url.path == "/_bench/requests":
            return _answer(200, str(_FakeEsuite.requests).encode())
        if url.path == "/_bench/latency":
            _FakeEsuite.latency = float(query["ms"][0]) / 1000
            return _answer(200, b"{}")
        _FakeEsuite.requests += 1
        key = (query.get("klant", [""])[0], int(query.get("page", ["1"])[0]))
        return self.answers.get(key) or _answer(404, b'{"code":"NOT_FOUND"}')


async def _serve(port: int) -> None:
    _FakeEsuite.answers = _pages(f"http://127.0.0.1:{port}/esuite")
    server = await asyncio.get_running_loop().create_server(_FakeEsuite, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


# --- the measurement ----------------------------------------------------------------------------


async def _esuite_requests(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /_bench/requests HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
    body = await reader.readexactly(length)
    writer.close()
    return int(body)


async def _measure(app, port: int, name: str, target: str, headers: list, args) -> dict:
    scope = _scope("GET", target, headers)
    status, body = await _call(app, scope, b"")
    assert status == 200, (name, status, body[:300])
    count = args.requests if "10" not in name else max(20, args.requests // 3)
    semaphore = asyncio.Semaphore(args.concurrency)

    async def one():
        async with semaphore:
            return await _call(app, _scope("GET", target, headers), b"")

    for _ in range(2):  # warm-up, then the measured run
        before = await _esuite_requests(port)
        started, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(one() for _ in range(count)))
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - started
        round_trips = (await _esuite_requests(port) - before) / count
    assert all(status == 200 for status, _ in results)
    return {"name": name, "round_trips": round_trips, "cpu_us": cpu / count * 1e6, "wall_ms": wall / count * 1e3}


async def _run(args) -> None:
    from adapter.app import create_app
    from adapter.config import load_settings
    from adapter.kiss_api.auth import mint_token
    from adapter.logging import configure_logging

    port = free_port()
    work_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(work_dir, exist_ok=True)
    fake = start("ordered-esuite", [sys.executable, "-m", "bench.ordered", "--serve", str(port)], work_dir, cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/_bench/requests", fake)
        wait_http(f"http://127.0.0.1:{port}/_bench/latency?ms={args.latency_ms}", fake)
        keys = {"esuite": secrets.token_urlsafe(36), "kiss": secrets.token_urlsafe(36)}
        settings = load_settings(adapter_environment(port, 8000, args.log_level, keys)).settings
        configure_logging(settings.log_level, "json", stream=_DEVNULL, cache=True)
        app = create_app(settings)
        token = mint_token("bench-kiss", keys["kiss"], time.time(), ttl=86400, user_id="bench")
        headers = [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode())]
        path = "/contactmomenten/api/v1/contactmomenten"
        scenarios = [("plain", f"{path}?klant=k10")] + [
            (f"ordered-{pages}", f"{path}?klant=k{pages}&ordering=-registratiedatum") for pages in KLANTEN.values()
        ]
        async with app.router.lifespan_context(app):
            rows = [await _measure(app, port, name, target, headers, args) for name, target in scenarios]
    finally:
        fake.stop()
    plain = rows[0]["cpu_us"]
    print(
        f"{'scenario':<11} {'e-Suite calls':>13} {'CPU µs/req':>11} {'×plain':>7} {'wall ms/req':>12}", file=sys.stderr
    )
    for row in rows:
        print(
            f"{row['name']:<11} {row['round_trips']:>13.1f} {row['cpu_us']:>11.0f} {row['cpu_us'] / plain:>7.2f} "
            f"{row['wall_ms']:>12.2f}",
            file=sys.stderr,
            flush=True,
        )
    print(
        f"({args.requests} requests, {args.concurrency} at a time, e-Suite latency {args.latency_ms} ms, "
        f"pages of {PAGE_SIZE})",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--latency-ms", type=float, default=0, help="the fake e-Suite's latency per answer")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
