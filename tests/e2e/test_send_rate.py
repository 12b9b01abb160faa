"""PROVIDER_RATE_LIMITS: a worker keeps to a provider's send rate; every message still goes."""

import uuid

from tests.e2e.test_email_smtp import email_request


async def test_a_worker_keeps_to_the_providers_send_rate(make_stack, temporal_env, smtp):
    async with make_stack(temporal_env, provider_rate_limits="smtp=5") as stack:
        addresses = [f"rate-{uuid.uuid4().hex[:8]}@example.com" for _ in range(15)]
        ids = [
            (await stack.api.post("/v1/notifications", json=email_request(a))).json()["id"]
            for a in addresses
        ]
        for notification_id in ids:
            await stack.wait_for_status(notification_id, "sent", timeout=60)
    arrivals = sorted(m.received_at for m in smtp.messages if m.recipients[0] in addresses)
    assert len(arrivals) == 15
    # A burst of 5, then 5 a second: 15 sends take at least 2 s, and no second holds more
    # than the burst and a second's rate.
    assert arrivals[-1] - arrivals[0] >= 1.8
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    assert busiest <= 10
