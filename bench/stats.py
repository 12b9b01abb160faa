"""Percentiles and ratios for the benchmark report."""

import os
import platform
import statistics
from datetime import UTC, datetime


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(latencies_s) * 1000, 1),
        "p99_ms": round(percentile(latencies_s, 0.99) * 1000, 1),
        "n": len(latencies_s),
    }


def provenance() -> dict[str, str]:
    """When and on what a result was measured: the head of a bench/results file."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }
