"""A hostile e-Suite: a real HTTP/1.1 server on 127.0.0.1 that answers the way an attacker (or a
broken gateway) would. It runs its own event loop in a thread, so a served adapter in another
process and an in-process app can both use it.

The answer is chosen by `mode` (the server's current mode, or a path segment `hostile-<mode>`
that overrides it). The readiness probe (`…/schema/openapi.yaml`) is always answered normally,
so `/readyz` shows what the adapter thinks, not what the mode does.

Modes:
- `json`: a small JSON object (the well-behaved answer).
- `drip`: 200 JSON headers, then one byte of body every 0.2 s, forever.
- `error-drip`: the same with status 400 (an error body the adapter must read).
- `endless`: a chunked JSON body of 64 KiB chunks as fast as the adapter reads, forever.
- `huge`: `Content-Length` of 1 GiB, sent as fast as the adapter reads.
- `gzip-bomb`: ~0.5 MB of gzip that decodes to 512 MiB of JSON whitespace.
- `deep`: JSON nested 600 levels deep (orjson parses it but cannot render it).
- `slow-headers`: the status line and headers at one byte every 0.2 s.
- `download`: a 256 MiB `application/octet-stream` body, sent as fast as the adapter reads.
- `disposition`: a small PDF whose `Content-Disposition` names a UTF-8 file (`Zoë.pdf`).
- `hold`: nothing, until the adapter closes the connection (counted in `abandoned`) or
  HOLD_SECONDS pass; then the small JSON answer (counted in `held_answered`).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import zlib

from tests.servers import read_request

DRIP_SECONDS = 0.2
HOLD_SECONDS = 2.0
CHUNK = 64 * 1024
MIB = 1024 * 1024


@functools.lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """gzip that decodes to `[` + 512 MiB of spaces (~0.5 MB). After a full flush the deflate
    state is the same, so one compressed MiB is repeated; the trailer's checksum is wrong,
    which a reader only finds out after the last byte (the adapter must stop long before)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    start = compressor.compress(b"[") + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b" " * MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    return start + block * 512 + compressor.compress(b"]") + compressor.flush()


def _head(status: int, *headers: str) -> bytes:
    return (f"HTTP/1.1 {status} X\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n").encode()


class HostileEsuite:
    def __init__(self, mode: str = "json") -> None:
        self.mode = mode
        self.requests: list[bytes] = []  # every request head (and body) received, in order
        self.open_connections = 0
        self.active_downloads = 0  # `download` answers still being sent
        self.abandoned = 0  # `hold` calls whose connection the adapter closed before the answer
        self.held_answered = 0  # `hold` calls answered after HOLD_SECONDS
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> HostileEsuite:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(5)
        self.base = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            # Closing the loop closes its self-pipe (a socketpair): left to the garbage collector
            # it warned, as an error under filterwarnings = error, in whichever test ran then.
            self._loop.close()

    def requests_for(self, fragment: bytes) -> list[bytes]:
        return [request for request in self.requests if fragment in request.split(b"\r\n", 1)[0]]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            while True:
                request = await read_request(reader)
                self.requests.append(request)
                if not await self._answer(request.split(b"\r\n", 1)[0], reader, writer):
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    def _mode_for(self, request_line: bytes) -> str:
        path = request_line.split(b" ")[1].split(b"?")[0].decode("latin-1")
        if path.endswith("/schema/openapi.yaml"):
            return "json"
        for segment in path.split("/"):
            if segment.startswith("hostile-"):
                return segment[len("hostile-") :]
        return self.mode

    async def _answer(self, request_line: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Writes one answer; False when the connection must end after it."""
        mode = self._mode_for(request_line)
        json_type = "Content-Type: application/json"
        if mode == "hold":
            try:
                closed = await asyncio.wait_for(reader.read(1), HOLD_SECONDS) == b""
            except TimeoutError:
                closed = False
            except ConnectionError:  # closed with a reset
                closed = True
            if closed:
                self.abandoned += 1
                return False
            self.held_answered += 1
            mode = "json"
        if mode == "json":
            body = b'{"url": "x", "count": 0}'
            writer.write(_head(200, json_type, f"Content-Length: {len(body)}") + body)
            await writer.drain()
            return True
        if mode in ("drip", "error-drip"):
            writer.write(_head(200 if mode == "drip" else 400, json_type, "Content-Length: 100000"))
            while True:
                await writer.drain()
                await asyncio.sleep(DRIP_SECONDS)
                writer.write(b" ")
        if mode == "endless":
            writer.write(_head(200, json_type, "Transfer-Encoding: chunked"))
            chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
            while True:
                writer.write(chunk)
                await writer.drain()
        if mode in ("huge", "download"):
            size = 1024 * MIB if mode == "huge" else 256 * MIB
            kind = json_type if mode == "huge" else "Content-Type: application/octet-stream"
            self.active_downloads += mode == "download"
            try:
                writer.write(_head(200, kind, f"Content-Length: {size}"))
                block = b" " * CHUNK
                for _ in range(size // CHUNK):
                    writer.write(block)
                    await writer.drain()
            finally:
                self.active_downloads -= mode == "download"
            return False
        if mode == "gzip-bomb":
            body = gzip_bomb()
            writer.write(_head(200, json_type, "Content-Encoding: gzip", f"Content-Length: {len(body)}") + body)
            await writer.drain()
            return True
        if mode == "deep":
            body = b"[" * 600 + b"]" * 600
            writer.write(_head(200, json_type, f"Content-Length: {len(body)}") + body)
            await writer.drain()
            return True
        if mode == "slow-headers":
            for byte in _head(200, json_type, "Content-Length: 2"):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(DRIP_SECONDS)
            writer.write(b"{}")
            return True
        if mode == "disposition":
            writer.write(
                _head(200, "Content-Type: application/pdf", "Content-Length: 4")[:-2]
                + 'Content-Disposition: attachment; filename="Zoë.pdf"\r\n\r\n'.encode()
                + b"%PDF"
            )
            await writer.drain()
            return True
        raise ValueError(f"unknown mode {mode}")
