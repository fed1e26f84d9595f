"""JSON and problem+json answers: compact UTF-8, key order kept (kiss-front.md §3.5)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from adapter.esuite_client.urls import UrlMap
from adapter.problems import Problem


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def rewritten_json(value: Any, urls: UrlMap, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer whose e-Suite URLs are rewritten in its rendered text (RW-4, one pass)."""
    return Response(urls.rendered(value), status_code=status_code, headers=headers, media_type="application/json")


def problem_response(problem: Problem, state: dict | None = None) -> Response:
    """The one rendering of an error. Records code and instance for the request log line."""
    instance = f"urn:uuid:{uuid.uuid4()}"
    if state is not None:
        state["problem_code"] = problem.code
        state["instance"] = instance
    return Response(
        orjson.dumps(problem.to_body(instance)),
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 answers (unknown route, method not served) as problems."""
    status = getattr(exc, "status_code", 500)
    headers = dict(getattr(exc, "headers", None) or {})
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid" if status == 400 else "internal")
    return problem_response(Problem(status, code, headers=headers), request.scope.get("state"))
