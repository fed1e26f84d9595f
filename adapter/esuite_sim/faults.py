"""Fault injection for the e-Suite simulator (esuite.md §8.7, ``PUT /_sim/faults``).

Configuration (the body of ``PUT /_sim/faults``, or ``SimulatorConfig.faults``)::

    {
      "hang_seconds": 60,
      "routes": {
        "POST /contactmomenten-api-provider/api/v1/contactmomenten": {"lost_response": 0.5},
        "GET /contactmomenten-api-provider/api/v1/contactmomenten/{uuid}": {"error5xx": 1},
        "* *": {"hang": 0.01}
      }
    }

A route key is ``"METHOD /path-template"``: the path relative to the base path, with
``{uuid}`` for a path parameter. ``*`` stands for any method or any path. Each rate is a
probability 0–1. Per request the kinds are drawn in a fixed order from one seeded
``random.Random`` (``fault_seed``), so runs are reproducible:

- ``reset_before``: the request is dropped before it is processed;
- ``hang``: the answer is delayed by ``hang_seconds`` (then processed normally);
- ``error5xx``: an answer 500, 502 or 503 without processing;
- ``lost_response``: the request is processed (a contact is stored), then dropped.

A drop raises ``SimulatedConnectionReset`` out of the ASGI app. In process (httpx
``ASGITransport``) the client sees that exception, a subclass of
``httpx.RemoteProtocolError``, the error httpx raises when a real server closes the
connection without answering. Over TCP, a server must turn the exception into a dropped
connection: under uvicorn the app closes the connection itself (``abort_connection``);
another server may answer 500 instead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import httpx

KINDS = ("reset_before", "hang", "error5xx", "lost_response")


class SimulatedConnectionReset(httpx.RemoteProtocolError):
    """The simulator drops the connection without an answer (``kind``: reset_before / lost_response)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"Server disconnected without sending a response (simulated {kind}).")
        self.kind = kind


class FaultConfigError(ValueError):
    pass


class FaultInjector:
    def __init__(self, config: Mapping[str, Any] | None, seed: int | None) -> None:
        self._initial, self._seed = config, seed
        self.reset()

    def reset(self) -> None:
        """Back to the configured faults, with a fresh random sequence."""
        self.rng = random.Random(self._seed)
        self.configure(self._initial or {})

    def configure(self, config: Any) -> None:
        if not isinstance(config, Mapping):
            raise FaultConfigError("faults must be a JSON object")
        unknown = set(config) - {"routes", "hang_seconds", "seed"}
        if unknown:
            raise FaultConfigError(f"unknown keys: {sorted(unknown)}")
        hang = config.get("hang_seconds", 60)
        routes = config.get("routes", {})
        if not isinstance(hang, (int, float)) or isinstance(hang, bool) or hang < 0:
            raise FaultConfigError("hang_seconds must be a number >= 0")
        if not isinstance(routes, Mapping):
            raise FaultConfigError("routes must be an object")
        parsed: dict[str, dict[str, float]] = {}
        for key, rates in routes.items():
            if not isinstance(key, str) or len(key.split(" ")) != 2 or not isinstance(rates, Mapping):
                raise FaultConfigError(f'bad route entry {key!r}: want "METHOD /path": {{kind: rate}}')
            for kind, rate in rates.items():
                if kind not in KINDS:
                    raise FaultConfigError(f"unknown fault kind {kind!r}")
                if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
                    raise FaultConfigError(f"rate of {kind!r} must be a number 0..1")
            method, path = key.split(" ")
            parsed[f"{method.upper()} {path}"] = {kind: float(rate) for kind, rate in rates.items()}
        if "seed" in config:
            self.rng = random.Random(config["seed"])
        self.hang_seconds = float(hang)
        self.routes = parsed

    def to_json(self) -> dict[str, Any]:
        return {"hang_seconds": self.hang_seconds, "routes": self.routes}

    def draw(self, method: str, template: str) -> set[str]:
        """The faults that hit this request (empty when no route entry applies)."""
        rates = next(
            (
                self.routes[key]
                for key in (f"{method} {template}", f"* {template}", f"{method} *", "* *")
                if key in self.routes
            ),
            None,
        )
        if not rates:
            return set()
        return {kind for kind in KINDS if self.rng.random() < rates.get(kind, 0.0)}

    def error_status(self) -> int:
        return self.rng.choice((500, 502, 503))


def abort_connection(send: Any) -> None:
    """Best effort: close the TCP connection under uvicorn (its ``send`` is a bound method of
    the request cycle, which holds the asyncio transport). A no-op in process."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
