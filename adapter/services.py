"""What the routes need, built once by the app factory (adapter/app.py) and read through
`services(request)`: one typed, frozen object instead of loose `app.state` attributes.

Nothing here is written at run time; state that changes (the readiness cache, the klant
look-up warning's last time) lives in the objects it belongs to, each with its clock injected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from adapter.config import Settings
    from adapter.esuite_client.client import EsuiteClient
    from adapter.esuite_client.urls import UrlMap
    from adapter.idempotency import DuplicateStore
    from adapter.kiss_api.health import Readiness
    from adapter.metrics import Metrics
    from adapter.telemetry import Telemetry

Clock = Callable[[], float]


class RateLimitedWarning:
    """A warning logged at most once per `interval_seconds` of the injected monotonic clock."""

    __slots__ = ("_clock", "_interval", "_warned_at")

    def __init__(self, interval_seconds: float, clock: Clock) -> None:
        self._interval = interval_seconds
        self._clock = clock
        self._warned_at = float("-inf")

    def due(self) -> bool:
        """True (and the interval restarts) when the warning may be logged now."""
        now = self._clock()
        if now - self._warned_at < self._interval:
            return False
        self._warned_at = now
        return True


@attrs.frozen(slots=True)
class Services:
    settings: Settings
    clock: Clock  # wall clock (dates, tokens, uncertain attempts)
    monotonic: Clock  # intervals (caches, rate limits, deadlines)
    esuite: EsuiteClient
    urls: UrlMap
    metrics: Metrics
    readiness: Readiness
    duplicates: DuplicateStore
    telemetry: Telemetry | None
    klant_lookup_warning: RateLimitedWarning


def services(request: HTTPConnection) -> Services:
    """The app's services, an attribute of the app itself (`AdapterApp.services`): no look-up
    through `app.state`'s `__getattr__` on every use, several a request."""
    return request.scope["app"].services


def services_of(app: Any) -> Services:
    return app.services
