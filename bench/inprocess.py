"""The adapter's own CPU per request, without the HTTP server: a quick A/B tool for changes.

    .venv/bin/python -m bench.inprocess [S1,S2,S3] [--requests 400] [--concurrency 8] [--latency-ms 0]
                                        [--repeat 1] [--otel | --ab-otel]

Starts the fake e-Suite (`bench/upstream.py`) as its own process, builds the app with
`create_app` exactly as `serve` does (production transport), and calls it as an ASGI
application from the same process, so the CPU time counted (`time.process_time`) is the
adapter's routing, authentication, mapping and e-Suite client, and not uvicorn's HTTP parsing
or a load driver's. Far less noisy than the full bench on a shared machine; the full bench
(`python -m bench`) stays the number to report.

`--otel` switches OpenTelemetry on as `serve` would (server and client spans, the duration
histogram, trace ids in log lines), with the batch span processor feeding an exporter that
drops what it gets: the adapter's own tracing cost, not a collector's network. `--repeat N`
measures N runs after the warm-up and prints the minimum and the median. `--ab-otel` builds
both apps and alternates their runs (off, on, off, on, …) in one process, printing the ratios:
on a shared machine the figure to report (both apps' log lines go through the trace-id
processor, which costs ~2 µs a line without a span).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import time
from urllib.parse import quote

from bench import canned as C
from bench.procs import free_port, start, wait_http
from bench.run import ROOT, adapter_environment

_EXPECTED = (200, 201, 404)  # auth404 is a 404 on purpose
_DEVNULL = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)


def _scope(method: str, target: str, headers: list[tuple[bytes, bytes]]) -> dict:
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app, scope: dict, body: bytes) -> tuple[int, bytes]:
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _batch_runner(app, name: str, method: str, target: str, headers: list, args):
    """An async function measuring one batch of the scenario: CPU µs per request, wall ms, answer."""
    post_headers = headers + [(b"content-type", b"application/json")]
    counter = iter(range(10**9))
    semaphore = asyncio.Semaphore(args.concurrency)
    count = args.requests if name != "S3" else max(20, args.requests // 20)

    async def one():
        if method == "POST":
            body = C.contactverzoek_body().replace("Kenmerk", f"Kenmerk {next(counter)}").encode()
            return await _call(app, _scope(method, target, post_headers), body)
        return await _call(app, _scope(method, target, headers), b"")

    async def limited():
        async with semaphore:
            return await one()

    async def batch() -> tuple[float, float, int]:
        status, body = await one()
        assert status in _EXPECTED, (name, status, body[:300])
        started, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(limited() for _ in range(count)))
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - started
        assert all(status in _EXPECTED for status, _ in results)
        return cpu / count * 1e6, wall / count * 1e3, len(body)

    return batch, count


async def _measure(app, name: str, method: str, target: str, headers: list, args) -> None:
    batch, count = _batch_runner(app, name, method, target, headers, args)
    runs = [await batch() for _ in range(1 + args.repeat)][1:]  # warm-up, then the measured runs
    measured = [cpu for cpu, _, _ in runs]
    _, wall, size = runs[-1]
    otel = " otel" if args.otel else ""
    print(
        f"{name}{otel}: {min(measured):9.0f} µs CPU/request min, {statistics.median(measured):.0f} median of "
        f"{len(measured)} ({count} requests, {args.concurrency} at a time, {wall:.2f} ms wall/request, "
        f"answer {size} bytes)",
        file=sys.stderr,
        flush=True,
    )


async def _measure_ab(apps, name: str, method: str, target: str, headers: list, args) -> None:
    """OpenTelemetry off and on, batches alternating in one process (ABBA): drift of a shared
    machine or of the fake e-Suite falls on both alike. Prints both and the ratio of their minimums and medians."""
    off, count = _batch_runner(apps[0], name, method, target, headers, args)
    on, _ = _batch_runner(apps[1], name, method, target, headers, args)
    await off()
    await on()  # warm-up
    runs: tuple[list[float], list[float]] = ([], [])
    for index in range(args.repeat):
        # ABBA order: a drift over the run (the fake e-Suite's store grows with S2) falls on both.
        for which in (0, 1) if index % 2 == 0 else (1, 0):
            runs[which].append((await (off, on)[which]())[0])
    (off_min, on_min), (off_med, on_med) = ((min(r) for r in runs), (statistics.median(r) for r in runs))
    print(
        f"{name}: off {off_min:.0f} / on {on_min:.0f} µs CPU/request min (x{on_min / off_min:.2f}), "
        f"median {off_med:.0f} / {on_med:.0f} (x{on_med / off_med:.2f}), {args.repeat} alternating runs "
        f"of {count} requests",
        file=sys.stderr,
        flush=True,
    )


def _telemetry():
    """OpenTelemetry as `serve` builds it, exporting into nothing (see the module text)."""
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from adapter.telemetry import Telemetry

    class Dropped(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    return Telemetry.with_exporters(BatchSpanProcessor(Dropped()), InMemoryMetricReader())


async def _run(args) -> None:
    from adapter.app import create_app
    from adapter.cli import freeze_startup_heap, raise_young_threshold
    from adapter.config import load_settings
    from adapter.kiss_api.auth import mint_token
    from adapter.logging import configure_logging

    upstream_port = free_port()
    work_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(work_dir, exist_ok=True)
    upstream = start(
        "upstream", [sys.executable, "-m", "bench.upstream", "--port", str(upstream_port)], work_dir, cwd=ROOT
    )
    try:
        wait_http(f"http://127.0.0.1:{upstream_port}/_bench/requests", upstream)
        wait_http(f"http://127.0.0.1:{upstream_port}/_bench/latency?ms={args.latency_ms}", upstream, expect=204)
        keys = {"esuite": secrets.token_urlsafe(36), "kiss": secrets.token_urlsafe(36)}
        env = adapter_environment(upstream_port, 8000, args.log_level, keys)
        settings = load_settings(env).settings
        # Log lines are rendered as in production, then dropped: only their cost is wanted.
        tracing = args.otel or args.ab_otel
        configure_logging(settings.log_level, "json", stream=_DEVNULL, cache=True, tracing=tracing)
        app = create_app(settings, telemetry=_telemetry() if args.otel else None)
        traced = create_app(settings, telemetry=_telemetry()) if args.ab_otel else None
        freeze_startup_heap()  # as `serve` does before it serves
        raise_young_threshold()
        token = mint_token("bench-kiss", keys["kiss"], time.time(), ttl=86400, user_id="bench")
        headers = [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode())]
        adapter_base = "http://127.0.0.1:8000"
        klant = f"{adapter_base}/klanten/api/v1/klanten/{C.KLANT_UUID}"
        targets = {
            "S1": ("GET", f"/contactmomenten/api/v1/contactmomenten?klant={quote(klant, safe='')}"),
            "S2": ("POST", "/contactmomenten/api/v1/contactmomenten"),
            "healthz": ("GET", "/healthz"),
            "auth404": ("GET", "/contactmomenten/api/v1/onbekend/x/y"),
            "S3": (
                "GET",
                (
                    f"/api/v2/objects?type={quote(C.INTERNE_TAAK_TYPE, safe='')}"
                    f"&data_attr=betrokkene__digitaleAdressen__icontains__{C.PHONE}"
                ),
            ),
        }
        async with app.router.lifespan_context(app), contextlib.AsyncExitStack() as stack:
            if traced is not None:
                await stack.enter_async_context(traced.router.lifespan_context(traced))
            for name in args.scenarios.split(","):
                method, target = targets[name]
                if traced is not None:
                    await _measure_ab((app, traced), name, method, target, headers, args)
                else:
                    await _measure(app, name, method, target, headers, args)
    finally:
        upstream.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("scenarios", nargs="?", default="S1,S2,S3")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--latency-ms", type=float, default=0, help="the fake e-Suite's latency per answer")
    parser.add_argument("--repeat", type=int, default=1, help="measured runs after the warm-up (min and median)")
    parser.add_argument("--otel", action="store_true", help="OpenTelemetry on, spans to a dropping exporter")
    parser.add_argument("--ab-otel", action="store_true", help="off and on alternating in one process, with ratios")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(_run(args))
    except ImportError:
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
