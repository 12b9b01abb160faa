"""domain.immediate.first_send: the send plan_and_send makes at once, and the input it makes it
with (the workflow's own first attempt would have had the same)."""

import uuid
from datetime import UTC, datetime, timedelta

from domain.contracts import (
    ChannelState,
    DeliverInput,
    FallbackSpec,
    Plan,
    PlanAndSendInput,
    PlanInput,
)
from domain.immediate import first_send
from domain.types import Channel
from domain.types import DeliveryStatus as D
from domain.types import NotificationStatus as N

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TENANT = uuid.uuid4()


def state(channel: str, status: D) -> ChannelState:
    return ChannelState(uuid.uuid4(), Channel(channel), status)


def asked(
    send_at: datetime | None = None, providers: dict[str, list[str]] | None = None
) -> PlanAndSendInput:
    return PlanAndSendInput(PlanInput(uuid.uuid4(), TENANT, NOW, send_at), providers or {})


def test_the_one_pending_channel_is_sent_with_the_first_provider_and_the_final_status():
    email, sms = state("email", D.PENDING), state("sms", D.SUPPRESSED)

    send = first_send(Plan([email, sms]), asked(providers={"email": ["sendgrid", "smtp"]}))

    assert send == DeliverInput(
        email.delivery_id, TENANT, "sendgrid", settles_as=N.SENT, can_fail_over=True
    )


def test_without_a_failover_order_the_channels_default_provider_sends_it():
    email = state("email", D.PENDING)

    assert first_send(Plan([email]), asked()) == DeliverInput(
        email.delivery_id, TENANT, None, settles_as=N.SENT, can_fail_over=False
    )


def test_a_send_that_is_not_the_last_step_does_not_settle_the_status():
    email, sms = state("email", D.PENDING), state("sms", D.DEFERRED)
    fallback = FallbackSpec(Channel.EMAIL, Channel.SMS, "delivered", 30)

    deferred_other = first_send(Plan([email, sms]), asked())
    with_fallback = first_send(Plan([email], fallback=fallback), asked())

    assert deferred_other is not None and deferred_other.settles_as is None
    assert with_fallback is not None and with_fallback.settles_as is None


def test_nothing_is_sent_at_once_for_later_for_several_channels_or_for_none():
    later = asked(send_at=NOW + timedelta(hours=1))

    assert first_send(Plan([state("email", D.PENDING)]), later) is None
    assert first_send(Plan([state("email", D.PENDING), state("sms", D.PENDING)]), asked()) is None
    assert first_send(Plan([state("email", D.DEFERRED)]), asked()) is None
    assert first_send(Plan([]), asked()) is None


def test_a_send_at_that_has_come_is_sent_now():
    email = state("email", D.PENDING)

    assert first_send(Plan([email]), asked(send_at=NOW)) is not None
    assert first_send(Plan([email]), asked(send_at=NOW - timedelta(minutes=1))) is not None
