"""Marking many inbox messages read at once: POST /v1/inbox/read over 100, 500 and 2,000 unread
messages (issue 13: a recipient's "mark all read").

A scratch pgserver database migrated like production and a Temporal dev server; one recipient
whose inbox holds N unread in-app messages, each its own notification with a `delivered` in-app
delivery, so every read is a first read: every delivery moves to `opened`. Two cases:

- finished: the notifications have finished (status `sent`), as most have when their message
  is read; no workflow is left to tell.
- waiting: every notification is still `sending` (each waits for an "in-app, then email unless
  opened" fallback), so every read signals its workflow. The workflows are not running here, so
  each signal is answered "not found": a lower bound of a signal's cost.

Each run resets the messages to unread and their deliveries to `delivered`, then times one
request through the application in-process (ASGI: the server's time, no network). Medians of
BENCH_INBOX_READS_RUNS runs after a warm-up, written to bench/results/inbox_reads.json.

    python -m bench.inbox_reads
"""

import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import pgserver
from pydantic import SecretStr
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from bench.stats import provenance
from config.settings import Settings
from db.migrate import upgrade
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from tests.conftest import temporal_binary
from workflows import search_attributes as sa

SIZES = [100, 500, 2000]
RUNS = int(os.environ.get("BENCH_INBOX_READS_RUNS", "5"))
RESULTS = Path(__file__).parent / "results" / "inbox_reads.json"
GOAL_MS = 1000  # 2,000 messages read in under a second

# N notifications of the recipient, each with one delivered in-app delivery and its message (an
# in-app message's id is its delivery's id).
_SEED = [
    """INSERT INTO notifications (id, tenant_id, recipient_id, event_key, priority, channels,
                                  context, idempotency_key, request_digest, workflow_id, status)
       SELECT gen_random_uuid(), :tenant_id, :recipient_id, 'inbox.bench', 'normal',
              ARRAY['in_app'], '{}', 'bench-' || :size || '-' || i, '\\x00',
              'bench-read-' || :size || '-' || i, 'sent'
       FROM generate_series(1, :size) i""",
    """INSERT INTO deliveries (id, tenant_id, notification_id, channel, provider, status,
                              sent_at, delivered_at)
       SELECT gen_random_uuid(), tenant_id, id, 'in_app', 'database', 'delivered', now(), now()
       FROM notifications WHERE recipient_id = :recipient_id""",
    """INSERT INTO in_app_messages (id, tenant_id, recipient_id, notification_id, title, body,
                                   priority, category)
       SELECT d.id, d.tenant_id, :recipient_id, d.notification_id, 'Invoice', 'is ready',
              'normal', 'inbox.bench'
       FROM deliveries d JOIN notifications n ON n.id = d.notification_id
       WHERE n.recipient_id = :recipient_id""",
]
# The case: the notifications' status.
CASES = {"finished": "sent", "waiting": "sending"}
_RESET = [
    "UPDATE notifications SET status = :status WHERE recipient_id = :recipient_id",
    "UPDATE in_app_messages SET read_at = NULL, seen_at = NULL WHERE recipient_id = :recipient_id",
    """UPDATE deliveries d SET status = 'delivered', opened_at = NULL
       FROM notifications n WHERE n.id = d.notification_id AND n.recipient_id = :recipient_id""",
    "VACUUM ANALYZE in_app_messages, deliveries, notifications",
]


async def measure(url: str) -> dict:
    settings = Settings(
        database_url=url,
        secret_key=SecretStr("bench-secret-key-not-for-production"),
        embedded_worker=False,
    )
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), search_attributes=sa.ALL
    )
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        tenant, key = await create_tenant(session, "bench")
    app = create_app(settings, temporal=env.client)
    results: dict = {}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with _client(transport, key) as api:
                for size in SIZES:
                    recipient = f"reader-{size}"
                    await api.put(f"/v1/recipients/{recipient}", json={})
                    issued = (await api.post(f"/v1/recipients/{recipient}/token")).json()
                    params = {
                        "tenant_id": tenant.id,
                        "recipient_id": issued["recipient_id"],
                        "size": size,
                    }
                    await _run(engine, _SEED, params)
                    async with _client(transport, issued["token"]) as inbox:
                        for case, status in CASES.items():
                            figures = await _time(engine, inbox, params | {"status": status}, size)
                            results.setdefault(case, {})[str(size)] = figures
                            print(case, size, figures, flush=True)
    finally:
        await engine.dispose()
        await env.shutdown()
    return results


def _client(transport: httpx.ASGITransport, token: str) -> httpx.AsyncClient:
    """A client of the application in-process, with a tenant key or a recipient token."""
    return httpx.AsyncClient(
        transport=transport, base_url="http://herald", headers={"Authorization": f"Bearer {token}"}
    )


async def _time(engine, inbox: httpx.AsyncClient, params: dict, size: int) -> dict:
    latencies = []
    for run in range(RUNS + 1):  # the first is a warm-up
        await _run(engine, _RESET, params)
        started = time.perf_counter()
        response = await inbox.post("/v1/inbox/read", json={"filter": {}})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert response.json()["updated"] == size, response.text
        if run:
            latencies.append(elapsed)
    return {
        "median_ms": round(statistics.median(latencies) * 1000),
        "runs_ms": [round(s * 1000) for s in latencies],
    }


async def _run(engine, statements: list[str], params: dict) -> None:
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            await conn.execute(text(statement), used)


def main() -> None:
    scratch = tempfile.mkdtemp(prefix="herald-bench-inbox-reads-")
    server = pgserver.get_server(scratch, cleanup_mode="delete")
    try:
        base = server.get_uri()
        admin = create_engine(base)

        async def create_database() -> None:
            async with admin.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("CREATE DATABASE herald_bench_inbox_reads"))
            await admin.dispose()

        asyncio.run(create_database())
        head, _, query = base.partition("?")  # pgserver's URI names the socket in its query
        url = head.rsplit("/", 1)[0] + "/herald_bench_inbox_reads" + ("?" + query if query else "")
        upgrade(url)
        report = asyncio.run(measure(url))
    finally:
        server.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    report = {
        **provenance(),
        "goal_ms": GOAL_MS,
        "runs": RUNS,
        "cases": report,
        "met": {
            case: figures[str(SIZES[-1])]["median_ms"] < GOAL_MS for case, figures in report.items()
        },
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
