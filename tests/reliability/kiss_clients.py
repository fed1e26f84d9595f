"""KISS-like clients against the real app and a faulty e-Suite simulator (issue 7).

Each client posts one contactverzoek and, like a KCM clicking "opslaan" again or the BFF
retrying, repeats the same body on 5xx and time-outs. Afterwards the simulator's store is
compared with what the clients were told.

Short run: part of the test suite. Long run (documented in tests/reliability/README.md):
    .venv/bin/python -m tests.reliability.kiss_clients --verzoeken 1000 --fault-rate 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter

import attrs

from adapter.services import services_of
from tests.conftest import FIXTURES, Stack, fixture_settings, kiss_headers

MAX_ATTEMPTS = 8  # answers other than 503 circuit-open, which the client waits out
CREATE = "/contactmomenten/api/v1/contactmomenten"


@attrs.define
class Outcome:
    marker: str
    statuses: list[int] = attrs.field(factory=list)
    url: str | None = None


@attrs.frozen
class Report:
    verzoeken: int
    told_success: int
    gave_up: int
    exactly_once: int
    missing: int
    duplicates: int
    unconfirmed: int
    answers_500: int
    uncertain_resolved: dict
    status_counts: dict
    upstream_faults: dict
    seconds: float

    def as_text(self) -> str:
        return json.dumps(attrs.asdict(self), indent=2, sort_keys=True)


def contactverzoek(index: int, rng: random.Random) -> bytes:
    body = json.loads((FIXTURES / "kiss/post-contactverzoek-afdeling-anonymous-v0.6.json").read_text())
    marker = f"verzoek-{index:05d}"
    body["toelichting"] = f"Graag terugbellen ({marker})."
    body["registratiedatum"] = f"2025-03-18T10:{index // 600 % 60:02d}:{index // 10 % 60:02d}.{index % 10}00Z"
    phone = f"06{rng.randrange(10_000_000, 10_000_050)}"  # 50 numbers shared by many verzoeken
    body["betrokkene"]["digitaleAdressen"][1]["adres"] = phone
    return json.dumps(body).encode()


async def kiss_client(stack: Stack, index: int, rng: random.Random, semaphore: asyncio.Semaphore) -> Outcome:
    content = contactverzoek(index, rng)
    outcome = Outcome(marker=f"verzoek-{index:05d}")
    headers = {**kiss_headers(), "Content-Type": "application/json"}
    attempts = 0
    while attempts < MAX_ATTEMPTS:
        async with semaphore:
            response = await stack.client.post(CREATE, content=content, headers=headers)
        outcome.statuses.append(response.status_code)
        if response.status_code == 201:
            outcome.url = response.json()["url"]
            return outcome
        if response.status_code < 500:
            return outcome
        if "retry-after" in response.headers:  # the e-Suite is down: wait as told, then try again
            await asyncio.sleep(int(response.headers["retry-after"]))
            continue
        attempts += 1
        await asyncio.sleep(rng.uniform(0.0, 0.05))  # the KCM clicks "opslaan" again
    return outcome


class TcpStack:
    """The app in process, the simulator on a real loopback socket behind the production
    transport. Unlike in process, a hung request keeps running in the simulator after the
    adapter gave up, and stores its contact late, as a slow e-Suite would."""

    def __init__(self, settings, faults: dict, seed: int) -> None:
        import contextlib

        import httpx

        from adapter.app import create_app
        from adapter.esuite_sim import SimulatorConfig, create_simulator
        from tests.conftest import ADAPTER, ESUITE_CLIENT, ESUITE_SECRET
        from tests.servers import free_port, running_server

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        self.sim = create_simulator(
            SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=base, faults=faults, fault_seed=seed, id_seed=1234)
        )
        self._server = contextlib.ExitStack()
        self._server.enter_context(running_server(self.sim, port=port))
        self.app = create_app(attrs.evolve(settings, esuite_base_url=base))
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url=ADAPTER)

    @property
    def store(self):
        return self.sim.state.store

    async def aclose(self) -> None:
        await self.client.aclose()
        await services_of(self.app).esuite.aclose()
        self._server.close()


def faulty_stack(fault_rate: float, seed: int, tcp: bool = False):
    share = fault_rate / 4  # four kinds, drawn independently per request
    faults = {
        "hang_seconds": 0.5,
        "routes": {"* *": {"reset_before": share, "hang": share, "error5xx": share, "lost_response": share}},
    }
    settings = attrs.evolve(fixture_settings(), esuite_timeout_seconds=0.25)
    if tcp:
        return TcpStack(settings, faults, seed)
    return Stack(settings=settings, faults=faults, fault_seed=seed)


async def run(verzoeken: int, fault_rate: float, concurrency: int = 32, seed: int = 7, tcp: bool = False) -> Report:
    started = time.monotonic()
    stack = faulty_stack(fault_rate, seed, tcp)
    rng = random.Random(seed)
    semaphore = asyncio.Semaphore(concurrency)
    outcomes = await asyncio.gather(*[kiss_client(stack, i, rng, semaphore) for i in range(verzoeken)])
    if tcp:
        await asyncio.sleep(1.0)  # let hung requests that the adapter gave up on finish storing
    await stack.aclose()

    stored = Counter()
    uuid_of: dict[str, set[str]] = {}
    for uuid, contact in stack.store.contacts.items():
        toelichting = contact.toelichting or ""
        if "(verzoek-" in toelichting:
            marker = toelichting.split("(", 1)[1].split(")", 1)[0]
            stored[marker] += 1
            uuid_of.setdefault(marker, set()).add(uuid)
    told = [o for o in outcomes if o.url is not None]
    exactly_once = sum(1 for o in told if stored[o.marker] == 1 and o.url.rsplit("/", 1)[1] in uuid_of[o.marker])
    statuses = Counter(status for o in outcomes for status in o.statuses)
    registry = services_of(stack.app).metrics.registry
    resolved = {
        kind: int(registry.get_sample_value("kiss_adapter_uncertain_creates_total", {"resolved": kind}) or 0)
        for kind in ("found", "created", "undetectable")
    }
    faults = Counter(kind for entry in stack.store.requests for kind in entry["faults"])
    return Report(
        verzoeken=verzoeken,
        told_success=len(told),
        gave_up=verzoeken - len(told),
        exactly_once=exactly_once,
        missing=sum(1 for o in told if stored[o.marker] == 0),
        duplicates=sum(1 for count in stored.values() if count > 1),
        unconfirmed=sum(1 for o in outcomes if o.url is None and stored[o.marker] > 0),
        answers_500=statuses[500],
        uncertain_resolved=resolved,
        status_counts=dict(sorted(statuses.items())),
        upstream_faults=dict(sorted(faults.items())),
        seconds=round(time.monotonic() - started, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verzoeken", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tcp", action="store_true", help="the simulator on a loopback socket: hung requests complete late"
    )
    args = parser.parse_args()
    import io

    from adapter.logging import configure_logging

    configure_logging("ERROR", stream=io.StringIO())  # the report is the output
    report = asyncio.run(run(args.verzoeken, args.fault_rate, args.concurrency, args.seed, args.tcp))
    print(report.as_text())


if __name__ == "__main__":
    main()
