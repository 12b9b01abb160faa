"""The benchmark's pure arithmetic: Herald's ratios to each baseline, medians over rounds, and
the reminders' lateness (bench/run.py, bench/chains.py)."""

from bench.chains import lateness_summary
from bench.run import medians, ratios


def round_of(herald: float, bare: float, eager: float, celery: float | None = None) -> dict:
    """A round where each variant's p50 latency (ms), throughput (/s) and CPU (ms) are `x`."""
    result: dict = {}
    for name, x in (("herald", herald), ("bare", bare), ("eager", eager), ("celery", celery)):
        if x is None:
            continue
        result[f"{name}_latency"] = {"p50_ms": x, "p99_ms": 2 * x, "n": 10}
        result[f"{name}_throughput"] = x
        result[f"{name}_cpu_ms_total"] = x
    return result


def test_ratios_name_the_bare_workflow_plainly_and_the_others_by_prefix():
    found = ratios(round_of(herald=30, bare=100, eager=20, celery=5))

    assert found == {
        "latency_ratio": 0.3,
        "throughput_ratio": 0.3,
        "cpu_ratio": 0.3,
        "eager_latency_ratio": 1.5,
        "eager_throughput_ratio": 1.5,
        "eager_cpu_ratio": 1.5,
        "celery_latency_ratio": 6.0,
        "celery_throughput_ratio": 6.0,
        "celery_cpu_ratio": 6.0,
    }


def test_a_skipped_baseline_has_no_ratio():
    assert not any(key.startswith("celery") for key in ratios(round_of(30, 100, 20)))


def test_medians_take_each_figure_over_the_rounds():
    rounds = [{**r, **ratios(r)} for r in (round_of(30, 100, 20), round_of(50, 100, 40))]
    rounds.append({**round_of(40, 80, 40), **ratios(round_of(40, 80, 40))})

    m = medians(rounds)

    assert m["herald_p50_ms"] == 40
    assert m["herald_p99_ms"] == 80
    assert m["bare_throughput_per_s"] == 100
    assert m["eager_cpu_ms_total"] == 40
    assert m["throughput_ratio"] == 0.5  # of 0.3, 0.5 and 0.5
    assert m["eager_throughput_ratio"] == 1.25  # of 1.5, 1.25 and 1.0


def test_lateness_counts_what_arrived_within_the_goal_and_what_never_did():
    summary = lateness_summary([0.4, 1.0, 4.9, 7.5], expected=5)

    assert summary["arrived"] == 4
    assert summary["within_goal"] == 3
    assert summary["max_s"] == 7.5
    assert summary["min_s"] == 0.4
