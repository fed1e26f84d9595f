"""The reliability runner's fault proxy does what each fault says (tests/reliability/fault_proxy.py)."""

import httpx
import pytest

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import ESUITE_CLIENT, ESUITE_SECRET
from tests.reliability.fault_proxy import FaultProxy
from tests.servers import running_server

SCHEMA = "/contactmomenten-api-provider/api/v1/schema/openapi.yaml"


@pytest.fixture
def behind_proxy():
    sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, base_url="http://127.0.0.1"))
    fault = {"next": None}
    with running_server(sim) as sim_url:
        proxy = FaultProxy(sim_url, lambda method, path: fault["next"], delay_seconds=0.5)
        proxy.start()
        yield proxy, sim, fault
        proxy.stop()


def arrived(sim) -> int:
    return len([e for e in sim.state.store.requests if e["path"] == SCHEMA])


@pytest.mark.parametrize(
    "fault, answer, processed",
    [
        (None, 401, True),  # the simulator's own answer to a request without a token
        ("reset_before", None, False),
        ("drop_after", None, True),
        ("gateway_before_503", 503, False),
        ("gateway_after_502", 502, True),
        ("gateway_after_504", 504, True),
    ],
)
def test_each_fault_answers_and_forwards_as_named(behind_proxy, fault, answer, processed):
    proxy, sim, chosen = behind_proxy
    chosen["next"] = fault
    try:
        status = httpx.get(proxy.url + SCHEMA, timeout=5).status_code
    except httpx.TransportError:
        status = None
    assert status == answer
    assert arrived(sim) == (1 if processed else 0)
    assert dict(proxy.faults) == ({fault: 1} if fault else {})


def test_delay_holds_the_answer_past_a_shorter_timeout_after_forwarding(behind_proxy):
    proxy, sim, chosen = behind_proxy
    chosen["next"] = "delay"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(proxy.url + SCHEMA, timeout=0.2)
    assert arrived(sim) == 1
    chosen["next"] = None
    assert httpx.get(proxy.url + SCHEMA, timeout=5).status_code == 401  # the proxy keeps serving
