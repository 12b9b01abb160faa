"""GET /v1/stats at millions of deliveries: its SQL with and without ix_deliveries_stats.

Loads BENCH_STATS_ROWS synthetic deliveries (default 10 million; two per notification, 90 days,
20 tenants, one of which owns a quarter of all rows) with generate_series into a scratch
pgserver database migrated like production. Then runs the exact statement of db/stats.py
under EXPLAIN ANALYZE for the last 30 days, per grouping, for the large tenant and a typical
one (~4 % of rows): first without the index, then with it (after the VACUUM that autovacuum
would do, so index-only scans can skip the heap). Medians of BENCH_STATS_RUNS runs after a
warm-up, written to bench/results/stats.json.

    python -m bench.stats_query
"""

import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pgserver
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex

from db.migrate import upgrade
from db.session import to_async_url
from db.stats import KEYS, counts_sql
from db.tracking_models import STATS_INDEX

ROWS = int(float(os.environ.get("BENCH_STATS_ROWS", "10e6")))
RUNS = int(os.environ.get("BENCH_STATS_RUNS", "5"))
RESULTS = Path(__file__).parent / "results" / "stats.json"
END = datetime(2026, 1, 1, tzinfo=UTC)
TENANTS = {"large (25% of rows)": 1, "typical (~4% of rows)": 2}

_TENANT = "('00000000-0000-4000-8000-' || lpad(({})::text, 12, '0'))::uuid"
# Five email templates per tenant, each with its one version (bench/seed_deliveries.py too).
TEMPLATES = [
    f"""INSERT INTO templates (id, tenant_id, name, locale, event_key, channel, is_active,
                              is_default, version, current_version_id, required_placeholders,
                              fallbacks)
        SELECT md5('t' || t || '-' || k)::uuid, {_TENANT.format("t")}, 'template ' || k, 'en',
               'booking.confirmation', 'email', true, false, 1, md5('v' || t || '-' || k)::uuid,
               '[]', '{{}}'
        FROM generate_series(1, 20) t, generate_series(1, 5) k""",
    """INSERT INTO template_versions (id, template_id, version, name, locale,
                                      required_placeholders, fallbacks)
       SELECT current_version_id, id, 1, name, locale, '[]', '{}' FROM templates""",
]
_LOAD = [
    f"""INSERT INTO tenants (id, name)
        SELECT {_TENANT.format("t")}, 'bench ' || t FROM generate_series(1, 20) t""",
    f"""INSERT INTO recipients (id, tenant_id, external_id)
        SELECT {_TENANT.format("t")}, {_TENANT.format("t")}, 'r' || t
        FROM generate_series(1, 20) t""",
    *TEMPLATES,
    # Tenants interleave in time, as they do in production: a tenant's rows are spread over the
    # heap.
    f"""INSERT INTO notifications (id, tenant_id, recipient_id, event_key, priority, context,
                                  idempotency_key, request_digest, workflow_id, status,
                                  created_at, updated_at)
        SELECT md5('n' || i)::uuid, tenant, tenant,
               (ARRAY['booking.confirmation', 'booking.reminder', 'payment.completed',
                      'booking.cancellation', 'daily_agenda'])[1 + i % 5],
               'normal', '{{}}', i::text, '\\x00', 'wf-' || i, 'sent', at, at
        FROM (SELECT i,
                     CASE WHEN i % 4 = 0 THEN {_TENANT.format(1)}
                          ELSE {_TENANT.format("2 + i % 19")} END
                     AS tenant,
                     :end - interval '90 days' * (1 - i::float / :notifications) AS at
              FROM generate_series(1, :notifications) i) n""",
    """SELECT setseed(0.42)""",
    """INSERT INTO deliveries (id, tenant_id, notification_id, channel, provider, status,
                              template_version_id, created_at, updated_at)
       SELECT md5('d' || id || c)::uuid, tenant_id, id,
              CASE c WHEN 0 THEN 'email' ELSE 'sms' END,
              CASE WHEN c = 1 THEN 'twilio' WHEN r_provider < 0.7 THEN 'sendgrid' ELSE 'smtp' END,
              CASE WHEN r < 0.01 THEN 'pending' WHEN r < 0.06 THEN 'suppressed'
                   WHEN r < 0.36 THEN 'sent' WHEN r < 0.71 THEN 'delivered'
                   WHEN r < 0.86 THEN 'opened' WHEN r < 0.91 THEN 'clicked'
                   WHEN r < 0.95 THEN 'failed' WHEN r < 0.98 THEN 'bounced'
                   WHEN r < 0.99 THEN 'cancelled'
                   ELSE 'digested' END,
              -- most emails from one of the tenant's five templates, the rest as written
              CASE WHEN c = 0 AND r_template < 0.8
                   THEN md5('v' || right(tenant_id::text, 12)::int
                            || '-' || (1 + floor(r_template * 6.25)::int))::uuid
              END,
              created_at, created_at
       FROM (SELECT n.id, n.tenant_id, n.created_at, c, random() AS r, random() AS r_provider,
                    random() AS r_template
             FROM notifications n, generate_series(0, 1) c) d""",
]


def _engine(url: str):
    return create_engine(to_async_url(url), isolation_level="AUTOCOMMIT")


def _scans(plan: dict) -> list[str]:
    found = (
        [f"{plan['Node Type']} on {plan.get('Index Name') or plan.get('Relation Name')}"]
        if "Scan" in plan["Node Type"]
        else []
    )
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def _heap_fetches(plan: dict) -> int:
    return plan.get("Heap Fetches", 0) + sum(
        _heap_fetches(child) for child in plan.get("Plans", [])
    )


def _measure(conn, tenant: int) -> dict:
    params = {
        "tenant_id": f"00000000-0000-4000-8000-{tenant:012d}",
        "start": END - timedelta(days=30),
        "end": END,
    }
    results = {}
    for group_by in [None, *KEYS]:
        statement = text(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + counts_sql([group_by] if group_by else [])
        )
        runs = [conn.execute(statement, params).scalar()[0] for _ in range(RUNS + 1)][1:]
        plan = runs[-1]["Plan"]
        results[group_by or "totals"] = {
            "median_ms": round(statistics.median(r["Execution Time"] for r in runs), 1),
            "scans": sorted(set(_scans(plan))),
            "heap_fetches": _heap_fetches(plan),
        }
    return results


def _measure_all(conn) -> dict:
    return {label: _measure(conn, tenant) for label, tenant in TENANTS.items()}


def main() -> None:
    scratch = tempfile.mkdtemp(prefix="herald-bench-stats-")
    server = pgserver.get_server(scratch, cleanup_mode="delete")
    try:
        base = server.get_uri()
        with _engine(base).connect() as conn:
            conn.execute(text("CREATE DATABASE herald_bench_stats"))
        head, _, query = base.partition("?")  # pgserver's URI names the socket in its query
        url = head.rsplit("/", 1)[0] + "/herald_bench_stats" + ("?" + query if query else "")
        upgrade(url)
        report = run(url)
    finally:
        server.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"], indent=2))


def run(url: str) -> dict:
    with _engine(url).connect() as conn:
        conn.execute(text(f"DROP INDEX {STATS_INDEX.name}"))
        started = time.monotonic()
        for statement in _LOAD:
            conn.execute(text(statement), {"notifications": ROWS // 2, "end": END})
        conn.execute(text("VACUUM ANALYZE"))
        load_s = time.monotonic() - started
        without = _measure_all(conn)
        started = time.monotonic()
        conn.execute(text(str(CreateIndex(STATS_INDEX).compile(dialect=postgresql.dialect()))))
        build_s = time.monotonic() - started
        conn.execute(text("VACUUM ANALYZE deliveries"))
        with_index = _measure_all(conn)
        sizes = conn.execute(
            text(
                f"SELECT pg_relation_size('deliveries'), pg_relation_size('{STATS_INDEX.name}'), "
                "count(*) FROM deliveries"
            )
        ).one()
        settings = dict(
            conn.execute(
                text(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('server_version', 'shared_buffers', 'work_mem', "
                    "'max_parallel_workers_per_gather')"
                )
            ).all()
        )
    summary = {
        label: {
            group: {
                "without_index_ms": without[label][group]["median_ms"],
                "with_index_ms": with_index[label][group]["median_ms"],
                "speedup": round(
                    without[label][group]["median_ms"] / with_index[label][group]["median_ms"], 1
                ),
            }
            for group in with_index[label]
        }
        for label in TENANTS
    }
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": settings,
        },
        "deliveries": sizes[2],
        "window": "the last 30 of 90 days",
        "runs": RUNS,
        "load_seconds": round(load_s, 1),
        "index_build_seconds": round(build_s, 1),
        "table_mb": round(sizes[0] / 2**20),
        "index_mb": round(sizes[1] / 2**20),
        "summary": summary,
        "without_index": without,
        "with_index": with_index,
    }


if __name__ == "__main__":
    main()
