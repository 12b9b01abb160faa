"""NotificationWorkflow when a bookkeeping step fails for good (issue 11, stranded
notifications): it ends `failed` with the reason instead of being retried without limit.

The bound is workflows/activity_options.py's BOOKKEEPING (12 attempts); which failures are never
retried is domain/bookkeeping.py's."""

from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from domain.contracts import PlanInput, ReplanInput
from domain.types import DeliveryStatus as D
from domain.types import NotificationStatus as N
from tests.unit.workflows.fakes import (
    cannot_succeed,
    channel,
    database_unavailable,
    notification,
    plan,
    provider_unavailable,
    utc_now,
)
from tests.unit.workflows.harness import reached
from workflows.activity_options import BOOKKEEPING, DIGEST_HANDOVER, RECORDING_A_FAILURE
from workflows.notification import NotificationWorkflow

ATTEMPTS = BOOKKEEPING["retry_policy"].maximum_attempts


def waiting(policy: RetryPolicy) -> timedelta:
    """How long a policy waits between its first attempt and its last, all of them failing."""
    longest = policy.maximum_interval
    assert policy.maximum_attempts > 0 and longest is not None, "a bound"
    waits = [
        min(policy.initial_interval * policy.backoff_coefficient**n, longest)
        for n in range(policy.maximum_attempts - 1)
    ]
    return sum(waits, timedelta(0))


def test_the_bounds_ride_out_a_database_restart_and_still_end():
    """A restart takes 20-40 s: planning rides out twice that, and still ends within minutes;
    recording the failure, which only an unavailable database can stop, is given longer."""
    planning = waiting(BOOKKEEPING["retry_policy"])
    assert timedelta(seconds=80) <= planning <= timedelta(minutes=5)
    assert timedelta(seconds=80) <= waiting(DIGEST_HANDOVER["retry_policy"]) <= timedelta(minutes=5)
    assert planning < waiting(RECORDING_A_FAILURE["retry_policy"]) <= timedelta(hours=1)


async def test_planning_that_can_never_succeed_ends_failed_with_the_reason_at_once(harness):
    input = notification()
    harness.notifications.will_plan(input.notification_id, cannot_succeed())

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    fakes = harness.notifications
    assert len(fakes.planned) == 1  # not retried
    [outcome] = fakes.outcomes
    assert outcome.notification_status == N.FAILED
    assert outcome.reason is not None
    assert "plan_notification" in outcome.reason and "a window of zero length" in outcome.reason
    assert fakes.attempts == []  # nothing sent


async def test_a_validation_error_that_reaches_the_workflow_is_not_retried_either(harness):
    input = notification()
    raw = ApplicationError("1 validation error for Preferences", type="ValidationError")
    harness.notifications.will_plan(input.notification_id, raw)

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED and len(harness.notifications.planned) == 1
    assert "1 validation error for Preferences" in (harness.notifications.outcomes[0].reason or "")


async def test_planning_failing_past_its_retry_bound_ends_failed_with_the_reason(harness):
    input = notification()
    email = channel(input.notification_id)
    # One failure more than the bound allows, then a plan the workflow never gets to.
    harness.notifications.will_plan(
        input.notification_id, *[database_unavailable()] * ATTEMPTS, plan(email)
    )

    handle = await harness.start(NotificationWorkflow.run, input)
    result = await handle.result()

    assert result.status == N.FAILED
    fakes = harness.notifications
    assert len(fakes.planned) == ATTEMPTS
    [outcome] = fakes.outcomes
    assert outcome.notification_status == N.FAILED
    assert "the database is unavailable" in (outcome.reason or "")
    assert fakes.attempts == []
    # The longer waits between attempts were durable timers, not sleeps in a workflow task.
    assert await reached(handle, EventType.EVENT_TYPE_TIMER_FIRED)


async def test_planning_that_recovers_within_the_bound_goes_on_as_usual(harness):
    input = notification()
    email = channel(input.notification_id)
    harness.notifications.will_plan(
        input.notification_id, *[database_unavailable()] * (ATTEMPTS - 1), plan(email)
    )

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    assert len(harness.notifications.planned) == ATTEMPTS
    assert [a.input.delivery_id for a in harness.notifications.attempts] == [email.delivery_id]


async def test_replanning_that_fails_after_a_wait_fails_the_waiting_channel_with_the_reason(
    harness,
):
    input = notification()
    until = utc_now() + timedelta(hours=8)
    deferred = channel(input.notification_id, status=D.DEFERRED, until=until)
    harness.notifications.will_plan(
        input.notification_id,
        plan(deferred),
        cannot_succeed("replan_waiting_channels", "ZoneInfoNotFoundError: 'Mars/Olympus'"),
    )

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    fakes = harness.notifications
    assert [type(step) for step in fakes.planned] == [PlanInput, ReplanInput]
    [outcome] = fakes.outcomes
    [failed] = outcome.channels
    assert failed.delivery_id == deferred.delivery_id and failed.status == D.FAILED
    assert "Mars/Olympus" in (failed.reason or "") and failed.reason == outcome.reason


async def test_recording_the_outcome_that_cannot_succeed_is_recorded_as_a_failure(harness):
    """The usual last step fails for good (say, reading the slots to give back): the notification
    still ends, `failed` with the reason, recorded without the step that failed."""
    input = notification()
    email, sms = channel(input.notification_id, "email"), channel(input.notification_id, "sms")
    harness.notifications.will_plan(input.notification_id, plan(email, sms))
    harness.notifications.failing["record_outcome"] = [
        cannot_succeed("record_outcome", "KeyError: 'x'")
    ]

    result = await harness.execute(NotificationWorkflow.run, input)

    # Both channels were sent; the record of it failed: partially failed, with the reason.
    assert result.status == N.PARTIALLY_FAILED
    [outcome] = harness.notifications.outcomes
    assert outcome.notification_status == N.PARTIALLY_FAILED
    assert outcome.release_slots == [] and "record_outcome: KeyError" in (outcome.reason or "")


async def test_a_failover_that_cannot_be_recorded_fails_the_channel_with_the_reason(harness):
    input = notification(providers={"email": ["a", "b"]})
    email = harness.notifications.one_email(input, provider_unavailable())
    harness.notifications.failing["record_failover"] = [
        cannot_succeed("record_failover", "DataError: value too long")
    ]

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    assert harness.notifications.providers_tried(email.delivery_id) == ["a"]  # never moved on
    [outcome] = harness.notifications.outcomes
    [failed] = outcome.channels
    assert failed.delivery_id == email.delivery_id and failed.status == D.FAILED
    assert failed.reason == outcome.reason
    assert "record_failover: DataError" in (outcome.reason or "")


async def test_a_digest_hand_over_failing_past_its_bound_ends_failed_with_the_reason(harness):
    input = notification()
    digested = channel(
        input.notification_id, "email", D.DIGESTED, until=utc_now() + timedelta(hours=1),
        digest_frequency="hourly",
    )  # fmt: skip
    harness.notifications.will_plan(input.notification_id, plan(digested))
    attempts = DIGEST_HANDOVER["retry_policy"].maximum_attempts
    harness.notifications.failing["enqueue_digest"] = [
        database_unavailable("enqueue_digest")
    ] * attempts

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED and harness.notifications.digested == []
    [outcome] = harness.notifications.outcomes
    assert outcome.notification_status == N.FAILED
    assert "enqueue_digest" in (outcome.reason or "") and "retries" in (outcome.reason or "")
