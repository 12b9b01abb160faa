"""The maintenance workflows the Schedules in herald/maintenance_schedules.py start.

Each is one activity: the workflow adds the Schedule's overlap policy, the retries and a
record of every run in Temporal, which a cron job would not keep.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.maintenance import MaintenanceActivities
    from domain.maintenance import (
        DailyStatsInput,
        DailyStatsResult,
        FailureMonitorInput,
        FailureMonitorResult,
        PurgeInput,
        PurgeResult,
        RetryFailedInput,
        RetryFailedResult,
        StrandedBroadcastsInput,
        StrandedBroadcastsResult,
    )

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5), maximum_attempts=5
)


@workflow.defn
class PurgeLogsWorkflow:
    @workflow.run
    async def run(self, input: PurgeInput) -> PurgeResult:
        return await workflow.execute_activity_method(
            MaintenanceActivities.purge_logs,
            input,
            # Many short batches: a long run, watched through its heartbeats.
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )


@workflow.defn
class RetryFailedDeliveriesWorkflow:
    @workflow.run
    async def run(self, input: RetryFailedInput) -> RetryFailedResult:
        return await workflow.execute_activity_method(
            MaintenanceActivities.retry_failed_deliveries,
            input,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,  # safe to repeat: each retry's key is derived, so it is made once
        )


@workflow.defn
class FailureRateMonitorWorkflow:
    @workflow.run
    async def run(self, input: FailureMonitorInput) -> FailureMonitorResult:
        return await workflow.execute_activity_method(
            MaintenanceActivities.check_failure_rates,
            input,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,  # alerts are unique per subject and hour: a repeat adds none
        )


@workflow.defn
class RefreshDailyStatsWorkflow:
    @workflow.run
    async def run(self, input: DailyStatsInput) -> DailyStatsResult:
        return await workflow.execute_activity_method(
            MaintenanceActivities.refresh_daily_stats,
            input,
            # A day per transaction (the first run computes the whole retention): a long run,
            # watched through its heartbeats. A repeat recomputes the same days: harmless.
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )


@workflow.defn
class RestartStrandedBroadcastsWorkflow:
    @workflow.run
    async def run(self, input: StrandedBroadcastsInput) -> StrandedBroadcastsResult:
        return await workflow.execute_activity_method(
            MaintenanceActivities.restart_stranded_broadcasts,
            input,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,  # safe to repeat: a workflow it started is found, not started again
        )
