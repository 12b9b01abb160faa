"""The daily statistics rollup's writes (tables in db/daily_stats_models.py, rules in
domain/daily_stats.py): a day recomputed from the deliveries, for every tenant at once."""

from datetime import date, datetime

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.daily_stats import ONE_DAY, midnight

# The day's row first: it takes the day's lock, so two refreshes of one day (a manual run during
# the nightly one) replace its rows one after the other, never both at once. Its computed_at is
# the transaction's start, before the counting statement's snapshot: every change committed
# before that moment is in the counts.
_MARK_DAY = text("""
    INSERT INTO daily_stats_days (day, computed_at) VALUES (:day, now())
    ON CONFLICT (day) DO UPDATE SET computed_at = excluded.computed_at
""")
# Each rollup table: (its own key column, what it holds over deliveries d, the join it needs).
_TABLES = {
    "daily_stats": ("template_version_id", "d.template_version_id", ""),
    "daily_event_key_stats": (
        "event_key",
        "n.event_key",
        "JOIN notifications n ON n.id = d.notification_id",
    ),
}


def _count_day(table: str) -> str:
    """The day's counts into `table`, tenant by tenant (tenant_id IN tenants), so each reads its
    day's range of ix_deliveries_stats."""
    column, key, join = _TABLES[table]
    return f"""
        INSERT INTO {table} (day, tenant_id, channel, provider, {column}, status, count)
        SELECT CAST(:day AS date), d.tenant_id, d.channel, d.provider, {key}, d.status, count(*)
        FROM deliveries d {join}
        WHERE d.tenant_id IN (SELECT id FROM tenants)
          AND d.created_at >= :start AND d.created_at < :end
        GROUP BY d.tenant_id, d.channel, d.provider, {key}, d.status
    """


async def compute_day(session: AsyncSession, day: date) -> int:
    """Replace the rollup's rows of `day` (UTC) with the counts of the deliveries created that
    day as they are now; how many rows it holds. Run it in a transaction of its own."""
    await session.execute(_MARK_DAY, {"day": day})
    rows = 0
    for table in _TABLES:
        await session.execute(text(f"DELETE FROM {table} WHERE day = :day"), {"day": day})
        result = await session.execute(
            text(_count_day(table)),
            {"day": day, "start": midnight(day), "end": midnight(day + ONE_DAY)},
        )
        if not isinstance(result, CursorResult):  # an INSERT's result counts its rows
            raise TypeError(f"an INSERT returned a {type(result).__name__}, not a CursorResult")
        rows += result.rowcount
    return rows


async def computed_days(session: AsyncSession, first: date, last: date) -> dict[date, datetime]:
    """When each day from `first` to `last` that the rollup holds was computed."""
    rows = await session.execute(
        text("SELECT day, computed_at FROM daily_stats_days WHERE day >= :first AND day <= :last"),
        {"first": first, "last": last},
    )
    return {row.day: row.computed_at for row in rows}
