"""The first middleware: a request path that could lead elsewhere than it says is refused
before authentication and routing, so nothing of it reaches the e-Suite.

The path rules (operations.md §8 has SEC-1 … SEC-13; these continue the list):

- **SEC-14 Inbound paths.** A request path is refused with 400 `invalid` (`invalidParams`
  name `path`, code = the rule; the path itself is never echoed or logged), on every method
  and path, before authentication, when its raw form (`raw_path`), any form percent-decoded
  again until it stops changing, or the server's decoded `path` holds: a `.` or `..` segment
  (also `..;x`, which servlet containers take for `..`, and `...` or `.. `, which servers
  that trim trailing dots and blanks take for `..`), an encoded `/` or `\\` (`%2F`, `%5C`,
  any case), a `\\`, an empty segment (`//`, or `/;x/`, which Tomcat makes `//`; one
  trailing `/` is allowed), a NUL or another control character (TAB, CR, LF, DEL), IIS's
  `%uXXXX` escapes, escapes that are no UTF-8 (overlong `%c0%ae` was a `.` to old decoders),
  or non-ASCII text that is one of these in NFKC form (full-width `．．`, `／`).
  Why: one adapter root must never name another e-Suite root or a mapped route's collection
  by a detour (`/klanten/api/v1/../../../contactmomenten-api-provider/…`,
  `/contactmomenten/api/v1/x/../contactmomenten`, `/klanten/api/v1/./klanten?emailadres=`),
  and a proxy or the e-Suite in front may decode what the adapter forwarded raw.
- **SEC-15 Outbound URLs.** Every e-Suite URL is the route's own e-Suite root plus a checked
  sub-path, and the e-Suite credentials go only to a URL that, as httpx sends it, lies under
  the root of that call (not merely one of the five) with a path that passes SEC-14. Links
  the adapter follows (`next`) must lie under the collection they page (else 502
  `upstream-invalid-url`, never fetched); a `Location` / `Content-Location` is passed on,
  rewritten, only when it lies under the root the request went to, and is dropped otherwise.
- **SEC-16 Mapped collections.** A pass-through never reaches a collection that a mapped
  route owns (`contactmomenten`, `klantcontactmomenten`, `objectcontactmomenten`, `klanten`,
  `zaken`, `zaakcontactmomenten`) by another spelling (case, `;x`, `.json`, blanks, percent
  encoding, a trailing `/`): 404. Under `/contactmomenten/api/v1/contactmomenten/…` the
  catch-all forwards reads only; a write is 405 (`Allow: GET, HEAD`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter.kiss_api.request_context import request_id_from
from adapter.kiss_api.responses import problem_response
from adapter.mapping.common import CONTENT_CRS, OBJECTS_PATH
from adapter.mapping.paths import path_fault
from adapter.metrics import Metrics
from adapter.problems import InvalidParam, Problem

log = structlog.get_logger("adapter.request")

PATH_DETAIL = "Het adres van het verzoek is ongeldig."
FAULT_REASONS = {
    "dot-segment": "Het pad bevat een segment '.' of '..' (ook gecodeerd).",
    "encoded-separator": "Het pad bevat een gecodeerde '/' of '\\' (%2F, %5C).",
    "backslash": "Het pad bevat een '\\'.",
    "empty-segment": "Het pad bevat een leeg segment ('//').",
    "nul": "Het pad bevat een NUL-teken.",
    "nested-encoding": "Het pad is te vaak gecodeerd.",
    "invalid-utf8": "Het pad bevat gecodeerde bytes die geen UTF-8 zijn.",
    "relative": "Het pad begint niet met '/'.",
    "root-spelling": "Het pad spelt de root van de API gecodeerd.",
    "fragment": "Het pad bevat een '#'.",
    "invalid-escape": "Het pad bevat een %u-codering.",
    "control-character": "Het pad bevat een stuurteken (zoals tab, CR of LF).",
}
# Left unescaped when, without a `raw_path` from the server, the decoded path is encoded again.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


def path_problem(fault: str) -> Problem:
    return Problem(
        400,
        "invalid",
        detail=PATH_DETAIL,
        invalid_params=[InvalidParam("path", fault, FAULT_REASONS.get(fault, PATH_DETAIL))],
    )


def _raw_path(scope: Scope) -> str:
    """The path as the client sent it ("" when the server gives none); some ASGI clients
    (httpx's ASGITransport) put the query in `raw_path` too."""
    return (scope.get("raw_path") or b"").split(b"?", 1)[0].decode("latin-1")


def request_path_fault(scope: Scope) -> str | None:
    # The raw path's decoded forms include the server's `path` (every character SEC-14 looks
    # for is ASCII), so that one is checked only when the server gives no raw path.
    raw_path = _raw_path(scope)
    return path_fault(raw_path) if raw_path else path_fault(scope["path"])


def checked_sub_path(scope: Scope, adapter_root: str) -> str:
    """SEC-14/15: the sub-path below `adapter_root` as the client encoded it (RW-8), checked
    again here so that no caller can build an outbound URL from an unchecked one."""
    raw_path = _raw_path(scope)
    if not raw_path:
        raw_path = urllib.parse.quote(scope["path"], safe=_PATH_SAFE)
    if raw_path != adapter_root and not raw_path.startswith(adapter_root + "/"):
        raise path_problem("root-spelling")  # e.g. `/kl%61nten/api/v1/…`: never needed
    sub_path = raw_path[len(adapter_root) :]
    fault = path_fault(sub_path) or ("fragment" if "#" in sub_path else None)
    if fault is not None:
        raise path_problem(fault)
    return sub_path


class PathGuard:
    """Pure ASGI: refuses a request whose path breaks SEC-14, on every method and path.

    A clean path passes as the inner app's awaitable, returned, not awaited: no frame of
    this check stays on the request's stack (bench/README.md, "The inbound path")."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        fault = request_path_fault(scope) if scope["type"] == "http" else None
        if fault is None:
            return self.app(scope, receive, send)
        return self._refuse(fault, scope, receive, send)

    async def _refuse(self, fault: str, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        problem = path_problem(fault)
        problem.headers["X-Request-ID"] = request_id = request_id_from(headers.get("x-request-id"))
        if scope["path"].startswith(OBJECTS_PATH):
            problem.headers.update(CONTENT_CRS)  # every answer there (kiss-front.md §5.1)
        state: dict = {}
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # The rule, never the path: a path may hold an e-mail address or a BSN.
        log.warning("path_refused", method=scope["method"], route="unmatched", status=400, refused=fault)
        self.metrics.request_count(scope["method"], "unmatched", "400").inc()
        await problem_response(problem, state)(scope, receive, send)
