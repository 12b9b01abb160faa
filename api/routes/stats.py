"""GET /v1/stats: delivery counts and rates of the tenant's deliveries created in a time range."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, TenantDep
from api.schemas.common import DateTime
from api.schemas.stats import GroupBy, ProviderName, StatsPublic
from domain.types import Channel
from services.stats import tenant_stats

router = APIRouter(prefix="/v1/stats", tags=["stats"])


@router.get("", response_model=StatsPublic)
async def get_stats(
    tenant: TenantDep,
    session: SessionDep,
    start: Annotated[
        DateTime | None, Query(alias="from", description="Inclusive; default: `to` - 30 days.")
    ] = None,
    end: Annotated[
        DateTime | None, Query(alias="to", description="Exclusive; default: now.")
    ] = None,
    group_by: GroupBy | None = None,
    channel: Annotated[
        Channel | None, Query(description="Only the deliveries of this channel.")
    ] = None,
    provider: Annotated[
        ProviderName | None, Query(description="Only the deliveries through this provider.")
    ] = None,
) -> StatsPublic:
    """Sent, delivered, opened, clicked, failed and bounced counts with delivery, bounce, open
    and click rates (README, "Statistics"), in total and per group."""
    return await tenant_stats(session, tenant, start, end, group_by, channel, provider)
