"""Issue 17: every performance change keeps the adapter's answers byte-identical.

The oracle (`tests/fixtures/byte_identity/answers.json`) was written by the adapter at commit
1cee5f2, before the second performance pass (tests/integration/byte_identity.py says how).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.byte_identity import ANSWERS_FILE, REQUESTS, _app_factory, answers_of

pytestmark = pytest.mark.anyio
EXPECTED = json.loads(ANSWERS_FILE.read_text(encoding="utf-8"))


def test_the_oracle_covers_every_request():
    assert [entry["request"] for entry in EXPECTED] == [name for name, *_ in REQUESTS]


async def test_answers_and_e_suite_requests_are_byte_identical_to_before():
    for got, expected in zip(await answers_of(_app_factory), EXPECTED, strict=True):
        assert got == expected, got["request"]
