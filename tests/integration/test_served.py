"""`python -m adapter serve` as operators run it: uvicorn with the adapter's production settings."""

import httpx

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET, fixture_env, kiss_headers
from tests.servers import free_port, running_server, served_adapter

DETAIL = "/contactmomenten/api/v1/contactmomenten/6b49ddb3-f8be-452d-92ba-f780ee8d49db"


def test_RW2_forwarded_headers_from_a_local_proxy_never_change_the_urls():
    """uvicorn trusts X-Forwarded-* from 127.0.0.1 by default; the adapter's server does not."""
    sim_port = free_port()
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url=f"http://127.0.0.1:{sim_port}"))
    with running_server(sim, port=sim_port) as sim_url:
        # No ADAPTER_BASE_URL: URLs follow the request's own origin (RW-2).
        env = fixture_env(ESUITE_BASE_URL=sim_url, LOG_LEVEL="WARNING", ADAPTER_BASE_URL="")
        with served_adapter(env) as (base, _):
            forwarded = {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "kiss.example.org",
                "X-Forwarded-For": "10.1.2.3",
            }
            answer = httpx.get(base + DETAIL, headers={**kiss_headers(), **forwarded}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["url"] == f"{base}{DETAIL}"
