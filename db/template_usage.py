"""How many deliveries each template version rendered, over a recent window of one tenant.

Bounded on purpose: the count covers deliveries created since `since` (the dashboard asks for
the last 30 days), read from ix_deliveries_stats (tenant_id, created_at, including
template_version_id: db/tracking_models.py) as an index-only scan of that window, then joined
to the few versions it found. An all-time count would read every delivery the tenant ever had,
growing without end; a window costs what a month of the tenant's traffic does.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_USAGE = text("""
    SELECT tv.template_id, tv.version, used.deliveries
    FROM (
        SELECT d.template_version_id, count(*) AS deliveries
        FROM deliveries d
        WHERE d.tenant_id = :tenant_id AND d.created_at >= :since
          AND d.template_version_id IS NOT NULL
        GROUP BY d.template_version_id
    ) used
    JOIN template_versions tv ON tv.id = used.template_version_id
    WHERE CAST(:template_id AS uuid) IS NULL OR tv.template_id = CAST(:template_id AS uuid)
""")


@dataclass(frozen=True)
class VersionUsage:
    template_id: uuid.UUID
    version: int
    deliveries: int


async def version_usage(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    since: datetime,
    template_id: uuid.UUID | None = None,
) -> list[VersionUsage]:
    """Deliveries created since `since` per template version that rendered them (of one
    template, or of every template of the tenant)."""
    rows = await session.execute(
        _USAGE, {"tenant_id": tenant_id, "since": since, "template_id": template_id}
    )
    return [VersionUsage(row.template_id, row.version, row.deliveries) for row in rows]
