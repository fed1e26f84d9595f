"""Run an ASGI app on a real loopback socket in a background thread (for streaming tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time

import httpx
import uvicorn


@contextlib.contextmanager
def running_server(app, host: str = "127.0.0.1", port: int = 0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_adapter(env: dict[str, str]):
    """`python -m adapter serve` on 127.0.0.1 as operators run it; yields (base URL, pid)."""
    import os
    import subprocess
    import sys

    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "adapter exited"
                assert time.monotonic() < deadline, "adapter did not start"
                time.sleep(0.05)
        yield base, process.pid
    finally:
        stop_adapter(process)


def stop_adapter(process, timeout: float = 15) -> None:
    """SIGTERM, and a second one once the first has begun the readiness drain (3 s, cli.py),
    which the second skips: in-flight requests still finish. Tests of the drain signal alone."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=0.2)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait(timeout=timeout)


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """The process's resident set (`VmRSS`) or its peak (`VmHWM`) from /proc, in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request as a test fake receives it: the head and a `Content-Length` body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    return head + (await reader.readexactly(length) if length else b"")


def metric(base: str, line_start: str) -> float:
    """One sample of a served adapter's /metrics, 0 when it has none yet."""
    for line in httpx.get(base + "/metrics", timeout=5).text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
