"""The Recipients and Scheduled pages at a million deliveries (issue 14: every page under 200 ms
server time).

A scratch database seeded by bench/seed_deliveries.py (a million deliveries over 90 days, 20
tenants, the large one with a quarter of the rows and 12,500 recipients), and for each of the
large and a typical tenant: 2,000 notifications waiting for a send_at, 1,000 bookings with two
pending reminders each, and one recipient who got 50,000 notifications (an organizer's agendas,
say: the worst case of "their latest notifications"). Each page is timed through the
application in-process (ASGI: the server's time, no network), as bench/dashboard.py times its
pages (a warm-up, then BENCH_DASHBOARD_RUNS requests one after another). Written to
bench/results/recipient_pages.json.

    python -m bench.recipient_pages
"""

import asyncio
import json
import os
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from temporalio.testing import WorkflowEnvironment

from api.app import create_app

# The dashboard bench's timing of one page: a warm-up, then BENCH_DASHBOARD_RUNS requests.
from bench.dashboard import GOAL_MS
from bench.dashboard import _time as time_page
from bench.scratch import scratch_database
from bench.seed_deliveries import LARGE_TENANT, ROWS, TYPICAL_TENANT, seed, tenant_id
from bench.stats import provenance
from config.settings import Settings
from db.session import create_engine as create_async_engine
from db.session import session_factory, to_async_url
from tests.conftest import temporal_binary
from tests.utils.dashboard import signed_in_operator

RESULTS = os.path.join(os.path.dirname(__file__), "results", "recipient_pages.json")
TENANTS = {"large tenant": LARGE_TENANT, "typical tenant": TYPICAL_TENANT}
HEAVY = "heavy-recipient"
PAGES = [
    "/dashboard/recipients",
    "/dashboard/recipients?q=user-12",  # the start of an external id: many match
    "/dashboard/recipients?q=lovelace",  # a word of a name
    "/dashboard/recipients?q=user-7777%40",  # the start of an email address
    "/dashboard/recipients/user-123",
    f"/dashboard/recipients/{HEAVY}",
    "/dashboard/recipients/user-123/dnd-preview?dnd.enabled=on&dnd.start=22:00&dnd.end=07:00"
    "&dnd.action=defer&operator_zone=Europe/London",
    "/dashboard/scheduled",
]

# What the seed has not: work still to come, and one recipient with a long history.
_WAITING = [
    """INSERT INTO notifications (id, tenant_id, recipient_id, event_key, priority, context,
                                  idempotency_key, request_digest, workflow_id, status, send_at,
                                  created_at, updated_at)
       SELECT md5('s' || :tenant || '-' || i)::uuid, :tenant_id,
              md5('r' || :tenant || '-' || (1 + i % 2000))::uuid, 'booking.follow_up',
              'normal', '{}', 'bench-scheduled-' || i, '\\x00', 'wf-scheduled-' || i,
              'scheduled', :now + interval '1 minute' * i, :now, :now
       FROM generate_series(1, 2000) i""",
    """INSERT INTO bookings (tenant_id, id, organizer_id, invitee_name, invitee_email,
                             start_at, end_at, status, payload, workflow_id)
       SELECT :tenant_id, 'bk-' || i, 'org-1', 'Guest ' || i, 'guest' || i || '@example.com',
              :now + interval '1 hour' * i, :now + interval '1 hour' * i + interval '30 minutes',
              'confirmed', '{}', 'booking-bench-' || i
       FROM generate_series(1, 1000) i""",
    """INSERT INTO booking_reminders (id, tenant_id, booking_id, offset_minutes, due_at, status)
       SELECT md5('br' || :tenant || '-' || i || '-' || o)::uuid, :tenant_id, 'bk-' || i, o,
              :now + interval '1 hour' * i - interval '1 minute' * o, 'pending'
       FROM generate_series(1, 1000) i, unnest(ARRAY[1440, 60]) o""",
    """INSERT INTO recipients (id, tenant_id, external_id, name, email)
       VALUES (md5('heavy' || :tenant)::uuid, :tenant_id, 'heavy-recipient', 'Olga Organizer',
               'heavy@example.com')""",
    """INSERT INTO notifications (id, tenant_id, recipient_id, event_key, priority, context,
                                  idempotency_key, request_digest, workflow_id, status,
                                  created_at, updated_at)
       SELECT md5('h' || :tenant || '-' || i)::uuid, :tenant_id, md5('heavy' || :tenant)::uuid,
              'daily_agenda', 'normal', '{}', 'bench-heavy-' || i, '\\x00', 'wf-heavy-' || i,
              'sent', :now - interval '10 minutes' * i, :now - interval '10 minutes' * i
       FROM generate_series(1, 50000) i""",
    """INSERT INTO deliveries (id, tenant_id, notification_id, channel, provider, address, status,
                              created_at, updated_at)
       SELECT md5('hd' || n.id)::uuid, n.tenant_id, n.id, 'email', 'smtp', 'heavy@example.com',
              'delivered', n.created_at, n.created_at
       FROM notifications n WHERE n.recipient_id = md5('heavy' || :tenant)::uuid""",
]


def add_waiting_work(url: str) -> None:
    engine = create_engine(to_async_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for tenant in TENANTS.values():
            for statement in _WAITING:
                conn.execute(
                    text(statement),
                    {"tenant": tenant, "tenant_id": tenant_id(tenant), "now": datetime.now(UTC)},
                )
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


async def measure(url: str) -> dict:
    seed_s = seed(url)
    add_waiting_work(url)
    settings = Settings(
        database_url=url,
        secret_key=SecretStr("bench-secret-key-not-for-production"),
        embedded_worker=False,
    )
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary())
    engine = create_async_engine(url)
    sessions = session_factory(engine)
    app = create_app(settings, temporal=env.client)
    results: dict = {}
    try:
        async with app.router.lifespan_context(app):
            for label, tenant in TENANTS.items():
                operator = await signed_in_operator(sessions, settings, tenant_id(tenant))
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://herald",
                    cookies=operator.cookies,
                ) as browser:
                    results[label] = {path: await time_page(browser, path) for path in PAGES}
    finally:
        await engine.dispose()
        await env.shutdown()
    return {"rows": ROWS, "seed_s": round(seed_s, 1), "pages": results}


def main() -> None:
    with scratch_database("herald_bench_recipient_pages") as url:
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
    with open(RESULTS, "w") as results:
        results.write(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
