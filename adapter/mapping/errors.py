"""Translation of e-Suite and smoelenboek error answers to the ZGW shape (operations.md §4.3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from adapter.mapping.common import non_blank_str
from adapter.problems import STATUS_TITLES, InvalidParam, Problem

_CODES_BY_ESUITE_CODE = {
    "VALIDATION": "invalid",
    "NOT_FOUND": "not_found",
    "NOT_AUTHORISED": "permission_denied",
    "CONFLICT": "conflict",
}
_CODES_BY_STATUS = {
    400: "invalid",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    415: "unsupported_media_type",
}


def translate_client_error(status: int, body: Any, rewrite: Callable[[Any], Any]) -> Problem:
    """A 4xx answer (other than 401) becomes a problem with the same status.

    `body` is the parsed JSON error body, or None when it was not JSON. `rewrite` turns e-Suite
    URLs into adapter URLs (detail texts and invalidParams may hold them).
    """
    body = body if isinstance(body, dict) else {}
    code = _CODES_BY_ESUITE_CODE.get(body.get("code")) if isinstance(body.get("code"), str) else None
    code = code or _CODES_BY_STATUS.get(status, "upstream-client-error")
    title = body["title"] if non_blank_str(body.get("title")) else STATUS_TITLES.get(status, "Fout.")
    detail = rewrite(body["detail"]) if non_blank_str(body.get("detail")) else title
    invalid_params = None
    if status == 400:
        upstream_params = body.get("invalidParams")
        if isinstance(upstream_params, list):
            invalid_params = [
                InvalidParam(str(p.get("name", "")), str(p.get("code", "")), str(rewrite(p.get("reason", ""))))
                for p in upstream_params
                if isinstance(p, dict)
            ]
        elif non_blank_str(body.get("detail")):
            invalid_params = [InvalidParam("nonFieldErrors", "invalid", detail)]
        else:
            invalid_params = []
    return Problem(status, code, detail=detail, title=title, invalid_params=invalid_params)


def translate_upstream_error(
    status: int, body: Any, rewrite: Callable[[Any], Any], source: str = "esuite", retry_after: str | None = None
) -> Problem:
    """Any non-2xx/3xx upstream answer as the problem the client gets.

    `retry_after` is the upstream's `Retry-After` header (operations.md §8: it crosses to the
    client): kept on the problem when it is a valid value, so a KISS-like client waits as told
    after an e-Suite 429 or 503 instead of retrying at once.
    """
    prefix = "upstream" if source == "esuite" else "smoelenboek"
    if status == 401:
        problem = Problem(502, f"{prefix}-unauthorized")
    elif status >= 500:
        problem = Problem(502, f"{prefix}-error")
    else:
        problem = translate_client_error(status, body, rewrite)
    if retry_after is not None and _RETRY_AFTER.fullmatch(retry_after):
        problem.headers["Retry-After"] = retry_after
    return problem


# RFC 9110 section 10.2.3: delay-seconds, or an IMF-fixdate. Anything else (a hostile header could
# carry anything) is dropped rather than passed on.
_RETRY_AFTER = re.compile(
    r"[0-9]{1,9}|(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)
