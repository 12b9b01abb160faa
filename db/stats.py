"""Delivery statistics of one tenant's time range: one SQL aggregate over `deliveries`.

The query counts deliveries per status and per each key asked for (day, channel, provider,
template version or event key); the service adds those counts up into figures
(domain/delivery_stats.py) per grouping, so one scan serves every grouping a page shows. The
range condition and every column read but the event key are in ix_deliveries_stats
(db/tracking_models.py): PostgreSQL answers from the index alone.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.delivery_stats import ATTEMPTED_STATUSES

# key -> (its expression, the join it needs)
KEYS = {
    "day": ("(d.created_at AT TIME ZONE 'UTC')::date", ""),  # UTC days
    "channel": ("d.channel", ""),
    "provider": ("d.provider", ""),
    "event_key": (
        "n.event_key",
        "JOIN notifications n ON n.id = d.notification_id AND n.tenant_id = d.tenant_id",
    ),
    # no version: Herald's shipped text or the context's message
    "template_version": ("d.template_version_id", ""),
}
# filter -> the condition it adds (its value is the bound parameter of the same name)
FILTERS = {"channel": "d.channel = :channel", "provider": "d.provider = :provider"}

_ATTEMPTED = ", ".join(f"'{status}'" for status in ATTEMPTED_STATUSES)  # constants, not input
_RANGE = f"""
    d.tenant_id = :tenant_id AND d.created_at >= :start AND d.created_at < :end
    AND d.status IN ({_ATTEMPTED})
"""

KeyValue = str | date | uuid.UUID | None


@dataclass(frozen=True)
class StatusCount:
    keys: dict[str, KeyValue]  # key -> its value, for each key asked for
    status: str
    count: int


def counts_sql(keys: Sequence[str] = (), filters: Sequence[str] = ()) -> str:
    """How many attempted deliveries of the range have each status, per value of `keys`
    (names of KEYS), among those matching `filters` (names of FILTERS)."""
    columns = [f"{KEYS[key][0]} AS {key}" for key in keys]
    joins = " ".join(KEYS[key][1] for key in keys)
    where = " AND ".join([_RANGE, *(FILTERS[name] for name in filters)])
    grouped = [*(KEYS[key][0] for key in keys), "d.status"]
    return f"""
        SELECT {", ".join([*columns, "d.status", "count(*) AS count"])}
        FROM deliveries d {joins}
        WHERE {where}
        GROUP BY {", ".join(grouped)}
    """


async def status_counts(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    start: datetime,
    end: datetime,
    keys: Sequence[str] = (),
    filters: dict[str, str] | None = None,
) -> list[StatusCount]:
    """The counts of deliveries created in [start, end) matching `filters` (FILTERS' names ->
    values), per status and value of each key."""
    filters = filters or {}
    rows = await session.execute(
        text(counts_sql(keys, sorted(filters))),
        {"tenant_id": tenant_id, "start": start, "end": end, **filters},
    )
    return [
        StatusCount({key: row[key] for key in keys}, row["status"], row["count"])
        for row in rows.mappings()
    ]


@dataclass(frozen=True)
class VersionsTemplate:
    template_id: uuid.UUID
    name: str
    event_key: str
    channel: str
    deleted: bool


async def versions_templates(
    session: AsyncSession, tenant_id: uuid.UUID, version_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, VersionsTemplate]:
    """The template of each of these versions that is one of the tenant's (deleted templates
    too: their deliveries still count)."""
    if not version_ids:
        return {}
    rows = await session.execute(
        text(
            """SELECT v.id AS version_id, t.id, t.name, t.event_key, t.channel,
                      t.deleted_at IS NOT NULL AS deleted
               FROM template_versions v JOIN templates t ON t.id = v.template_id
               WHERE t.tenant_id = :tenant_id AND v.id = ANY(:ids)"""
        ),
        {"tenant_id": tenant_id, "ids": list(version_ids)},
    )
    return {
        row.version_id: VersionsTemplate(row.id, row.name, row.event_key, row.channel, row.deleted)
        for row in rows
    }
