"""NotificationWorkflow waiting: send_at, deferrals, digests, fallbacks, and what cuts a wait
short (a cancel, changed preferences, a provider's news)."""

from datetime import timedelta

from domain.contracts import (
    CancelResult,
    CounterSlot,
    DeliveryEvent,
    EnqueueDigestInput,
    FallbackPlanInput,
    FallbackSpec,
    PlanInput,
    RecordedStatusInput,
    ReplanInput,
)
from domain.preferences import DigestFrequency
from domain.types import Channel
from domain.types import DeliveryStatus as D
from domain.types import NotificationStatus as N
from tests.unit.workflows.fakes import (
    channel,
    notification,
    plan,
    transient,
    utc_now,
)
from tests.unit.workflows.harness import eventually, search_attribute
from workflows import search_attributes as sa
from workflows.notification import NotificationWorkflow


def status_is(handle, status: str):
    return eventually(
        lambda: handle.query(NotificationWorkflow.status), lambda s: s.status == status
    )


def sent(handle, delivery):
    """Until the workflow knows the delivery was sent (and so waits for news of it)."""
    return eventually(
        lambda: handle.query(NotificationWorkflow.status),
        lambda s: (delivery.delivery_id, D.SENT) in [(c.delivery_id, c.status) for c in s.channels],
    )


async def test_a_future_send_at_waits_for_it_then_decides_again(harness):
    send_at = utc_now() + timedelta(days=2)
    input = notification(send_at=send_at)
    email = channel(input.notification_id)
    harness.notifications.will_plan(input.notification_id, plan(email), plan(email))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    first, again = harness.notifications.planned
    assert isinstance(first, PlanInput) and first.as_of == send_at  # decided as of send_at
    assert isinstance(again, ReplanInput) and again.now >= send_at
    assert len(harness.notifications.attempts) == 1


async def test_the_status_query_and_search_attributes_while_scheduled(harness, workflow_env):
    input = notification(send_at=utc_now() + timedelta(days=2))
    email = channel(input.notification_id)
    harness.notifications.will_plan(input.notification_id, plan(email), plan(email))
    handle = await harness.start(NotificationWorkflow.run, input, skip_time=False)

    waiting = await status_is(handle, N.SCHEDULED)

    assert [(c.channel, c.status) for c in waiting.channels] == [("email", D.PENDING)]
    assert await search_attribute(handle, sa.STATUS) == N.SCHEDULED
    assert await search_attribute(handle, sa.CHANNELS) == ["email"]
    assert harness.notifications.attempts == []
    await workflow_env.fast_forward(handle, timedelta(days=2, minutes=1))
    assert (await handle.result()).status == N.SENT
    assert (await handle.query(NotificationWorkflow.status)).status == N.SENT
    assert await search_attribute(handle, sa.STATUS) == N.SENT


async def test_a_deferred_channel_waits_until_its_time_then_is_sent(harness):
    input = notification()
    until = utc_now() + timedelta(hours=8)
    deferred, pending = (
        channel(input.notification_id, status=D.DEFERRED, until=until),
        channel(input.notification_id),
    )
    harness.notifications.will_plan(input.notification_id, plan(deferred), plan(pending))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    first, again = harness.notifications.planned
    assert isinstance(first, PlanInput) and isinstance(again, ReplanInput) and again.now >= until
    assert [a.input.delivery_id for a in harness.notifications.attempts] == [pending.delivery_id]


async def test_cancel_while_deferred_cancels_the_channels_and_gives_the_slots_back(harness):
    input = notification()
    deferred = channel(
        input.notification_id, status=D.DEFERRED, until=utc_now() + timedelta(hours=8)
    )
    slots = [CounterSlot("rate_window", utc_now())]
    harness.notifications.will_plan(input.notification_id, plan(deferred, slots=slots))
    handle = await harness.start(NotificationWorkflow.run, input, skip_time=False)
    await status_is(handle, N.DEFERRED)

    cancelled = await handle.execute_update(NotificationWorkflow.cancel)

    assert isinstance(cancelled, CancelResult) and (cancelled.cancelled, cancelled.status) == (
        True,
        N.CANCELLED,
    )
    assert (await handle.result()).status == N.CANCELLED
    [outcome] = harness.notifications.outcomes
    assert (outcome.notification_status, outcome.release_slots) == (N.CANCELLED, slots)
    assert [(c.delivery_id, c.status, c.reason) for c in outcome.channels] == [
        (deferred.delivery_id, D.CANCELLED, "cancelled before sending")
    ]
    assert len(harness.notifications.planned) == 1 and harness.notifications.attempts == []


async def test_cancel_during_a_retry_backoff_cancels_the_send(harness):
    input = notification()
    harness.notifications.one_email(input, transient(retry_after=timedelta(hours=1)))
    handle = await harness.start(NotificationWorkflow.run, input, skip_time=False)
    # `sending` is published once a send goes on to retries: it is waiting for the next one.
    await eventually(lambda: search_attribute(handle, sa.STATUS), lambda s: s == N.SENDING)

    cancelled = await handle.execute_update(NotificationWorkflow.cancel)

    assert (cancelled.cancelled, cancelled.status) == (True, N.CANCELLED)
    assert len(harness.notifications.attempts) == 1
    [outcome] = harness.notifications.outcomes
    assert [(c.status, c.error) for c in outcome.channels] == [(D.CANCELLED, None)]


async def test_changed_preferences_wake_a_scheduled_notification_to_decide_again(harness):
    send_at = utc_now() + timedelta(days=2)
    input = notification(send_at=send_at)
    harness.notifications.will_plan(
        input.notification_id,
        plan(channel(input.notification_id)),
        plan(channel(input.notification_id, status=D.SUPPRESSED)),  # the recipient turned email off
    )
    handle = await harness.start(NotificationWorkflow.run, input, skip_time=False)
    await status_is(handle, N.SCHEDULED)

    await handle.signal(NotificationWorkflow.preferences_changed)

    assert (await handle.result()).status == N.SUPPRESSED
    again = harness.notifications.planned[1]
    assert isinstance(again, ReplanInput) and again.now < send_at - timedelta(days=1)
    assert harness.notifications.attempts == []
    assert [o.notification_status for o in harness.notifications.outcomes] == [N.SUPPRESSED]


async def test_a_digested_channel_is_handed_to_the_digest_once(harness):
    input = notification()
    flush_at, until = utc_now() + timedelta(hours=3), utc_now() + timedelta(hours=1)
    digested = channel(
        input.notification_id, "email", D.DIGESTED, until=flush_at, digest_frequency="hourly"
    )
    deferred = channel(input.notification_id, "sms", D.DEFERRED, until=until)
    harness.notifications.will_plan(
        input.notification_id, plan(digested, deferred), plan(channel(input.notification_id, "sms"))
    )

    result = await harness.execute(NotificationWorkflow.run, input)

    assert {c.channel: c.status for c in result.channels} == {"email": D.DIGESTED, "sms": D.SENT}
    assert result.status == N.SENT
    assert harness.notifications.digested == [
        EnqueueDigestInput(input.notification_id, input.tenant_id, flush_at, DigestFrequency.HOURLY)
    ]


async def test_only_digested_ends_as_digested(harness):
    input = notification()
    digested = channel(
        input.notification_id,
        "email",
        D.DIGESTED,
        until=utc_now() + timedelta(hours=1),
        digest_frequency="daily",
    )
    harness.notifications.will_plan(input.notification_id, plan(digested))

    assert (await harness.execute(NotificationWorkflow.run, input)).status == N.DIGESTED
    assert len(harness.notifications.digested) == 1 and harness.notifications.attempts == []


async def test_no_news_within_the_time_falls_back_to_the_other_channel(harness):
    input = notification()
    email, sms = channel(input.notification_id, "email"), channel(input.notification_id, "sms")
    rule = FallbackSpec(Channel.EMAIL, Channel.SMS, unless=D.DELIVERED, within_minutes=30)
    harness.notifications.will_plan(input.notification_id, plan(email, fallback=rule), plan(sms))

    result = await harness.execute(NotificationWorkflow.run, input)

    assert result.status == N.SENT
    first, added = harness.notifications.planned
    assert isinstance(added, FallbackPlanInput) and added.channel == "sms"
    assert added.now - first.now >= timedelta(minutes=30)
    attempts = harness.notifications.attempts
    assert [a.input.delivery_id for a in attempts] == [email.delivery_id, sms.delivery_id]
    assert all(
        a.input.settles_as is None for a in attempts
    )  # a fallback may follow: recorded at the end
    assert [o.notification_status for o in harness.notifications.outcomes] == [N.SENT]
    # The time ran out: the email's recorded status (sent, no news) decided.
    assert harness.notifications.status_reads == [
        RecordedStatusInput(email.delivery_id, input.tenant_id)
    ]


async def test_news_recorded_but_never_signalled_needs_no_fallback(harness):
    """The provider's (or the inbox's) news reached the database but its signal was lost:
    when the time runs out, the recorded status decides."""
    input = notification()
    email = channel(input.notification_id, "email")
    rule = FallbackSpec(Channel.EMAIL, Channel.SMS, unless=D.DELIVERED, within_minutes=30)
    harness.notifications.will_plan(input.notification_id, plan(email, fallback=rule))
    harness.notifications.recorded_statuses[email.delivery_id] = D.OPENED

    result = await harness.execute(NotificationWorkflow.run, input)

    assert (result.status, [(c.channel, c.status) for c in result.channels]) == (
        N.SENT,
        [("email", D.OPENED)],
    )
    assert len(harness.notifications.planned) == 1  # no fallback channel planned
    assert [a.input.delivery_id for a in harness.notifications.attempts] == [email.delivery_id]
    assert [r.delivery_id for r in harness.notifications.status_reads] == [email.delivery_id]


async def test_a_failure_recorded_but_never_signalled_falls_back(harness):
    input = notification()
    email, sms = channel(input.notification_id, "email"), channel(input.notification_id, "sms")
    rule = FallbackSpec(Channel.EMAIL, Channel.SMS, unless=D.DELIVERED, within_minutes=30)
    harness.notifications.will_plan(input.notification_id, plan(email, fallback=rule), plan(sms))
    harness.notifications.recorded_statuses[email.delivery_id] = D.BOUNCED

    result = await harness.execute(NotificationWorkflow.run, input)

    assert {c.channel: c.status for c in result.channels} == {"email": D.BOUNCED, "sms": D.SENT}
    assert result.status == N.PARTIALLY_FAILED


async def test_a_delivery_reported_in_time_needs_no_fallback(harness):
    input = notification()
    email = channel(input.notification_id, "email")
    harness.notifications.will_plan(
        input.notification_id,
        plan(email, fallback=FallbackSpec(Channel.EMAIL, Channel.SMS, D.DELIVERED, 30)),
    )
    handle = await harness.start(NotificationWorkflow.run, input, skip_time=False)
    await sent(handle, email)

    await handle.signal(
        NotificationWorkflow.delivery_event, DeliveryEvent(email.delivery_id, D.DELIVERED)
    )

    result = await handle.result()
    assert (result.status, [c.status for c in result.channels]) == (N.SENT, [D.DELIVERED])
    assert len(harness.notifications.planned) == 1 and len(harness.notifications.attempts) == 1
    assert harness.notifications.status_reads == []  # the signal decided: nothing to re-read


async def test_a_bounce_falls_back_at_once(harness):
    input = notification()
    email, sms = channel(input.notification_id, "email"), channel(input.notification_id, "sms")
    harness.notifications.will_plan(
        input.notification_id,
        plan(email, fallback=FallbackSpec(Channel.EMAIL, Channel.SMS, D.DELIVERED, 30)),
        plan(sms),
    )
    handle = await harness.start(NotificationWorkflow.run, input, skip_time=False)
    await sent(handle, email)

    await handle.signal(
        NotificationWorkflow.delivery_event, DeliveryEvent(email.delivery_id, D.BOUNCED)
    )

    result = await handle.result()  # no time skipped: the bounce, not the 30 minutes, decided
    assert {c.channel: c.status for c in result.channels} == {"email": D.BOUNCED, "sms": D.SENT}
    assert result.status == N.PARTIALLY_FAILED
    assert harness.notifications.planned[1] == FallbackPlanInput(
        input.notification_id, input.tenant_id, harness.notifications.planned[1].now, Channel.SMS
    )
