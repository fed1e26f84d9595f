"""A fast fake e-Suite: canned answers over a raw asyncio HTTP/1.1 server.

Cheap on purpose (pre-serialised answers, no framework), so it does not cap the adapter.
A fixed latency (`/_bench/latency?ms=N`, or --latency-ms) stands in for the network and the
e-Suite's database: each answer is written N ms after its request arrived.

    python -m bench.upstream --port 8081 [--base-path /esuite] [--latency-ms 0]

Routes (under the base path):
    GET  {cm}/contactmomenten            50 contacts; with a `type=` filter: 50 contactverzoeken
    POST {cm}/contactmomenten            201, a created contactverzoek
    GET  {cm}/klantcontactmomenten?contactmoment=<url>   one link to a klant for that contact
    GET  {drc}/enkelvoudiginformatieobjecten/<uuid>/download[?hold_ms=N]
         20 MiB of octets; with hold_ms the first MiB is sent, the rest N ms later
    GET  /_bench/latency?ms=N            sets the latency (control, answers 204)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import sys
from urllib.parse import unquote

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.canned import CM, DOWNLOAD_BYTES, DRC, Canned
else:
    from bench.canned import CM, DOWNLOAD_BYTES, DRC, Canned

CHUNK = 256 * 1024
FIRST_MIB = 1024 * 1024
_REASONS = {200: b"OK", 201: b"Created", 204: b"No Content", 400: b"Bad Request", 404: b"Not Found"}


def response(status: int, body: bytes, content_type: bytes = b"application/json", extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
        % (status, _REASONS.get(status, b"X"), content_type, len(body), extra)
        + body
    )


class State:
    def __init__(self, base_url: str, base_path: str, latency_ms: float) -> None:
        self.canned = Canned(base_url)
        self.latency = latency_ms / 1000.0
        p = base_path.encode()
        self.cm_list = p + CM.encode() + b"/contactmomenten"
        self.cm_links = p + CM.encode() + b"/klantcontactmomenten"
        self.drc_objects = p + DRC.encode() + b"/enkelvoudiginformatieobjecten/"
        c = self.canned
        self.r_klant_page = response(200, c.klant_page)
        self.r_verzoeken_page = response(200, c.verzoeken_page)
        self.r_created = [
            response(201, body, extra=b"Location: " + body.split(b'"url":"', 1)[1].split(b'"', 1)[0] + b"\r\n")
            for body in c.created
        ]
        self.r_links = {url: response(200, page) for url, page in c.klant_links.items()}
        self.r_not_found = response(404, c.not_found, b"application/problem+json")
        self.r_no_content = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
        self.download = memoryview(os.urandom(DOWNLOAD_BYTES))
        self.download_head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="bench.bin"\r\nContent-Length: %d\r\n\r\n' % DOWNLOAD_BYTES
        )
        self.created_index = 0
        self.requests = 0
        self.connections = 0


class Connection(asyncio.Protocol):
    def __init__(self, state: State) -> None:
        self.state = state
        self.buffer = bytearray()
        self.out: collections.deque = collections.deque()
        self.paused = False
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.state.connections += 1

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.out.clear()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._pump()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop > 0 else None].strip() or b"0")
            if len(buf) < end + 4 + length:
                return
            del buf[: end + 4 + length]
            self._handle(head, close=b"\r\nconnection: close" in lower)

    def _handle(self, head: bytes, close: bool) -> None:
        s = self.state
        s.requests += 1
        line = head[: head.find(b"\r\n")] if b"\r\n" in head else head
        try:
            method, target, _ = line.split(b" ", 2)
        except ValueError:
            self._send([response(400, b"{}")], close=True)
            return
        path, _, query = target.partition(b"?")
        if path == s.cm_list:
            if method == b"POST":
                s.created_index = (s.created_index + 1) % len(s.r_created)
                answer = s.r_created[s.created_index]
            else:
                answer = s.r_verzoeken_page if b"type=" in query else s.r_klant_page
        elif path == s.cm_links:
            answer = s.r_not_found
            for pair in query.split(b"&"):
                if pair.startswith(b"contactmoment="):
                    url = unquote(pair[14:].decode("latin-1"))
                    answer = s.r_links.get(url) or response(200, s.canned.klant_link(url))
        elif path.startswith(s.drc_objects) and path.endswith(b"/download") and method in (b"GET", b"HEAD"):
            hold = 0.0
            for pair in query.split(b"&"):
                if pair.startswith(b"hold_ms="):
                    hold = float(pair[8:]) / 1000.0
            self._download(method == b"HEAD", hold, close)
            return
        elif path == b"/_bench/latency":
            for pair in query.split(b"&"):
                if pair.startswith(b"ms="):
                    s.latency = float(pair[3:]) / 1000.0
            self._send([s.r_no_content], close)
            return
        elif path == b"/_bench/requests":
            self._send([response(200, b'{"requests":%d,"connections":%d}' % (s.requests, s.connections))], close)
            return
        else:
            answer = s.r_not_found
        if s.latency > 0:
            self.loop.call_later(s.latency, self._send, [answer], close)
        else:
            self._send([answer], close)

    def _download(self, head_only: bool, hold: float, close: bool) -> None:
        s = self.state
        if head_only:
            parts = [s.download_head]
        else:
            parts = [s.download_head] + [s.download[i : i + CHUNK] for i in range(0, len(s.download), CHUNK)]
        if hold > 0 and not head_only:
            first = 1 + FIRST_MIB // CHUNK
            self._send(parts[:first], False)
            self.loop.call_later(s.latency + hold, self._send, parts[first:], close)
        elif s.latency > 0:
            self.loop.call_later(s.latency, self._send, parts, close)
        else:
            self._send(parts, close)

    def _send(self, parts: list, close: bool) -> None:
        if self.transport is None:
            return
        self.out.extend(parts)
        if close:
            self.out.append(None)
        self._pump()

    def _pump(self) -> None:
        out = self.out
        while out and not self.paused and self.transport is not None:
            part = out.popleft()
            if part is None:
                self.transport.close()
                return
            self.transport.write(part)


async def serve(host: str, port: int, base_path: str, latency_ms: float) -> None:
    loop = asyncio.get_running_loop()
    state = State(f"http://{host}:{port}{base_path}", base_path, latency_ms)
    server = await loop.create_server(lambda: Connection(state), host, port, backlog=2048, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {port}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-path", default="/esuite")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        import uvloop  # type: ignore[import-not-found]

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(serve(args.host, args.port, args.base_path, args.latency_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
