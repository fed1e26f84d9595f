"""A small asyncio HTTP/1.1 load generator: the fallback when `wrk` is not installed.

Keep-alive connections, each sending its next request when the previous answer is complete
(closed loop, as wrk). Bodies may carry a marker replaced by a unique value per request.
Prints one JSON line with the same fields as the wrk runner.

    python -m bench.loadgen --url http://127.0.0.1:8080/path -c 8 -d 5 [-H 'Name: value'] \
        [--method POST --body-file F --unique-mark @@UNIQUE@@ --unique-prefix run1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
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
            if body_parts is not None:
                unique = f"{args.unique_prefix}-{index}-{counter}"
                body = (
                    (body_parts[0] + unique + body_parts[1]).encode()
                    if len(body_parts) == 2
                    else body_parts[0].encode()
                )
                request = (base_head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            else:
                request = (base_head + "\r\n").encode()
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
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, int(round(q / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


async def run(args) -> dict:
    body_parts = None
    if args.body_file:
        with open(args.body_file, encoding="utf-8") as handle:
            text = handle.read()
        body_parts = text.split(args.unique_mark, 1) if args.unique_mark else [text]
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
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
