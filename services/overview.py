"""The dashboard's Overview: a tenant's day at a glance (today's figures, failures needing
attention, recent activity) beside Herald's health at a glance. Every part is a bounded query (a
day's range, a LIMIT); the glance runs on its own sessions while the tenant's queries run."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.schemas.notifications import LogEntry
from api.schemas.stats import StatsFigures
from config.settings import Settings
from db.overview import UnresolvedFailure, deferred_count, unresolved_failures
from domain.filters import LogFilter
from domain.tenants import TenantIdentity
from services.health import Check, health_glance
from services.logs import delivery_log
from services.stats import tenant_stats

FAILURES_WINDOW = timedelta(hours=24)
FAILURES_SHOWN = 10
RECENT_SHOWN = 10


@dataclass(frozen=True)
class Today:
    since: datetime  # 00:00 UTC
    figures: StatsFigures  # of the deliveries created since then
    deferred: int  # of those, how many wait now


@dataclass(frozen=True)
class Overview:
    today: Today
    failures: list[UnresolvedFailure]  # failed or bounced in FAILURES_WINDOW, not resent
    recent: list[LogEntry]  # the newest deliveries
    health: Check  # services.health.health_glance: the parts that read no large table


async def overview(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
) -> Overview:
    now = datetime.now(UTC)
    health = asyncio.create_task(health_glance(sessions, temporal, settings))
    try:
        today = await _today(session, tenant, now)
        failures = await unresolved_failures(
            session, tenant.id, now - FAILURES_WINDOW, FAILURES_SHOWN
        )
        recent = await delivery_log(session, tenant, LogFilter(), None, RECENT_SHOWN)
    except BaseException:
        health.cancel()
        raise
    return Overview(today, failures, recent.data, await health)


async def _today(session: AsyncSession, tenant: TenantIdentity, now: datetime) -> Today:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = midnight + timedelta(days=1)
    stats = await tenant_stats(session, tenant, midnight, tomorrow, None)
    deferred = await deferred_count(session, tenant.id, midnight, tomorrow)
    return Today(midnight, stats.totals, deferred)
