"""A small asyncio HTTP/1.1 load generator: the fallback when `wrk` is not installed, and the
open-loop driver wrk cannot be.

Closed loop (default, as wrk): keep-alive connections, each sending its next request when the
previous answer is complete. Bodies may carry a marker replaced by a unique value per request.

Open loop (`--rate R`): requests arrive at Poisson times (exponential gaps, mean 1/R, from
`--seed`, so two targets can get the very same schedule) whether or not earlier ones are
answered. Each is sent on an idle keep-alive connection, or a new one up to `--max-connections`,
else it waits for one; its latency runs from its *scheduled* time, so waiting behind a slow
answer counts (no coordinated omission). Requests scheduled in the window are all awaited
(up to `--timeout` past its end); throughput is those answered over the time to the last answer.

Prints one JSON line with the same fields as the wrk runner (open loop adds offered_rps,
achieved_rps, lag_p99_ms, connections_opened, stale_retries).

    python -m bench.loadgen --url http://127.0.0.1:8080/path -c 8 -d 5 [-H 'Name: value'] \
        [--method POST --body-file F --unique-mark @@UNIQUE@@ --unique-prefix run1]
    python -m bench.loadgen --url ... --rate 500 --seed 7 -c 8 --max-connections 64 -d 5
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import random
import sys
import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit


class Result:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.bytes = 0
        self.non2xx = 0
        self.errors = 0


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> int:
    lower = head.lower()
    if b"\r\ntransfer-encoding: chunked" in lower:
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                return total
            remaining = size
            while remaining:
                chunk = await reader.read(min(remaining, 1 << 20))
                if not chunk:
                    raise ConnectionError("eof in chunk")
                remaining -= len(chunk)
            await reader.readexactly(2)
            total += size
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    stop = lower.find(b"\r\n", at + 2)
    remaining = length = int(lower[at + 17 : stop if stop > 0 else None].strip())
    while remaining:
        chunk = await reader.read(min(remaining, 1 << 20))
        if not chunk:
            raise ConnectionError("eof in body")
        remaining -= len(chunk)
    return length


async def _connection(args, index: int, deadline: float, result: Result, body_parts) -> None:
    parts = urlsplit(args.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    base_head = f"{args.method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
        f"{h}\r\n" for h in args.header
    )
    counter = 0
    reader = writer = None
    while time.monotonic() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80, limit=1 << 20)
            counter += 1
            request = _request_bytes(base_head, body_parts, f"{args.unique_prefix}-{index}-{counter}")
            started = time.monotonic()
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), args.timeout)
            size = await asyncio.wait_for(_read_body(reader, head), args.timeout)
            finished = time.monotonic()
            if finished > deadline:
                break
            status = int(head[9:12])
            result.latencies.append(finished - started)
            result.bytes += len(head) + size
            if not 200 <= status < 300:
                result.non2xx += 1
            if b"\r\nconnection: close" in head.lower():
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            result.errors += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile of an ascending list (the ⌈q·n/100⌉-th value); 0 when empty.
    (Before 2026-12-02 this was round(q·n/100 + 0.5), which rounds half to even: p99 of 100 values
    came out as the largest.)"""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values) / 100) - 1))
    return sorted_values[index]


def arrival_gaps(rate: float, uniforms: Iterable[float]) -> Iterator[float]:
    """Exponential gaps of mean 1/rate seconds, one per uniform in [0, 1): a Poisson process."""
    for u in uniforms:
        yield -math.log(1.0 - u) / rate


def poisson_schedule(rate: float, duration: float, seed: int | str) -> list[float]:
    """Arrival times in seconds from the start, ascending, all before `duration`; the same
    list for the same seed (so direct and adapter windows replay one schedule)."""
    if rate <= 0 or duration <= 0:
        return []
    rng = random.Random(seed)
    times: list[float] = []
    at = 0.0
    for gap in arrival_gaps(rate, iter(rng.random, None)):
        at += gap
        if at >= duration:
            return times
        times.append(at)
    return times


async def run(args) -> dict:
    body_parts = None
    if args.body_file:
        with open(args.body_file, encoding="utf-8") as handle:
            text = handle.read()
        body_parts = text.split(args.unique_mark, 1) if args.unique_mark else [text]
    if args.rate:
        return await run_open(args, body_parts)
    result = Result()
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.gather(*(_connection(args, i, deadline, result, body_parts) for i in range(args.connections)))
    elapsed = time.monotonic() - started
    latencies = sorted(result.latencies)
    return {
        "requests": len(latencies),
        "duration_s": elapsed,
        "bytes": result.bytes,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": (sum(latencies) / len(latencies) * 1000) if latencies else 0.0,
        "non2xx": result.non2xx,
        "errors": result.errors,
        "tool": "asyncio",
    }


# --- open loop ----------------------------------------------------------------------------------


class _Pool:
    """Keep-alive connections for the open loop: the longest idle is used first (so none sits
    idle into the server's keep-alive timeout), at most `limit` in use, FIFO waiting beyond."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self.idle: collections.deque = collections.deque()
        self.slots = asyncio.Semaphore(limit)
        self.opened = 0

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port, limit=1 << 20)


class OpenResult(Result):
    def __init__(self) -> None:
        super().__init__()
        self.lags: list[float] = []
        self.service: list[float] = []
        self.last_answer = 0.0
        self.stale_retries = 0


async def _exchange(conn, request: bytes, timeout: float) -> tuple[bytes, int]:
    reader, writer = conn
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    return head, await asyncio.wait_for(_read_body(reader, head), timeout)


def _stale(error: BaseException) -> bool:
    """A pooled connection the server had closed: nothing of an answer came back."""
    if isinstance(error, asyncio.IncompleteReadError):
        return not error.partial
    return isinstance(error, ConnectionResetError | BrokenPipeError)


async def _scheduled_request(pool: _Pool, request: bytes, due: float, timeout: float, result: OpenResult) -> None:
    # Lag: how late the driver itself started the request (a busy event loop, timer rounding),
    # before any wait for a free connection, which is the target's doing and counts as latency.
    result.lags.append(time.monotonic() - due)
    async with pool.slots:
        sent = time.monotonic()
        for attempt in (0, 1):
            reused = bool(pool.idle)
            try:
                conn = pool.idle.popleft() if reused else await pool.connect()
            except OSError:
                result.errors += 1
                return
            try:
                head, size = await _exchange(conn, request, timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as error:
                conn[1].close()
                if reused and attempt == 0 and _stale(error):
                    result.stale_retries += 1  # as any keep-alive client does; the latency keeps counting
                    continue
                result.errors += 1
                return
            finished = time.monotonic()
            result.latencies.append(finished - due)
            result.service.append(finished - sent)
            result.last_answer = max(result.last_answer, finished)
            result.bytes += len(head) + size
            if not 200 <= int(head[9:12]) < 300:
                result.non2xx += 1
            if b"\r\nconnection: close" in head.lower():
                conn[1].close()
            else:
                pool.idle.append(conn)
            return


async def run_open(args, body_parts) -> dict:
    parts = urlsplit(args.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    base_head = f"{args.method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
        f"{h}\r\n" for h in args.header
    )
    pool = _Pool(parts.hostname or "127.0.0.1", parts.port or 80, args.max_connections)
    for _ in range(min(args.connections, args.max_connections)):
        pool.idle.append(await pool.connect())
    schedule = poisson_schedule(args.rate, args.duration, args.seed)
    result = OpenResult()
    tasks = []
    started = time.monotonic()
    for counter, offset in enumerate(schedule):
        due = started + offset
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        request = _request_bytes(base_head, body_parts, f"{args.unique_prefix}-{counter}")
        tasks.append(asyncio.create_task(_scheduled_request(pool, request, due, args.timeout, result)))
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=args.timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        result.errors += len(pending)
    for _, writer in pool.idle:
        writer.close()
    for _, writer in pool.idle:
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    elapsed = max(args.duration, result.last_answer - started)
    return open_summary(result, len(schedule), args.rate, elapsed) | {"connections_opened": pool.opened}


def open_summary(result: OpenResult, scheduled: int, rate: float, elapsed: float) -> dict:
    latencies, lags, service = sorted(result.latencies), sorted(result.lags), sorted(result.service)
    answered = len(latencies)
    return {
        "requests": answered,
        "scheduled": scheduled,
        "duration_s": elapsed,
        "bytes": result.bytes,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": (sum(latencies) / answered * 1000) if answered else 0.0,
        "service_p50_ms": percentile(service, 50) * 1000,
        "lag_p50_ms": percentile(lags, 50) * 1000,
        "lag_p99_ms": percentile(lags, 99) * 1000,
        "offered_rps": rate,
        "achieved_rps": answered / elapsed if elapsed else 0.0,
        "non2xx": result.non2xx,
        "errors": result.errors,
        "stale_retries": result.stale_retries,
        "tool": "asyncio-open",
    }


def _request_bytes(base_head: str, body_parts, unique: str) -> bytes:
    if body_parts is None:
        return (base_head + "\r\n").encode()
    body = (body_parts[0] + unique + body_parts[1]).encode() if len(body_parts) == 2 else body_parts[0].encode()
    return (base_head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="small asyncio HTTP/1.1 load generator")
    parser.add_argument("--url", required=True)
    parser.add_argument("-c", "--connections", type=int, default=8)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body-file")
    parser.add_argument("--unique-mark", default="")
    parser.add_argument("--unique-prefix", default="u")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: Poisson arrivals per second")
    parser.add_argument("--seed", default="0", help="open loop: the schedule's seed")
    parser.add_argument("--max-connections", type=int, default=64, help="open loop: connections at most")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
