"""What each of the adapter's layers costs served: the adapter with one layer knocked out.

    .venv/bin/python -m bench.knockout [--knockouts accesslog,client,...] [--rounds 3] [--window 4]

`bench.lean_floor` gives the floor under S1 and the price of all the adapter's layers at once
(`adapter − s1`). This splits that price: it serves S1 from the real adapter and from copies of
it with one layer replaced by the least that still answers S1 correctly, with wrk, the targets
rotated each round as `python -m bench` does. `full − <knock-out>` is what that layer costs
served (its CPU and its share of the cache misses). A diagnosis tool, never a configuration: the
knock-outs drop checks, metrics and log lines the product needs.

    accesslog   AccessLog's line and request metrics (the status is still recorded)
    inbound     PathGuard, HeadLimits and Authentication pass the request on (identity fixed)
    problems    ProblemRendering just awaits the app
    client      EsuiteClient.send: the request built and sent on the transport, the answer
                read; no budget, retries, breaker, header dict, metrics or DEBUG check
    record      EsuiteClient._record: the call counted, no prometheus
    bounds      answer_json is `orjson.loads`; RW-11's origin check skipped

`--knockouts client+record,all` measures several at once in one copy (`all`: every one).

    KNOCKOUT=accesslog,record .venv/bin/python -m bench.knockout inprocess S1 --requests 400

runs `bench.inprocess` with those layers knocked out: the in-process price, and under callgrind
(per request = (Ir(N₂) − Ir(N₁)) / (N₂ − N₁)) the instruction count of a layer.

Each copy's S1 answer is checked byte for byte against the full adapter's before measuring.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from typing import Any

KNOCKOUTS = ("accesslog", "inbound", "problems", "client", "record", "bounds")


def _knock_accesslog() -> None:
    from adapter.kiss_api.access_log import AccessLog

    AccessLog._record = lambda self, scope, elapsed: None  # type: ignore[method-assign]


def _knock_inbound() -> None:
    from adapter.kiss_api.auth import Identity
    from adapter.kiss_api.authentication import Authentication
    from adapter.kiss_api.head_limits import HeadLimits
    from adapter.kiss_api.path_guard import PathGuard

    identity = Identity("bench-kiss", "bench")

    def authenticated(self, scope, receive, send):
        scope["state"]["identity"] = identity
        scope["state"]["call"].user_id = identity.user_id
        return self.app(scope, receive, send)

    PathGuard.__call__ = lambda self, scope, receive, send: self.app(scope, receive, send)  # type: ignore[method-assign]
    HeadLimits.__call__ = lambda self, scope, receive, send: self.app(scope, receive, send)  # type: ignore[method-assign]
    Authentication.__call__ = authenticated  # type: ignore[method-assign]


def _knock_problems() -> None:
    from adapter.kiss_api.problem_rendering import ProblemRendering

    async def plain(self, scope, receive, send):
        await self.app(scope, receive, send)

    ProblemRendering.__call__ = plain  # type: ignore[method-assign]


def _knock_client() -> None:
    import httpx

    from adapter.esuite_client import client as c
    from adapter.esuite_client.url_objects import outbound_url
    from adapter.mapping.query import encode_query

    async def send(self, call, method, url, *, target, params=None, content=None, headers=None, **_: Any):
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{encode_query(params)}"
        request = httpx.Request(method, outbound_url(url), headers={"x-request-id": call.request_id})
        c.EsuiteAuth(self._tokens, call.urls.esuite_root(target), call.user_id).apply(request)
        response = await self._transport.handle_async_request(request)
        response.request = request
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        call.upstream_calls += 1
        return c.buffered_answer(response, body)

    c.EsuiteClient.send = send  # type: ignore[method-assign]


def _knock_record() -> None:
    from adapter.esuite_client.client import EsuiteClient

    def record(self, call, target, method, url, status_label, elapsed, span):
        call.upstream_calls += 1
        call.upstream_seconds += elapsed

    EsuiteClient._record = record  # type: ignore[method-assign]


def _knock_bounds() -> None:
    import orjson

    from adapter.esuite_client import client as c

    c.answer_json = lambda raw: orjson.loads(raw) if raw else None
    c.EsuiteClient.check_origins = lambda self, call, raw: None  # type: ignore[method-assign]


def _apply_environment_knockouts() -> None:
    """The knock-outs named in KNOCKOUT (comma-separated; `all`: every one)."""
    names = os.environ.get("KNOCKOUT", "").split(",")
    for name in KNOCKOUTS if names == ["all"] else filter(None, names):
        globals()[f"_knock_{name}"]()


def serve(argv: list[str]) -> int:
    """`python -m adapter serve`, after the knock-outs named in KNOCKOUT."""
    _apply_environment_knockouts()
    from adapter.cli import main as adapter_main

    return adapter_main(["serve", *argv])


def inprocess(argv: list[str]) -> int:
    """`python -m bench.inprocess`, after the knock-outs named in KNOCKOUT: the in-process
    price of a layer (under callgrind: its instructions per request)."""
    _apply_environment_knockouts()
    from bench import inprocess as run

    sys.argv = ["bench.inprocess", *argv]
    run.main()
    return 0


def measure(args) -> dict[str, list[float]]:
    from bench.lean_floor import _answer, _token, rotated_rounds, served_bench
    from bench.procs import free_port, start, wait_http
    from bench.run import ROOT, adapter_environment

    with served_bench("knockout", "knockout-") as bench:
        ports = {t: free_port() for t in ["full", *args.knockouts]}
        for t, port in ports.items():
            env = adapter_environment(bench.up_port, port, "INFO", bench.keys)
            env["KNOCKOUT"] = "" if t == "full" else t.replace("+", ",")
            argv = [sys.executable, "-m", "bench.knockout", "serve", "--host", "127.0.0.1", "--port", str(port)]
            bench.procs[t] = start(f"adapter-{t}", argv, bench.work_dir, env=env, cwd=ROOT)
        token = _token(bench.keys)
        answers = {}
        for t, port in ports.items():
            origin = f"http://127.0.0.1:{port}"
            wait_http(f"{origin}/healthz", bench.procs[t], timeout=30)
            answers[t] = _answer(origin, token).replace(str(port).encode(), b"PORT")
            if answers[t] != answers["full"]:
                raise SystemExit(f"knock-out {t}: its S1 answer differs from the full adapter's")
        return rotated_rounds(bench, ports, token, args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve(argv[1:])
    if argv[:1] == ["inprocess"]:
        return inprocess(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--knockouts", type=lambda s: [k for k in s.split(",") if k], default=list(KNOCKOUTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    unknown = {part for k in args.knockouts for part in k.split("+")} - {*KNOCKOUTS, "all"}
    if unknown:
        parser.error(f"unknown knock-outs: {', '.join(sorted(unknown))}")
    cpu = measure(args)
    full = statistics.median(cpu["full"])
    print(f"\nS1 CPU µs per request, {args.rounds} rounds x {args.window} s, wrk -c{args.connections}:")
    print(f"  {'target':10s} {'min':>6s} {'median':>6s} {'full − it':>10s}")
    for target, values in cpu.items():
        saved = "" if target == "full" else f"{full - statistics.median(values):10.0f}"
        print(f"  {target:10s} {min(values):6.0f} {statistics.median(values):6.0f} {saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
