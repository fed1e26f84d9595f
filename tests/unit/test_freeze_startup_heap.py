"""Issue 17 (bench/README.md, "gc.freeze"): `serve` freezes the startup heap before it serves."""

from __future__ import annotations

import gc

import pytest

from adapter import cli
from tests.conftest import fixture_env


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_serve_freezes_the_startup_heap_before_the_server_runs(monkeypatch, unfrozen):
    seen: list[int] = []
    monkeypatch.setattr(cli.GracefulServer, "run", lambda self: seen.append(gc.get_freeze_count()))
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    # The process's logging stays as the tests set it (serve would bind cached loggers).
    monkeypatch.setattr("adapter.logging.configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli, "_route_server_logs", lambda: None)
    assert cli.main(["serve", "--port", "0"], environ=fixture_env()) == 0
    [frozen] = seen
    # The app, its routes, the clients and every imported module: tens of thousands of objects.
    assert frozen > 10_000


def test_freeze_startup_heap_collects_first(unfrozen):
    class Cycle:
        pass

    garbage = Cycle()
    garbage.self = garbage  # type: ignore[attr-defined]
    del garbage
    cli.freeze_startup_heap()
    assert not any(type(obj) is Cycle for obj in gc.get_objects()) and gc.get_freeze_count() > 0
