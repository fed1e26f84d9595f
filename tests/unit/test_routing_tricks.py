"""Guards of the router's tricks (bench/README.md, "The inbound path"): the exact-path look-up
finds the route Starlette's loop would, and `endpoint_app` leaves an endpoint's HTTPException
to the layer outside the router (Starlette's ExceptionMiddleware here, ProblemRendering in the
app), rendered as before."""

import inspect
import sys

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse

from adapter.app import create_app
from adapter.kiss_api.responses import http_exception_handler
from adapter.kiss_api.routing import ExactPathRouter, OwnPathRoute, Route, endpoint_app, exact_paths
from tests.conftest import fixture_settings, kiss_token

pytestmark = pytest.mark.anyio


def _answer(text: str):
    async def endpoint(request):
        return PlainTextResponse(text)

    return endpoint


async def _raises_404(request):
    raise HTTPException(404)


async def _get(routes, method: str, path: str) -> httpx.Response:
    app = Starlette(exception_handlers={HTTPException: http_exception_handler})
    app.router = ExactPathRouter(routes, redirect_slashes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        return await client.request(method, path)


def test_the_app_finds_its_fixed_paths_by_look_up():
    exact = create_app(fixture_settings()).router.exact
    assert list(exact) == [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/schema",
        "/contactmomenten/api/v1/contactmomenten",
        "/contactmomenten/api/v1/contactmomenten/",
        "/contactmomenten/api/v1/klantcontactmomenten",
        "/contactmomenten/api/v1/klantcontactmomenten/",
        "/contactmomenten/api/v1/objectcontactmomenten",
        "/contactmomenten/api/v1/objectcontactmomenten/",
        "/contactmomenten/api/v1",
        "/api/v2/objects",
        "/klanten/api/v1/klanten",
        "/klanten/api/v1",
        "/zaken/api/v1/zaakcontactmomenten",
        "/zaken/api/v1/zaken",
        "/zaken/api/v1",
        "/zgw-apis-provider/zrc/api/v1/zaakcontactmomenten",
        "/zgw-apis-provider/zrc/api/v1/zaken",
        "/zgw-apis-provider/zrc/api/v1",
        "/catalogi/api/v1",
        "/zgw-apis-provider/ztc/api/v1",
        "/documenten/api/v1",
        "/zgw-apis-provider/drc/api/v1",
    ]
    assert exact["/healthz"].app.__qualname__ == "endpoint_app.<locals>.app"


def test_a_fixed_path_that_an_earlier_route_matches_is_left_to_the_loop():
    routes = [Route("/a/{x}", _answer("param")), Route("/a/b", _answer("fixed")), Route("/c", _answer("c"))]
    assert list(exact_paths(routes)) == ["/c"]


async def test_an_earlier_pattern_still_wins_a_fixed_path():
    routes = [Route("/a/{x}", _answer("param")), Route("/a/b", _answer("fixed"))]
    answer = await _get(routes, "GET", "/a/b")
    assert (answer.status_code, answer.text) == (200, "param")


async def test_a_method_the_fixed_route_does_not_serve_goes_to_a_later_route_that_does():
    routes = [Route("/h", _answer("get"), methods=["GET"]), Route("/{rest:path}", _answer("post"), methods=["POST"])]
    assert list(exact_paths(routes)) == ["/h"]
    answer = await _get(routes, "POST", "/h")
    assert (answer.status_code, answer.text) == (200, "post")
    answer = await _get(routes, "GET", "/h")
    assert (answer.status_code, answer.text) == (200, "get")


async def test_a_method_no_route_serves_is_405_with_allow():
    answer = await _get([Route("/h", _answer("get"), methods=["GET"])], "DELETE", "/h")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "method_not_allowed"


async def test_an_http_exception_from_an_endpoint_is_rendered_as_a_problem():
    answer = await _get([Route("/gone", _raises_404)], "GET", "/gone")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["status"], body["code"]) == (404, "not_found")


async def test_an_endpoint_runs_under_only_the_frames_that_have_work_after_the_call():
    """Every coroutine frame between the server and an endpoint is resumed each time the
    request's task is (every e-Suite read): the checks (PathGuard, RequestContext,
    HeadLimits, Authentication) and the router return the inner awaitable instead, and
    Starlette's two layers are folded into AdapterApp and ProblemRendering."""
    app = create_app(fixture_settings())
    stack: list[str] = []

    async def probe(request):
        frame = sys._getframe()
        while frame is not None and stack[-1:] != ["AdapterApp.__call__"]:
            if frame.f_code.co_flags & inspect.CO_COROUTINE:
                stack.append(frame.f_code.co_qualname)
            frame = frame.f_back
        return PlainTextResponse("probed")

    route = next(r for r in app.router.routes if getattr(r, "path", "") == "/contactmomenten/api/v1/contactmomenten")
    assert isinstance(route, OwnPathRoute)
    route.handlers["GET"] = endpoint_app(probe)
    headers = {"Authorization": f"Bearer {kiss_token()}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="https://kiss-adapter.example.org"
    ) as client:
        answer = await client.get("/contactmomenten/api/v1/contactmomenten", headers=headers)
    assert (answer.status_code, answer.text) == (200, "probed")
    assert stack == [
        "test_an_endpoint_runs_under_only_the_frames_that_have_work_after_the_call.<locals>.probe",
        "endpoint_app.<locals>.app",
        "ProblemRendering.__call__",
        "AccessLog.__call__",
        "AdapterApp.__call__",
    ]


def test_allow_lists_the_methods_in_a_fixed_order_whatever_the_hash_seed():
    from adapter.kiss_api.routing import ordered_methods

    assert ordered_methods({"DELETE", "HEAD", "GET", "PATCH", "PUT", "POST", "OPTIONS", "TRACE", "FOO"}) == (
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "FOO",
        "TRACE",
    )
    route = Route("/h", _answer("x"), methods=["PATCH", "GET", "POST"])
    assert route.methods == ("GET", "HEAD", "POST", "PATCH")
