"""SIGTERM during load: in-flight requests finish, readiness says shutting-down, exit 0 (operations.md §5.7)."""

import concurrent.futures
import os
import signal
import subprocess
import sys
import time

import httpx

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, fixture_env, kiss_headers
from tests.servers import free_port, running_server

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
    slow = {"hang_seconds": 1.0, "routes": {"GET /contactmomenten-api-provider/api/v1/contactmomenten/{uuid}": {"hang": 1.0}}}
    sim_port = free_port()
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}", faults=slow))
    with running_server(sim, port=sim_port) as sim_url:
        port = free_port()
        env = {**os.environ, **fixture_env(ESUITE_BASE_URL=sim_url, ADAPTER_BASE_URL=f"http://127.0.0.1:{port}", SHUTDOWN_GRACE_SECONDS="10", LOG_LEVEL="WARNING")}
        process = subprocess.Popen([sys.executable, "-m", "adapter", "serve", "--host", "127.0.0.1", "--port", str(port)], env=env)
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


def test_handle_exit_reports_shutting_down_on_readiness():
    import uvicorn

    from adapter.cli import GracefulServer
    from adapter.kiss_api.health import Readiness

    readiness = Readiness()
    server = GracefulServer(uvicorn.Config(app=None), readiness)
    server.handle_exit(signal.SIGTERM, None)
    assert readiness.shutting_down and server.should_exit
