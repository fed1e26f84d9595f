"""What-if launcher: the adapter exactly as `python -m adapter serve`, with the cyclic collector's
time counted, and optionally other thresholds than `adapter.cli.COLLECTOR_THRESHOLDS`.

    python -m bench --rounds 2 --scenarios S2 --targets adapter --adapter-module bench.collector \\
        --adapter-env COLLECTOR_REPORT=/tmp/collector.txt [--adapter-env COLLECTOR_THRESHOLDS=700,10,10]

At exit (the bench stops the adapter with SIGTERM, which ends `serve` normally) one line is
appended to COLLECTOR_REPORT: the process id, whether it is traced (`--otel` starts a second
adapter with the same environment), the HTTP requests served, and per generation the
collections, their thread CPU and the longest one (`gc.callbacks`, `time.thread_time_ns`)
from the moment `serve` raises the young threshold (after the startup heap's collection and
freeze) to the end of the drain; what came before is `before serving`. `per request` is the
served collections' time over the requests. A process that never served writes nothing, nor
does one killed after a stop that hung. Counting requests wraps `AdapterApp.__call__` in one
more coroutine frame, the same in every run compared.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from typing import Any

from adapter import app as adapter_app
from adapter import cli


class CollectorClock:
    """Collections and thread CPU per generation, since `serving()`; what came before apart."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.nanoseconds = [0, 0, 0]
        self.longest_ns = [0, 0, 0]
        self.before_serving_ns: int | None = None  # None: `serving()` was never called
        self._started = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time_ns()
            return
        spent, generation = time.thread_time_ns() - self._started, info["generation"]
        self.count[generation] += 1
        self.nanoseconds[generation] += spent
        self.longest_ns[generation] = max(self.longest_ns[generation], spent)

    def serving(self) -> None:
        """From here on the server serves: what was counted so far is startup."""
        self.before_serving_ns = sum(self.nanoseconds)
        self.count, self.nanoseconds, self.longest_ns = [0, 0, 0], [0, 0, 0], [0, 0, 0]

    def report(self, requests: int, thresholds: tuple[int, int, int]) -> str:
        per_request = sum(self.nanoseconds) / max(requests, 1) / 1000
        generations = " ".join(
            f"gen{generation} {self.count[generation]} in {self.nanoseconds[generation] / 1e6:.1f} ms"
            f" (longest {self.longest_ns[generation] / 1e6:.1f})"
            for generation in range(3)
        )
        startup = (self.before_serving_ns or 0) / 1e6
        return (
            f"thresholds {thresholds} requests {requests} per request {per_request:.1f} µs: {generations};"
            f" before serving {startup:.1f} ms"
        )


def main() -> int:
    clock, requests = CollectorClock(), [0]
    served = adapter_app.AdapterApp.__call__
    raise_young_threshold = cli.raise_young_threshold

    async def counted(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            requests[0] += 1
        await served(self, scope, receive, send)

    def serving() -> None:  # `serve` calls it last before the server runs, after the freeze
        raise_young_threshold()
        clock.serving()

    adapter_app.AdapterApp.__call__ = counted  # type: ignore[method-assign]
    cli.raise_young_threshold = serving  # type: ignore[assignment]
    gc.callbacks.append(clock)
    if "COLLECTOR_THRESHOLDS" in os.environ:
        thresholds = tuple(int(value) for value in os.environ["COLLECTOR_THRESHOLDS"].split(","))
        cli.COLLECTOR_THRESHOLDS = thresholds  # type: ignore[assignment]
    report = os.environ["COLLECTOR_REPORT"]
    traced = "traced" if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "untraced"

    def write() -> None:
        if clock.before_serving_ns is None:
            return  # it never served (a configuration error, a port in use)
        with open(report, "a", encoding="utf-8") as handle:
            handle.write(f"pid {os.getpid()} {traced} " + clock.report(requests[0], gc.get_threshold()) + "\n")

    atexit.register(write)
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
