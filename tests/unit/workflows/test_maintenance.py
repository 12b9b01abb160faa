"""The maintenance workflows: one activity each, its result returned, its failures retried."""

import pytest
from temporalio.client import WorkflowFailureError

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

JOBS = [
    (PurgeLogsWorkflow, "purge_logs", PurgeInput(retention_days=30), "purged"),
    (
        RetryFailedDeliveriesWorkflow,
        "retry_failed_deliveries",
        RetryFailedInput(window_minutes=60),
        "retried",
    ),
    (
        FailureRateMonitorWorkflow,
        "check_failure_rates",
        FailureMonitorInput(window_minutes=15),
        "checked",
    ),
    (
        RefreshDailyStatsWorkflow,
        "refresh_daily_stats",
        DailyStatsInput(refresh_days=14, retention_days=90),
        "refreshed",
    ),
    (
        RestartStrandedBroadcastsWorkflow,
        "restart_stranded_broadcasts",
        StrandedBroadcastsInput(min_age_seconds=60, limit=100),
        "swept",
    ),
]


@pytest.mark.parametrize("workflow, activity, input, answer", JOBS, ids=[job[1] for job in JOBS])
async def test_a_job_returns_its_activitys_result_after_retrying_a_failure(
    harness, workflow, activity, input, answer
):
    harness.maintenance.failing[activity] = 1  # the database was away for the first attempt

    result = await harness.execute(workflow.run, input)

    assert result == getattr(harness.maintenance, answer)
    assert harness.maintenance.attempts(activity) == [1, 2]
    assert all(called_with == input for _, called_with, _ in harness.maintenance.calls)


async def test_a_job_that_keeps_failing_fails_after_five_attempts(harness):
    harness.maintenance.failing["purge_logs"] = 99

    with pytest.raises(WorkflowFailureError):
        await harness.execute(PurgeLogsWorkflow.run, PurgeInput(retention_days=30))

    assert harness.maintenance.attempts("purge_logs") == [1, 2, 3, 4, 5]
