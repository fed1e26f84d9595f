"""What-if launcher: the adapter exactly as `python -m adapter serve`, with the cyclic collector's
time counted, and optionally other thresholds than `adapter.cli.COLLECTOR_THRESHOLDS`.

    python -m bench --rounds 2 --scenarios S2 --targets adapter --adapter-module bench.collector \\
        --adapter-env COLLECTOR_REPORT=/tmp/collector.txt [--adapter-env COLLECTOR_THRESHOLDS=700,10,10]

At exit (the bench stops the adapter with SIGTERM, which ends `serve` normally) one line is
appended to COLLECTOR_REPORT: the HTTP requests served, and per generation the collections and
their thread CPU (`gc.callbacks`, `time.thread_time_ns`), the first full collection, which
`freeze_startup_heap` runs before serving, counted apart as `startup`. `per request` is the
rest over the requests. Counting requests wraps `AdapterApp.__call__` in one more coroutine
frame, the same in every run compared.
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
    """Collections and thread CPU per generation, the first full collection kept apart."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.nanoseconds = [0, 0, 0]
        self.startup_ns: int | None = None
        self._started = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time_ns()
            return
        spent, generation = time.thread_time_ns() - self._started, info["generation"]
        if generation == 2 and self.startup_ns is None:
            self.startup_ns = spent
            return
        self.count[generation] += 1
        self.nanoseconds[generation] += spent

    def report(self, requests: int, thresholds: tuple[int, int, int]) -> str:
        per_request = sum(self.nanoseconds) / max(requests, 1) / 1000
        generations = " ".join(
            f"gen{generation} {self.count[generation]} in {self.nanoseconds[generation] / 1e6:.1f} ms"
            for generation in range(3)
        )
        startup = (self.startup_ns or 0) / 1e6
        return f"thresholds {thresholds} requests {requests} per request {per_request:.1f} µs: {generations}; startup {startup:.1f} ms"


def main() -> int:
    clock, requests = CollectorClock(), [0]
    served = adapter_app.AdapterApp.__call__

    async def counted(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            requests[0] += 1
        await served(self, scope, receive, send)

    adapter_app.AdapterApp.__call__ = counted  # type: ignore[method-assign]
    gc.callbacks.append(clock)
    if "COLLECTOR_THRESHOLDS" in os.environ:
        thresholds = tuple(int(value) for value in os.environ["COLLECTOR_THRESHOLDS"].split(","))
        cli.COLLECTOR_THRESHOLDS = thresholds  # type: ignore[assignment]
    report = os.environ["COLLECTOR_REPORT"]

    def write() -> None:
        with open(report, "a", encoding="utf-8") as handle:
            handle.write(clock.report(requests[0], gc.get_threshold()) + "\n")

    atexit.register(write)
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
