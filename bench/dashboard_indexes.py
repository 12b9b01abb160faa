"""Migration 0019's indexes at a million deliveries: each query they serve, before and after.

A scratch database at 0018 (the revision before), seeded by bench/seed_deliveries.py (a million
deliveries, 500,000 notifications), with bench/recipient_pages.py's waiting work (2,000
scheduled notifications, a recipient with 50,000 notifications, for the large and a typical
tenant) and one in-app message per notification (a tenth of them expiring, a twentieth read and
archived; a few hundred old enough for the purges). Each query is run through its db/ function:
the first run, then the median of BENCH_INDEX_RUNS, and each statement once more under EXPLAIN
(ANALYZE, BUFFERS): its time, the pages it touched, its scans. Then 0019 is applied and the
same is measured again. Written to bench/results/dashboard_indexes.json.

    python -m bench.dashboard_indexes
"""

import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.recipient_pages import TENANTS, add_waiting_work
from bench.scratch import scratch_database
from bench.seed_deliveries import ROWS, seed, tenant_id
from bench.stats import provenance
from bench.stats_query import _scans
from db import health, maintenance, recipient_pages, scheduled
from db.migrate import alembic_config
from db.session import create_engine as create_async_engine
from db.session import session_factory, to_async_url
from domain.maintenance import PurgeCutoffs, PurgeInput

RUNS = int(os.environ.get("BENCH_INDEX_RUNS", "20"))
RESULTS = Path(__file__).parent / "results" / "dashboard_indexes.json"
BEFORE, AFTER = "0018_history_indexes", "0019_dashboard_indexes"

Case = Callable[[AsyncSession], Awaitable[Any]]

# One in-app message per seeded notification. Expiring: every 10th, of which every 1,000th
# expired two days ago (past the purge's 24-hour grace); archived and read: every 20th, of
# which every 2,000th 40 days ago (past the 30 days kept). The rest never expire.
_MESSAGES = """
    INSERT INTO in_app_messages (id, tenant_id, recipient_id, notification_id, title, body,
                                 priority, read_at, archived_at, expires_at, created_at)
    SELECT md5('m' || n.id)::uuid, n.tenant_id, n.recipient_id, n.id, 'Title', 'Body', 'normal',
           CASE WHEN i % 20 = 1 THEN n.created_at END,
           CASE WHEN i % 2000 = 1 THEN :now - interval '40 days'
                WHEN i % 20 = 1 THEN :now - interval '1 day' END,
           CASE WHEN i % 1000 = 0 THEN :now - interval '2 days'
                WHEN i % 10 = 0 THEN :now + interval '30 days' END,
           n.created_at
    FROM (SELECT id, tenant_id, recipient_id, created_at, row_number() OVER () AS i
          FROM notifications) n
"""


def add_inbox_messages(url: str) -> None:
    engine = create_engine(to_async_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(_MESSAGES), {"now": datetime.now(UTC)})
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _cases(tenant: uuid.UUID, heavy: uuid.UUID, typical: uuid.UUID) -> dict[str, Case]:
    cutoffs = PurgeCutoffs.of(PurgeInput(retention_days=90), datetime.now(UTC))
    batch = PurgeInput(retention_days=90).batch_size

    def purge(table: str) -> Case:
        return lambda session: maintenance.purge_batch(session, table, cutoffs, batch)

    return {
        "Health: the tenant's backlog": lambda session: health.backlog(session, tenant),
        "Scheduled: the first 51 waiting": lambda session: scheduled.scheduled_notifications(
            session, tenant, None, 51
        ),
        "Recipient: latest 20 of 50,000": lambda session: recipient_pages.recent_notifications(
            session, tenant, heavy, 20
        ),
        "Recipient: latest 20 of a typical one": (
            lambda session: recipient_pages.recent_notifications(session, tenant, typical, 20)
        ),
        "Inbox purge: expired messages": purge("expired_inbox_messages"),
        "Inbox purge: archived messages": purge("archived_inbox_messages"),
    }


def _buffers(plan: dict) -> int:
    """Pages the statement touched (found in shared buffers or read)."""
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


async def _measure_case(
    sessions: async_sessionmaker[AsyncSession], case: Case, captured: list
) -> dict:
    async def once() -> float:
        async with sessions() as session:
            started = time.perf_counter()
            async with session.begin() as transaction:
                await case(session)
                await transaction.rollback()  # the purges delete: leave the rows for the next
            return time.perf_counter() - started

    first = await once()
    latencies = [await once() for _ in range(RUNS)]
    captured.clear()
    await once()
    statements = list(captured)
    plans = []
    async with sessions() as session, session.begin() as transaction:
        connection = await session.connection()
        for statement, parameters in statements:
            explained = await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            )
            plan = explained.scalar_one()[0]
            plans.append(
                {
                    "execution_ms": round(plan["Execution Time"], 2),
                    "buffers": _buffers(plan["Plan"]),
                    "scans": sorted(set(_scans(plan["Plan"]))),
                }
            )
        await transaction.rollback()
    return {
        "first_ms": round(first * 1000, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "statements": plans,
    }


async def measure(url: str) -> dict:
    engine = create_async_engine(url)
    sessions = session_factory(engine)
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "DELETE")):
            captured.append((statement, parameters))

    results: dict[str, dict] = {}
    try:
        for label, number in TENANTS.items():
            tenant = tenant_id(number)
            async with sessions() as session:
                heavy = (
                    await session.execute(
                        text(
                            "SELECT id FROM recipients WHERE tenant_id = :t "
                            "AND external_id = 'heavy-recipient'"
                        ),
                        {"t": tenant},
                    )
                ).scalar_one()
                typical = (
                    await session.execute(
                        text(
                            "SELECT id FROM recipients WHERE tenant_id = :t "
                            "AND external_id = 'user-123'"
                        ),
                        {"t": tenant},
                    )
                ).scalar_one()
            results[label] = {
                name: await _measure_case(sessions, case, captured)
                for name, case in _cases(tenant, heavy, typical).items()
            }
    finally:
        await engine.dispose()
    return results


def _analyze(url: str) -> None:
    engine = create_engine(to_async_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    with scratch_database("herald_bench_dashboard_indexes") as url:
        command.downgrade(alembic_config(url), BEFORE)
        load_s = seed(url, ROWS)
        add_waiting_work(url)
        add_inbox_messages(url)
        before = asyncio.run(measure(url))
        started = time.perf_counter()
        command.upgrade(alembic_config(url), AFTER)  # CONCURRENTLY
        build_s = time.perf_counter() - started
        _analyze(url)
        after = asyncio.run(measure(url))
    report = {
        **provenance(),
        "rows": ROWS,
        "load_s": round(load_s, 1),
        "index_build_s": round(build_s, 1),
        "before": before,
        "after": after,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                tenant: {
                    case: (
                        f"{before[tenant][case]['p50_ms']} -> {figures['p50_ms']} ms, "
                        f"buffers {[s['buffers'] for s in before[tenant][case]['statements']]}"
                        f" -> {[s['buffers'] for s in figures['statements']]}"
                    )
                    for case, figures in cases.items()
                }
                for tenant, cases in after.items()
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
