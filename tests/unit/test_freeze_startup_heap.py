"""Issue 17 (bench/README.md, "gc.freeze", "The ninth pass"): `serve` freezes the startup heap
and raises the young generation's threshold before it serves."""

from __future__ import annotations

import gc

import pytest

from adapter import cli
from tests.conftest import fixture_env


@pytest.fixture
def unfrozen():
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_serve_freezes_the_startup_heap_before_the_server_runs(monkeypatch, unfrozen):
    seen: list[tuple[int, tuple[int, int, int]]] = []
    monkeypatch.setattr(
        cli.GracefulServer, "run", lambda self: seen.append((gc.get_freeze_count(), gc.get_threshold()))
    )
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    # The process's logging stays as the tests set it (serve would bind cached loggers).
    monkeypatch.setattr("adapter.logging.configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli, "_route_server_logs", lambda: None)
    assert cli.main(["serve", "--port", "0"], environ=fixture_env()) == 0
    [(frozen, thresholds)] = seen
    # The app, its routes, the clients and every imported module: tens of thousands of objects.
    assert frozen > 10_000
    # The young generation collected after 7,000 net allocations instead of Python's 700.
    assert thresholds == (7000, 10, 10)


def test_freeze_startup_heap_collects_first(unfrozen):
    class Cycle:
        pass

    garbage = Cycle()
    garbage.self = garbage  # type: ignore[attr-defined]
    del garbage
    cli.freeze_startup_heap()
    assert not any(type(obj) is Cycle for obj in gc.get_objects()) and gc.get_freeze_count() > 0
