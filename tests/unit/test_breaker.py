"""The circuit breaker's state machine (operations.md §5.5), with a fake clock."""

import pytest

from adapter.esuite_client.breaker import CircuitBreaker
from adapter.problems import Problem


def make():
    now = [0.0]
    changes = []
    breaker = CircuitBreaker("esuite", changes.append, clock=lambda: now[0])
    return breaker, now, changes


def fail(breaker, times):
    for _ in range(times):
        breaker.before_call()
        breaker.record(False)


def test_opens_after_five_consecutive_failures_only():
    breaker, _, changes = make()
    fail(breaker, 4)
    breaker.record(True)
    fail(breaker, 4)
    assert not breaker.is_open
    fail(breaker, 1)
    assert breaker.is_open and changes == [True]


def test_while_open_calls_are_refused_with_retry_after():
    breaker, now, _ = make()
    fail(breaker, 5)
    now[0] = 2.5
    with pytest.raises(Problem) as refused:
        breaker.before_call()
    assert (refused.value.status, refused.value.code) == (503, "upstream-circuit-open")
    assert refused.value.headers == {"Retry-After": "8"}
    now[0] = 9.8
    with pytest.raises(Problem) as refused:
        breaker.before_call()
    assert refused.value.headers == {"Retry-After": "1"}


def test_after_ten_seconds_one_trial_goes_and_success_closes():
    breaker, now, changes = make()
    fail(breaker, 5)
    now[0] = 10.0
    breaker.before_call()  # the trial
    with pytest.raises(Problem):
        breaker.before_call()  # only one at a time
    breaker.record(True)
    assert not breaker.is_open and changes == [True, False]
    breaker.before_call()


def test_a_failed_trial_reopens_for_another_ten_seconds():
    breaker, now, _ = make()
    fail(breaker, 5)
    now[0] = 10.0
    breaker.before_call()
    breaker.record(False)
    now[0] = 19.9
    with pytest.raises(Problem):
        breaker.before_call()
    now[0] = 20.0
    breaker.before_call()


def test_an_abandoned_trial_lets_the_next_caller_try():
    breaker, now, _ = make()
    fail(breaker, 5)
    now[0] = 10.0
    breaker.before_call()
    breaker.abandon()
    breaker.before_call()
