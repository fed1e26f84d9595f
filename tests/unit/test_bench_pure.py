"""The bench's pure parts (bench/loadgen.py, bench/run.py): the open loop's arrival schedule,
percentiles, the paired ratios and issue 17's target checks. No timings here."""

from __future__ import annotations

import pytest

from bench.loadgen import OpenResult, arrival_gaps, open_summary, percentile, poisson_schedule
from bench.run import expand_scenarios, note, paired, s3_floor_rt, verdicts

# --- arrival schedule -------------------------------------------------------------------------


def test_gaps_are_exponential_of_the_uniforms():
    # -ln(1 - u) / rate: u = 0.75 at 2 per second is ln 4 / 2 = ln 2 seconds
    assert list(arrival_gaps(2.0, [0.0, 0.75])) == [0.0, pytest.approx(0.6931471805599453)]


def test_schedule_is_ascending_within_the_window():
    times = poisson_schedule(500.0, 2.0, seed="round-1")
    assert times == sorted(times)
    assert times[0] > 0.0
    assert times[-1] < 2.0


def test_same_seed_same_schedule_other_seed_other_schedule():
    assert poisson_schedule(450.0, 1.0, seed="abc-0-S5o") == poisson_schedule(450.0, 1.0, seed="abc-0-S5o")
    assert poisson_schedule(450.0, 1.0, seed="abc-0-S5o") != poisson_schedule(450.0, 1.0, seed="abc-1-S5o")


def test_schedule_carries_the_rate():
    # 10,000 expected; a Poisson count's standard deviation is 100, so ±500 is 5 sigma
    assert 9_500 <= len(poisson_schedule(1000.0, 10.0, seed=7)) <= 10_500


def test_schedule_gaps_vary_as_poisson_arrivals_do():
    times = poisson_schedule(1000.0, 10.0, seed=7)
    gaps = [b - a for a, b in zip(times, times[1:])]
    # an exponential gap exceeds twice its mean with probability e^-2 = 13.5 %: not a fixed pace
    share_long = sum(gap > 0.002 for gap in gaps) / len(gaps)
    assert 0.12 <= share_long <= 0.15


def test_no_rate_or_no_time_no_arrivals():
    assert poisson_schedule(0.0, 5.0, seed=1) == []
    assert poisson_schedule(100.0, 0.0, seed=1) == []


# --- percentiles and ratios -------------------------------------------------------------------


def test_percentile_is_nearest_rank():
    hundred = [float(v) for v in range(1, 101)]
    assert percentile(hundred, 50) == 50.0
    assert percentile(hundred, 99) == 99.0
    assert percentile(hundred, 100) == 100.0
    assert percentile([float(v) for v in range(1, 11)], 99) == 10.0
    assert percentile([float(v) for v in range(1, 11)], 50) == 5.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_open_summary_counts_from_the_schedule():
    result = OpenResult()
    result.latencies = [0.010, 0.012, 0.030, 0.011]
    result.service = [0.010, 0.011, 0.012, 0.011]
    result.lags = [0.0005, 0.001, 0.002, 0.0005]
    result.bytes = 4000
    result.errors = 1
    summary = open_summary(result, scheduled=5, rate=500.0, elapsed=0.01)
    assert summary["requests"] == 4
    assert summary["scheduled"] == 5
    assert summary["achieved_rps"] == pytest.approx(400.0)
    assert summary["offered_rps"] == 500.0
    assert summary["p50_ms"] == pytest.approx(11.0)
    assert summary["p99_ms"] == pytest.approx(30.0)
    assert summary["service_p50_ms"] == pytest.approx(11.0)
    assert summary["lag_p99_ms"] == pytest.approx(2.0)
    assert summary["errors"] == 1


def _window(rps: float, p50: float, p99: float) -> dict:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def test_paired_takes_the_median_of_each_rounds_comparison():
    pairs = [
        (_window(90.0, 12.0, 20.0), _window(100.0, 10.0, 14.0)),
        (_window(80.0, 11.0, 30.0), _window(100.0, 10.0, 15.0)),
        (_window(99.0, 16.0, 18.0), _window(110.0, 10.0, 16.0)),
    ]
    out = paired(pairs)
    assert out["rps_ratio"] == pytest.approx(0.9)
    assert out["added_p50_ms"] == pytest.approx(2.0)
    assert out["added_p99_ms"] == pytest.approx(6.0)
    assert out["latency_ratio_p50"] == pytest.approx(1.2)


def test_paired_skips_a_round_with_a_zero_direct():
    out = paired(
        [(_window(50.0, 40.0, 50.0), _window(0.0, 0.0, 9.0)), (_window(50.0, 45.0, 60.0), _window(100.0, 5.0, 8.0))]
    )
    assert out["rps_ratio"] == pytest.approx(0.5)
    assert out["latency_ratio_p50"] == pytest.approx(9.0)


# --- targets ----------------------------------------------------------------------------------


def test_s3_floor_is_the_list_call_plus_the_look_up_waves():
    assert s3_floor_rt() == 8.0  # 1 + ⌈50/8⌉
    assert s3_floor_rt(48, 8) == 7.0
    assert s3_floor_rt(49, 8) == 8.0


def test_s5_means_closed_and_open_loop():
    assert expand_scenarios("S1,S5", open_rate=450.0) == ["S1", "S5", "S5o"]
    assert expand_scenarios("s5", open_rate=0.0) == ["S5"]
    assert expand_scenarios("s5o, S3", open_rate=450.0) == ["S5o", "S3"]
    assert expand_scenarios("S5,S5o", open_rate=450.0) == ["S5", "S5o"]
    with pytest.raises(SystemExit):
        expand_scenarios("S6", open_rate=450.0)


def _rows(cpu_s1, cpu_s2, rt_s3, s5, s5o, rss_s4, target="adapter") -> list[dict]:
    return [
        {"scenario": "S1", "target": target, "cpu_us_per_req": cpu_s1, "errors": 0},
        {"scenario": "S2", "target": target, "cpu_us_per_req": cpu_s2, "errors": 0},
        {"scenario": "S3", "target": "direct", "p50_ms": 5.3, "errors": 0},
        {
            "scenario": "S3",
            "target": target,
            "latency_ratio_p50": rt_s3,
            "p50_ms": 5.3 * rt_s3,
            "upstream_calls_per_req": 51,
            "errors": 0,
        },
        {"scenario": "S4", "target": target, "rss_growth_mb": rss_s4, "mbps": 500.0, "errors": 0},
        {
            "scenario": "S5",
            "target": target,
            **dict(zip(("rps_ratio", "added_p50_ms", "added_p99_ms"), s5)),
            "errors": 0,
        },
        {
            "scenario": "S5o",
            "target": target,
            **dict(zip(("rps_ratio", "added_p50_ms", "added_p99_ms"), s5o)),
            "errors": 0,
        },
    ]


PROBE = {"adapter": {"first_mib_ms": 7.0, "streamed": True}}


def test_targets_met_at_their_limits():
    checks = verdicts(_rows(550, 450, 8.6, (0.87, 1.5, 5.0), (0.87, 1.5, 5.0), 16.0), PROBE)
    assert [(name, ok) for name, _, ok in checks] == [
        ("S1 adapter CPU <= 550 µs/req", True),
        ("S2 adapter CPU <= 450 µs/req", True),
        ("S3 adapter <= 8.6 upstream round trips", True),
        ("S5 adapter (closed loop, 8 connections) throughput >= 0.87x direct", True),
        ("S5 adapter (closed loop, 8 connections) added p50 <= 1.5 ms", True),
        ("S5 adapter (closed loop, 8 connections) added p99 <= 5 ms", True),
        ("S5o adapter (open loop, Poisson arrivals) throughput >= 0.87x direct", True),
        ("S5o adapter (open loop, Poisson arrivals) added p50 <= 1.5 ms", True),
        ("S5o adapter (open loop, Poisson arrivals) added p99 <= 5 ms", True),
        ("S4 adapter streamed (1st MiB before upstream sends the rest)", True),
        ("S4 adapter RSS growth <= 16 MB at 4 connections", True),
    ]


def test_targets_missed_just_past_their_limits():
    checks = verdicts(
        _rows(551, 451, 8.7, (0.86, 1.51, 5.01), (0.86, 1.51, 5.01), 16.1),
        {"adapter": {"first_mib_ms": 900.0, "streamed": False}},
    )
    assert [ok for _, _, ok in checks] == [False] * 11


def test_s3_is_reported_against_the_floor():
    checks = verdicts(_rows(500, 400, 9.2, (1, 0, 0), (1, 0, 0), 5.0), PROBE)
    detail = next(detail for name, detail, _ in checks if name.startswith("S3"))
    assert detail.startswith("9.2 RT, +1.2 over the 8.0 RT zero-CPU floor (1 list call + ⌈50/8⌉ look-up waves;")
    row = _rows(500, 400, 9.2, (1, 0, 0), (1, 0, 0), 5.0)[3]
    assert note(row, [row], {}) == "9.2 RT (floor 8.0, +1.2)"


def test_tracing_on_is_information_not_a_verdict():
    rows = _rows(500, 400, 8.0, (1, 0, 0), (1, 0, 0), 5.0) + _rows(
        700, 400, 8.0, (1, 0, 0), (1, 0, 0), 5.0, target="adapter+otel"
    )
    checks = verdicts(rows, PROBE)
    traced = [(name, detail, ok) for name, detail, ok in checks if "adapter+otel" in name]
    assert traced[0] == ("S1 adapter+otel CPU <= 550 µs/req", "700 µs/req (misses the target with tracing on)", None)
    assert {ok for _, _, ok in traced} == {None}
    assert note(rows[7], rows, {}) == "tracing +200 µs/req"


# --- bench.mapping_path: the steps it times are the routes' (no timings) ---------------------


def test_mapping_path_steps_give_the_answers_of_the_scenarios():
    import orjson

    from bench.mapping_path import SCENARIOS, steps

    runs = steps()
    assert tuple(runs) == SCENARIOS
    s1, s3 = orjson.loads(runs["S1"]()), orjson.loads(runs["S3"]())
    assert len(s1["results"]) == 50 and s1["previous"] is None
    assert s1["next"].startswith("http://127.0.0.1:8000/contactmomenten/api/v1/contactmomenten?klant=http%3A%2F%2F")
    assert s1["next"].endswith("&page=2")
    assert all(item["url"].startswith("http://127.0.0.1:8000/contactmomenten/api/v1/") for item in s1["results"])
    assert len(s3["results"]) == 50 and all("klant" in row["record"]["data"]["betrokkene"] for row in s3["results"])
    assert runs["S2"]() == runs["S2"]()


def test_lean_floor_moves_the_adapters_answer_to_the_lean_servers_origin_raw_and_percent_encoded():
    from bench.lean_floor import _same_origin_answer

    raw = b'{"next":"http://127.0.0.1:8000/c?klant=http%3A%2F%2F127.0.0.1%3A8000%2Fk","url":"http://127.0.0.1:8000/x"}'
    moved = _same_origin_answer(raw, "http://127.0.0.1:8000", "http://127.0.0.1:9001")
    assert (
        moved
        == b'{"next":"http://127.0.0.1:9001/c?klant=http%3A%2F%2F127.0.0.1%3A9001%2Fk","url":"http://127.0.0.1:9001/x"}'
    )


# --- bench.cache_gap: each call after its pause, the ratio to back to back (no timings) ------


def test_cache_gap_pauses_before_every_call_and_takes_one_sample_each():
    from bench.cache_gap import thread_cpu_per_call

    events: list[object] = []
    samples = thread_cpu_per_call(lambda: events.append("run"), events.append, 0.002, 3)
    assert events == [0.002, "run", 0.002, "run", 0.002, "run"]
    assert len(samples) == 3 and all(sample >= 0 for sample in samples)


def test_cache_gap_ratios_are_each_median_over_the_back_to_back_one():
    from bench.cache_gap import ratios

    assert ratios({0.0: 80.0, 0.0005: 120.0, 0.01: 320.0}) == {0.0: 1.0, 0.0005: 1.5, 0.01: 4.0}
    with pytest.raises(KeyError):
        ratios({0.01: 320.0})


# --- bench.collector: collections counted per generation, the startup one apart -------------


def test_collector_clock_counts_each_generation_from_the_moment_it_serves(monkeypatch):
    from bench import collector

    clock_ns = iter(
        [0, 30_000_000, 0, 2_000_000, 5_000_000, 11_000_000, 20_000_000, 60_000_000, 70_000_000, 75_000_000]
    )
    monkeypatch.setattr(collector.time, "thread_time_ns", lambda: next(clock_ns))
    clock = collector.CollectorClock()
    clock("start", {"generation": 2})  # the startup heap's collection
    clock("stop", {"generation": 2})
    clock.serving()
    for generation in (0, 0, 1, 2):
        clock("start", {"generation": generation})
        clock("stop", {"generation": generation})
    assert clock.count == [2, 1, 1] and clock.nanoseconds == [8_000_000, 40_000_000, 5_000_000]
    assert clock.longest_ns == [6_000_000, 40_000_000, 5_000_000]
    assert clock.report(4000, (7000, 10, 10)) == (
        "thresholds (7000, 10, 10) requests 4000 per request 13.2 µs: "
        "gen0 2 in 8.0 ms (longest 6.0) gen1 1 in 40.0 ms (longest 40.0) gen2 1 in 5.0 ms (longest 5.0);"
        " before serving 30.0 ms"
    )


def test_collector_clock_without_serving_has_nothing_before_serving():
    from bench import collector

    assert collector.CollectorClock().before_serving_ns is None
