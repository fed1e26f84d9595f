"""Embedded e-Suite simulator (esuite.md §8): an in-memory Starlette app for the demo, the
integration tests and the benchmark."""

from adapter.esuite_sim.app import SimulatorConfig, create_simulator
from adapter.esuite_sim.faults import SimulatedConnectionReset

__all__ = ["SimulatedConnectionReset", "SimulatorConfig", "create_simulator"]
