"""The statistics' daily rollup (domain/daily_stats.py, db/daily_stats.py): once refreshed, what
GET /v1/stats counts over the rollup and the recent deliveries is what it counted over the
deliveries alone; a late status change shows after the next refresh (within the refresh
window), a day missing from the rollup is counted from the deliveries and filled, a refresh
repeated changes nothing, the purge takes the days it cuts into; the nightly job as its Schedule
runs it, and the dashboard's Analytics over the rollup, still the API's figures."""

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from temporalio.client import ScheduleActionStartWorkflow

from config.settings import Settings
from db.daily_stats import compute_day, computed_days
from db.daily_stats_models import DailyStatsDay
from db.maintenance import purge_batch
from db.models import Delivery
from domain.daily_stats import is_settled, midnight
from domain.maintenance import DailyStatsInput, DailyStatsResult, PurgeCutoffs, PurgeInput
from domain.types import DeliveryStatus
from services.daily_stats import refresh_daily_stats
from temporal_clients.maintenance import maintenance_schedules
from tests.conftest import new_tenant
from tests.utils.analytics_csv import assert_export_matches_the_stats_api
from tests.utils.deliveries import Batch, add_deliveries, add_template
from workflows.maintenance import RefreshDailyStatsWorkflow

# The refreshes' "today": long past, so every day a refresh computes is settled (computed after
# it left the live window) and read from the rollup.
TODAY = date(2023, 6, 1)
FIRST = TODAY - timedelta(days=42)  # 40 days of deliveries, from FIRST
EVENT_KEYS = ("booking.confirmation", "booking.reminder", "payment.completed")
PROVIDERS = {"email": ["sendgrid", "smtp", None], "sms": ["twilio", None]}  # None: none reached
GROUP_BYS = (None, "day", "channel", "provider", "event_key", "template")
FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"channel": "email"},
    {"provider": "sendgrid"},
    {"channel": "email", "provider": "smtp"},
)


@pytest.fixture
async def empty_rollup(sessions):
    """The rollup emptied before and after: other tests insert deliveries on days long past,
    which a day computed here would hide from their counts."""
    await _empty(sessions)
    yield
    await _empty(sessions)


async def _empty(sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(DailyStatsDay))  # a day's counts go with it


async def refresh(
    sessions, today: date = TODAY, refresh_days: int = 14, retention_days: int = 60
) -> DailyStatsResult:
    return await refresh_daily_stats(
        sessions, today, DailyStatsInput(refresh_days=refresh_days, retention_days=retention_days)
    )


def random_batches(rng: random.Random, first: date, days: int) -> list[Batch]:
    """A few batches a day (some days none) of any channel, provider, event key, template and
    status, some at midnight and some at the day's last moment."""
    batches: list[Batch] = []
    for n in range(days):
        day = midnight(first + timedelta(days=n))
        for _ in range(rng.randint(0, 3)):
            second = rng.choice([0, rng.uniform(0, 86400), 86399.999])
            channel = rng.choice(["email", "sms"])
            template = rng.choice(["T1", "T2", None]) if channel == "email" else None
            statuses = rng.sample(list(DeliveryStatus), rng.randint(1, 3))
            batches.append(
                (
                    day + timedelta(seconds=second),
                    channel,
                    rng.choice(PROVIDERS[channel]),
                    rng.choice(EVENT_KEYS),
                    template,
                    {status.value: rng.randint(1, 3) for status in statuses},
                )
            )
    return batches


async def add_random_deliveries(
    sessions, tenant_id: uuid.UUID, rng: random.Random, first: date
) -> list[Batch]:
    """40 days of random batches from `first`, with the templates they name; the batches."""
    batches = random_batches(rng, first, 40)
    async with sessions.begin() as session:
        versions = {
            name: (await add_template(session, tenant_id, name))[1] for name in ("T1", "T2")
        }
        await add_deliveries(session, tenant_id, batches, versions)
    return batches


async def every_count(stack, ranges: list[tuple[datetime, datetime]]) -> dict:
    """GET /v1/stats for each range, grouping and filter."""
    counted = {}
    for start, end in ranges:
        for group_by in GROUP_BYS:
            for filters in FILTERS:
                params = {"from": start.isoformat(), "to": end.isoformat(), **filters}
                if group_by:
                    params["group_by"] = group_by
                response = await stack.api.get("/v1/stats", params=params)
                assert response.status_code == 200, response.text
                counted[(start, end, group_by, tuple(filters.items()))] = response.json()
    return counted


async def rollup_rows(sessions, tenant_id: uuid.UUID) -> list[tuple]:
    """Every row of the tenant's in both rollup tables."""
    async with sessions() as session:
        rows = []
        for table, key in (
            ("daily_stats", "template_version_id"),
            ("daily_event_key_stats", "event_key"),
        ):
            found = await session.execute(
                text(
                    f"SELECT day, channel, provider, {key}::text, status, count FROM {table} "
                    "WHERE tenant_id = :t"
                ),
                {"t": tenant_id},
            )
            rows += [(table, *row) for row in found]
    return sorted(rows, key=str)


async def day_totals(stack, day: date) -> dict:
    response = await stack.api.get(
        "/v1/stats",
        params={
            "from": midnight(day).isoformat(),
            "to": midnight(day + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["totals"]


async def change_status(sessions, tenant_id: uuid.UUID, day: date, old: str, new: str) -> None:
    """One of the tenant's deliveries of `day` in status `old` moves to `new` (a late event)."""
    async with sessions.begin() as session:
        delivery_id = await session.scalar(
            select(Delivery.id)
            .where(
                Delivery.tenant_id == tenant_id,
                Delivery.status == old,
                Delivery.created_at >= midnight(day),
                Delivery.created_at < midnight(day + timedelta(days=1)),
            )
            .limit(1)
        )
        assert delivery_id is not None
        await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(status=new))


@pytest.mark.parametrize("seed", [1, 2])
async def test_counts_over_the_rollup_are_the_counts_over_the_deliveries(
    stack, sessions, empty_rollup, seed
):
    rng = random.Random(seed)
    batches = await add_random_deliveries(sessions, stack.tenant_id, rng, FIRST)
    other, _ = await new_tenant(sessions, "Other")  # the same days: none of its counts leak
    await add_random_deliveries(sessions, other, rng, FIRST)
    ranges = [
        (midnight(FIRST), midnight(FIRST + timedelta(days=40))),  # whole days
        (midnight(FIRST) + timedelta(days=3, hours=13.6), midnight(TODAY) - timedelta(hours=3)),
    ]
    from_deliveries = await every_count(stack, ranges)

    result = await refresh(sessions)

    assert result.days == 58  # 2 to 59 days old: none computed before
    async with sessions() as session:
        computed = await computed_days(session, FIRST, TODAY)
    assert all(is_settled(day, at) for day, at in computed.items())
    rolled_up_days = {row[1] for row in await rollup_rows(sessions, stack.tenant_id)}
    assert rolled_up_days == {batch[0].date() for batch in batches}  # what the counts now read
    assert await every_count(stack, ranges) == from_deliveries


async def test_a_late_status_change_shows_after_the_next_refresh_within_its_window(
    stack, sessions, empty_rollup
):
    day = TODAY - timedelta(days=5)
    batch = (midnight(day) + timedelta(hours=12), "email", "sendgrid", "payment.completed", None)
    async with sessions.begin() as session:
        await add_deliveries(session, stack.tenant_id, [(*batch, {"sent": 3})], {})
    await refresh(sessions)
    await change_status(sessions, stack.tenant_id, day, "sent", "opened")  # an open, days later

    assert (await day_totals(stack, day))["opened"] == 0  # the rollup, as computed
    await refresh(sessions)  # the next night: the day is 5 days old, within the 14
    assert (await day_totals(stack, day))["opened"] == 1

    # Once the day is older than the refresh window, a change no longer reaches the counts.
    later = day + timedelta(days=15)
    await change_status(sessions, stack.tenant_id, day, "sent", "clicked")
    await refresh(sessions, today=later)
    assert (await day_totals(stack, day))["opened"] == 1  # not 2: the click is not counted


async def test_a_day_missing_from_the_rollup_is_counted_from_the_deliveries_and_then_filled(
    stack, sessions, empty_rollup
):
    day = TODAY - timedelta(days=30)  # older than the refresh window
    batch = (midnight(day) + timedelta(hours=1), "sms", "twilio", "booking.reminder", None)
    async with sessions.begin() as session:
        await add_deliveries(session, stack.tenant_id, [(*batch, {"sent": 2})], {})
    await refresh(sessions)
    async with sessions.begin() as session:  # a gap: the rollup lost the day
        await session.execute(delete(DailyStatsDay).where(DailyStatsDay.day == day))
    await change_status(sessions, stack.tenant_id, day, "sent", "delivered")

    assert (await day_totals(stack, day))["delivered"] == 1  # from the deliveries, at once
    result = await refresh(sessions)
    assert result.days == 13 + 1  # the window (2 to 14 days old) and the missing day
    assert (await day_totals(stack, day))["delivered"] == 1  # now from the rollup
    rows = await rollup_rows(sessions, stack.tenant_id)
    assert ("daily_stats", day, "sms", "twilio", None, "delivered", 1) in rows


async def test_a_refresh_repeated_changes_nothing(stack, sessions, empty_rollup):
    await add_random_deliveries(sessions, stack.tenant_id, random.Random(7), FIRST)
    await refresh(sessions)
    rows = await rollup_rows(sessions, stack.tenant_id)
    ranges = [(midnight(FIRST), midnight(TODAY))]
    counted = await every_count(stack, ranges)

    again = await refresh(sessions)

    assert again.days == 13  # only the window: every other day is settled
    assert await rollup_rows(sessions, stack.tenant_id) == rows
    assert await every_count(stack, ranges) == counted


async def test_the_purge_takes_the_days_of_the_rollup_it_cuts_into(sessions, empty_rollup):
    cutoffs = PurgeCutoffs.of(PurgeInput(retention_days=90), datetime.now(UTC))
    cut, kept = cutoffs.logs.date(), cutoffs.logs.date() + timedelta(days=1)
    tenant_id, _ = await new_tenant(sessions)
    async with sessions.begin() as session:
        batches = [
            (midnight(day), "email", "smtp", "payment.completed", None, {"sent": 1})
            for day in (cut, kept)
        ]
        await add_deliveries(session, tenant_id, batches, {})
    for day in (cut, kept):
        async with sessions.begin() as session:
            await compute_day(session, day)

    async with sessions.begin() as session:
        assert await purge_batch(session, "daily_stats_days", cutoffs, 1000) == 1

    async with sessions() as session:
        assert list(await computed_days(session, cut - timedelta(days=1), kept)) == [kept]
    assert {row[1] for row in await rollup_rows(sessions, tenant_id)} == {kept}  # counts too


def test_the_nightly_schedule_takes_its_window_and_the_retention_from_the_settings():
    settings = Settings(daily_stats_refresh_days=21, log_retention_days=60)
    action = maintenance_schedules(settings)[f"herald-{settings.task_queue}-daily-stats"].action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "RefreshDailyStatsWorkflow"
    assert action.args == [DailyStatsInput(refresh_days=21, retention_days=60)]


async def test_the_nightly_job_fills_the_rollup_and_analytics_still_shows_the_apis_figures(
    stack, sessions, owner_browser, empty_rollup
):
    today = datetime.now(UTC).date()
    await add_random_deliveries(
        sessions, stack.tenant_id, random.Random(3), today - timedelta(days=39)
    )
    export = "/dashboard/analytics/export.csv?days=90"
    from_deliveries = (await owner_browser.get(export)).text

    result = await stack.client.execute_workflow(
        RefreshDailyStatsWorkflow.run,
        DailyStatsInput(refresh_days=14, retention_days=90),
        id=f"daily-stats-test-{uuid.uuid4()}",
        task_queue=stack.settings.task_queue,
    )

    assert result.days == 88  # 2 to 89 days old
    async with sessions() as session:
        computed = await computed_days(session, today - timedelta(days=89), today)
    assert sorted(computed) == [today - timedelta(days=n) for n in range(89, 1, -1)]
    page = await owner_browser.get("/dashboard/analytics?days=90")
    assert page.status_code == 200
    shown = (await owner_browser.get(export)).text
    assert shown == from_deliveries
    await assert_export_matches_the_stats_api(stack.api, shown, today - timedelta(days=89), 90)
