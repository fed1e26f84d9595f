"""Two adapter processes, one Redis, one simulator: concurrent identical POSTs and KISS-like
retries spread over both replicas create exactly one e-Suite contact each (issue 9)."""

import json
import os
import subprocess
import sys
import threading
import time

import httpx

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, FIXTURES, fixture_env, kiss_headers
from tests.servers import free_port, running_server, stop_adapter

CREATE_ROUTE = "POST /contactmomenten-api-provider/api/v1/contactmomenten"
VERZOEKEN = 12


def start_replica(sim_url: str, redis_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        **fixture_env(
            ESUITE_BASE_URL=sim_url, ADAPTER_BASE_URL="http://kiss-adapter:8080", IDEMPOTENCY_REDIS_URL=redis_url
        ),
        "LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/healthz", timeout=1)
            return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("replica did not start")


def body(index: int) -> bytes:
    data = json.loads((FIXTURES / "kiss/post-contactverzoek-groep-known-klant-v1.json").read_text())
    data["toelichting"] = f"Replica-test verzoek {index}"
    return json.dumps(data).encode()


def kiss_like_client(index: int, replicas: list[str], barrier: threading.Barrier, results: dict) -> None:
    """Posts to both replicas at the same moment, then retries on alternating replicas."""
    content = body(index)
    headers = {**kiss_headers(), "Content-Type": "application/json"}
    answers: list[httpx.Response] = []

    def send(base: str) -> None:
        answers.append(
            httpx.post(base + "/contactmomenten/api/v1/contactmomenten", content=content, headers=headers, timeout=30)
        )

    barrier.wait()
    both = [threading.Thread(target=send, args=(base,)) for base in replicas]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    attempt = 0
    while not any(a.status_code == 201 for a in answers) and attempt < 10:
        time.sleep(0.05)
        send(replicas[attempt % 2])
        attempt += 1
    results[index] = answers


def test_two_replicas_create_exactly_one_contact_per_verzoek(redis_server):
    faults = {"routes": {CREATE_ROUTE: {"lost_response": 0.3}}}
    sim_port = free_port()
    sim = create_simulator(
        SimulatorConfig(
            ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}", faults=faults, fault_seed=5
        )
    )
    with running_server(sim, port=sim_port) as sim_url:
        processes = []
        try:
            for _ in range(2):
                process, base = start_replica(sim_url, redis_server.url)
                processes.append((process, base))
            replicas = [base for _, base in processes]
            barrier = threading.Barrier(VERZOEKEN)
            results: dict[int, list[httpx.Response]] = {}
            clients = [
                threading.Thread(target=kiss_like_client, args=(i, replicas, barrier, results))
                for i in range(VERZOEKEN)
            ]
            for client in clients:
                client.start()
            for client in clients:
                client.join(timeout=60)
        finally:
            for process, _ in processes:
                stop_adapter(process)
        stored: dict[str, int] = {}
        for contact in sim.state.store.contacts.values():
            if (contact.toelichting or "").endswith(tuple(f"Replica-test verzoek {i}" for i in range(VERZOEKEN))):
                marker = contact.toelichting.rsplit("verzoek ", 1)[1]
                stored[marker] = stored.get(marker, 0) + 1
        lost = sum(1 for entry in sim.state.store.requests if "lost_response" in entry["faults"])
    assert lost > 0
    statuses = {i: [a.status_code for a in answers] for i, answers in results.items()}
    assert all(201 in statuses[i] for i in range(VERZOEKEN)), statuses
    assert all(a.status_code in (201, 502) for answers in results.values() for a in answers)
    assert stored == {str(i): 1 for i in range(VERZOEKEN)}, stored
    created = {a.json()["url"] for answers in results.values() for a in answers if a.status_code == 201}
    assert len(created) == VERZOEKEN
