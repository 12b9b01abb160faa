"""A half-open circuit always gets its next trial, however the last one ended (issue 10).

The trial send used to release the circuit only on success or a transient error: a recipient's
550, a 401/403 or a cancellation left the trial in flight, and the provider was refused on
that worker until it restarted."""

import asyncio
import uuid

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError

from activities.circuits import ProviderCircuits
from channels.base import TransientSendError
from config.settings import Settings
from domain.circuit import CircuitState
from tests.e2e.test_email_smtp import email_request

COOL_DOWN = 3.0  # long enough that a slow machine still finds the circuit open right after it opens


def address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


async def circuit_state(stack, provider: str) -> str:
    health = await stack.health_details()
    return health["providers"]["email"]["circuits"][provider]


async def test_a_trial_refused_for_the_recipient_closes_the_circuit(make_stack, temporal_env, smtp):
    async with make_stack(
        temporal_env,
        email_providers="smtp",
        circuit_failure_threshold=2,
        circuit_cool_down_seconds=COOL_DOWN,
    ) as stack:
        before = smtp.attempts  # the mail catcher is shared by the whole session
        # Two refusals by a server that is going down (421) open the circuit. With no other
        # provider the send waits for the cool-down (an outage delays mail, it does not fail
        # it), and then its trial reaches SMTP, which refuses the recipient: the provider
        # answered, so it is up.
        smtp.script.extend(["421 too busy", "421 too busy", "550 no such user"])
        first = (await stack.api.post("/v1/notifications", json=email_request(address()))).json()
        for _ in range(100):
            if await circuit_state(stack, "smtp") == "open":
                break
            await asyncio.sleep(0.05)
        assert await circuit_state(stack, "smtp") == "open"
        assert (await stack.notification(first["id"]))["status"] != "failed"
        refused = await stack.wait_for_status(first["id"], "failed", timeout=COOL_DOWN + 20)
        assert "550" in refused["deliveries"][0]["error"]
        assert smtp.attempts - before == 3

        # The next notification goes out through SMTP instead of failing with ProviderUnavailable.
        good = address()
        after = (await stack.api.post("/v1/notifications", json=email_request(good))).json()
        sent = await stack.wait_for_status(after["id"], "sent", "failed")
        assert sent["status"] == "sent", sent["deliveries"][0]["error"]
        assert sent["deliveries"][0]["provider"] == "smtp"
        assert len(smtp.to(good)) == 1
        assert await circuit_state(stack, "smtp") == "closed"


@pytest.mark.parametrize("ending", ["cancelled", "unexpected error"])
async def test_a_trial_ending_without_an_answer_is_released(sessions, database_url, ending):
    """The activity's circuits on the real database: a trial cancelled (a worker stopping, an
    activity cancelled) or failing before the provider answered leaves the circuit half-open
    with its trial free, and the next call is the trial."""
    provider = f"test-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        database_url=database_url, circuit_failure_threshold=1, circuit_cool_down_seconds=0.2
    )
    circuits = ProviderCircuits(sessions, settings)
    try:
        with pytest.raises(TransientSendError):
            async with circuits.call(provider, can_fail_over=True):
                raise TransientSendError("421 going down")
        # With another provider to take the send, an open circuit fails over at once...
        with pytest.raises(ApplicationError) as refused:
            async with circuits.call(provider, can_fail_over=True):
                pytest.fail("an open circuit lets no call through")
        assert refused.value.type == "ProviderUnavailable" and refused.value.non_retryable
        # ...but the channel's last provider is never refused: its outage delays mail, each
        # send's own backoff paces the calls, and their outcomes still count.
        with pytest.raises(TransientSendError):
            async with circuits.call(provider, can_fail_over=False):
                raise TransientSendError("421 still going down")
        await asyncio.sleep(0.25)

        in_flight = asyncio.Event()

        async def trial_send():
            async with circuits.call(provider, can_fail_over=True):
                in_flight.set()
                if ending == "unexpected error":
                    raise RuntimeError("the message could not be rendered")
                await asyncio.sleep(60)

        task = asyncio.create_task(trial_send())
        await in_flight.wait()
        if ending == "cancelled":
            with pytest.raises(ApplicationError):  # one trial at a time, while it is in flight
                async with circuits.call(provider, can_fail_over=True):
                    pytest.fail("a second concurrent trial")
            task.cancel()
        with pytest.raises((asyncio.CancelledError, RuntimeError)):
            await task
        assert await stored_state(sessions, provider) == CircuitState.HALF_OPEN

        async with circuits.call(provider, can_fail_over=True):  # the next trial, accepted
            pass
        assert await stored_state(sessions, provider) == CircuitState.CLOSED
    finally:
        async with sessions.begin() as session:
            await session.execute(
                text("DELETE FROM provider_circuits WHERE provider = :p"), {"p": provider}
            )


async def stored_state(sessions, provider: str) -> str:
    async with sessions.begin() as session:
        query = text("SELECT state FROM provider_circuits WHERE provider = :p")
        return (await session.execute(query, {"p": provider})).scalar_one()
