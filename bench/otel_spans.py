"""The CPU of OpenTelemetry's pieces alone: steadier than a whole request on a shared machine.

    .venv/bin/python -m bench.otel_spans [--count 20000] [--repeat 5]

Measures, with the batch span processor feeding an exporter that drops the spans (as
`bench.inprocess --otel`): one client span (`start_client_span` + `end_client_span`, the
`traceparent` written), the server middleware around an ASGI app that answers at once
(minus that app alone), and the log processor. Prints min and median of `--repeat` runs. A
request's tracing cost is then about server + calls × client (S3: 51 calls, S1: 1).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from adapter.kiss_api.tracing import TracingMiddleware
from adapter.logging import _trace_ids
from bench.inprocess import _telemetry


class _Route:
    path = "/zaken/api/v1/zaken/{uuid:canonical_uuid}"


async def _answer(scope, receive, send) -> None:
    scope["route"] = _Route
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _requests(app, count: int) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/zaken/api/v1/zaken/x",
        "headers": [(b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")],
    }

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message) -> None:
        return None

    started = time.process_time()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.process_time() - started) / count * 1e6


def _client_spans(telemetry, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        headers = {"accept": "application/json"}
        telemetry.end_client_span(telemetry.start_client_span("GET", "zaken", headers), "200")
    return (time.process_time() - started) / count * 1e6


def _log_processor(telemetry, count: int) -> float:
    with telemetry.tracer.start_as_current_span("request"):
        started = time.process_time()
        for _ in range(count):
            _trace_ids(None, None, {"event": "request"})
        return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    telemetry = _telemetry()
    traced = TracingMiddleware(_answer, telemetry=telemetry)
    runs: dict[str, list[float]] = {"client span": [], "server span + duration": [], "log processor": []}
    for _ in range(1 + args.repeat):  # the first run warms up
        runs["client span"].append(_client_spans(telemetry, args.count))
        bare = asyncio.run(_requests(_answer, args.count))
        runs["server span + duration"].append(asyncio.run(_requests(traced, args.count)) - bare)
        runs["log processor"].append(_log_processor(telemetry, args.count))
    for name, values in runs.items():
        measured = values[1:]
        print(
            f"{name:24} {min(measured):7.1f} µs CPU min, {statistics.median(measured):7.1f} median of {len(measured)}"
        )
    telemetry.shutdown()


if __name__ == "__main__":
    main()
