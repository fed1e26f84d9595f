"""A short reliability run in CI: 150 contactverzoeken against an e-Suite failing 20% of calls."""

import pytest

from tests.reliability.kiss_clients import run

pytestmark = pytest.mark.anyio


async def test_no_verzoek_lost_or_doubled_under_faults():
    report = await run(verzoeken=150, fault_rate=0.2, seed=11)
    assert report.upstream_faults.get("lost_response", 0) > 0, report.as_text()
    assert report.answers_500 == 0, report.as_text()
    assert report.missing == 0, report.as_text()
    assert report.duplicates == 0, report.as_text()
    assert report.exactly_once == report.told_success, report.as_text()
    assert report.told_success >= 0.95 * report.verzoeken, report.as_text()
