"""Memory under sustained load (issue 7): RSS after warm-up vs after a 60 s run on loopback.

    .venv/bin/python -m bench.soak [--seconds 60] [--warmup 10]

Alternates S1 (mapped GET) and S2 (unique POSTs, which fill the duplicate store) in 10 s
windows against a `serve` process, and passes when RSS at the end is within 10 % of RSS after
warm-up. Prints one JSON line with the samples.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from bench import canned as C
from bench.drivers import run_load
from bench.procs import ensure_tool
from bench.run import SCENARIOS, parse_args, say, start_stack


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--scenarios", default="S1,S2", help="alternated in 10 s windows")
    options = parser.parse_args(argv)
    args = parse_args([])
    wrk = ensure_tool("wrk", "wrk", True, say)
    tool = "wrk" if wrk else "asyncio"
    work_dir = tempfile.mkdtemp(prefix="soak-")
    stack = start_stack(args, None, work_dir)
    samples = []
    served = 0
    try:

        def window(key: str, seconds: int, tag: str) -> None:
            nonlocal served
            scenario = SCENARIOS[key]
            stack.set_latency(scenario.latency_ms)
            body_parts = C.contactverzoek_body().split(C.UNIQUE_MARK, 1) if scenario.method == "POST" else None
            result = run_load(
                tool,
                wrk,
                stack.origin("adapter") + stack.path(key, "adapter"),
                method=scenario.method,
                headers=stack.headers(key),
                body_parts=body_parts,
                unique=tag,
                connections=scenario.connections,
                seconds=seconds,
                work_dir=work_dir,
            )
            served += result["requests"]
            samples.append(
                {"window": tag, "requests": result["requests"], "rss_mb": round(stack.adapter.rss_kb() / 1024, 1)}
            )

        keys = [key.strip().upper() for key in options.scenarios.split(",") if key.strip()]
        for key in keys:
            window(key, max(1, options.warmup // len(keys)), f"warmup-{key}")
        after_warmup = stack.adapter.rss_kb()
        for index in range(max(1, options.seconds // 10)):
            key = keys[index % len(keys)]
            window(key, 10, f"soak-{index}-{key}")
        at_end = stack.adapter.rss_kb()
    finally:
        stack.stop()
    growth = at_end / after_warmup - 1
    report = {
        "rss_after_warmup_mb": round(after_warmup / 1024, 1),
        "rss_at_end_mb": round(at_end / 1024, 1),
        "growth_percent": round(growth * 100, 1),
        "requests": served,
        "flat": growth <= 0.10,
        "samples": samples,
    }
    print(json.dumps(report))
    return 0 if report["flat"] else 1


if __name__ == "__main__":
    sys.exit(main())
