"""H1Transport soak: many calls with random cancellations, then count what is left.

    .venv/bin/python -m bench.transport_soak [--calls 20000]

A loopback server in this process answers small keep-alive answers, some slowly, some chunked,
some closing the connection after the answer; 16 callers share a pool of 8 and a tenth of the
calls are cancelled at a random moment (waiting for a connection, sending, or reading). After the
run the pool must hold no more than its limit, every connection it counts must be open on both
ends, no file descriptor or `_Connection` may be left over, and RSS may not have grown by more
than `--rss-mb`. Prints one JSON line; exits 1 on a leak. The test
tests/integration/test_transport_soak.py runs the same with fewer calls.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys

import httpx

from adapter.esuite_client.h1_transport import H1Transport, _Connection

MAX_CONNECTIONS = 8


class _Answering(asyncio.Protocol):
    """Answers each request head (the soak sends GETs only) in one of four ways."""

    open = 0

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.buffer = b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        _Answering.open += 1

    def connection_lost(self, exc) -> None:
        _Answering.open -= 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            kind = self.rng.random()
            if kind < 0.1:
                asyncio.get_running_loop().call_later(self.rng.uniform(0, 0.003), self._answer, b"slow")
            elif kind < 0.15:
                self.transport.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
            elif kind < 0.17:
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                self.transport.close()  # keep-alive said, and closed anyway: the pool must notice
                return
            else:
                self._answer(b'{"count":0}')

    def _answer(self, body: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _live_connections() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, _Connection))


async def soak(calls: int, seed: int = 17) -> dict:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Answering(rng), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/esuite/x"
    transport = H1Transport(MAX_CONNECTIONS)
    http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0))
    counts = {"ok": 0, "cancelled": 0, "errors": 0, "peak_pool": 0}

    async def one() -> None:
        response = await http.get(url)
        assert response.status_code == 200

    async def call(cancel_after: float | None) -> None:
        task = asyncio.ensure_future(one())
        if cancel_after is not None:
            loop.call_later(cancel_after, task.cancel)
        try:
            await task
            counts["ok"] += 1
        except asyncio.CancelledError:
            counts["cancelled"] += 1
        except httpx.TransportError:
            counts["errors"] += 1  # a close racing a request: reported, never hidden
        counts["peak_pool"] = max(counts["peak_pool"], transport._pool.open)

    async def callers(n: int) -> None:  # 16 callers, so a pool of 8 makes them wait
        async def caller(share: int) -> None:
            for _ in range(share):
                await call(rng.uniform(0, 0.002) if rng.random() < 0.1 else None)

        await asyncio.gather(*(caller(n // 16) for _ in range(16)))

    await callers(min(4000, calls))  # warm-up: pool, caches, allocator
    pool = transport._pool
    # Both ends of every open connection are fds of this process, and how many stay open in the
    # pool after a run varies (0 to 8): the growth counts fds beyond those, so only a leak shows.
    fds, rss, ends = _fds(), _rss_kb(), pool.open + _Answering.open
    await callers(calls)
    await asyncio.sleep(0.05)  # closes in flight reach both ends
    result = {
        "calls": calls,
        **counts,
        "pool_open": pool.open,
        "pool_connections": len(pool.connections),
        "pool_idle": sum(len(idle) for idle in pool.idle.values()),
        "waiters": len(pool.waiters),
        "server_open": _Answering.open,
        "fd_growth": _fds() - fds - (pool.open + _Answering.open - ends),
        "rss_growth_kb": _rss_kb() - rss,
    }
    await http.aclose()
    await asyncio.sleep(0.05)
    result["after_aclose_server_open"] = _Answering.open
    result["after_aclose_live_connections"] = _live_connections()
    server.close()
    return result


def leaks(result: dict, rss_kb: int, fd_slack: int = 0) -> list[str]:
    """What the result shows left over (empty: no leak). `fd_slack`: descriptors that other
    code in the same process may open meanwhile (the test suite's background servers)."""
    found = []
    if result["peak_pool"] > MAX_CONNECTIONS:
        found.append("the pool went over its limit")
    if not result["pool_open"] == result["pool_connections"] == result["pool_idle"] == result["server_open"]:
        found.append("the pool's count, its connections, its idle ones and the server's open ones differ")
    if result["waiters"]:
        found.append("waiters left")
    if result["fd_growth"] > fd_slack:
        found.append("file descriptors grew")
    if result["rss_growth_kb"] > rss_kb:
        found.append("RSS grew")
    if result["after_aclose_server_open"] or result["after_aclose_live_connections"]:
        found.append("connections left after aclose")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transport_soak")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rss-mb", type=float, default=4.0)
    args = parser.parse_args(argv)
    result = asyncio.run(soak(args.calls))
    found = leaks(result, int(args.rss_mb * 1024))
    print(json.dumps({**result, "leaks": found}))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
