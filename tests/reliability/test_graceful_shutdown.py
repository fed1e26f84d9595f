"""SIGTERM during load: in-flight requests finish, readiness says shutting-down, exit 0 (operations.md §5.7)."""

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time

import httpx

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, fixture_env, kiss_headers
from tests.servers import free_port, running_server, stop_adapter

DETAIL = "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"


def wait_until_serving(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("adapter did not start")


def test_sigterm_during_load_loses_no_in_flight_request():
    slow = {
        "hang_seconds": 1.0,
        "routes": {"GET /contactmomenten-api-provider/api/v1/contactmomenten/{uuid}": {"hang": 1.0}},
    }
    sim_port = free_port()
    sim = create_simulator(
        SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}", faults=slow)
    )
    with running_server(sim, port=sim_port) as sim_url:
        port = free_port()
        env = {
            **os.environ,
            **fixture_env(
                ESUITE_BASE_URL=sim_url,
                ADAPTER_BASE_URL=f"http://127.0.0.1:{port}",
                SHUTDOWN_GRACE_SECONDS="10",
                LOG_LEVEL="WARNING",
            ),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, time.monotonic() + 20)
            with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
                futures = [pool.submit(httpx.get, base + DETAIL, headers=kiss_headers(), timeout=15) for _ in range(10)]
                deadline = time.monotonic() + 10
                while len([e for e in sim.state.store.requests if e["method"] == "GET"]) < 10:  # all ten in flight
                    assert time.monotonic() < deadline, "requests did not reach the e-Suite"
                    time.sleep(0.01)
                process.send_signal(signal.SIGTERM)
                answers = [future.result() for future in futures]
            exit_code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert [answer.status_code for answer in answers] == [200] * 10
    assert exit_code == 0


def test_handle_exit_reports_shutting_down_first_and_stops_after_the_drain():
    import asyncio

    import uvicorn

    from adapter.cli import GracefulServer
    from adapter.kiss_api.health import Readiness

    readiness = Readiness()
    server = GracefulServer(uvicorn.Config(app=None), readiness, drain_seconds=0.2)
    server.handle_exit(signal.SIGTERM, None)
    assert readiness.shutting_down and not server.should_exit  # still serving: probes see it
    assert asyncio.run(server.on_tick(1)) is False
    time.sleep(0.25)
    assert asyncio.run(server.on_tick(1)) is True


def test_a_second_signal_skips_the_drain():
    import uvicorn

    from adapter.cli import GracefulServer
    from adapter.kiss_api.health import Readiness

    server = GracefulServer(uvicorn.Config(app=None), Readiness(), drain_seconds=60)
    server.handle_exit(signal.SIGTERM, None)
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit


CREATE_ROUTE = "POST /contactmomenten-api-provider/api/v1/contactmomenten"


def serve(sim_url: str, redis_url: str, stderr, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {
        **os.environ,
        **fixture_env(
            ESUITE_BASE_URL=sim_url,
            ADAPTER_BASE_URL=f"http://127.0.0.1:{port}",
            IDEMPOTENCY_REDIS_URL=redis_url,
            LOG_LEVEL="WARNING",
            **env,
        ),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=stderr,
        stderr=stderr,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, time.monotonic() + 20)
    except AssertionError:
        process.kill()
        raise
    return process, base


def test_sigterm_with_a_grace_shorter_than_the_esuite_answer_time_loses_no_contact_and_makes_no_second(
    redis_server, tmp_path
):
    """Issue 14 item 2, the real served process: readiness says shutting-down while the
    listener still serves, the create cut short is answered 503 problem+json and recorded
    uncertain, the log stays JSON, and the repeat on another replica finds the contact."""
    from tests.conftest import load_fixture

    faults = {"hang_seconds": 6.0, "routes": {CREATE_ROUTE: {"hang": 1.0}}}  # past drain (3 s) + grace (1 s)
    sim_port = free_port()
    sim = create_simulator(
        SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}", faults=faults)
    )
    body = load_fixture("kiss/post-contactverzoek-groep-known-klant-v1.json")
    body["toelichting"] = "Shutdown-test verzoek"
    log_path = tmp_path / "adapter.log"
    with running_server(sim, port=sim_port) as sim_url, open(log_path, "wb") as log_file:
        process, base = serve(
            sim_url, redis_server.url, log_file, SHUTDOWN_GRACE_SECONDS="1", ESUITE_TIMEOUT_SECONDS="10"
        )
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                create = pool.submit(
                    httpx.post,
                    base + "/contactmomenten/api/v1/contactmomenten",
                    json=body,
                    headers=kiss_headers(),
                    timeout=20,
                )
                deadline = time.monotonic() + 10
                while not [e for e in sim.state.store.requests if e["method"] == "POST"]:
                    assert time.monotonic() < deadline, "the create did not reach the e-Suite"
                    time.sleep(0.01)
                process.send_signal(signal.SIGTERM)
                time.sleep(0.2)
                ready = httpx.get(base + "/readyz", timeout=5)  # the listener still serves
                cut_short = create.result()
            exit_code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
        deadline = time.monotonic() + 10
        while not [c for c in sim.state.store.contacts.values() if "Shutdown-test verzoek" in (c.toelichting or "")]:
            assert time.monotonic() < deadline, "the hung create was not stored"
            time.sleep(0.05)
        with open(tmp_path / "other.log", "wb") as other_log:
            other, other_base = serve(sim_url, redis_server.url, other_log)
            try:
                repeat = httpx.post(
                    other_base + "/contactmomenten/api/v1/contactmomenten",
                    json=body,
                    headers=kiss_headers(),
                    timeout=20,
                )
            finally:
                stop_adapter(other)
        stored = [
            uuid for uuid, c in sim.state.store.contacts.items() if "Shutdown-test verzoek" in (c.toelichting or "")
        ]
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "checks": {"esuite": "shutting-down", "idempotencyStore": "ok"}}
    assert cut_short.status_code == 503
    assert cut_short.headers["content-type"] == "application/problem+json"
    assert cut_short.json()["code"] == "shutting-down"
    assert exit_code == 0
    findings = [
        "WARNING SHUTDOWN_GRACE_SECONDS: shorter than ESUITE_TIMEOUT_SECONDS + 5 s (15): a create in flight at shutdown may be cut short; it is then answered 503 and recorded as uncertain"
    ]
    lines = log_path.read_bytes().decode().splitlines()
    assert lines[:1] == findings  # check-config's finding at start-up, then
    assert all(line.startswith("{") for line in lines[1:]), lines  # JSON only, no plain-text traceback
    assert not any("Traceback" in line for line in lines)
    events = [json.loads(line)["event"] for line in lines[1:]]
    assert "uncertain_outcome" in events
    [cut_short_line] = [
        json.loads(line)
        for line in lines[1:]
        if json.loads(line).get("route") == "/contactmomenten/api/v1/contactmomenten"
    ]
    assert (cut_short_line["status"], cut_short_line["problem_code"]) == (503, "shutting-down")
    assert repeat.status_code == 201
    assert len(stored) == 1
    assert repeat.json()["url"].endswith(stored[0])
