"""structlog set-up: one JSON object per line, never personal data (operations.md §6)."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import IO, Any

import orjson
import structlog
from opentelemetry import trace

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


def _exception_without_message(_, __, event: dict[str, Any]) -> dict[str, Any]:
    """Exception type and traceback only: messages of decode/validation errors can hold data."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        if isinstance(error, BaseException):
            event["exception_type"] = type(error).__name__
            event["traceback"] = "".join(traceback.format_tb(error.__traceback__))
    return event


def _trace_ids(_, __, event: dict[str, Any]) -> dict[str, Any]:
    """The current OpenTelemetry span's ids (W3C hex), so a log line finds its trace."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event["trace_id"] = format(span_context.trace_id, "032x")
        event["span_id"] = format(span_context.span_id, "016x")
    return event


def _json(event: dict[str, Any], **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def configure_logging(
    level: str = "INFO", fmt: str = "json", stream: IO[str] | None = None, cache: bool = False, tracing: bool = False
) -> None:
    """`cache` binds each logger once (the server's hot path); tests reconfigure, so they don't.
    `tracing` (OpenTelemetry on) adds `trace_id` and `span_id` to every line inside a span."""
    renderer = structlog.processors.JSONRenderer(serializer=_json) if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *([_trace_ids] if tracing else []),
            _exception_without_message,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level.upper(), logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=cache,
    )
