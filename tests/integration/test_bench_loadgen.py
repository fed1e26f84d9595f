"""The bench's open-loop driver and OTLP sink over real sockets on 127.0.0.1 (bench/loadgen.py,
bench/otel_sink.py). Only lower bounds that follow from a server's fixed hold, no timings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

import httpx
import pytest

from bench.loadgen import poisson_schedule, run_open
from bench.otel_sink import Sink

pytestmark = pytest.mark.anyio
HOLD_S = 0.05


@contextlib.asynccontextmanager
async def serving(handler):
    """A server on a free port; on exit its connection handlers are ended and awaited, so no
    stream outlives the test's event loop."""
    handlers: set[asyncio.Task] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def slow_server(seen: list[int]):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                seen.append(1)
                await asyncio.sleep(HOLD_S)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    return handle


def options(port: int, **overrides) -> argparse.Namespace:
    values = {
        "url": f"http://127.0.0.1:{port}/x",
        "method": "GET",
        "header": [],
        "rate": 100.0,
        "duration": 0.3,
        "seed": "t",
        "connections": 1,
        "max_connections": 1,
        "timeout": 10.0,
        "unique_prefix": "u",
    }
    return argparse.Namespace(**(values | overrides))


async def test_every_scheduled_request_is_sent_and_latency_runs_from_its_schedule():
    seen: list[int] = []
    async with serving(slow_server(seen)) as port:
        summary = await run_open(options(port), None)
    scheduled = len(poisson_schedule(100.0, 0.3, "t"))
    assert scheduled >= 20
    assert summary["scheduled"] == scheduled
    assert summary["requests"] == scheduled == len(seen)
    assert summary["errors"] == 0
    # One connection, 50 ms per answer, arrivals every ~10 ms: the queue grows. The last
    # request, scheduled before 0.3 s, is answered after ≥ 20 × 50 ms, so its latency from
    # the schedule is ≥ 0.7 s, though its own exchange took ~50 ms (a closed loop would
    # report ~50 ms: coordinated omission).
    assert summary["p99_ms"] >= 700
    assert summary["achieved_rps"] <= 1 / HOLD_S


async def test_reused_connection_closed_by_the_server_is_retried_once():
    async def close_after_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # a keep-alive timeout: closed without an answer
        writer.close()

    async with serving(close_after_one) as port:
        summary = await run_open(options(port, rate=20.0, duration=0.5, seed="r"), None)
    assert summary["requests"] == summary["scheduled"] >= 3
    assert summary["errors"] == 0
    assert summary["stale_retries"] >= 1


async def _chunks():
    yield b"abc"
    yield b"de"


async def test_sink_answers_otlp_posts_and_counts_them():
    sink = Sink()
    async with serving(sink.serve) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            traces = await client.post(
                "/v1/traces", content=b"\x0a\x00" * 500, headers={"Content-Type": "application/x-protobuf"}
            )
            metrics = await client.post(
                "/v1/metrics", content=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"}
            )
            chunked = await client.post("/v1/traces", content=_chunks())
            other = await client.post("/v1/logs", content=b"x")
            stats = await client.get("/_sink/stats")
    assert (traces.status_code, traces.content) == (200, b"")
    assert traces.headers["content-type"] == "application/x-protobuf"
    assert (metrics.status_code, chunked.status_code, other.status_code) == (200, 200, 404)
    assert json.loads(stats.content) == {
        "traces_posts": 2,
        "traces_bytes": 1005,
        "metrics_posts": 1,
        "metrics_bytes": 2,
    }
