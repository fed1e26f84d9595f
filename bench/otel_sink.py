"""A do-nothing OTLP/HTTP collector for the bench's `adapter+otel` target.

Answers 200 with an empty protobuf body (a valid, empty Export…ServiceResponse) to every POST
on /v1/traces and /v1/metrics and throws the body away: the adapter pays for building,
batching, encoding and sending its telemetry, as against a real collector, but nothing
decodes it. `GET /_sink/stats` answers the counts as JSON (posts and bytes per path), so the
bench can show the spans did leave the adapter. Anything else is a 404.

    python -m bench.otel_sink --port 4318
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

SIGNALS = (b"/v1/traces", b"/v1/metrics")
MAX_HEAD = 64 * 1024
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Sink:
    def __init__(self) -> None:
        self.posts = dict.fromkeys(SIGNALS, 0)
        self.bytes = dict.fromkeys(SIGNALS, 0)

    def stats(self) -> bytes:
        return json.dumps(
            {
                "traces_posts": self.posts[b"/v1/traces"],
                "traces_bytes": self.bytes[b"/v1/traces"],
                "metrics_posts": self.posts[b"/v1/metrics"],
                "metrics_bytes": self.bytes[b"/v1/metrics"],
            }
        ).encode()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target = head.split(b" ", 2)[:2]
                path = target.split(b"?", 1)[0]
                size = await _discard_body(reader, head)
                if method == b"POST" and path in SIGNALS:
                    self.posts[path] += 1
                    self.bytes[path] += size
                    writer.write(OK)
                elif method == b"GET" and path == b"/_sink/stats":
                    body = self.stats()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                        + body
                    )
                else:
                    writer.write(NOT_FOUND)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def _discard_body(reader: asyncio.StreamReader, head: bytes) -> int:
    """Reads and drops the body (Content-Length or chunked); returns its length."""
    lower = head.lower()
    if b"\r\ntransfer-encoding: chunked" in lower:
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return total
            await reader.readexactly(size + 2)
            total += size
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    length = int(lower[at + 17 : lower.find(b"\r\n", at + 2)].strip())
    await reader.readexactly(length)
    return length


async def main_async(port: int) -> None:
    sink = Sink()
    server = await asyncio.start_server(sink.serve, "127.0.0.1", port, limit=MAX_HEAD)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.otel_sink", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main_async(parser.parse_args(argv).port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
