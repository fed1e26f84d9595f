"""S1's floor: what the libraries under the adapter cost for S1's work, served, layer by layer.

    .venv/bin/python -m bench.lean_floor [--rounds 3] [--window 4] [--connections 32]

    .venv/bin/python -m bench.profile S1 --adapter-module bench.lean_floor --adapter-env LEAN_LAYER=s1

Issue 17 asks what remains between the adapter and 500 µs of CPU per S1 request. This starts
the fake e-Suite, the real adapter and three lean servers on the same stack (uvicorn with
httptools and uvloop, as `serve` runs it; one bare ASGI callable, no Starlette), and measures
the CPU per S1 request of each, with wrk, the targets rotated each round as `python -m bench`
does:

    static   answers the adapter's own S1 answer bytes, canned: uvicorn, the sockets and the
             kernel for one request and one 50-contact answer, no e-Suite call
    proxy    + one e-Suite call per request: `httpx.Request` over the adapter's `H1Transport`,
             the page read, returned as it is (no JSON work)
    s1       + the JSON work of S1 as the adapter's route does it, with the adapter's own
             functions: the client query parsed, the e-Suite query and its SEC-15 check, the
             page parsed, the 50 contacts mapped (R-rules), the C-6 links, RW-4 and the
             rendering, and one orjson log line written and flushed per request. Its answer is
             checked to be byte-identical to the adapter's before measuring.

What the lean `s1` leaves out, and the adapter does: Starlette's routing, the request
pipeline (path guard, head limits, request id, access log via structlog, problem rendering),
the bearer token check (cached, ~1 µs), and `EsuiteClient`'s layers (the JWT `httpx.Auth`,
the URL checks of issue 10, retries, the breaker, the time budget, metrics, the answer's
bounds). `adapter − s1` is the price of those; `s1` is what no change to them can remove.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from bench import canned as C

LAYERS = ("static", "proxy", "s1")
ROUTE = "/contactmomenten/api/v1/contactmomenten"


# --- the lean servers ---------------------------------------------------------------------------


def _lean_app(layer: str, esuite_base: str, adapter_base: str, static_body: bytes | None):
    """The bare ASGI callable of one layer (imports the adapter's mapping and transport)."""
    import httpx
    import orjson

    from adapter.esuite_client.h1_transport import H1Transport
    from adapter.esuite_client.url_objects import outbound_url
    from adapter.esuite_client.urls import UrlMap
    from adapter.mapping import contactmoment_lists, contactmoment_read, paging
    from adapter.mapping import query as q
    from adapter.mapping.paths import is_under_root

    urls = UrlMap(adapter_base, esuite_base)
    root = urls.esuite_root("contactmomenten")
    transport = H1Transport(10)
    head = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    out = sys.stdout.buffer

    async def esuite_page(query_string: bytes) -> tuple[bytes, Any, list]:
        pairs = q.parse_client_query(query_string)
        query = contactmoment_lists.parse_contactmomenten_list_query(pairs, urls)
        url = f"{root}/contactmomenten?{q.encode_query(query.upstream)}"
        if not is_under_root(url, root):
            raise ValueError("SEC-15")
        answer = await transport.handle_async_request(httpx.Request("GET", outbound_url(url)))
        body = b"".join([chunk async for chunk in answer.aiter_raw()])
        await answer.aclose()
        return body, query, pairs

    def mapped(body: bytes, query: Any, pairs: list) -> bytes:
        page = paging.esuite_page(orjson.loads(body))
        links = [paging.pagination_link(adapter_base, ROUTE, pairs, link) for link in (page.next, page.previous)]
        items = contactmoment_lists.ordered(contactmoment_read.contacts_for_kiss(page.results, urls), query.ordering)
        return urls.rendered({"count": page.count, "next": links[0], "previous": links[1], "results": items})

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        if scope["path"] == "/healthz" or layer == "static":
            body = b"{}" if scope["path"] == "/healthz" else static_body
        else:
            body, query, pairs = await esuite_page(scope["query_string"])
            if layer == "s1":
                body = mapped(body, query, pairs)
        await send(head)
        await send({"type": "http.response.body", "body": body})
        if layer == "s1":
            line = {"event": "request", "method": scope["method"], "path": scope["path"], "status": 200}
            line["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
            out.write(orjson.dumps(line) + b"\n")
            out.flush()

    return app


def serve(layer: str, host: str, port: int) -> None:
    """One lean server (`--adapter-module bench.lean_floor --adapter-env LEAN_LAYER=s1` runs it
    in `bench.profile`'s place of the adapter)."""
    import gc

    import uvicorn

    from adapter.cli import COLLECTOR_THRESHOLDS

    static_body = None
    if layer == "static":
        with open(os.environ["LEAN_STATIC_BODY"], "rb") as handle:
            static_body = handle.read()
    app = _lean_app(layer, os.environ["ESUITE_BASE_URL"], os.environ["ADAPTER_BASE_URL"], static_body)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    gc.collect()
    gc.freeze()  # as `serve` does (adapter.cli.freeze_startup_heap, raise_young_threshold)
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    uvicorn.Server(config).run()


# --- the measurement ----------------------------------------------------------------------------


def _start_lean(layer: str, port: int, env: dict[str, str], work_dir: str):
    from bench.procs import start
    from bench.run import ROOT

    argv = [sys.executable, "-m", "bench.lean_floor", "serve", "--layer", layer, "--port", str(port)]
    return start(f"lean-{layer}", argv, work_dir, env=env, cwd=ROOT)


def _answer(origin: str, token: str) -> bytes:
    import urllib.request

    klant = f"{origin}/klanten/api/v1/klanten/{C.KLANT_UUID}"
    request = urllib.request.Request(
        f"{origin}{ROUTE}?klant={quote(klant, safe='')}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def _same_origin_answer(raw: bytes, from_origin: str, to_origin: str) -> bytes:
    """The adapter's answer as a server on another port emits it (its own origin in URLs)."""
    for old, new in ((from_origin, to_origin), (quote(from_origin, safe=""), quote(to_origin, safe=""))):
        raw = raw.replace(old.encode(), new.encode())
    return raw


def _window(proc, origin: str, token: str, args, work_dir: str, wrk: str, tag: str) -> float:
    from bench.drivers import run_load

    klant = f"{origin}/klanten/api/v1/klanten/{C.KLANT_UUID}"
    cpu0 = proc.cpu()
    result = run_load(
        "wrk",
        wrk,
        f"{origin}{ROUTE}?klant={quote(klant, safe='')}",
        method="GET",
        headers={"Authorization": f"Bearer {token}"},
        body_parts=None,
        unique=tag,
        connections=args.connections,
        seconds=args.window,
        work_dir=work_dir,
    )
    if result["non2xx"] or result["errors"]:
        raise RuntimeError(f"{tag}: {result['non2xx']} non-2xx, {result['errors']} errors")
    return (proc.cpu() - cpu0) / max(1, result["requests"]) * 1e6


def _token(keys: dict[str, str]) -> str:
    from bench.run import ROOT

    argv = [sys.executable, "-m", "adapter", "token", "--client-id", "bench-kiss", f"--secret={keys['kiss']}"]
    argv += ["--user-id", "bench", "--ttl", "86400"]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


@dataclasses.dataclass
class ServedBench:
    """wrk, a work folder, the fake e-Suite on `up_port` and the keys for the servers under test;
    `procs` holds every process started, stopped when the `served_bench` block ends."""

    wrk: str
    work_dir: str
    up_port: int
    keys: dict[str, str]
    procs: dict[str, Any]


@contextlib.contextmanager
def served_bench(tool: str, prefix: str) -> Iterator[ServedBench]:
    from bench.procs import ensure_tool, free_port, start, wait_http
    from bench.run import RESULTS, ROOT, say

    wrk = ensure_tool("wrk", "wrk", True, say)
    if wrk is None:
        raise SystemExit(f"{tool} needs wrk")
    os.makedirs(RESULTS, exist_ok=True)
    work_dir = tempfile.mkdtemp(prefix=prefix, dir=RESULTS)
    up_port = free_port()
    upstream = [sys.executable, "-m", "bench.upstream", "--port", str(up_port)]
    procs = {"upstream": start("upstream", upstream, work_dir, cwd=ROOT)}
    try:
        wait_http(f"http://127.0.0.1:{up_port}/_bench/requests", procs["upstream"])
        keys = {"esuite": secrets.token_urlsafe(36), "kiss": secrets.token_urlsafe(36)}
        yield ServedBench(wrk, work_dir, up_port, keys, procs)
    finally:
        for proc in procs.values():
            proc.stop()


def rotated_rounds(bench: ServedBench, ports: dict[str, int], token: str, args) -> dict[str, list[float]]:
    """S1's CPU per request of each target in `ports`: a warm-up window each, then `args.rounds`
    rounds with the order rotated, as `python -m bench` does."""
    from bench.run import say

    targets = list(ports)
    cpu: dict[str, list[float]] = {t: [] for t in targets}
    for t in targets:  # warm-up
        _window(bench.procs[t], f"http://127.0.0.1:{ports[t]}", token, args, bench.work_dir, bench.wrk, f"warm-{t}")
    for r in range(args.rounds):
        for t in targets[r % len(targets) :] + targets[: r % len(targets)]:
            origin = f"http://127.0.0.1:{ports[t]}"
            cpu[t].append(_window(bench.procs[t], origin, token, args, bench.work_dir, bench.wrk, f"{r}-{t}"))
            say(f"round {r + 1}/{args.rounds} {t:10s} {cpu[t][-1]:6.0f} µs/req")
    return cpu


def measure(args) -> dict[str, list[float]]:
    from bench.procs import free_port, start, wait_http
    from bench.run import ROOT, adapter_environment

    with served_bench("lean_floor", "lean-") as bench:
        procs, work_dir = bench.procs, bench.work_dir
        ports = {name: free_port() for name in ("adapter", *LAYERS)}
        env = adapter_environment(bench.up_port, ports["adapter"], "INFO", bench.keys)
        adapter = [sys.executable, "-m", "adapter", "serve", "--port", str(ports["adapter"])]
        procs["adapter"] = start("adapter", adapter, work_dir, env=env, cwd=ROOT)
        wait_http(f"http://127.0.0.1:{ports['adapter']}/healthz", procs["adapter"], timeout=30)
        token = _token(bench.keys)
        reference = _answer(f"http://127.0.0.1:{ports['adapter']}", token)
        for layer in LAYERS:
            origin = f"http://127.0.0.1:{ports[layer]}"
            same_origin = _same_origin_answer(reference, f"http://127.0.0.1:{ports['adapter']}", origin)
            body_file = os.path.join(work_dir, f"static-{layer}.json")
            with open(body_file, "wb") as handle:
                handle.write(same_origin)
            lean_env = dict(env, ADAPTER_BASE_URL=origin, LEAN_STATIC_BODY=body_file)
            procs[layer] = _start_lean(layer, ports[layer], lean_env, work_dir)
            wait_http(f"{origin}/healthz", procs[layer], timeout=30)
            if layer in ("static", "s1") and _answer(origin, token) != same_origin:
                raise SystemExit(f"lean {layer}: its answer differs from the adapter's")
        return rotated_rounds(bench, ports, token, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", nargs="?", choices=("serve",))
    parser.add_argument("--layer", choices=LAYERS, default=os.environ.get("LEAN_LAYER", "s1"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.layer, args.host, args.port)
        return 0
    cpu = measure(args)
    print(f"\nS1 CPU µs per request, {args.rounds} rounds x {args.window} s, wrk -c{args.connections} (min / median):")
    for target, values in cpu.items():
        print(f"  {target:8s} {min(values):6.0f} / {statistics.median(values):6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
