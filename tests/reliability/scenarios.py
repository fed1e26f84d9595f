"""Exactly one e-Suite contact per contactverzoek under process, network and store faults (issue 14).

Adapter replicas run as real processes (`python -m adapter serve`), the e-Suite simulator on a
loopback socket behind `FaultProxy`, Redis as a real redis-server. KISS-like clients send each
contactverzoek (with a phone number and an e-mail address) and re-send the same body after
any failure, round-robin over the replicas. The counts come from the simulator's state, never
from the adapter's answers.

    .venv/bin/python -m tests.reliability.scenarios                 # every scenario, modest counts
    .venv/bin/python -m tests.reliability.scenarios --verzoeken 200 fault-proxy kill-9
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import attrs
import httpx

from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, fixture_env, kiss_headers, load_fixture
from tests.reliability.fault_proxy import KINDS, FaultProxy
from tests.servers import free_port, running_server, stop_adapter

CREATE = "/contactmomenten/api/v1/contactmomenten"
CREATE_PATH = "/contactmomenten-api-provider/api/v1/contactmomenten"
BUDGET_SECONDS = 2.0  # ESUITE_TIMEOUT_SECONDS of the replicas: short, so runs are short
CLIENT_DEADLINE_SECONDS = 90.0


@attrs.define
class Outcome:
    marker: str
    statuses: list[int] = attrs.field(factory=list)
    url: str | None = None
    done: bool = False


@attrs.frozen
class Row:
    scenario: str
    verzoeken: int
    told_success: int
    exactly_once: int
    duplicates: int
    missing: int
    answers_500: int
    faults: dict
    uncertain: dict  # the replicas' `uncertain_outcome` log events by problem_code
    seconds: float


# --- the pieces: replicas, Redis, clients -------------------------------------------------------


class Replica:
    """One `python -m adapter serve` process."""

    def __init__(self, esuite_url: str, work: str, name: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            **fixture_env(
                **{
                    "ESUITE_BASE_URL": esuite_url,
                    "ADAPTER_BASE_URL": "http://kiss-adapter:8080",
                    "ESUITE_TIMEOUT_SECONDS": str(BUDGET_SECONDS),
                    "LOG_LEVEL": "WARNING",
                    **env,
                }
            ),
        }
        self.log = open(os.path.join(work, f"{name}.log"), "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=environment,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"replica {name} did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                stop_adapter(self.process, timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Redis:
    def __init__(self, work: str, persistent: bool) -> None:
        from tests.shared_store.conftest import RedisServer

        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed")
        self.server = RedisServer(directory=tempfile.mkdtemp(dir=work) if persistent else None)
        try:
            self.server.start()
        except RuntimeError:
            self.server.stop()
            raise
        self.url = self.server.url

    def restart(self) -> None:
        self.server.stop()
        time.sleep(1.0)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


class Processes:
    """Every replica and Redis a scenario starts, stopped at the end, also when a start fails."""

    def __init__(self) -> None:
        self._started: list[Replica | Redis] = []

    def replica(self, *args, **env: str) -> Replica:
        self._started.append(Replica(*args, **env))
        return self._started[-1]

    def redis(self, work: str, persistent: bool) -> Redis:
        self._started.append(Redis(work, persistent))
        return self._started[-1]

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        for process in reversed(self._started):
            process.stop()


def contactverzoek(index: int, rng: random.Random) -> dict:
    body = load_fixture("kiss/post-contactverzoek-afdeling-anonymous-v0.6.json")
    body["toelichting"] = f"Graag terugbellen (verzoek-{index:05d})."
    body["registratiedatum"] = f"2025-03-18T10:{index // 600 % 60:02d}:{index // 10 % 60:02d}.{index % 10}00Z"
    body["betrokkene"]["digitaleAdressen"][1]["adres"] = f"06{rng.randrange(10_000_000, 10_000_020)}"
    return body


async def kiss_client(
    client: httpx.AsyncClient,
    replicas: Callable[[], list[str]],
    index: int,
    body: dict,
    outcome: Outcome,
    attempts: int | None = None,
) -> None:
    """Posts, and re-sends the same body after any failure (waiting out a Retry-After)."""
    deadline = time.monotonic() + CLIENT_DEADLINE_SECONDS
    sent = 0
    while not outcome.done and time.monotonic() < deadline and (attempts is None or sent < attempts):
        targets = replicas()
        base = targets[(index + len(outcome.statuses) + sent) % len(targets)]
        sent += 1
        try:
            response = await client.post(base + CREATE, json=body, headers=kiss_headers(), timeout=20)
        except httpx.TransportError:
            await asyncio.sleep(0.2)  # the replica is gone: the next one
            continue
        outcome.statuses.append(response.status_code)
        if response.status_code == 201:
            outcome.url, outcome.done = response.json()["url"], True
        elif response.status_code < 500:
            outcome.done = True  # refused: a KCM would see the error
        else:
            retry_after = response.headers.get("retry-after")
            await asyncio.sleep(min(5.0, float(retry_after)) if retry_after else random.uniform(0.1, 0.4))


async def run_clients(
    bodies: dict[int, dict],
    outcomes: dict[int, Outcome],
    replicas: Callable[[], list[str]],
    concurrency: int,
    attempts: int | None = None,
) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with semaphore:
            await kiss_client(client, replicas, index, bodies[index], outcomes[index], attempts)

    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(one(index) for index in bodies))


def uncertain_events(work: str) -> dict[str, int]:
    events: collections.Counter[str] = collections.Counter()
    for name in os.listdir(work):
        if name.endswith(".log"):
            with open(os.path.join(work, name), encoding="utf-8", errors="replace") as log:
                for line in log:
                    if line.startswith("{") and '"uncertain_outcome"' in line:
                        events[json.loads(line).get("problem_code", "?")] += 1
    return dict(sorted(events.items()))


def count(name: str, sim, outcomes: dict[int, Outcome], proxy: FaultProxy, started: float, work: str) -> Row:
    stored: collections.Counter[str] = collections.Counter()
    uuids: dict[str, set[str]] = collections.defaultdict(set)
    for uuid, contact in sim.state.store.contacts.items():
        text = contact.toelichting or ""
        if "(verzoek-" in text:
            marker = text.split("(verzoek-", 1)[1].split(")", 1)[0]
            stored[marker] += 1
            uuids[marker].add(uuid)
    markers = {index: f"{index:05d}" for index in outcomes}
    told = {index: o for index, o in outcomes.items() if o.url is not None}
    return Row(
        scenario=name,
        verzoeken=len(outcomes),
        told_success=len(told),
        exactly_once=sum(
            1
            for i in outcomes
            if stored[markers[i]] == 1 and (i not in told or told[i].url.rsplit("/", 1)[1] in uuids[markers[i]])
        ),
        duplicates=sum(1 for i in outcomes if stored[markers[i]] > 1),
        missing=sum(1 for i in told if stored[markers[i]] == 0),
        answers_500=sum(o.statuses.count(500) for o in outcomes.values()),
        faults=dict(sorted(proxy.faults.items())),
        uncertain=uncertain_events(work),
        seconds=round(time.monotonic() - started, 1),
    )


# --- the scenarios --------------------------------------------------------------------------------


def creates_only(rng: random.Random, rate: float, kinds: tuple[str, ...]):
    def policy(method: str, path: str) -> str | None:
        if method == "POST" and path.endswith(CREATE_PATH) and rng.random() < rate:
            return rng.choice(kinds)
        return None

    return policy


class Scenario:
    """One run: the e-Suite (simulator + proxy), the replicas, the clients, the count."""

    def __init__(self, name: str, verzoeken: int, seed: int, work: str) -> None:
        self.name, self.verzoeken = name, verzoeken
        self.work = os.path.join(work, name)  # the replicas' logs of this scenario
        os.makedirs(self.work, exist_ok=True)
        self.rng = random.Random(seed)
        self.bodies = {i: contactverzoek(i, self.rng) for i in range(verzoeken)}
        self.outcomes = {i: Outcome(f"{i:05d}") for i in range(verzoeken)}
        self.started = time.monotonic()
        self.sim = None

    def row(self, proxy: FaultProxy) -> Row:
        return count(self.name, self.sim, self.outcomes, proxy, self.started, self.work)


@contextlib.contextmanager
def behind_proxy(scenario: Scenario, policy, printed_host: str = "127.0.0.1", **options):
    """The simulator on a loopback socket behind the fault proxy. The simulator prints its
    URLs under the proxy's origin, as an e-Suite behind a gateway prints its public one; with
    `printed_host="localhost"` it names itself differently from ESUITE_BASE_URL."""
    from adapter.esuite_sim import SimulatorConfig, create_simulator

    port = free_port()
    scenario.sim = create_simulator(
        SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://{printed_host}:{port}", id_seed=1234)
    )
    with running_server(scenario.sim) as sim_url:
        proxy = FaultProxy(sim_url, policy, port=port, **options)
        proxy.start()
        try:
            yield proxy
        finally:
            proxy.stop()


def fault_proxy(verzoeken: int, seed: int, work: str) -> Row:
    """Every proxy fault on 40 % of the creates; one replica, the in-process store."""
    scenario = Scenario("fault-proxy", verzoeken, seed, work)
    with (
        Processes() as started,
        behind_proxy(scenario, creates_only(scenario.rng, 0.4, KINDS), delay_seconds=BUDGET_SECONDS + 1) as proxy,
    ):
        replica = started.replica(proxy.url, scenario.work, "fault-proxy")
        asyncio.run(run_clients(scenario.bodies, scenario.outcomes, lambda: [replica.url], concurrency=8))
        return scenario.row(proxy)


def kill_9(verzoeken: int, seed: int, work: str) -> Row:
    """Two replicas and Redis; every create answer is slow (1 s); replica A is killed with -9
    while creates are in flight at the e-Suite; the clients go on at replica B."""
    scenario = Scenario("kill-9", verzoeken, seed, work)
    policy = lambda method, path: "slow" if method == "POST" and path.endswith(CREATE_PATH) else None  # noqa: E731
    with Processes() as started, behind_proxy(scenario, policy, slow_seconds=1.0) as proxy:
        redis = started.redis(work, persistent=True)
        a, b = (started.replica(proxy.url, scenario.work, f"kill-9-{n}", IDEMPOTENCY_REDIS_URL=redis.url) for n in "ab")
        alive = [a.url, b.url]

        async def run() -> None:
            clients = asyncio.create_task(
                run_clients(scenario.bodies, scenario.outcomes, lambda: alive, concurrency=16)
            )
            while proxy.in_flight < 4:
                await asyncio.sleep(0.01)
            a.process.kill()  # SIGKILL: no shutdown, its locks stay in Redis
            alive.remove(a.url)
            await clients

        asyncio.run(run())
        return scenario.row(proxy)


def kill_9_in_process(verzoeken: int, seed: int, work: str) -> Row:
    """For contrast, the case the README lists as undetectable: one replica without Redis is
    killed with -9 while creates are in flight and started again; its store died with it."""
    scenario = Scenario("kill-9-in-process", verzoeken, seed, work)
    policy = lambda method, path: "slow" if method == "POST" and path.endswith(CREATE_PATH) else None  # noqa: E731
    with Processes() as started, behind_proxy(scenario, policy, slow_seconds=1.0) as proxy:
        replica = started.replica(proxy.url, scenario.work, "kill-9-in-process-1")
        current = [replica.url]

        async def run() -> None:
            clients = asyncio.create_task(
                run_clients(scenario.bodies, scenario.outcomes, lambda: current, concurrency=16)
            )
            while proxy.in_flight < 4:
                await asyncio.sleep(0.01)
            replica.process.kill()
            restarted = await asyncio.to_thread(started.replica, proxy.url, scenario.work, "kill-9-in-process-2")
            current[0] = restarted.url
            await clients

        asyncio.run(run())
        return scenario.row(proxy)


def sigterm_short_grace(verzoeken: int, seed: int, work: str) -> Row:
    """Replica A gets SIGTERM with SHUTDOWN_GRACE_SECONDS=1 while creates wait 6 s for the
    e-Suite's answer (budget 8 s); the clients go on at replica B."""
    scenario = Scenario("sigterm-short-grace", verzoeken, seed, work)
    policy = lambda method, path: "slow" if method == "POST" and path.endswith(CREATE_PATH) else None  # noqa: E731
    with Processes() as started, behind_proxy(scenario, policy, slow_seconds=6.0) as proxy:
        redis = started.redis(work, persistent=True)
        a = started.replica(
            proxy.url,
            scenario.work,
            "sigterm-short-grace-a",
            IDEMPOTENCY_REDIS_URL=redis.url,
            ESUITE_TIMEOUT_SECONDS="8",
            SHUTDOWN_GRACE_SECONDS="1",
        )
        b = started.replica(
            proxy.url,
            scenario.work,
            "sigterm-short-grace-b",
            IDEMPOTENCY_REDIS_URL=redis.url,
            ESUITE_TIMEOUT_SECONDS="8",
        )
        alive = [a.url, b.url]

        async def run() -> None:
            clients = asyncio.create_task(
                run_clients(scenario.bodies, scenario.outcomes, lambda: alive, concurrency=16)
            )
            while proxy.in_flight < 4:
                await asyncio.sleep(0.01)
            a.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(a.process.wait, 30)
            alive.remove(a.url)
            await clients

        asyncio.run(run())
        return scenario.row(proxy)


def foreign_origin(verzoeken: int, seed: int, work: str) -> Row:
    """The e-Suite prints `localhost` where ESUITE_BASE_URL says 127.0.0.1; 20 % of the creates
    lose their answer after being stored."""
    scenario = Scenario("foreign-origin", verzoeken, seed, work)
    with (
        Processes() as started,
        behind_proxy(scenario, creates_only(scenario.rng, 0.2, ("drop_after",)), printed_host="localhost") as proxy,
    ):
        replica = started.replica(proxy.url, scenario.work, "foreign-origin")
        asyncio.run(run_clients(scenario.bodies, scenario.outcomes, lambda: [replica.url], concurrency=8))
        return scenario.row(proxy)


def redis_restart(verzoeken: int, seed: int, work: str, persistent: bool = True) -> Row:
    """Two replicas and Redis. Every first attempt loses its answer after the e-Suite stored
    the contact (so every key holds an uncertain record), then Redis restarts, then the clients
    re-send. With AOF the records survive and every repeat finds its contact."""
    scenario = Scenario("redis-restart" if persistent else "redis-restart-no-aof", verzoeken, seed, work)
    phase = {"first": True}
    policy = lambda method, path: (
        "drop_after" if phase["first"] and method == "POST" and path.endswith(CREATE_PATH) else None
    )  # noqa: E731
    with Processes() as started, behind_proxy(scenario, policy) as proxy:
        redis = started.redis(work, persistent=persistent)
        urls = [
            started.replica(proxy.url, scenario.work, f"{scenario.name}-{n}", IDEMPOTENCY_REDIS_URL=redis.url).url
            for n in "ab"
        ]
        asyncio.run(run_clients(scenario.bodies, scenario.outcomes, lambda: urls, concurrency=8, attempts=1))
        redis.restart()
        phase["first"] = False
        asyncio.run(run_clients(scenario.bodies, scenario.outcomes, lambda: urls, concurrency=8))
        return scenario.row(proxy)


SCENARIOS = {
    "fault-proxy": fault_proxy,
    "kill-9": kill_9,
    "kill-9-in-process": kill_9_in_process,
    "sigterm-short-grace": sigterm_short_grace,
    "foreign-origin": foreign_origin,
    "redis-restart": redis_restart,
    "redis-restart-no-aof": lambda v, s, w: redis_restart(v, s, w, persistent=False),
}


# The cases the README lists as undetectable, run on request to show why the rules exist.
CONTRASTS = ("kill-9-in-process", "redis-restart-no-aof")


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | verzoeken | told success | exactly once | duplicates | missing | 500s | proxy faults | uncertain outcomes logged | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        faults = ", ".join(f"{k} {v}" for k, v in r.faults.items()) or "–"
        uncertain = ", ".join(f"{k} {v}" for k, v in r.uncertain.items()) or "–"
        lines.append(
            f"| {r.scenario} | {r.verzoeken} | {r.told_success} | {r.exactly_once} | {r.duplicates} | {r.missing} | {r.answers_500} | {faults} | {uncertain} | {r.seconds} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=[name for name in SCENARIOS if name not in CONTRASTS])
    parser.add_argument("--verzoeken", type=int, default=40)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", action="store_true", help="rows as JSON lines instead of the table")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kiss-reliability-") as work:
        for name in args.scenarios:
            rows.append(SCENARIOS[name](args.verzoeken, args.seed, work))
            print(json.dumps(attrs.asdict(rows[-1])) if args.json else f"{name}: done", file=sys.stderr, flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
