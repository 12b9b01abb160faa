"""Delivery counts and rates of a tenant's deliveries created in a time range
(README, "Statistics")."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.stats import GroupBy, StatsFigures, StatsGroupPublic, StatsPublic
from db.stats import delivery_stats
from domain.tenants import TenantIdentity
from services.errors import invalid_field

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=366)  # bounds the rows one request can make the database read


async def tenant_stats(
    session: AsyncSession,
    tenant: TenantIdentity,
    start: datetime | None,
    end: datetime | None,
    group_by: GroupBy | None,
) -> StatsPublic:
    """From `start` (default: `end` - 30 days) up to `end` (default: now); a naive time is UTC."""
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - DEFAULT_SPAN
    if start >= end:
        raise invalid_field("from", "must be before to")
    if end - start > MAX_SPAN:
        raise invalid_field("to", f"the range may span at most {MAX_SPAN.days} days")
    result = await delivery_stats(session, tenant.id, start, end, group_by)
    return StatsPublic(
        start=start,
        end=end,
        group_by=group_by,
        totals=StatsFigures.of(result.totals),
        groups=[StatsGroupPublic.of(group.figures, key=group.key) for group in result.groups],
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
