"""Two attempts of one send at the same moment (a workflow task that timed out on a busy worker
runs its local first attempt again): exactly one calls the provider; the other is retried once
the first is done, and finds the delivery sent."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryActivities
from activities.immediate import ImmediateActivities
from activities.planning import ClaimFirstSend, PlanningActivities
from config.providers import build_providers
from db.deliveries import load_and_claim_delivery_job, release_send
from db.session import autocommit
from devtools.mailcatcher import MailCatcher, start_mailcatcher
from domain.contracts import DeliverInput, PlanAndSendInput, PlanInput
from domain.send_failures import SendFailure
from tests.conftest import free_port
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_idempotency_races import an_unplanned_notification


async def a_pending_delivery(stack, address: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A notification planned for tomorrow: its delivery row waits, unsent."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    accepted = await stack.api.post(
        "/v1/notifications", json=email_request(address, send_at=tomorrow)
    )
    notification = await stack.wait_for_status(accepted.json()["id"], "scheduled")
    return uuid.UUID(notification["deliveries"][0]["id"]), stack.tenant_id


async def connections_ready(sessions, count: int) -> None:
    """`count` connections open in the pool, so that as many attempts start at once: opening
    one takes longer than a whole send, and an attempt that connected last could find the
    delivery sent already (it then sends nothing either, but waits for no claim)."""

    async def open_one() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))

    await asyncio.gather(*(open_one() for _ in range(count)))


async def test_of_two_simultaneous_attempts_one_sends_and_the_other_waits(stack, sessions, smtp):
    address = f"claim-{uuid.uuid4().hex[:8]}@example.com"
    delivery_id, tenant_id = await a_pending_delivery(stack, address)
    await connections_ready(sessions, 4)
    providers = build_providers(stack.settings)
    activities = DeliveryActivities(sessions, providers, stack.settings)
    attempt = DeliverInput(delivery_id, tenant_id)
    try:
        outcomes = await asyncio.gather(
            *(ActivityEnvironment().run(activities.deliver, attempt) for _ in range(4)),
            return_exceptions=True,
        )
        refused = [o for o in outcomes if isinstance(o, ApplicationError)]
        sent = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(sent) == 1 and len(refused) == 3, outcomes
        assert {r.type for r in refused} == {SendFailure.IN_FLIGHT}
        assert all(
            r.next_retry_delay and r.next_retry_delay >= timedelta(seconds=1) for r in refused
        )
        # The retry, once the first is done, finds the delivery sent and sends nothing.
        again = await ActivityEnvironment().run(activities.deliver, attempt)
        assert again.status == "sent" and again.provider_message_id == sent[0].provider_message_id
    finally:
        await providers.close()
    await asyncio.sleep(0.5)
    assert len(smtp.to(address)) == 1


async def test_a_claim_runs_out_and_can_be_released(stack, sessions):
    delivery_id, tenant_id = await a_pending_delivery(
        stack, f"lease-{uuid.uuid4().hex[:8]}@example.com"
    )

    async def claim(lease_seconds: float) -> float | None:
        """None when this attempt claimed it, else how long another's claim still holds."""
        job = await load_and_claim_delivery_job(session, delivery_id, tenant_id, lease_seconds)
        assert job is not None and job.claimed == (job.claim_held_for is None)
        return job.claim_held_for

    async with autocommit(sessions) as session:
        assert await claim(lease_seconds=30) is None
        held = await claim(lease_seconds=30)
        assert held == pytest.approx(30, abs=2)
        await release_send(session, delivery_id)  # a failed attempt lets the next go at once
        assert await claim(lease_seconds=0.2) is None
        await asyncio.sleep(0.3)  # a claim whose holder died runs out by itself
        assert await claim(lease_seconds=30) is None
        await session.execute(
            text("UPDATE deliveries SET send_claimed_until = NULL WHERE id = :id"),
            {"id": delivery_id},
        )


async def test_an_attempt_that_fails_before_calling_the_provider_leaves_no_claim(stack, sessions):
    """The read claims the send; an attempt that ends before the provider is called (here:
    a provider this worker does not have) gives the claim back, so the next goes at once."""
    delivery_id, tenant_id = await a_pending_delivery(
        stack, f"noprovider-{uuid.uuid4().hex[:8]}@example.com"
    )
    providers = build_providers(stack.settings)
    activities = DeliveryActivities(sessions, providers, stack.settings)
    try:
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(
                activities.deliver, DeliverInput(delivery_id, tenant_id, provider="elsewhere")
            )
    finally:
        await providers.close()
    assert refused.value.type == SendFailure.PROVIDER_UNAVAILABLE
    async with autocommit(sessions) as session:
        claimed_until = await session.scalar(
            text("SELECT send_claimed_until FROM deliveries WHERE id = :id"), {"id": delivery_id}
        )
    assert claimed_until is None


async def test_the_record_of_a_new_plan_claims_the_send_made_next(stack, sessions):
    address = f"record-claim-{uuid.uuid4().hex[:8]}@example.com"
    notification = await an_unplanned_notification(stack, sessions, f"email:{address}", address)
    planning = PlanningActivities(sessions)
    asked = PlanInput(notification.id, stack.tenant_id, datetime.now(UTC))
    claim = ClaimFirstSend(lambda plan: plan.channels[0].delivery_id, lease_seconds=30)

    new = await planning.plan_new(asked, claim)
    again = await planning.plan_new(asked, claim)  # a retry finds the plan recorded

    assert new.job is not None and new.job.claimed and new.job.delivery.address == address
    assert new.job.delivery.id == new.plan.channels[0].delivery_id
    assert again.job is None and again.plan.channels == new.plan.channels
    async with autocommit(sessions) as session:
        job = await load_and_claim_delivery_job(
            session, new.job.delivery.id, stack.tenant_id, lease_seconds=30
        )
    assert job is not None and job.claim_held_for == pytest.approx(30, abs=2)  # held: ours
    await stack.client.get_workflow_handle(notification.workflow_id).terminate("test done")


async def test_of_two_simultaneous_plan_and_send_steps_one_sends(stack, sessions, smtp):
    """The plan's record claims the send plan_and_send makes: when the step runs twice at once
    (its workflow task retried while the first still ran), the email goes once."""
    address = f"plan-claim-{uuid.uuid4().hex[:8]}@example.com"
    notification = await an_unplanned_notification(stack, sessions, f"email:{address}", address)
    providers = build_providers(stack.settings)
    delivery = DeliveryActivities(sessions, providers, stack.settings)
    step = ImmediateActivities(PlanningActivities(sessions), delivery)
    asked = PlanAndSendInput(
        PlanInput(notification.id, stack.tenant_id, datetime.now(UTC)), {"email": ["smtp"]}
    )
    await connections_ready(sessions, 6)
    try:
        plans = await asyncio.gather(
            *(ActivityEnvironment().run(step.plan_and_send, asked) for _ in range(3))
        )
    finally:
        await providers.close()
    attempts = [plan.first_attempt for plan in plans]
    assert all(a is not None for a in attempts), plans
    sent = [a.result for a in attempts if a and a.result]
    refused = [a.failure for a in attempts if a and a.failure]
    assert len(sent) >= 1 and len(sent) + len(refused) == 3, attempts
    assert {f.type for f in refused} <= {SendFailure.IN_FLIGHT}
    # One message: a second "sent" is an attempt that found the delivery sent already.
    assert len({r.provider_message_id for r in sent}) == 1
    await asyncio.sleep(0.5)
    assert len(smtp.to(address)) == 1
    await stack.client.get_workflow_handle(notification.workflow_id).terminate("test done")


class SlowMailServer(MailCatcher):
    """Takes a second to accept each message: time for an attempt to be cancelled mid-send."""

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(1.0)
        return await super().handle_DATA(server, session, envelope)


async def test_an_attempt_cancelled_mid_send_still_records_it_and_it_goes_once(
    make_stack, temporal_env, sessions
):
    """A workflow task timing out on a busy worker cancels its local first attempt: if that
    came between the provider taking the message and the record, the next attempt (once the
    claim ran out) sent it again. The send and its record now finish whatever happens."""
    catcher, port = SlowMailServer(), free_port()
    server = start_mailcatcher(catcher, port=port)
    try:
        async with make_stack(temporal_env, smtp_port=port) as stack:
            address = f"cancel-{uuid.uuid4().hex[:8]}@example.com"
            delivery_id, tenant_id = await a_pending_delivery(stack, address)
            providers = build_providers(stack.settings)
            activities = DeliveryActivities(sessions, providers, stack.settings)
            try:
                environment = ActivityEnvironment()
                attempt = asyncio.create_task(
                    environment.run(activities.deliver, DeliverInput(delivery_id, tenant_id))
                )
                await asyncio.sleep(0.5)  # the message is with the SMTP server now
                environment.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await attempt
                await asyncio.sleep(1.5)  # the shielded send and record finish meanwhile
                again = await ActivityEnvironment().run(
                    activities.deliver, DeliverInput(delivery_id, tenant_id)
                )
            finally:
                await providers.close()
            assert again.status == "sent"  # recorded: the next attempt sent nothing
            assert [m.recipients for m in catcher.messages] == [[address]]
    finally:
        server.stop()
