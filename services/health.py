"""Herald's health, in two forms.

The public one (`public_health`, no key) says only whether this process can reach the database
and Temporal: a `select 1` and one Temporal call, each cut off after a second, and shared for a
second between callers (`PublicHealth`), so however many unauthenticated calls arrive, a process
makes at most one of each per second. It reads no table and names nothing of any tenant.

The detailed one (`health_report`, the operator's METRICS_TOKEN) adds providers, alerts and the
backlog, counted across tenants. `down` while Herald cannot accept and send notifications
(database or Temporal down); `degraded` parts (an open circuit, a lane no worker polls, an
alert) are reported without that. Each check answers {"status": ok|degraded|down, ...}.
"""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from config.providers import describe_providers
from config.settings import Settings
from db import health as store
from db.maintenance import FailureCount, failure_counts, recent_alerts

CHECK_TIMEOUT = timedelta(seconds=3)
PUBLIC_CHECK_TIMEOUT = timedelta(seconds=1)
PUBLIC_ANSWER_SECONDS = 1.0  # how long one public answer is shared
FAILURE_RATE_DEGRADED = 0.2
FAILURE_RATE_WINDOW = timedelta(hours=1)

Check = dict[str, Any]  # {"status": "ok" | "degraded" | "down", ...}: JSON


async def public_health(sessions: async_sessionmaker[AsyncSession], temporal: Client) -> Check:
    """{"status", "database": {"status"}, "temporal": {"status"}}: `ok`, or `down` when either
    cannot be reached within PUBLIC_CHECK_TIMEOUT. No reason is given (it is in the details)."""
    database, temporal_state = await asyncio.gather(
        check_database(sessions, PUBLIC_CHECK_TIMEOUT),
        temporal_reachable(temporal, PUBLIC_CHECK_TIMEOUT),
    )
    parts = {"database": database["status"], "temporal": temporal_state["status"]}
    return {
        "status": "down" if "down" in parts.values() else "ok",
        **{name: {"status": status} for name, status in parts.items()},
    }


class PublicHealth:
    """The latest public answer, shared by every caller for PUBLIC_ANSWER_SECONDS; callers that
    arrive while it is being worked out wait for that one instead of starting their own."""

    def __init__(self, fresh_for: float = PUBLIC_ANSWER_SECONDS):
        self._fresh_for = fresh_for
        self._lock = asyncio.Lock()
        self._answer: Check | None = None
        self._answered_at = 0.0

    async def answer(self, sessions: async_sessionmaker[AsyncSession], temporal: Client) -> Check:
        async with self._lock:
            if self._answer is None or time.monotonic() - self._answered_at > self._fresh_for:
                self._answer = await public_health(sessions, temporal)
                self._answered_at = time.monotonic()
            return self._answer


async def health_report(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    settings: Settings,
    backlog_of: uuid.UUID | None = None,
) -> Check:
    """The whole report. The backlog counts every tenant's notifications (the operator's
    METRICS_TOKEN report), or only `backlog_of`'s (a tenant's dashboard: the rest of the report
    is Herald's own infrastructure, shared by every tenant, and names none)."""
    database, temporal_state, providers, backlog, alerts = await asyncio.gather(
        check_database(sessions),
        check_temporal(temporal, settings.lane_queues()),
        check_providers(sessions, settings),
        check_backlog(sessions, backlog_of),
        provider_alerts(sessions),  # failure rates over the threshold
    )
    return _verdict(database, temporal_state, providers, alerts, backlog=backlog)


async def health_glance(
    sessions: async_sessionmaker[AsyncSession], temporal: Client, settings: Settings
) -> Check:
    """The report's parts that read no large table, for the dashboard's Overview: the
    database, Temporal and its workers, each provider's circuit, provider alerts. The last
    hour's failure rates and the backlog scan deliveries and notifications; the Health page
    (health_report) shows them."""
    database, temporal_state, providers, alerts = await asyncio.gather(
        check_database(sessions),
        check_temporal(temporal, settings.lane_queues()),
        check_providers(sessions, settings, failure_rates=False),
        provider_alerts(sessions),
    )
    return _verdict(database, temporal_state, providers, alerts)


def _verdict(
    database: Check,
    temporal_state: Check,
    providers: dict[str, Check],
    alerts: list[Check],
    **more: Check,
) -> Check:
    """`down` while Herald cannot accept and send (database or Temporal down); `degraded`
    while any part is not ok or an alert stands; else `ok`."""
    parts = [database, temporal_state, *providers.values(), *more.values()]
    if database["status"] == "down" or temporal_state["status"] == "down":
        status = "down"
    elif any(part["status"] != "ok" for part in parts) or alerts:
        status = "degraded"
    else:
        status = "ok"
    return {
        "status": status,
        "database": database,
        "temporal": temporal_state,
        "providers": providers,
        **more,
        "alerts": alerts,
    }


async def check_database(
    sessions: async_sessionmaker[AsyncSession], timeout: timedelta = CHECK_TIMEOUT
) -> Check:
    async def ping() -> None:  # the timeout covers waiting for a pooled connection too
        async with sessions() as session:
            await store.ping(session)

    try:
        await asyncio.wait_for(ping(), timeout.total_seconds())
        return {"status": "ok"}
    except Exception as exc:  # any failure means: down, and say why
        return {"status": "down", "detail": type(exc).__name__}


async def temporal_reachable(client: Client, timeout: timedelta = CHECK_TIMEOUT) -> Check:
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timeout)
        return {"status": "ok"}
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}


async def check_temporal(client: Client, lane_queues: dict[str, str]) -> Check:
    """Reachable, and is a worker polling each lane's task queue (Settings.lane_queues)?
    `degraded` while a lane has none: its notifications or broadcasts wait, unstarted. The
    lanes are described at once, so the check takes one CHECK_TIMEOUT at most. `task_queue` and
    `workers_polling` are the default lane's (as before there were lanes)."""
    reachable = await temporal_reachable(client)
    if reachable["status"] == "down":
        return reachable
    try:
        polling = await asyncio.gather(
            *(workers_polling(client, queue) for queue in lane_queues.values())
        )
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}
    lanes = {
        lane: {
            "status": "ok" if pollers else "degraded",
            "task_queue": queue,
            "workers_polling": pollers,
        }
        for (lane, queue), pollers in zip(lane_queues.items(), polling, strict=True)
    }
    unserved = [
        f"the {lane} lane (task queue {part['task_queue']})"
        for lane, part in lanes.items()
        if not part["workers_polling"]
    ]
    default = lanes["default"]
    return {
        "status": "degraded" if unserved else "ok",
        "namespace": client.namespace,
        "task_queue": default["task_queue"],
        "workers_polling": default["workers_polling"],
        "lanes": lanes,
        **({"problem": f"no worker polls {' or '.join(unserved)}"} if unserved else {}),
    }


async def workers_polling(client: Client, task_queue: str) -> int:
    """The workers that polled `task_queue` for workflow tasks lately (Temporal's pollers)."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=CHECK_TIMEOUT,
    )
    return len(described.pollers)


async def check_providers(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, failure_rates: bool = True
) -> dict[str, Check]:
    """Per channel: providers in failover order, each circuit's state and (unless told not
    to) the failure rate of the deliveries created in the last hour that a provider was asked
    to take, counted as the failure-rate alert counts them (db.maintenance.failure_counts:
    tenant by tenant on the (tenant_id, created_at) index)."""
    rates: dict[str, tuple[int, int]] = {}
    try:
        async with sessions() as session:
            circuits = await store.circuit_states(session)
            if failure_rates:
                since = datetime.now(UTC) - FAILURE_RATE_WINDOW
                rates = _per_provider(await failure_counts(session, since))
    except Exception:
        circuits, rates = {}, {}
    described: dict[str, Check] = dict(describe_providers(settings))
    for channel in described.values():
        names = channel["failover"]
        channel["circuits"] = {name: circuits.get(name, "closed") for name in names}
        channel["failure_rate_last_hour"] = {
            name: round(rates[name][0] / rates[name][1], 3) for name in names if name in rates
        }
        troubled = any(state != "closed" for state in channel["circuits"].values()) or any(
            rate >= FAILURE_RATE_DEGRADED for rate in channel["failure_rate_last_hour"].values()
        )
        channel["status"] = "degraded" if troubled else "ok"
        channel["configured"] = True
    return described


def _per_provider(counts: list[FailureCount]) -> dict[str, tuple[int, int]]:
    """Provider -> (failed, attempted), every tenant's deliveries added up."""
    totals: dict[str, tuple[int, int]] = {}
    for count in counts:
        if count.provider is not None:
            failed, attempted = totals.get(count.provider, (0, 0))
            totals[count.provider] = (failed + count.failed, attempted + count.total)
    return totals


async def check_backlog(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID | None = None
) -> Check:
    """Notifications not finished yet: waiting for send_at or quiet hours, or being sent
    (every tenant's, or `tenant_id`'s)."""
    try:
        async with sessions() as session:
            waiting = await store.backlog(session, tenant_id)
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}
    return {"status": "ok", "waiting": waiting, "total": sum(waiting.values())}


async def provider_alerts(sessions: async_sessionmaker[AsyncSession]) -> list[Check]:
    """Provider failure-rate alerts of the last hour. No tenant data: health needs no key
    (a tenant sees its own alerts at GET /v1/alerts)."""
    since = datetime.now(UTC) - timedelta(hours=1)
    try:
        async with sessions() as session:
            found = await recent_alerts(session, since, scope="provider")
    except Exception:  # health reports the database's own state; alerts must not break it
        return []
    return [
        {
            "provider": a.subject,
            "rate": round(a.rate, 3),
            "failed": a.failed,
            "total": a.total,
            "since": a.window_start.isoformat(),
        }
        for a in found
    ]
