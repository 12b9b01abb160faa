"""The dashboard's pages at a million deliveries (issue 14: every page under 200 ms server time).

Loads BENCH_DASHBOARD_ROWS synthetic deliveries (default 1 million) with
bench/seed_deliveries.py (two per notification over 90 days up to now, 20 tenants, one of which
owns a quarter of the rows, ~50,000 recipients with names, emails and phones) into a scratch
pgserver database migrated like production, starts a Temporal dev server, signs an operator in
for the large tenant and for a typical one (~4 % of the rows), runs the statistics' daily rollup
as its nightly job would have (timed: its first run, then a night's), and times each built page
through the application in-process (ASGI: the server's time, no network): a warm-up, then
BENCH_DASHBOARD_RUNS requests one after another; the goal is met when every page's median is
under it. Written to bench/results/dashboard.json.

    python -m bench.dashboard
"""

import asyncio
import hashlib
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from bench.scratch import scratch_database
from bench.seed_deliveries import seed
from bench.stats import provenance, summary_ms
from bench.stats_query import TENANTS
from config.settings import Settings
from db.session import create_engine, session_factory
from domain.maintenance import DailyStatsInput
from services.daily_stats import refresh_daily_stats
from tests.conftest import temporal_binary
from tests.utils.dashboard import signed_in_operator

ROWS = int(float(os.environ.get("BENCH_DASHBOARD_ROWS", "1e6")))
RUNS = int(os.environ.get("BENCH_DASHBOARD_RUNS", "30"))
# "{template}": the tenant's first template (bench/stats_query.py's load gives each five, whose
# versions render most of its emails).
PAGES = [
    "/dashboard",
    "/dashboard/health",
    "/dashboard/history",
    "/dashboard/history?status=failed",
    "/dashboard/history?event_key=daily_agenda&provider=smtp",  # no index: a window
    "/dashboard/history?q=lovelace",  # a name word: more than 100 recipients
    "/dashboard/history/{delivery}",
    "/dashboard/history/resend?status=failed",
    "/dashboard/send",
    "/dashboard/send/fields?event_key=booking.confirmation",
    "/dashboard/send/recipients?recipient=ada",
    "/dashboard/templates",
    "/dashboard/templates/{template}",
    "/dashboard/templates/{template}/versions",
    "/dashboard/analytics",  # the last 30 days
    "/dashboard/analytics?days=90",
    "/dashboard/analytics/export.csv?days=90",
    "/dashboard/settings",
]
RESULTS = Path(__file__).parent / "results" / "dashboard.json"
GOAL_MS = 200


async def load(url: str) -> float:
    return await asyncio.to_thread(seed, url, ROWS)


async def _a_delivery(sessions, tenant_id: uuid.UUID) -> uuid.UUID:
    """The pages' "{delivery}": the tenant's newest delivered email (its workflow is not in this
    Temporal: its page says so, as it would after Temporal's retention)."""
    async with sessions() as session:
        return await session.scalar(
            text(
                "SELECT id FROM deliveries WHERE tenant_id = :t AND status = 'delivered' "
                "AND channel = 'email' ORDER BY created_at DESC LIMIT 1"
            ),
            {"t": tenant_id},
        )


async def refresh_rollup(sessions, settings: Settings) -> dict:
    """What the nightly `daily-stats` job keeps ready (domain/daily_stats.py), timed: its first
    run, which computes every day of the retention, then a night's, which recomputes the days
    2 to DAILY_STATS_REFRESH_DAYS old."""
    job = DailyStatsInput(settings.daily_stats_refresh_days, settings.log_retention_days)
    timed: dict[str, dict[str, float]] = {}
    for run in ("first_run", "nightly_run"):
        started = time.perf_counter()
        result = await refresh_daily_stats(sessions, datetime.now(UTC).date(), job)
        seconds = round(time.perf_counter() - started, 1)
        timed[run] = {"days": result.days, "rows": result.rows, "s": seconds}
    return timed


async def measure(url: str) -> dict:
    load_s = await load(url)
    settings = Settings(
        database_url=url,
        secret_key=SecretStr("bench-secret-key-not-for-production"),
        embedded_worker=False,
    )
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary())
    engine = create_engine(url)
    sessions = session_factory(engine)
    daily_stats = await refresh_rollup(sessions, settings)
    app = create_app(settings, temporal=env.client)
    results: dict = {}
    try:
        async with app.router.lifespan_context(app):
            for label, tenant in TENANTS.items():
                tenant_id = uuid.UUID(f"00000000-0000-4000-8000-{tenant:012d}")
                operator = await signed_in_operator(sessions, settings, tenant_id)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://herald", cookies=operator.cookies
                ) as browser:
                    delivery = await _a_delivery(sessions, tenant_id)
                    template = uuid.UUID(hashlib.md5(f"t{tenant}-1".encode()).hexdigest())
                    results[label] = {
                        path: await _time(
                            browser, path.format(template=template, delivery=delivery)
                        )
                        for path in PAGES
                    }
    finally:
        await engine.dispose()
        await env.shutdown()
    return {
        "rows": ROWS,
        "load_s": round(load_s, 1),
        "daily_stats": daily_stats,
        "pages": results,
    }


async def _time(browser: httpx.AsyncClient, path: str) -> dict:
    for _ in range(3):  # warm-up: connections, caches, the templates' compilation
        assert (await browser.get(path)).status_code == 200, path
    latencies = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await browser.get(path)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, path
    return summary_ms(latencies)


def main() -> None:
    with scratch_database("herald_bench_dashboard") as url:
        report = asyncio.run(measure(url))
    report = {
        **provenance(),
        "goal_ms": GOAL_MS,
        **report,
        # The median: the machine is shared, and a neighbour's burst lands in the tail.
        "met": all(
            figures["p50_ms"] < GOAL_MS
            for pages in report["pages"].values()
            for figures in pages.values()
        ),
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
