"""Query strings as KISS sends them and as the adapter re-emits them (kiss-front.md §3.1)."""

from __future__ import annotations

from urllib.parse import quote, unquote_plus

from adapter.problems import InvalidParam, Problem

Params = list[tuple[str, str]]


def parse_query(raw: str) -> Params:
    """Q-1 … Q-3: leading `?`s dropped, empty segments skipped, `+` is a space, order kept."""
    raw = raw.lstrip("?")
    pairs: Params = []
    for segment in raw.split("&"):
        if not segment:
            continue
        name, _, value = segment.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def encode_query(pairs: Params) -> str:
    """Q-5: every character but the unreserved ones percent-encoded (UTF-8)."""
    return "&".join(f"{_percent_encoded(name)}={_percent_encoded(value)}" for name, value in pairs)


# `quote(value, safe="")` for ASCII text as one `str.translate` (in C): `quote` visits each
# byte in Python, and every look-up URL carries a whole encoded contact URL (bench S3). The
# table covers all of ASCII: a character missing from it costs `translate` a failed look-up.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_ASCII_ESCAPES = [chr(code) if chr(code) in _UNRESERVED else f"%{code:02X}" for code in range(128)]


def _percent_encoded(text: str) -> str:
    return text.translate(_ASCII_ESCAPES) if text.isascii() else quote(text, safe="")


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
