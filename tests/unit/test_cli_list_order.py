"""`simulate` and `demo` take `--list-order` (docs/simulator.md), and pass it to the simulator."""

import pytest

from adapter import cli
from adapter.esuite_sim.app import LIST_ORDERS


def test_the_cli_offers_the_simulators_orders():
    assert cli.LIST_ORDERS == LIST_ORDERS == ("newest-first", "oldest-first")


@pytest.mark.parametrize("command", ["simulate", "demo"])
def test_list_order_flag(command):
    assert cli._parser().parse_args([command]).list_order == "newest-first"
    assert cli._parser().parse_args([command, "--list-order", "oldest-first"]).list_order == "oldest-first"
    with pytest.raises(SystemExit) as refused:
        cli._parser().parse_args([command, "--list-order", "random"])
    assert refused.value.code == 2


def test_simulate_passes_the_order_to_the_simulator(monkeypatch):
    seen = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kwargs: seen.update(order=app.state.config.list_order))
    env = {"ESUITE_CLIENT_ID": "sim", "ESUITE_CLIENT_SECRET": "s" * 40}
    assert cli.main(["simulate", "--list-order", "oldest-first"], env) == 0
    assert seen == {"order": "oldest-first"}
