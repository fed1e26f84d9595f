"""Small helpers shared by every rule set (mapping.md §1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_WHITESPACE = " \t\r\n"
# The 8-4-4-4-12 form, any case: the routes match it (routing.CanonicalUUIDConvertor), `is_uuid` checks it.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_RE = re.compile(f"^{UUID_PATTERN}$")
# The Objects API v2 list path: on the adapter's facade (kiss-front.md §5) and on any Objects
# API (the smoelenboek's, S-1); every answer of the facade carries `CONTENT_CRS` (§5.1).
OBJECTS_PATH = "/api/v2/objects"
CONTENT_CRS = {"Content-Crs": "EPSG:4326"}
# ISO 8601 date-time: date T time, optional fraction, optional Z/offset (V-5).
_ISO_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?$")


def is_blank(value: Any) -> bool:
    """Absent (None), null, or a string that is empty after trimming space/tab/CR/LF."""
    return value is None or (isinstance(value, str) and value.strip(_WHITESPACE) == "")


def non_blank_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip(_WHITESPACE) != ""


def trim(value: str) -> str:
    return value.strip(_WHITESPACE)


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json` or any `+json` type, parameters ignored (a Content-Type value)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def is_uuid(segment: str) -> bool:
    return UUID_RE.fullmatch(segment) is not None


def last_path_segment(url: str) -> str:
    """The last non-empty segment of a URL's path (never its host), ignoring query and fragment."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    for segment in reversed(path.split("/")):
        if segment:
            return segment
    return ""


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time as an aware instant; no offset means Europe/Amsterdam (C-5, I-5)."""
    if not isinstance(value, str) or not _ISO_DATETIME_RE.match(value.strip()):
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=AMSTERDAM)
    return parsed


def amsterdam_date(value: Any, now: datetime) -> str:
    """`YYYY-MM-DD` of a date-time in Europe/Amsterdam; `now`'s date when it does not parse."""
    parsed = parse_datetime(value) or now.astimezone(UTC)
    return parsed.astimezone(AMSTERDAM).date().isoformat()


# orjson parses 1024 levels of nesting but renders only 254: deeper JSON can be read but
# never answered or forwarded.
RENDER_DEPTH = 254


# Every byte but the four that bound a JSON text's number of values and its depth.
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b",:[{")))
# Every byte but the two that open an array or an object.
_NOT_OPENERS = bytes(sorted(set(range(256)) - set(b"[{")))


def json_structure(raw: bytes) -> bytes:
    """The `,` `:` `[` `{` of JSON text, in their order: one pass in C (`bytes.translate`
    deleting every other byte). 2026-12-02, the 31 KB e-Suite page of bench S1: 12 µs, where
    `bytes.count` of the four took 44 µs and of the two openers again 22 µs."""
    return raw.translate(None, _NOT_STRUCTURE)


def json_values_bound(structure: bytes) -> int:
    """An upper bound on the number of values (keys included) in JSON text, from its
    `json_structure`, counted in C without parsing: separators inside strings count too, so
    it never counts too few."""
    return len(structure) + 1


def openers_at_most(text: bytes, limit: int) -> bool:
    """Whether `text` holds at most `limit` of `[` and `{`, strings included: no JSON text
    nests deeper than it has openers. Counted by one `bytes.translate` keeping only the two
    (timeit, min of 7, bench S1's 31 KB page of 132 openers, 2026-12-03): 13 µs, where a
    `bytes.find` per opener took 24 µs (fewer instructions, but one Python step each), two
    `bytes.count` 21 µs and the four-mark `json_structure` 17 µs."""
    return len(text) <= limit or len(text.translate(None, _NOT_OPENERS)) <= limit


def renderable(value: Any, text: bytes) -> bool:
    """Whether parsed JSON nests no deeper than RENDER_DEPTH. Only text (or its
    `json_structure`) with that many brackets can; it is then rendered once to find out."""
    import orjson

    if openers_at_most(text, RENDER_DEPTH):
        return True
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return False
    return True


def parse_json_body(raw: bytes) -> Any:
    """V-1 / T-1: the body parsed as JSON whatever its Content-Type (a UTF-8 BOM is tolerated).
    Nesting deeper than RENDER_DEPTH is refused like unparsable text (400)."""
    import orjson

    from adapter.problems import InvalidParam, Problem

    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        reason = "De inhoud is geen geldige JSON."
    else:
        if renderable(body, raw):
            return body
        reason = f"De inhoud is dieper genest dan {RENDER_DEPTH} niveaus."
    raise Problem(
        400,
        "parse_error",
        detail="De inhoud van het verzoek is geen geldige JSON.",
        invalid_params=[InvalidParam("nonFieldErrors", "parse_error", reason)],
    )


def json_object(body: Any) -> dict:
    """V-2 / T-1 / K-1: the parsed body must be a JSON object (400 `invalid` otherwise)."""
    from adapter.problems import InvalidParam, Problem

    if not isinstance(body, dict):
        raise Problem(
            400,
            "invalid",
            detail="De inhoud van het verzoek is geen JSON-object.",
            invalid_params=[InvalidParam("nonFieldErrors", "invalid", NOT_AN_OBJECT_REASON)],
        )
    return body


NOT_AN_OBJECT_REASON = "De inhoud moet een JSON-object zijn."
