"""Prometheus metrics (operations.md §3). One registry per app, so tests and apps don't share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.metrics import MetricWrapperBase

from adapter import __version__

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


M = TypeVar("M", bound=MetricWrapperBase)


class Children(Generic[M]):
    """A labelled metric's children, looked up in a dict: `labels()` validates and locks on
    every call, a cost paid per request and per e-Suite call (bench S1, S3)."""

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "kiss_adapter_http_requests", "Inbound requests", ["method", "route", "status"], registry=r
        )
        self.request_duration = Histogram(
            "kiss_adapter_http_request_duration_seconds",
            "Inbound request duration",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        # Counted in a plain int that the gauge reads when scraped: the gauge's `inc` and `dec`
        # take a lock each, twice a request (1.2 µs, 2026-12-02), on the one thread that serves.
        self.requests_in_flight = 0
        self.in_flight = Gauge("kiss_adapter_http_requests_in_flight", "Requests being served", registry=r)
        self.in_flight.set_function(lambda: self.requests_in_flight)
        self.upstream_requests = Counter(
            "kiss_adapter_upstream_requests", "Upstream calls", ["target", "method", "status"], registry=r
        )
        self.upstream_duration = Histogram(
            "kiss_adapter_upstream_request_duration_seconds",
            "Upstream call duration",
            ["target", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_retries = Counter("kiss_adapter_upstream_retries", "Upstream retries", ["target"], registry=r)
        self.circuit_open = Gauge(
            "kiss_adapter_circuit_open", "Circuit breaker open (1) or not (0)", ["target"], registry=r
        )
        self.duplicate_replays = Counter(
            "kiss_adapter_duplicate_replays", "Contactmoment POSTs answered from the duplicate store", registry=r
        )
        self.uncertain_creates = Counter(
            "kiss_adapter_uncertain_creates", "Repeats of uncertain creates, by outcome", ["resolved"], registry=r
        )
        self.ordered_list_truncated = Counter(
            "kiss_adapter_ordered_list_truncated",
            "Ordered lists with more e-Suite pages than ORDERED_LIST_MAX_PAGES (answered in best-effort order)",
            ["route"],
            registry=r,
        )
        self.client_aborts = Counter(
            "kiss_adapter_client_aborts",
            "Requests the client ended: went away mid-body or before a read's answer (disconnect),"
            " or stopped reading a download (stalled)",
            ["reason"],
            registry=r,
        )
        self.duplicate_store_entries = Gauge(
            "kiss_adapter_duplicate_store_entries", "Entries in the in-process duplicate store", registry=r
        )
        self.duplicate_store_bytes = Gauge(
            "kiss_adapter_duplicate_store_bytes", "Accounted bytes of the in-process duplicate store", registry=r
        )
        self.auth_failures = Counter("kiss_adapter_auth_failures", "Refused credentials", ["code"], registry=r)
        self.request_count = Children(self.requests)  # (method, route, status)
        self.request_seconds = Children(self.request_duration)  # (method, route)
        self.upstream_count = Children(self.upstream_requests)  # (target, method, status)
        self.upstream_seconds = Children(self.upstream_duration)  # (target, method)
        # Process (`process_*`: CPU, memory, open files) and runtime (`python_info`,
        # `python_gc_*`) metrics, as prometheus_client's default registry has them.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        build_info = Gauge("kiss_adapter_build_info", "Build information", ["version"], registry=r)
        build_info.labels(version=__version__).set(1)

    def watch_duplicate_store(self, size: Callable[[], tuple[int, int]]) -> None:
        """The store's (entries, bytes) read at scrape time, as the in-flight gauge is: no
        `Gauge.set` (a lock each) on every change, four a create (2026-12-02, a create's begin +
        finish in `InProcessStore`: callgrind 51.1k → 32.9k instructions; timeit with a full
        store, which also reports its evictions, 20.1 → 11.1 µs)."""
        self.duplicate_store_entries.set_function(lambda: size()[0])
        self.duplicate_store_bytes.set_function(lambda: size()[1])
