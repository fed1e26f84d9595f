"""Guard of the log line's timestamp (adapter.logging.timestamp, bench/README.md "The inbound
path"): the text `datetime.isoformat()` gave, `Z` for UTC, with its second formatted once."""

import random
from datetime import UTC, datetime

from adapter.logging import timestamp


def test_the_timestamp_is_iso_8601_utc_with_microseconds():
    assert timestamp(1_796_218_254_055_910_123) == "2026-12-02T13:30:54.055910Z"
    assert timestamp(1_796_218_254_000_001_000) == "2026-12-02T13:30:54.000001Z"
    assert timestamp(1_796_218_255_999_999_999) == "2026-12-02T13:30:55.999999Z"


def test_a_whole_second_has_no_fraction_as_isoformat_writes_it():
    assert timestamp(1_796_218_254_000_000_000) == "2026-12-02T13:30:54Z"
    assert timestamp(1_796_218_254_000_000_999) == "2026-12-02T13:30:54Z"


def test_the_second_changes_with_the_clock_going_either_way():
    assert timestamp(1_796_218_254_500_000_000) == "2026-12-02T13:30:54.500000Z"
    assert timestamp(1_796_218_255_500_000_000) == "2026-12-02T13:30:55.500000Z"
    assert timestamp(1_796_218_254_250_000_000) == "2026-12-02T13:30:54.250000Z"
    assert timestamp(1_767_225_599_999_999_000) == "2025-12-31T23:59:59.999999Z"
    assert timestamp(1_767_225_600_000_000_000) == "2026-01-01T00:00:00Z"


def test_the_timestamp_is_what_datetime_writes_for_the_same_instant():
    rng = random.Random(17)
    for _ in range(5000):
        ns = rng.randrange(1_700_000_000, 2_100_000_000) * 1_000_000_000 + rng.choice(
            [0, rng.randrange(1000), rng.randrange(10**9)]
        )
        seconds, rest = divmod(ns, 10**9)
        expected = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
        assert timestamp(ns) == expected.isoformat().replace("+00:00", "Z")
