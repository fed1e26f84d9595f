"""Date-times as the e-Suite reads and prints them (esuite.md §3): ISO 8601 in, Amsterdam time out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_datetime(text: str) -> tuple[datetime, str] | None:
    """ISO 8601 date-time -> (aware instant, fractional-second digits as given).

    A value without an offset is Europe/Amsterdam local time. ``None`` when unparseable.
    """
    m = _DATETIME.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second, frac, offset = m.groups()
    frac = frac or ""
    if offset is None:
        tz: Any = AMSTERDAM
    elif offset in ("Z", "z"):
        tz = UTC
    else:
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        tz = timezone(-delta if offset[0] == "-" else delta)
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int(frac[:6].ljust(6, "0")) if frac else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None
    return value.astimezone(UTC), frac


def format_amsterdam(instant: datetime, frac: str) -> str:
    """``2025-05-20T09:14:03.512Z`` -> ``2025-05-20T11:14:03.512+02:00`` (same precision)."""
    local = instant.astimezone(AMSTERDAM)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%dT%H:%M:%S}{'.' + frac if frac else ''}{offset[:3]}:{offset[3:]}"


def now_parts(now: datetime) -> tuple[datetime, str]:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC), f"{now.microsecond // 1000:03d}" if now.microsecond else ""
