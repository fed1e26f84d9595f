"""H1Transport under sustained use with random cancellations leaves nothing behind
(bench/transport_soak.py; `python -m bench.transport_soak` runs 20,000 calls)."""

from bench.transport_soak import MAX_CONNECTIONS, leaks, soak


async def test_thousands_of_calls_with_random_cancellations_leak_no_connection_fd_or_memory():
    result = await soak(calls=4000, seed=3)
    assert result["cancelled"] > 100  # cancellations did happen, in every phase of a call
    assert result["ok"] > 3000
    assert result["errors"] <= 20  # only a close racing a reuse (the server closes without saying so)
    assert result["peak_pool"] == MAX_CONNECTIONS
    # The suite's other servers share this process and may hold a descriptor or two meanwhile;
    # a leak per call (or per cancellation) would show in the hundreds over 4,000 calls.
    assert leaks(result, rss_kb=4 * 1024, fd_slack=4) == []
