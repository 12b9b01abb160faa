"""An outage of the only email provider delays mail; it never fails it. The SMTP server is
down (connection refused), the circuit opens, nothing ends `failed`; when the server is back,
every notification is delivered, once."""

import asyncio
import uuid

from pydantic import SecretStr

from devtools.mailcatcher import MailCatcher, start_mailcatcher
from tests.conftest import free_port
from tests.e2e.test_email_smtp import email_request

OUTAGE = dict(
    circuit_failure_threshold=2,
    circuit_window_seconds=30,
    circuit_cool_down_seconds=1,
    delivery_retry_initial_seconds=0.2,
    delivery_retry_max_interval_seconds=1,
    delivery_max_attempts=0,  # Herald's default: only the retry window bounds the attempts
    delivery_max_retry_seconds=300,
    provider_timeout_seconds=2,
    secret_key=SecretStr("provider-outage-test-key-0123456789"),
)


async def test_an_outage_of_the_only_provider_ends_with_every_message_delivered_once(
    make_stack, temporal_env
):
    port = free_port()  # nothing listens here yet: the SMTP server is down
    async with make_stack(temporal_env, smtp_port=port, **OUTAGE) as stack:
        addresses = [f"outage-{uuid.uuid4().hex[:8]}@example.com" for _ in range(12)]
        accepted = [
            (await stack.api.post("/v1/notifications", json=email_request(a))).json()["id"]
            for a in addresses
        ]
        await asyncio.sleep(6)  # attempts fail, the circuit opens and half-opens in turn
        during = [(await stack.notification(n))["status"] for n in accepted]
        assert "failed" not in during, during

        catcher = MailCatcher()
        server = start_mailcatcher(catcher, port=port)  # the server is back
        try:
            for notification_id in accepted:
                await stack.wait_for_status(notification_id, "sent", timeout=60)
            await asyncio.sleep(1)  # anything sent twice would have arrived by now
        finally:
            server.stop()
        arrived = [r for m in catcher.messages for r in m.recipients]
        assert sorted(arrived) == sorted(addresses)  # each once
        one = await stack.notification(accepted[0])
        assert one["deliveries"][0]["retry_count"] >= 1  # the attempts are visible


async def test_greylisting_and_rate_limits_are_not_an_outage(make_stack, temporal_env, smtp):
    """A 451 to each new address's first attempt (greylisting) is an answer about that message
    from a server that is up: it must not open the circuit, or every send behind it would wait
    for cool-downs, and each half-open trial, another address's first attempt, reopen it."""
    async with make_stack(
        temporal_env, circuit_failure_threshold=2, circuit_cool_down_seconds=60
    ) as stack:
        addresses = [f"grey-{uuid.uuid4().hex[:8]}@example.com" for _ in range(8)]
        smtp.script.extend(["451 4.7.1 greylisted, try again later"] * len(addresses))
        ids = [
            (await stack.api.post("/v1/notifications", json=email_request(a))).json()["id"]
            for a in addresses
        ]
        for notification_id in ids:  # a 60 s cool-down would stop these for a minute
            await stack.wait_for_status(notification_id, "sent", timeout=20)
        health = await stack.health_details()
        assert health["providers"]["email"]["circuits"].get("smtp", "closed") == "closed"
    assert sorted(r for m in smtp.messages for r in m.recipients if r in addresses) == sorted(
        addresses
    )
