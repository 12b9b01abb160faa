"""NotificationWorkflow sending: one channel or several, retries, failover, resend."""

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from domain.contracts import (
    ChannelState,
    CounterSlot,
    DeliverInput,
    DeliverResult,
    DeliveryRetry,
    FailoverInput,
    NotificationResult,
    PlanInput,
    RecordOutcomeInput,
    SentRecord,
)
from domain.types import Channel
from domain.types import DeliveryStatus as D
from domain.types import NotificationStatus as N
from tests.unit.workflows.fakes import (
    channel,
    new_id,
    notification,
    permanent,
    plan,
    provider_unavailable,
    transient,
    utc_now,
)
from tests.unit.workflows.harness import reached
from workflows.notification import NotificationWorkflow

# Herald's default: no limit on attempts, an hour's window.
UNTIL_THE_WINDOW_CLOSES = DeliveryRetry(max_attempts=0, initial_seconds=1, max_interval_seconds=10)


async def test_one_channel_is_sent_at_once_and_the_send_settles_the_status(harness):
    input = notification()
    email = harness.notifications.one_email(input)

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT and [c.status for c in result.channels] == [D.SENT]
    fakes = harness.notifications
    [planned] = fakes.planned
    assert isinstance(planned, PlanInput) and planned.as_of is None
    [attempt] = fakes.attempts
    assert attempt.local and attempt.input.delivery_id == email.delivery_id
    # The one send records the notification's status with its own result: no record_outcome.
    assert attempt.input.settles_as == N.SENT
    assert fakes.outcomes == []


async def test_the_send_a_plan_leaves_to_make_now_is_made_by_the_planning_step(harness):
    """plan_and_send plans and makes the first attempt: one local activity, not two."""
    input = notification(providers={"email": ["a", "b"]})
    email = harness.notifications.one_email(input)

    handle = await harness.start(NotificationWorkflow.run, input)
    result = await handle.result()

    assert result.status == N.SENT
    [attempt] = harness.notifications.attempts
    assert attempt.input == DeliverInput(
        email.delivery_id, input.tenant_id, "a", settles_as=N.SENT, can_fail_over=True
    )
    local_activities = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert len(local_activities) == 1


async def cancel_while_planning_and_sending(harness, input):
    """Cancel once plan_and_send has planned, while it is still busy: a step longer than the
    workflow task timeout, so the update comes in while it runs (as it can only then)."""
    release = harness.notifications.hold_plan_and_send()
    handle = await harness.start(
        NotificationWorkflow.run, input, skip_time=False, task_timeout=timedelta(seconds=1)
    )
    await harness.notifications.planning_and_sending.wait()
    cancelling = asyncio.create_task(handle.execute_update(NotificationWorkflow.cancel))
    while not await reached(handle, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED):
        await asyncio.sleep(0.05)
    release.set()
    return await cancelling, await handle.result()


async def test_a_cancel_while_the_planning_step_sends_leaves_the_send_made(harness):
    input = notification()
    harness.notifications.one_email(input)

    cancelled, result = await cancel_while_planning_and_sending(harness, input)

    assert (cancelled.cancelled, cancelled.status) == (False, N.SENT)
    assert result.status == N.SENT and [c.status for c in result.channels] == [D.SENT]
    assert len(harness.notifications.attempts) == 1


async def test_a_cancel_while_the_planning_step_sends_stops_the_retries_of_a_failed_send(
    harness,
):
    input = notification()
    harness.notifications.one_email(input, transient())

    cancelled, result = await cancel_while_planning_and_sending(harness, input)

    assert (cancelled.cancelled, cancelled.status) == (True, N.CANCELLED)
    assert [c.status for c in result.channels] == [D.CANCELLED]
    assert len(harness.notifications.attempts) == 1  # no retry after the cancel


async def test_several_channels_are_sent_together_and_recorded_at_the_end(harness):
    input = notification()
    email, sms = channel(input.notification_id, "email"), channel(input.notification_id, "sms")
    harness.notifications.will_plan(input.notification_id, plan(email, sms))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    attempts = harness.notifications.attempts
    assert sorted(a.input.delivery_id for a in attempts) == sorted(
        [email.delivery_id, sms.delivery_id]
    )
    assert all(a.local and a.input.settles_as is None for a in attempts)
    assert harness.notifications.outcomes == [
        RecordOutcomeInput(input.notification_id, input.tenant_id, N.SENT, [])
    ]


async def test_a_suppressed_channel_is_not_sent(harness):
    input = notification()
    email, sms = (
        channel(input.notification_id, "email"),
        channel(input.notification_id, "sms", D.SUPPRESSED),
    )
    harness.notifications.will_plan(input.notification_id, plan(email, sms))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    assert {c.channel: c.status for c in result.channels} == {"email": D.SENT, "sms": D.SUPPRESSED}
    [attempt] = harness.notifications.attempts
    assert attempt.input.delivery_id == email.delivery_id and attempt.input.settles_as == N.SENT
    assert harness.notifications.outcomes == []


async def test_every_channel_suppressed_sends_nothing_and_gives_the_slots_back(harness):
    input = notification()
    slots = [CounterSlot("rate_window", utc_now())]
    harness.notifications.will_plan(
        input.notification_id,
        plan(channel(input.notification_id, status=D.SUPPRESSED), slots=slots),
    )

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SUPPRESSED
    assert harness.notifications.attempts == []
    [outcome] = harness.notifications.outcomes
    assert (outcome.notification_status, outcome.channels, outcome.release_slots) == (
        N.SUPPRESSED,
        [],
        slots,
    )


async def test_a_transient_first_failure_is_retried_by_the_server(harness):
    input = notification()
    harness.notifications.one_email(input, transient(retry_after=timedelta(minutes=5)))

    handle = await harness.start(NotificationWorkflow.run, input)
    result = await handle.result()

    assert result.status == N.SENT
    first, retry = harness.notifications.attempts
    assert (first.local, retry.local) == (True, False)
    assert (retry.input.earlier_attempts, retry.input.settles_as) == (1, N.SENT)
    # The provider's Retry-After is the wait before the server's retries take over.
    timers = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert [
        t.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta() for t in timers
    ] == [timedelta(minutes=5)]
    assert harness.notifications.outcomes == []


async def test_transient_failures_until_the_attempts_are_spent_fail_the_notification(harness):
    input = notification(
        retry=DeliveryRetry(max_attempts=3, initial_seconds=1, max_interval_seconds=10)
    )
    harness.notifications.one_email(input, *(transient() for _ in range(3)))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    assert [(a.local, a.attempt) for a in harness.notifications.attempts] == [
        (True, 1),
        (False, 1),
        (False, 2),
    ]
    [outcome] = harness.notifications.outcomes
    [failed] = outcome.channels
    assert (failed.status, failed.reason, failed.error) == (
        D.FAILED,
        "TransientSendError",
        "421 try again later",
    )


async def test_a_permanent_failure_fails_at_once_without_retries(harness):
    input = notification()
    email = channel(input.notification_id)
    slots = [CounterSlot("reminders_day", utc_now())]
    harness.notifications.will_plan(input.notification_id, plan(email, slots=slots))
    harness.notifications.will_send(email.delivery_id, permanent())

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    assert len(harness.notifications.attempts) == 1
    [outcome] = harness.notifications.outcomes
    assert outcome.notification_status == N.FAILED and outcome.release_slots == slots
    [failed] = outcome.channels
    assert (failed.delivery_id, failed.status, failed.reason) == (
        email.delivery_id,
        D.FAILED,
        "PermanentSendError",
    )
    assert failed.error == "550 no such mailbox"


async def test_an_unavailable_provider_fails_over_to_the_next(harness):
    input = notification(providers={"email": ["a", "b"]})
    email = harness.notifications.one_email(input, provider_unavailable())

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    assert harness.notifications.providers_tried(email.delivery_id) == ["a", "b"]
    assert harness.notifications.failovers == [
        FailoverInput(email.delivery_id, "a", "b", "provider a is not configured on this worker")
    ]


async def test_transient_failures_spent_on_one_provider_fail_over_to_the_next(harness):
    input = notification(
        providers={"email": ["a", "b"]}, retry=DeliveryRetry(max_attempts=2, initial_seconds=1)
    )
    harness.notifications.one_email(input, transient(), transient())

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    attempts = [(a.input.provider, a.local) for a in harness.notifications.attempts]
    assert attempts == [("a", True), ("a", False), ("b", True)]
    [failover] = harness.notifications.failovers
    assert (failover.from_provider, failover.to_provider) == ("a", "b")


async def test_the_recipients_fault_does_not_fail_over(harness):
    input = notification(providers={"email": ["a", "b"]})
    email = harness.notifications.one_email(input, permanent())

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    assert harness.notifications.providers_tried(email.delivery_id) == ["a"]
    assert harness.notifications.failovers == []


async def test_a_resend_sends_only_the_new_delivery_and_recomputes_the_status(harness):
    input = notification()
    again = channel(new_id(), "email")  # a new delivery row for the channel
    input.resend = again

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result == NotificationResult(
        N.SENT, [ChannelState(again.delivery_id, Channel.EMAIL, D.SENT)]
    )
    assert harness.notifications.planned == []
    [attempt] = harness.notifications.attempts
    assert attempt.input.delivery_id == again.delivery_id and attempt.input.settles_as is None
    [outcome] = harness.notifications.outcomes
    assert outcome.notification_status is None  # recomputed from every channel's latest delivery
    assert [(c.delivery_id, c.status) for c in outcome.channels] == [(again.delivery_id, D.SENT)]


async def test_with_another_provider_an_open_circuit_fails_over_at_once(harness):
    input = notification(providers={"email": ["a", "b"]}, retry=UNTIL_THE_WINDOW_CLOSES)
    email = harness.notifications.one_email(input, provider_unavailable("a circuit is open"))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    tried = [
        (a.input.provider, a.input.can_fail_over)
        for a in harness.notifications.attempts
        if a.input.delivery_id == email.delivery_id
    ]
    assert tried == [("a", True), ("b", False)]


async def test_without_an_attempt_limit_transient_failures_retry_until_the_window_closes(harness):
    window = DeliveryRetry(
        max_attempts=0, initial_seconds=1, max_interval_seconds=4, max_total_seconds=60
    )
    input = notification(retry=window)
    harness.notifications.one_email(input, *(transient() for _ in range(100)))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    # 1 + 2 + 4 s, then every 4 s, for a minute: far more than the old default of 5 tries.
    assert 12 <= len(harness.notifications.attempts) <= 18
    [outcome] = harness.notifications.outcomes
    assert outcome.channels[0].reason == "TransientSendError"


async def test_a_send_the_database_could_not_record_is_recorded_later_never_sent_again(harness):
    input = notification()
    email = channel(input.notification_id)
    record = SentRecord(email.delivery_id, "smtp", "<m@x>", {}, "Hi", None, retry_count=0)
    harness.notifications.will_plan(input.notification_id, plan(email))
    harness.notifications.will_send(
        email.delivery_id, DeliverResult(email.delivery_id, D.SENT, "smtp", "<m@x>", record)
    )

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    assert len(harness.notifications.attempts) == 1
    assert harness.notifications.recorded_sends == [record]


async def test_the_tenants_retry_window_bounds_how_long_a_send_is_retried(harness):
    """The plan carries the tenant's retry window (delivery-policy `retry_window_minutes`): two
    minutes of failures end the send, where Herald's hour would go on."""
    input = notification(retry=UNTIL_THE_WINDOW_CLOSES)
    email = channel(input.notification_id)
    harness.notifications.will_plan(input.notification_id, plan(email, retry_window_seconds=120))
    harness.notifications.will_send(email.delivery_id, *(transient() for _ in range(1000)))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.FAILED
    # 1 + 2 + 4 + 8 s, then every 10 s, for two minutes
    assert 10 <= len(harness.notifications.attempts) <= 16


async def test_a_30_minute_outage_of_the_only_provider_ends_with_the_message_sent(harness):
    """Herald's defaults (no attempt limit, an hour's window, backoff up to 5 minutes): a send
    failing for half an hour is still sent once the provider is back."""
    input = notification(retry=DeliveryRetry())  # Herald's defaults
    # The local attempt, then retries 2, 4, ... 256 s apart, then 300 s apart: the 14th failure
    # comes about 33 minutes in (1 + 510 + 5 * 300 s).
    failures = 14
    harness.notifications.one_email(input, *(transient() for _ in range(failures)))

    handle = await harness.start(NotificationWorkflow.run, input)
    result = await handle.result()

    assert result.status == N.SENT
    assert len(harness.notifications.attempts) == failures + 1
    events = [e async for e in handle.fetch_history_events()]
    elapsed = events[-1].event_time.ToDatetime() - events[0].event_time.ToDatetime()
    assert elapsed >= timedelta(minutes=30)
