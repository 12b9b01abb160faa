"""Delivery statistics of one tenant's time range, counted per status and per each key asked
for (day, channel, provider, template version or event key); the service adds those counts up
into figures (domain/delivery_stats.py) per grouping, so one read serves every grouping a page
shows.

A count reads two sources, added up in one statement: the daily rollup (db/daily_stats_models.py)
for the settled whole days of the range, and the deliveries for the rest (domain/daily_stats.py
says which is which). Over the deliveries, the range condition and every column read but the
event key are in ix_deliveries_stats (db/tracking_models.py): PostgreSQL answers from the index
alone.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.daily_stats import computed_days
from domain.daily_stats import TimeRange, is_settled, split_range
from domain.delivery_stats import ATTEMPTED_STATUSES


@dataclass(frozen=True)
class Key:
    over_deliveries: str  # its expression over deliveries d
    join: str  # the join that expression needs
    in_rollup: str  # its column of the rollup table r (db/daily_stats_models.py)


KEYS = {
    "day": Key("(d.created_at AT TIME ZONE 'UTC')::date", "", "r.day"),  # UTC days
    "channel": Key("d.channel", "", "r.channel"),
    "provider": Key("d.provider", "", "r.provider"),
    "event_key": Key(
        "n.event_key",
        "JOIN notifications n ON n.id = d.notification_id AND n.tenant_id = d.tenant_id",
        "r.event_key",
    ),
    # no version: Herald's shipped text or the context's message
    "template_version": Key("d.template_version_id", "", "r.template_version_id"),
}
# filter -> the column it compares (its value is the bound parameter of the same name)
FILTERS = {"channel": "channel", "provider": "provider"}

_ATTEMPTED = ", ".join(f"'{status}'" for status in ATTEMPTED_STATUSES)  # constants, not input

KeyValue = str | date | uuid.UUID | None


@dataclass(frozen=True)
class StatusCount:
    """How many deliveries with `status` have `value` as their `key` (a name of KEYS; None: no
    key was asked for, the count is of them all)."""

    key: str | None
    value: KeyValue
    status: str
    count: int


def counts_sql(
    keys: Sequence[str] = (),
    filters: Sequence[str] = (),
    bounds: tuple[str, str] = ("start", "end"),
) -> str:
    """How many attempted deliveries created in [:start, :end) (the parameters `bounds` name)
    have each status, per value of `keys` (names of KEYS), among those matching `filters`
    (names of FILTERS), counted from the deliveries."""
    columns = [f"{KEYS[key].over_deliveries} AS {key}" for key in keys]
    joins = " ".join(KEYS[key].join for key in keys)
    where = [
        "d.tenant_id = :tenant_id",
        f"d.created_at >= :{bounds[0]} AND d.created_at < :{bounds[1]}",
        f"d.status IN ({_ATTEMPTED})",
        *(f"d.{FILTERS[name]} = :{name}" for name in filters),
    ]
    grouped = [*(KEYS[key].over_deliveries for key in keys), "d.status"]
    return f"""
        SELECT {", ".join([*columns, "d.status", "count(*) AS count"])}
        FROM deliveries d {joins}
        WHERE {" AND ".join(where)}
        GROUP BY {", ".join(grouped)}
    """


def rollup_table(keys: Sequence[str]) -> str | None:
    """The rollup table that counts by every key of `keys` (None: neither does)."""
    if "event_key" not in keys:
        return "daily_stats"
    return None if "template_version" in keys else "daily_event_key_stats"


def rollup_counts_sql(keys: Sequence[str] = (), filters: Sequence[str] = ()) -> str:
    """The same counts for the days :days, from the daily rollup."""
    columns = [f"{KEYS[key].in_rollup} AS {key}" for key in keys]
    where = [
        "r.day = ANY(:days) AND r.tenant_id = :tenant_id",
        f"r.status IN ({_ATTEMPTED})",
        *(f"r.{FILTERS[name]} = :{name}" for name in filters),
    ]
    grouped = [*(KEYS[key].in_rollup for key in keys), "r.status"]
    return f"""
        SELECT {", ".join([*columns, "r.status", "sum(r.count) AS count"])}
        FROM {rollup_table(keys)} r
        WHERE {" AND ".join(where)}
        GROUP BY {", ".join(grouped)}
    """


def each_key_counts_sql(
    keys: Sequence[str], filters: Sequence[str], raw_ranges: int, rolled_up: bool
) -> str:
    """The counts of `raw_ranges` time ranges of the deliveries (range i: [:start_i, :end_i))
    and, when `rolled_up`, of the rollup's days :days, added up per status and per each key on
    its own (GROUPING SETS): a page showing four groupings gets a row per group of each, not one
    per combination of the four (7,000 rows for the largest tenant's 90 days, which Python then
    took longer to add up than PostgreSQL to count). `counted_by` names a row's key."""
    parts = [counts_sql(keys, filters, (f"start_{i}", f"end_{i}")) for i in range(raw_ranges)]
    parts += [rollup_counts_sql(keys, filters)] if rolled_up else []
    counted_by = " ".join(f"WHEN GROUPING({key}) = 0 THEN '{key}'" for key in keys)
    sets = ", ".join(f"({key}, status)" for key in keys)
    return f"""
        SELECT {f"CASE {counted_by} END" if keys else "NULL"} AS counted_by,
               {"".join(f"{key}, " for key in keys)}status, sum(count)::bigint AS count
        FROM ({" UNION ALL ".join(parts)}) counted
        GROUP BY {f"GROUPING SETS ({sets})" if keys else "status"}
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
    values), per status and value of each key (each key on its own): settled days from the
    rollup, the rest from the deliveries."""
    filters = filters or {}
    computed = await computed_days(
        session, start.astimezone(UTC).date(), end.astimezone(UTC).date()
    )
    settled = [day for day, computed_at in computed.items() if is_settled(day, computed_at)]
    rolled, raw = split_range(start, end, settled if rollup_table(keys) else [])
    rows = await session.execute(
        text(each_key_counts_sql(keys, sorted(filters), len(raw), bool(rolled))),
        {"tenant_id": tenant_id, "days": rolled, **_bounds(raw), **filters},
    )
    return [
        StatusCount(
            row["counted_by"],
            row[row["counted_by"]] if row["counted_by"] else None,
            row["status"],
            row["count"],
        )
        for row in rows.mappings()
    ]


def _bounds(ranges: list[TimeRange]) -> dict[str, datetime]:
    return {
        name: moment
        for i, (start, end) in enumerate(ranges)
        for name, moment in ((f"start_{i}", start), (f"end_{i}", end))
    }


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
