"""Requests cut short by a shutdown answer problem+json (operations.md §5.7, issue 14).

A request that the server cancels because it outlived the shutdown grace gets a 503
`shutting-down` instead of uvicorn's plain-text 500 and a traceback in the log. ProblemRendering
(problem_rendering.py) answers it, inside AccessLog, so the answer is logged and counted like
any other; outside a shutdown a cancellation passes unchanged, and a started answer (a
download) can only end where it is.
"""

from __future__ import annotations

from adapter.problems import Problem


def cut_short_problem() -> Problem:
    return Problem(503, "shutting-down", headers={"Retry-After": "1"})
