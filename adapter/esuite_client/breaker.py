"""Fail fast while an upstream is down (operations.md §5.5).

A small state machine rather than a library: closed → open after 5 consecutive failures →
after 10 s one trial call → closed on success, open again on failure. While open, callers get
503 at once instead of piling up connections and time-outs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import structlog

from adapter.problems import Problem

log = structlog.get_logger("adapter.breaker")

FAILURES_TO_OPEN = 5
OPEN_SECONDS = 10.0


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        on_change: Callable[[bool], None] = lambda is_open: None,
        clock: Callable[[], float] = time.monotonic,
        failures_to_open: int = FAILURES_TO_OPEN,
        open_seconds: float = OPEN_SECONDS,
    ) -> None:
        self.name = name
        self._on_change = on_change
        self._clock = clock
        self._failures_to_open = failures_to_open
        self._open_seconds = open_seconds
        self._consecutive_failures = 0
        self._opened_until: float | None = None  # set while open (or half-open with a trial out)
        self._trial_in_flight = False

    @property
    def is_open(self) -> bool:
        """Open, including half-open while a trial call is out (readiness reports it)."""
        return self._opened_until is not None

    def before_call(self) -> None:
        """Raise 503 unless a call may go now; in half-open state exactly one trial goes."""
        if self._opened_until is None:
            return
        now = self._clock()
        if now >= self._opened_until and not self._trial_in_flight:
            self._trial_in_flight = True
            return
        wait = max(1, math.ceil(self._opened_until - now))
        raise Problem(503, "upstream-circuit-open", headers={"Retry-After": str(wait)})

    def record(self, success: bool) -> None:
        if success:
            self._consecutive_failures = 0
            if self._opened_until is not None:
                self._opened_until = None
                self._trial_in_flight = False
                log.warning("circuit_closed", target=self.name)
                self._on_change(False)
            return
        self._consecutive_failures += 1
        was_open = self._opened_until is not None
        if was_open or self._consecutive_failures >= self._failures_to_open:
            self._opened_until = self._clock() + self._open_seconds
            self._trial_in_flight = False
            if not was_open:
                log.warning("circuit_open", target=self.name)
                self._on_change(True)

    def abandon(self) -> None:
        """A call ended without an outcome (cancelled): let the next caller be the trial."""
        self._trial_in_flight = False
