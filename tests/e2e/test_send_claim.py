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
from config.providers import build_providers
from db.deliveries import claim_send, release_send
from db.session import autocommit
from domain.contracts import DeliverInput
from domain.send_failures import SendFailure
from tests.e2e.test_email_smtp import email_request


async def a_pending_delivery(stack, address: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A notification planned for tomorrow: its delivery row waits, unsent."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    accepted = await stack.api.post(
        "/v1/notifications", json=email_request(address, send_at=tomorrow)
    )
    notification = await stack.wait_for_status(accepted.json()["id"], "scheduled")
    return uuid.UUID(notification["deliveries"][0]["id"]), stack.tenant_id


async def test_of_two_simultaneous_attempts_one_sends_and_the_other_waits(stack, sessions, smtp):
    address = f"claim-{uuid.uuid4().hex[:8]}@example.com"
    delivery_id, tenant_id = await a_pending_delivery(stack, address)
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
    delivery_id, _ = await a_pending_delivery(stack, f"lease-{uuid.uuid4().hex[:8]}@example.com")
    async with autocommit(sessions) as session:
        assert await claim_send(session, delivery_id, lease_seconds=30) is None
        held = await claim_send(session, delivery_id, lease_seconds=30)
        assert held == pytest.approx(30, abs=2)
        await release_send(session, delivery_id)  # a failed attempt lets the next go at once
        assert await claim_send(session, delivery_id, lease_seconds=0.2) is None
        await asyncio.sleep(0.3)  # a claim whose holder died runs out by itself
        assert await claim_send(session, delivery_id, lease_seconds=30) is None
        await session.execute(
            text("UPDATE deliveries SET send_claimed_until = NULL WHERE id = :id"),
            {"id": delivery_id},
        )
