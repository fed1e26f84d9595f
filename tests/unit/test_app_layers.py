"""Guards of Starlette's two layers folded into the adapter's (bench/README.md, "The inbound
path"): `AdapterApp` answers what ServerErrorMiddleware answered, ProblemRendering what
ExceptionMiddleware and the former ShutdownGuard answered, each compared with stock Starlette
where the behaviour is Starlette's."""

import asyncio

import pytest
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route as StarletteRoute

from adapter.app import AdapterApp, create_app
from adapter.kiss_api.routing import endpoint_app
from adapter.services import services_of
from tests.conftest import fixture_settings, kiss_token

pytestmark = pytest.mark.anyio

PATH = "/contactmomenten/api/v1/contactmomenten"


def _scope(path: str = PATH) -> dict:
    headers = [
        (b"host", b"kiss-adapter.example.org"),
        (b"authorization", f"Bearer {kiss_token()}".encode()),
        (b"x-request-id", b"layers-1"),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},  # no disconnect listener: this receive never ends
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 443),
    }


async def _call(app, scope: dict | None = None) -> tuple[list[dict], BaseException | None]:
    """The messages the app sends for one request, and what it raised."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    try:
        await app(scope or _scope(), receive, send)
    except BaseException as error:  # noqa: BLE001 - the point is what leaves the app
        return sent, error
    return sent, None


def _app_with(endpoint):
    app = create_app(fixture_settings())
    route = next(r for r in app.router.routes if getattr(r, "path", "") == PATH)
    route.handlers["GET"] = endpoint_app(endpoint)
    return app


class _Raises:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        raise ValueError("outside the middlewares")


async def test_an_exception_outside_the_middlewares_gets_starlettes_plain_500_and_is_raised(monkeypatch):
    def broken(scope):
        raise ValueError("outside the middlewares")

    monkeypatch.setattr("adapter.kiss_api.request_context._read_head", broken)
    sent, error = await _call(create_app(fixture_settings()))
    stock_sent, stock_error = await _call(Starlette(middleware=[Middleware(_Raises)]))
    assert isinstance(error, ValueError) and isinstance(stock_error, ValueError)
    assert sent == stock_sent
    assert sent[0]["status"] == 500 and sent[1]["body"] == b"Internal Server Error"


async def test_an_exception_after_the_answer_started_is_raised_with_nothing_more_sent(monkeypatch):
    def broken(self, scope, elapsed):
        raise ValueError("after the answer")

    monkeypatch.setattr("adapter.kiss_api.access_log.AccessLog._record", broken)

    async def answer(request):
        return PlainTextResponse("fine")

    sent, error = await _call(_app_with(answer))
    assert isinstance(error, ValueError)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert (b"x-request-id", b"layers-1") in sent[0]["headers"]


def _streams_then_raises_http_exception():
    async def chunks():
        yield b"first"
        raise HTTPException(404)

    async def endpoint(request):
        return StreamingResponse(chunks())

    return endpoint


async def test_an_http_exception_after_the_answer_started_is_starlettes_runtime_error(log_stream_capture):
    sent, error = await _call(_app_with(_streams_then_raises_http_exception()))
    stock = Starlette(routes=[StarletteRoute(PATH, _streams_then_raises_http_exception())])
    stock_sent, stock_error = await _call(stock)
    assert type(error) is type(stock_error) is RuntimeError
    assert str(error) == str(stock_error)
    assert isinstance(error.__cause__, HTTPException)
    assert [m["type"] for m in sent] == [m["type"] for m in stock_sent]
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"first"
    assert [e.get("exc_info") for e in log_stream_capture if e["event"] == "unhandled_error"] == [True]


async def test_an_http_exception_before_the_answer_is_the_problem_answer():
    async def endpoint(request):
        raise HTTPException(405, headers={"Allow": "GET"})

    sent, error = await _call(_app_with(endpoint))
    assert error is None
    headers = dict(sent[0]["headers"])
    assert (sent[0]["status"], headers[b"content-type"], headers[b"allow"]) == (
        405,
        b"application/problem+json",
        b"GET",
    )
    assert headers[b"x-request-id"] == b"layers-1"


async def test_a_request_cut_short_by_shutdown_is_503_and_otherwise_the_cancellation_passes():
    async def waits(request):
        await asyncio.sleep(3600)

    for shutting_down in (True, False):
        app = _app_with(waits)
        services_of(app).readiness.shutting_down = shutting_down
        task = asyncio.ensure_future(_call(app))
        await asyncio.sleep(0.05)
        task.cancel()
        sent, error = await task
        if not shutting_down:
            assert isinstance(error, asyncio.CancelledError) and sent == []
            continue
        assert error is None
        headers = dict(sent[0]["headers"])
        assert (sent[0]["status"], headers[b"retry-after"], headers[b"x-request-id"]) == (503, b"1", b"layers-1")
        assert b'"code":"shutting-down"' in sent[1]["body"]


async def test_a_download_cut_short_by_shutdown_ends_where_it_is():
    async def chunks():
        yield b"first"
        await asyncio.sleep(3600)

    async def endpoint(request):
        return StreamingResponse(chunks())

    app = _app_with(endpoint)
    services_of(app).readiness.shutting_down = True
    task = asyncio.ensure_future(_call(app))
    await asyncio.sleep(0.05)
    task.cancel()
    sent, error = await task
    assert error is None
    assert [m.get("body") for m in sent] == [None, b"first"]


@pytest.mark.parametrize(
    "options", [{"debug": True}, {"exception_handlers": {HTTPException: lambda request, exc: None}}]
)
def test_the_app_takes_none_of_starlettes_layers_options(options):
    with pytest.raises(ValueError, match="no debug pages"):
        AdapterApp(**options).build_middleware_stack()


@pytest.fixture
def log_stream_capture():
    with structlog.testing.capture_logs() as logs:
        yield logs


def test_starlettes_own_layers_are_still_the_two_folded_in():
    """If Starlette adds a layer of its own, AdapterApp would leave it out unseen: fail here."""
    from starlette.middleware.errors import ServerErrorMiddleware
    from starlette.middleware.exceptions import ExceptionMiddleware

    stock = Starlette()
    layers = []
    app = stock.build_middleware_stack()
    while app is not stock.router:
        layers.append(type(app))
        app = app.app
    assert layers == [ServerErrorMiddleware, ExceptionMiddleware]


async def test_a_handed_over_read_cancelled_while_its_problem_answer_waits_ends_as_499():
    """The client leaves while a Problem's answer waits for paused writes: the server's
    cancellation lands outside the app's own try, and still ends as 499 (problem_rendering.py)."""
    from adapter.problems import Problem
    from adapter.server_protocol import ABORT_EXTENSION, CANCEL_KEY, GONE_KEY

    async def refused(request):
        raise Problem(404, "not_found")

    app = _app_with(refused)
    handed: list[asyncio.Task] = []
    extension: dict = {"abort": lambda: None, CANCEL_KEY: lambda: handed.append(asyncio.current_task())}
    scope = _scope() | {"extensions": {ABORT_EXTENSION: extension}}
    writing = asyncio.Event()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def paused_send(message):
        writing.set()
        await asyncio.Event().wait()  # the client reads nothing

    task = asyncio.ensure_future(app(scope, receive, paused_send))
    await asyncio.wait_for(writing.wait(), 5)
    assert handed == [task]
    extension[GONE_KEY] = True  # as the protocol does before it cancels
    task.cancel()
    await asyncio.wait_for(task, 5)  # ends, not cancelled
    registry = services_of(app).metrics.registry
    assert registry.get_sample_value("kiss_adapter_client_aborts_total", {"reason": "disconnect"}) == 1
    labels = {"method": "GET", "route": PATH, "status": "499"}
    assert registry.get_sample_value("kiss_adapter_http_requests_total", labels) == 1


async def test_a_create_is_never_handed_over_to_be_cancelled():
    from adapter.server_protocol import ABORT_EXTENSION, CANCEL_KEY

    handed: list[asyncio.Task] = []

    def hand_over() -> None:
        handed.append(asyncio.current_task())

    app = create_app(fixture_settings())
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        scope = _scope() | {"method": method, "extensions": {ABORT_EXTENSION: {CANCEL_KEY: hand_over}}}
        await _call(app, scope)
    assert handed == []
    await _call(app, _scope() | {"method": "HEAD", "extensions": {ABORT_EXTENSION: {CANCEL_KEY: hand_over}}})
    assert len(handed) == 1
