"""The maintenance Schedules (created or updated at every worker's start-up), and the
create-or-update step they share with the organizers' agenda Schedules."""

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.types import MethodAsyncSingleParam

from config.settings import Settings
from domain.maintenance import (
    DailyStatsInput,
    FailureMonitorInput,
    PurgeInput,
    RetryFailedInput,
    StrandedBroadcastsInput,
)
from workflows.maintenance import (
    FailureRateMonitorWorkflow,
    PurgeLogsWorkflow,
    RefreshDailyStatsWorkflow,
    RestartStrandedBroadcastsWorkflow,
    RetryFailedDeliveriesWorkflow,
)

RPC_TIMEOUT = timedelta(seconds=10)

_Input = TypeVar("_Input")


async def upsert_schedule(client: Client, schedule_id: str, schedule: Schedule) -> ScheduleHandle:
    """Create the Schedule, or replace the spec, action and policies of the existing one."""
    try:
        return await client.create_schedule(schedule_id, schedule, rpc_timeout=RPC_TIMEOUT)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)
        await handle.update(lambda _: ScheduleUpdate(schedule=schedule), rpc_timeout=RPC_TIMEOUT)
        return handle


def maintenance_schedules(settings: Settings) -> dict[str, Schedule]:
    """By Schedule id. The ids carry the task queue, so deployments sharing a namespace
    (and the tests) keep their own."""
    return dict(
        [
            _maintenance_schedule(
                settings,
                "purge-logs",
                PurgeLogsWorkflow.run,
                PurgeInput(
                    retention_days=settings.log_retention_days,
                    inbox_event_retention_days=settings.inbox_event_retention_days,
                    inbox_archived_retention_days=settings.inbox_archived_retention_days,
                    inbox_expired_grace_hours=settings.inbox_expired_grace_hours,
                ),
                # Once a day, at a quiet hour.
                ScheduleSpec(
                    calendars=[
                        ScheduleCalendarSpec(hour=[ScheduleRange(3)], minute=[ScheduleRange(17)])
                    ]
                ),
            ),
            _maintenance_schedule(
                settings,
                "daily-stats",
                RefreshDailyStatsWorkflow.run,
                DailyStatsInput(
                    refresh_days=settings.daily_stats_refresh_days,
                    retention_days=settings.log_retention_days,
                ),
                # Soon after midnight UTC, once the day before yesterday has left the live
                # window (domain/daily_stats.py): the sooner, the less is read raw.
                ScheduleSpec(
                    calendars=[
                        ScheduleCalendarSpec(hour=[ScheduleRange(0)], minute=[ScheduleRange(37)])
                    ]
                ),
            ),
            _maintenance_schedule(
                settings,
                "retry-failed",
                RetryFailedDeliveriesWorkflow.run,
                RetryFailedInput(),
                ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=15))]),
            ),
            _maintenance_schedule(
                settings,
                "failure-monitor",
                FailureRateMonitorWorkflow.run,
                FailureMonitorInput(),
                ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=10))]),
            ),
            _maintenance_schedule(
                settings,
                "stranded-broadcasts",
                RestartStrandedBroadcastsWorkflow.run,
                StrandedBroadcastsInput(),
                ScheduleSpec(
                    intervals=[
                        ScheduleIntervalSpec(
                            every=timedelta(minutes=settings.broadcast_sweep_minutes)
                        )
                    ]
                ),
            ),
        ]
    )


def _maintenance_schedule(
    settings: Settings,
    name: str,
    run: MethodAsyncSingleParam[Any, _Input, Any],
    input: _Input,
    spec: ScheduleSpec,
) -> tuple[str, Schedule]:
    """One maintenance Schedule and its id; `input` is checked against the workflow's `run`."""
    schedule_id = f"herald-{settings.task_queue}-{name}"
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            run, input, id=schedule_id, task_queue=settings.task_queue
        ),
        spec=spec,
        # A run still going when the next is due: skip the next, never run two at once.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    return schedule_id, schedule


async def ensure_maintenance_schedules(client: Client, settings: Settings) -> list[str]:
    """Idempotent: every worker calls it at start-up; settings changes reach the Schedules."""
    for schedule_id, schedule in maintenance_schedules(settings).items():
        await upsert_schedule(client, schedule_id, schedule)
    return list(maintenance_schedules(settings))
