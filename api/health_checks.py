"""The checks behind GET /v1/health: each answers {"status": ok|degraded|down, ...}."""

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from channels.registry import describe_providers
from config.settings import Settings

CHECK_TIMEOUT = timedelta(seconds=3)
FAILURE_RATE_DEGRADED = 0.2


async def database(sessions: async_sessionmaker) -> dict:
    try:
        async with sessions() as session:
            await asyncio.wait_for(session.execute(text("select 1")), CHECK_TIMEOUT.total_seconds())
        return {"status": "ok"}
    except Exception as exc:  # any failure means: down, and say why
        return {"status": "down", "detail": type(exc).__name__}


async def temporal(client: Client, task_queue: str) -> dict:
    """Reachable, and is any worker polling Herald's task queue?"""
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=CHECK_TIMEOUT)
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=CHECK_TIMEOUT,
        )
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}
    pollers = len(described.pollers)
    return {
        "status": "ok" if pollers else "degraded",
        "namespace": client.namespace,
        "task_queue": task_queue,
        "workers_polling": pollers,
    }


_CIRCUITS = text("SELECT provider, state FROM provider_circuits")
_FAILURE_RATES = text("""
    SELECT provider, count(*) FILTER (WHERE status IN ('failed', 'bounced')) AS failed, count(*) AS total
    FROM deliveries
    WHERE updated_at > now() - interval '1 hour' AND provider IS NOT NULL
      AND status NOT IN ('pending', 'deferred', 'suppressed', 'cancelled', 'digested')
    GROUP BY provider
""")
_BACKLOG = text("""
    SELECT status, count(*) FROM notifications
    WHERE status IN ('accepted', 'scheduled', 'deferred', 'sending') GROUP BY status
""")


async def providers(sessions: async_sessionmaker, settings: Settings) -> dict:
    """Per channel: providers in failover order, each circuit's state and last hour's failure rate."""
    try:
        async with sessions() as session:
            circuits = dict((await session.execute(_CIRCUITS)).all())
            rates = {row.provider: (row.failed, row.total) for row in await session.execute(_FAILURE_RATES)}
    except Exception:
        circuits, rates = {}, {}
    described = describe_providers(settings)
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


async def backlog(sessions: async_sessionmaker) -> dict:
    """Notifications not finished yet: waiting for send_at or quiet hours, or being sent."""
    try:
        async with sessions() as session:
            waiting = dict((await session.execute(_BACKLOG)).all())
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}
    return {"status": "ok", "waiting": waiting, "total": sum(waiting.values())}
