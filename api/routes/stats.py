"""GET /v1/stats: delivery counts and rates of the tenant's deliveries created in a time range."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import SessionDep, TenantDep
from api.errors import field_error
from api.stats_schemas import StatsFigures, StatsGroupPublic, StatsPublic
from db.stats import delivery_stats

router = APIRouter(prefix="/v1/stats", tags=["stats"])

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=366)  # bounds the rows one request can make the database read

GroupBy = Literal["day", "channel", "event_key", "template", "provider"]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # naive: UTC


@router.get("", response_model=StatsPublic)
async def stats(
    tenant: TenantDep,
    session: SessionDep,
    start: Annotated[datetime | None, Query(alias="from", description="Inclusive; default: `to` - 30 days.")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Exclusive; default: now.")] = None,
    group_by: GroupBy | None = None,
) -> StatsPublic:
    """Sent, delivered, opened, clicked, failed and bounced counts with delivery, bounce, open
    and click rates (README, "Statistics"), in total and per group."""
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - DEFAULT_SPAN
    if start >= end:
        raise field_error("from", "must be before to")
    if end - start > MAX_SPAN:
        raise field_error("to", f"the range may span at most {MAX_SPAN.days} days")
    result = await delivery_stats(session, tenant.id, start, end, group_by)
    return StatsPublic(
        start=start,
        end=end,
        group_by=group_by,
        totals=StatsFigures.of(result.totals),
        groups=[StatsGroupPublic.of(group.figures, key=group.key) for group in result.groups],
    )
