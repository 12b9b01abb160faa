"""Delivery statistics of one tenant's time range: one SQL aggregate over `deliveries`.

The range condition and every column read are in ix_deliveries_stats (db/tracking_models.py),
so PostgreSQL answers from the index alone; the totals come from the same scan as the
groups (GROUPING SETS).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.delivery_stats import ATTEMPTED_STATUSES, COUNTED_STATUSES, DeliveryFigures

# group_by -> (the group's key expression, the join it needs)
GROUPINGS = {
    "day": ("(d.created_at AT TIME ZONE 'UTC')::date", ""),  # UTC days
    "channel": ("d.channel", ""),
    "provider": ("d.provider", ""),
    "event_key": (
        "n.event_key",
        "JOIN notifications n ON n.id = d.notification_id AND n.tenant_id = d.tenant_id",
    ),
    # by template, whatever its version; no key: Herald's shipped text or the context's message
    "template": (
        "tv.template_id",
        "LEFT JOIN template_versions tv ON tv.id = d.template_version_id",
    ),
}


@dataclass(frozen=True)
class StatsGroup:
    key: str | None
    figures: DeliveryFigures


@dataclass(frozen=True)
class DeliveryStats:
    totals: DeliveryFigures
    groups: list[StatsGroup]


def _quoted(statuses) -> str:
    return ", ".join(f"'{status}'" for status in statuses)  # enum values: constants, not input


_COUNTS = ",\n".join(
    f"count(*) FILTER (WHERE d.status IN ({_quoted(statuses)})) AS {name}"
    for name, statuses in COUNTED_STATUSES.items()
)
_RANGE = f"""
    d.tenant_id = :tenant_id AND d.created_at >= :start AND d.created_at < :end
    AND d.status IN ({_quoted(ATTEMPTED_STATUSES)})
"""


def stats_sql(group_by: str | None) -> str:
    if group_by is None:
        return f"SELECT NULL AS key, true AS is_total, {_COUNTS} FROM deliveries d WHERE {_RANGE}"
    key, join = GROUPINGS[group_by]
    return f"""
        SELECT {key} AS key, GROUPING({key}) = 1 AS is_total, {_COUNTS}
        FROM deliveries d {join}
        WHERE {_RANGE}
        GROUP BY GROUPING SETS (({key}), ())
        ORDER BY is_total, key NULLS LAST
    """


async def delivery_stats(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    start: datetime,
    end: datetime,
    group_by: str | None,
) -> DeliveryStats:
    """Counts of deliveries created in [start, end), in total and per group."""
    rows = (
        (
            await session.execute(
                text(stats_sql(group_by)), {"tenant_id": tenant_id, "start": start, "end": end}
            )
        )
        .mappings()
        .all()
    )
    totals, groups = DeliveryFigures(), []
    for row in rows:
        figures = DeliveryFigures(**{name: row[name] for name in COUNTED_STATUSES})
        if row["is_total"]:
            totals = figures
        else:
            groups.append(StatsGroup(None if row["key"] is None else str(row["key"]), figures))
    return DeliveryStats(totals, groups)
