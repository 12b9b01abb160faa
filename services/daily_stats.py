"""The nightly refresh of the statistics' daily rollup (rules: domain/daily_stats.py): the
recent days recomputed, since late provider events change their deliveries, and every day of
the retention that the rollup lacks (a new install, nights the job did not run) computed."""

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.daily_stats import compute_day, computed_days
from domain.daily_stats import days_to_refresh
from domain.maintenance import DailyStatsInput, DailyStatsResult


async def refresh_daily_stats(
    sessions: async_sessionmaker[AsyncSession],
    today: date,
    input: DailyStatsInput,
    computed: Callable[[date], None] = lambda day: None,
) -> DailyStatsResult:
    """Recompute the days a refresh on `today` (UTC) owes, each in a transaction of its own (a
    reader sees a day's old rows or its new ones, never a mix); `computed` is told each day."""
    async with sessions() as session:
        known = await computed_days(session, today - timedelta(days=input.retention_days), today)
    days = days_to_refresh(today, input.refresh_days, input.retention_days, known)
    rows = 0
    for day in days:
        async with sessions.begin() as session:
            rows += await compute_day(session, day)
        computed(day)
    return DailyStatsResult(days=len(days), rows=rows)
