"""Profile the adapter process under one scenario's load.

    .venv/bin/python -m bench.profile S1 [--seconds 10] [--tool py-spy|cprofile] [--top 25]

py-spy (installed into the running interpreter's environment with pip when missing and
allowed) samples the separate adapter process without slowing it much; it writes a
speedscope file and a flame graph under bench/results/ and prints the top functions by own
time and by inclusive time. `--tool cprofile` runs the adapter under cProfile instead
(deterministic, ~2x overhead; no ptrace needed).
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench.procs import ensure_tool
from bench.run import RESULTS, ROOT, SCENARIOS, run_window, say, start_stack


def ensure_py_spy(allow_install: bool) -> str | None:
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("py-spy")
    if found or not allow_install:
        return found
    say("installing py-spy (pip)")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=False)
    return here if os.access(here, os.X_OK) else shutil.which("py-spy")


def _frame_name(frame: str) -> str:
    """`func (path/to/file.py:12)` → `func (file.py)`: lines merged, short path kept."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = path.split("/")
    for anchor in ("site-packages", "adapter", "lib"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            path = "/".join(parts[i + 1 :] if anchor != "adapter" else parts[i:])
            break
    return f"{name} ({path})"


_GROUPS = (
    ("importlib", "import system (failed imports)"),
    ("<frozen", "import system (failed imports)"),
    ("_distutils_hack", "import system (failed imports)"),
    ("httpcore/", "httpcore (client pool, HTTP/1.1)"),
    ("httpx/", "httpx"),
    ("anyio/", "anyio"),
    ("h11/", "h11 (HTTP/1.1 parser, both sides)"),
    ("uvicorn/", "uvicorn"),
    ("starlette/", "starlette"),
    ("tenacity/", "tenacity"),
    ("jwt/", "pyjwt"),
    ("structlog/", "structlog"),
    ("prometheus_client/", "prometheus_client"),
    ("adapter/mapping/", "adapter mapping"),
    ("adapter/esuite_client/urls", "adapter URL rewriting"),
    ("adapter/", "adapter (other)"),
    ("asyncio/", "asyncio"),
    ("selectors", "asyncio"),
)


def _group(frame: str) -> str:
    for needle, name in _GROUPS:
        if needle in frame:
            return name
    return "other: " + frame.split(" (", 1)[-1].rstrip(")")


def summarise_collapsed(path: str, top: int) -> str:
    groups: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    with open(path) as handle:
        for line in handle:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            frames = [_frame_name(f) for f in stack.split(";") if f]
            if frames and frames[0].startswith("process "):
                frames = frames[1:]
            if frames and frames[0].startswith("thread "):
                frames = frames[1:]
            if not frames:
                continue
            own[frames[-1]] += n
            groups[_group(frames[-1])] += n
            for name in set(frames):
                inclusive[name] += n
    lines = [f"{total} samples", "", "own time by package:"]
    lines += [f"  {n / total * 100:5.1f}%  {name}" for name, n in groups.most_common(15)]
    lines += ["", f"top {top} by own time:"]
    lines += [f"  {n / total * 100:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", f"top {top} by inclusive time:"]
    lines += [f"  {n / total * 100:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--tool", choices=("py-spy", "cprofile"), default="py-spy")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--adapter-python")
    parser.add_argument("--adapter-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--adapter-module", default="adapter")
    parser.add_argument("--tag", default="", help="suffix of the output file names")
    args = parser.parse_args(argv)
    os.makedirs(RESULTS, exist_ok=True)
    scenario = SCENARIOS[args.scenario]
    wrk = ensure_tool("wrk", "wrk", not args.no_install, say)
    tool = "wrk" if wrk else "asyncio"
    work_dir = tempfile.mkdtemp(prefix="profile-", dir=RESULTS)
    name = f"profile-{args.scenario}{'-' + args.tag if args.tag else ''}"
    prof_file = os.path.join(RESULTS, f"{name}.cprofile")
    prefix = None
    if args.tool == "cprofile":
        prefix = [args.adapter_python or sys.executable, "-m", "cProfile", "-o", prof_file, "-m"]
    else:
        py_spy = ensure_py_spy(not args.no_install)
        if py_spy is None:
            say("py-spy not available: use --tool cprofile")
            return 2
    stack = start_stack(args, None, work_dir, adapter_argv_prefix=prefix)
    try:
        run_window(stack, args, tool, wrk, scenario, "adapter", 1, f"warm-{args.scenario}")
        if args.tool == "py-spy":
            raw = os.path.join(RESULTS, f"{name}.collapsed.txt")
            spy = subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "-p",
                    str(stack.adapter.pid),
                    "-r",
                    str(args.rate),
                    "-d",
                    str(args.seconds + 1),
                    "-f",
                    "raw",
                    "-o",
                    raw,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(0.5)
        w = run_window(stack, args, tool, wrk, scenario, "adapter", args.seconds, f"prof-{args.scenario}")
        say(f"{args.scenario} under profiler: {w['rps']:.0f} req/s, {w['cpu_us_per_req']:.0f} µs CPU/req")
        if args.tool == "py-spy":
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0 and not os.path.exists(raw):
                say(f"py-spy failed: {err.decode(errors='replace')}")
                return 1
    finally:
        if args.tool == "cprofile":
            stack.adapter.stop(signal.SIGINT, timeout=30)
        stack.stop()
    if args.tool == "py-spy":
        summary = summarise_collapsed(raw, args.top)
        with open(os.path.join(RESULTS, f"{name}.summary.txt"), "w") as handle:
            handle.write(summary + "\n")
        print(summary)
        say(f"collapsed stacks: {os.path.relpath(raw, ROOT)} (flamegraph.pl or speedscope.app read them)")
    else:
        stats = pstats.Stats(prof_file)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
