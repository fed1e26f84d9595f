"""Guard of the access log line written without structlog's chain (adapter.logging.event_writer,
bench/README.md "The inbound path"): byte for byte the line the chain writes, and the chain
itself wherever the shortcut could differ. Also guards the structlog internals it reads."""

import io
import json
import logging

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from structlog.testing import capture_logs

from adapter import logging as adapter_logging
from adapter.logging import configure_logging, event_writer

NOW_NS = 1_796_218_254_055_910_123
FIELDS = {
    "method": "GET",
    "route": "/contactmomenten/api/v1/contactmomenten",
    "status": 200,
    "duration_ms": 12.34,
    "client_id": "kiss",
    "upstream_calls": 1,
    "upstream_ms": 10.5,
}


@pytest.fixture
def stream(monkeypatch):
    monkeypatch.setattr(adapter_logging.time, "time_ns", lambda: NOW_NS)
    structlog.contextvars.clear_contextvars()
    out = io.StringIO()
    yield out
    structlog.contextvars.clear_contextvars()
    configure_logging("INFO", "json")


def _both(out: io.StringIO, level: str, fields: dict, event: str = "request") -> tuple[str, str]:
    """The line through the chain, then the line from the writer (each binds as AccessLog does)."""
    getattr(structlog.get_logger("adapter.request").bind(), level)(event, **fields)
    event_writer(structlog.get_logger("adapter.request").bind(), event)(level, dict(fields))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    return lines[0], lines[1]


@pytest.mark.parametrize("level", ["info", "warning", "error"])
@pytest.mark.parametrize("cache", [False, True])
def test_the_line_is_the_chains_byte_for_byte(stream, level, cache):
    configure_logging("DEBUG", "json", stream, cache=cache)
    structlog.contextvars.bind_contextvars(request_id="2f0c4d5e-0000-4000-8000-000000000001", client_id="kiss")
    through_chain, written = _both(stream, level, FIELDS)
    assert written == through_chain
    assert list(json.loads(written)) == [*FIELDS, "event", "request_id", "level", "timestamp"]


def test_the_optional_fields_unauthenticated_and_without_a_request_id(stream):
    configure_logging("INFO", "json", stream)
    fields = {**FIELDS, "client_id": None, "replayed": True, "problem_code": "invalid", "instance": "urn:uuid:x"}
    through_chain, written = _both(stream, "warning", fields)
    assert written == through_chain
    assert "request_id" not in json.loads(written)


def test_trace_and_span_ids_when_tracing(stream):
    configure_logging("INFO", "json", stream, tracing=True)
    structlog.contextvars.bind_contextvars(request_id="r-1")
    with TracerProvider().get_tracer("t").start_as_current_span("s"):
        through_chain, written = _both(stream, "info", FIELDS)
    assert written == through_chain
    assert {"trace_id", "span_id"} <= set(json.loads(written))


def test_the_configured_level_filters_as_the_loggers_methods_do(stream):
    configure_logging("WARNING", "json", stream)
    write = event_writer(structlog.get_logger("adapter.request").bind(), "request")
    write("info", dict(FIELDS))
    assert stream.getvalue() == ""
    write("warning", dict(FIELDS))
    assert json.loads(stream.getvalue())["level"] == "warning"


def test_more_context_than_the_request_id_goes_through_the_chain(stream, monkeypatch):
    """Two context values to add: their order is merge_contextvars' to decide."""
    configure_logging("INFO", "json", stream)
    structlog.contextvars.bind_contextvars(request_id="r-1", zaak="z-1")
    calls = []
    monkeypatch.setattr(adapter_logging, "_through_chain", lambda *args: calls.append(args))
    event_writer(structlog.get_logger("x").bind(), "request")("info", dict(FIELDS))
    assert len(calls) == 1 and stream.getvalue() == ""


def test_the_same_line_when_the_chain_decides(stream):
    configure_logging("INFO", "json", stream)
    structlog.contextvars.bind_contextvars(request_id="r-1", zaak="z-1")
    through_chain, written = _both(stream, "info", FIELDS)
    assert written == through_chain


@pytest.mark.parametrize("cache", [False, True])
def test_any_other_logger_or_chain_gets_the_call_itself(stream, cache):
    configure_logging("INFO", "json", stream, cache=cache)
    cached = event_writer(structlog.get_logger("x").bind(), "request")
    with capture_logs() as logs:  # changes the chain in place, under the bound loggers
        event_writer(structlog.get_logger("x").bind(), "request")("warning", dict(FIELDS))
        cached("warning", dict(FIELDS))
    assert logs == 2 * [{**FIELDS, "event": "request", "log_level": "warning"}]
    assert stream.getvalue() == ""
    bound = structlog.get_logger("x").bind(extra=1)
    event_writer(bound, "request")("info", dict(FIELDS))
    assert json.loads(stream.getvalue())["extra"] == 1
    configure_logging("INFO", "console", stream)
    event_writer(structlog.get_logger("x").bind(), "request")("info", dict(FIELDS))
    assert "request" in stream.getvalue().splitlines()[-1] and not stream.getvalue().splitlines()[-1].startswith("{")


def test_structlog_keeps_what_the_writer_reads(stream):
    """The writer reads a bound logger's `_processors`, `_context`, `_logger` and
    `is_enabled_for`, and the context variables `bind_contextvars` registers: if structlog
    changes any of them, this fails instead of a line going missing or changing."""
    configure_logging("WARNING", "json", stream, cache=False)
    logger = structlog.get_logger("x").bind()
    assert logger._processors == adapter_logging._json_chain[0]
    assert logger._context == {}
    assert isinstance(logger._logger, structlog.WriteLogger)
    assert (logger.is_enabled_for(logging.INFO), logger.is_enabled_for(logging.WARNING)) == (False, True)
    structlog.contextvars.bind_contextvars(request_id="r-2")
    var = structlog.contextvars._CONTEXT_VARS["structlog_request_id"]
    assert var.name == structlog.contextvars.STRUCTLOG_KEY_PREFIX + "request_id"
    assert var.get() == "r-2"
    structlog.contextvars.clear_contextvars()
    assert var.get() is Ellipsis
