"""Query strings as KISS sends them and as the adapter re-emits them (kiss-front.md §3.1)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

from adapter.problems import InvalidParam, Problem

Params = list[tuple[str, str]]


def parse_query(raw: str, strict: bool = False) -> Params:
    """Q-1 … Q-3: leading `?`s dropped, empty segments skipped, `+` is a space, order kept
    (`parse_qsl` with blank values kept). `strict` (a client's query): a name or value that is
    not UTF-8 is a 400, never replaced by U+FFFD and forwarded."""
    raw = raw.lstrip("?")
    try:
        return parse_qsl(raw, keep_blank_values=True, errors="strict" if strict else "replace")
    except UnicodeDecodeError:
        raise _not_utf8(_first_undecodable_name(raw)) from None


def _first_undecodable_name(raw: str) -> str:
    """The raw name of the first segment whose name or value is not UTF-8 (the 400 names it)."""
    for segment in raw.split("&"):
        name, _, value = segment.partition("=")
        try:
            unquote_plus(name, errors="strict")
            unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            return name
    return ""


def parse_client_query(raw: bytes) -> Params:
    """The query string of an inbound request, as bytes: UTF-8, else 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8("") from None
    return parse_query(text, strict=True)


def _not_utf8(name: str) -> Problem:
    reason = "De waarde is geen geldige UTF-8-tekst."
    try:
        label = unquote_plus(name, errors="strict") or "nonFieldErrors"
    except UnicodeDecodeError:
        label = "nonFieldErrors"
    return Problem(
        400,
        "invalid",
        detail="De query-parameters zijn ongeldig.",
        invalid_params=[InvalidParam(label, "invalid", reason)],
    )


def encode_query(pairs: Params) -> str:
    """Q-5: every character but the unreserved ones percent-encoded (UTF-8); a space is %20."""
    return urlencode(pairs, quote_via=quote, safe="")


def values(pairs: Params, name: str) -> list[str]:
    return [value for key, value in pairs if key == name]


def first(pairs: Params, name: str) -> str | None:
    for key, value in pairs:
        if key == name:
            return value
    return None


def page_number(pairs: Params) -> int | None:
    """Q-4: an empty `page` is absent; otherwise an integer ≥ 1, else 400."""
    raw = first(pairs, "page")
    if raw is None or raw == "":
        return None
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    raise Problem(
        400,
        "invalid",
        detail="Het paginanummer is ongeldig.",
        invalid_params=[InvalidParam("page", "invalid", "Het paginanummer moet een geheel getal vanaf 1 zijn.")],
    )


def unknown_parameters(pairs: Params, allowed: frozenset[str]) -> None:
    """Q-6: on mapped list routes a parameter not listed for the route is refused."""
    unknown = []
    for name, _ in pairs:
        if name not in allowed and name not in unknown:
            unknown.append(name)
    if unknown:
        raise Problem(
            400,
            "unknown-parameters",
            detail="Onbekende query-parameters.",
            invalid_params=[
                # A parameter without a name (`?=x`) is reported on the query as a whole.
                InvalidParam(name or "nonFieldErrors", "unknown-parameters", "Deze parameter wordt niet ondersteund.")
                for name in unknown
            ],
        )


def with_page(pairs: Params, page: int) -> Params:
    """C-6: `page` replaced in place (first occurrence, later ones dropped) or appended last."""
    result: Params = []
    placed = False
    for name, value in pairs:
        if name == "page":
            if not placed:
                result.append(("page", str(page)))
                placed = True
            continue
        result.append((name, value))
    if not placed:
        result.append(("page", str(page)))
    return result


def page_of_link(link: str) -> int:
    """The `page` value of an upstream pagination link; 1 when it has none."""
    _, _, query = link.partition("?")
    raw = first(parse_query(query.split("#", 1)[0]), "page")
    if raw and raw.isascii() and raw.isdigit():
        return int(raw)
    return 1
