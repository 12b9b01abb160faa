"""The dashboard's History and Send queries at a million deliveries, with their plans.

Seeds BENCH_HISTORY_ROWS deliveries (default 1 million: bench/seed_deliveries.py) into a scratch
pgserver database migrated like production, then for the large tenant (a quarter of the rows)
and a typical one (~4 %) runs each of the History's lists (every filter, searches, a deep page,
a filter that matches nothing), a delivery's record and content, the resend confirmation's
count and the Send page's recipient search through their services: BENCH_HISTORY_RUNS times
each after a warm-up (median and p99), and each statement they run once more under EXPLAIN
ANALYZE: its time and the scans it made. A sequential scan of deliveries, notifications or
recipients fails the run (no page may read a whole table). Written to bench/results/history.json.

    python -m bench.history_query
    BENCH_HISTORY_DATABASE_URL=postgresql://... python -m bench.history_query  # seeded already
"""

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.scratch import scratch_database
from bench.seed_deliveries import LARGE_TENANT, TYPICAL_TENANT, seed, tenant_id
from bench.stats import provenance, summary_ms
from bench.stats_query import _scans
from db.history import delivery_record
from db.session import create_engine, session_factory
from services import history, manual_send
from services.delivery_detail import rendered_content
from services.history import HistoryQuery

ROWS = int(float(os.environ.get("BENCH_HISTORY_ROWS", "1e6")))
RUNS = int(os.environ.get("BENCH_HISTORY_RUNS", "20"))
RESULTS = Path(__file__).parent / "results" / "history.json"
BIG_TABLES = ("deliveries", "notifications", "recipients")

Case = Callable[[AsyncSession], Awaitable[Any]]


def _page(**fields: Any) -> Case:
    query = HistoryQuery.model_validate(fields)

    async def run(session: AsyncSession) -> Any:
        return await history.history_page(session, session.info["tenant"], query)

    return run


async def _deep_cursor(sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID) -> str | None:
    """The cursor of the 21st page of the newest deliveries (1,000 rows in), or of the last
    page there is (a small BENCH_HISTORY_ROWS)."""
    cursor = None
    for _ in range(20):
        async with sessions() as session:
            found = await history.history_page(
                session, tenant, HistoryQuery.model_validate({"cursor": cursor})
            )
        if found.next_cursor is None:
            break
        cursor = found.next_cursor
    return cursor


async def _cases(sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID) -> dict[str, Case]:
    async with sessions() as session:
        delivery_id, notification_id, message_id = (
            await session.execute(
                text(
                    "SELECT id, notification_id, provider_message_id FROM deliveries "
                    "WHERE tenant_id = :t AND status = 'delivered' AND channel = 'email' "
                    "ORDER BY created_at DESC LIMIT 1"
                ),
                {"t": tenant},
            )
        ).one()
    ninety_days = (datetime.now(UTC) - timedelta(days=90)).isoformat()

    async def record_and_content(session: AsyncSession) -> Any:
        record = await delivery_record(session, tenant, delivery_id)
        assert record is not None
        return await rendered_content(session, record)

    async def resend_count(session: AsyncSession) -> Any:
        query = HistoryQuery.model_validate({"status": "failed", "from": ninety_days})
        return await history.resend_plan(session, tenant, query)

    async def recipient_search(session: AsyncSession) -> Any:
        return await manual_send.find_recipients(session, tenant, "ada")

    return {
        "newest page": _page(),
        "page 21 (1,000 rows in)": _page(cursor=await _deep_cursor(sessions, tenant)),
        "status failed": _page(status="failed"),
        "status failed, 90 days": _page(status="failed", **{"from": ninety_days}),
        "failed + smtp + daily_agenda": _page(
            status="failed", provider="smtp", event_key="daily_agenda"
        ),
        "an event key nothing has (window)": _page(event_key="nothing.sent"),
        "recipient (external id)": _page(recipient="user-77"),
        "search: a name word": _page(q="lovelace"),
        "search: an email's start": _page(q="user-1234@"),
        "search: a phone's start": _page(q="+155500012"),
        "search: nothing matches": _page(q="zzqq"),
        "search: a delivery id": _page(q=str(delivery_id)),
        "search: a notification id, 90 days": _page(
            q=str(notification_id), **{"from": ninety_days}
        ),
        "search: a provider message id": _page(q=message_id),
        "delivery record + content": record_and_content,
        "resend confirmation (failed, 90 days)": resend_count,
        "Send: recipient search": recipient_search,
    }


async def _measure_case(
    sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID, case: Case, captured: list
) -> dict:
    async def once() -> float:
        async with sessions() as session:
            session.info["tenant"] = tenant
            started = time.perf_counter()
            async with session.begin():
                await case(session)
            return time.perf_counter() - started

    for _ in range(2):
        await once()
    latencies = [await once() for _ in range(RUNS)]
    captured.clear()
    await once()
    statements = list(captured)
    plans = []
    async with sessions() as session:
        connection = await session.connection()
        for statement, parameters in statements:
            explained = await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            )
            plan = explained.scalar_one()[0]
            plans.append(
                {
                    "execution_ms": round(plan["Execution Time"], 2),
                    "scans": sorted(set(_scans(plan["Plan"]))),
                }
            )
    return {**summary_ms(latencies), "statements": plans}


async def measure(url: str) -> dict:
    engine = create_engine(url)
    sessions = session_factory(engine)
    captured: list[tuple[str, dict]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    results: dict[str, dict] = {}
    try:
        for label, number in (
            ("large (25% of rows)", LARGE_TENANT),
            ("typical (~4% of rows)", TYPICAL_TENANT),
        ):
            tenant = tenant_id(number)
            results[label] = {
                name: await _measure_case(sessions, tenant, case, captured)
                for name, case in (await _cases(sessions, tenant)).items()
            }
    finally:
        await engine.dispose()
    return results


def _whole_table_scans(results: dict) -> list[str]:
    return [
        f"{tenant}: {case}: {scan}"
        for tenant, cases in results.items()
        for case, figures in cases.items()
        for plan in figures["statements"]
        for scan in plan["scans"]
        if scan.startswith(("Seq Scan", "Parallel Seq Scan")) and scan.endswith(BIG_TABLES)
    ]


def main() -> None:
    existing = os.environ.get("BENCH_HISTORY_DATABASE_URL")  # already seeded: measure only
    if existing:
        load_s, results = 0.0, asyncio.run(measure(existing))
    else:
        with scratch_database("herald_bench_history") as url:
            load_s = seed(url, ROWS)
            results = asyncio.run(measure(url))
    whole_table = _whole_table_scans(results)
    report = {
        **provenance(),
        "rows": ROWS,
        "load_s": round(load_s, 1),
        "page_size": history.PAGE_SIZE,
        "scan_limit": history.SCAN_LIMIT,
        "whole_table_scans": whole_table,
        "cases": results,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                tenant: {case: f["p50_ms"] for case, f in cases.items()}
                for tenant, cases in results.items()
            },
            indent=2,
        )
    )
    if whole_table:
        raise SystemExit("whole-table scans:\n" + "\n".join(whole_table))


if __name__ == "__main__":
    main()
