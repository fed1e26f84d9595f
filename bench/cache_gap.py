"""What a pause between requests costs: the same CPU work timed back to back and after gaps.

    .venv/bin/python -m bench.cache_gap [--gaps 0,0.1,0.5,2,10] [--calls 300] [--scenarios S1,S2,S3]

S5 serves S1 with 10 ms of e-Suite latency, and S3 waits 5 ms for each look-up wave: between
two pieces of the adapter's work the process waits, and the other processes on the machine
(the fake e-Suite, the load driver, other tenants of the host) run. This runs the pure mapping
path of `bench.mapping_path` (no I/O) `--calls` times per gap, with the gap between calls
either slept (`time.sleep`, the process idle, as when it waits in epoll) or spun (a loop on
`time.perf_counter`: the process busy with a tiny working set), and prints the median thread
CPU per call and its ratio to the back-to-back median. A ratio above 1 is work that costs more
because what it touches left the caches during the gap: a property of the machine and of the
work's memory footprint, the same code and inputs each time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.mapping_path import SCENARIOS, steps


def sleep_for(seconds: float) -> None:
    if seconds:
        time.sleep(seconds)


def spin_for(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def thread_cpu_per_call(run: Callable[[], object], pause: Callable[[float], None], gap: float, calls: int) -> list[int]:
    """Thread CPU in ns of each of `calls` runs, each after `pause(gap)` (the first after one too)."""
    samples = []
    for _ in range(calls):
        pause(gap)
        started = time.thread_time_ns()
        run()
        samples.append(time.thread_time_ns() - started)
    return samples


def ratios(medians: dict[float, float]) -> dict[float, float]:
    """Each gap's median over the back-to-back one (gap 0), which must have been measured."""
    base = medians[0.0]
    return {gap: median / base for gap, median in medians.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gaps", default="0,0.1,0.5,2,10", help="pauses in ms; 0 is added when missing")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()
    gaps = sorted({0.0, *(float(gap) / 1000 for gap in args.gaps.split(","))})
    runs = steps()
    for name in args.scenarios.split(","):
        for pause_name, pause in (("sleep", sleep_for), ("spin", spin_for)):
            medians = {
                gap: statistics.median(thread_cpu_per_call(runs[name], pause, gap, args.calls)) / 1000 for gap in gaps
            }
            line = ", ".join(
                f"{gap * 1000:g} ms {value:.1f} µs x{ratio:.2f}"
                for (gap, value), ratio in zip(medians.items(), ratios(medians).values(), strict=True)
            )
            print(f"{name} {pause_name:5}: {line}")


if __name__ == "__main__":
    main()
