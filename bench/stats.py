"""Percentiles and ratios for the benchmark report."""

import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings


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


def provenance() -> dict[str, Any]:
    """When, on what and with which of Herald's settings from the environment (those the
    benchmark's processes inherit, BROADCAST_PAGE_PARTS say) a result was measured: the head
    of a bench/results file."""
    settings = {name: value for name, value in os.environ.items() if name in _SETTINGS}
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        **({"settings_from_environment": settings} if settings else {}),
    }


def result_path(results: Path, name: str) -> Path:
    """Where a result named `name` is written: results/<name>.json, or, when settings came from
    the environment (a run of a variant, BROADCAST_PAGE_PARTS=2 say), results/variants/<name>-
    <setting>-<value>....json, so a variant never overwrites the default's figures."""
    settings = provenance().get("settings_from_environment", {})
    if not settings:
        return results / f"{name}.json"
    variant = "-".join(f"{key.lower()}-{value}" for key, value in sorted(settings.items()))
    return results / "variants" / f"{name}-{variant}.json"


# Numbers and switches only: a string setting may be a URL with a password, or a key.
_SETTINGS = {
    name.upper()
    for name, field in Settings.model_fields.items()
    if field.annotation in (int, float, bool)
}
