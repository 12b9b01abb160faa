"""Two requests at the same moment with one Idempotency-Key and different recipient details:
exactly one is accepted, the refused one (409) writes nothing, and the accepted notification is
sent to the accepted request's address, under any interleaving (issue 11). A notification also
keeps the addresses it was accepted with: a later write to its recipient cannot redirect it."""

import asyncio
import uuid

import httpx
from sqlalchemy import text

from activities.planning import PlanningActivities
from db.recipients import RecipientUpsert
from domain.contracts import PlanInput
from domain.types import DeliveryStatus
from services.new_notifications import NewNotification, accept, idempotency_key_digest
from tests.conftest import Stack
from tests.e2e.test_email_smtp import email_request

PAIRS = 200
AT_ONCE = 20  # pairs in flight together: 40 concurrent requests, within the API's DB pool


def _contact(external_id: str, tag: str) -> dict:
    return {"external_id": external_id, "email": f"{tag}@example.com", "name": f"Name {tag}"}


async def _pair(stack: Stack, existing: bool) -> tuple[list[httpx.Response], list[dict]]:
    """Two requests with one key and different contact details for one recipient, at once."""
    external_id = f"race-{uuid.uuid4().hex[:12]}"
    if existing:  # the recipient is known already, with a third address
        await stack.api.put(
            f"/v1/recipients/{external_id}", json={"email": f"{external_id}-old@example.com"}
        )
    headers = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    tags = [f"{external_id}-{side}" for side in ("a", "b")]
    bodies = [
        email_request(f"{tag}@example.com", recipient=_contact(external_id, tag)) for tag in tags
    ]
    responses = await asyncio.gather(
        *(stack.api.post("/v1/notifications", json=body, headers=headers) for body in bodies)
    )
    return list(responses), bodies


async def test_concurrent_conflicting_pairs_send_to_the_accepted_request_only(stack, smtp):
    pairs: list[tuple[list[httpx.Response], list[dict]]] = []
    for start in range(0, PAIRS, AT_ONCE):
        pairs += await asyncio.gather(
            *(_pair(stack, existing=i % 2 == 0) for i in range(start, start + AT_ONCE))
        )

    for responses, bodies in pairs:
        codes = sorted(r.status_code for r in responses)
        assert codes == [202, 409], [r.text for r in responses]
        winner = next(b for r, b in zip(responses, bodies, strict=True) if r.status_code == 202)
        notification_id = next(r.json()["id"] for r in responses if r.status_code == 202)
        contact = winner["recipient"]
        stored = (await stack.api.get(f"/v1/recipients/{contact['external_id']}")).json()
        assert (stored["email"], stored["name"]) == (contact["email"], contact["name"])
        sent = await stack.wait_for_status(notification_id, "sent", timeout=60)
        assert [d["address"] for d in sent["deliveries"]] == [contact["email"]]
    # What reached the SMTP server: every accepted address once, no refused address at all.
    for responses, bodies in pairs:
        for response, body in zip(responses, bodies, strict=True):
            address = body["recipient"]["email"]
            if response.status_code == 202:
                await smtp.wait_for(address)
            assert len(smtp.to(address)) == (1 if response.status_code == 202 else 0), address


async def test_concurrent_requests_with_their_own_keys_each_reach_their_own_address(stack, smtp):
    """Two accepted notifications for one recipient, each with other inline details: the
    second's write to the recipient does not redirect the first."""
    external_ids = [f"both-{uuid.uuid4().hex[:12]}" for _ in range(PAIRS // 2)]

    async def both(external_id: str) -> list[tuple[str, str]]:
        tags = [f"{external_id}-{side}" for side in ("a", "b")]
        responses = await asyncio.gather(
            *(
                stack.api.post(
                    "/v1/notifications",
                    json=email_request(f"{tag}@example.com", recipient=_contact(external_id, tag)),
                )
                for tag in tags
            )
        )
        assert [r.status_code for r in responses] == [202, 202]
        return [
            (r.json()["id"], f"{tag}@example.com") for r, tag in zip(responses, tags, strict=True)
        ]

    accepted = []
    for start in range(0, len(external_ids), AT_ONCE):
        for pair in await asyncio.gather(*map(both, external_ids[start : start + AT_ONCE])):
            accepted += pair
    for notification_id, address in accepted:
        sent = await stack.wait_for_status(notification_id, "sent", timeout=60)
        assert [d["address"] for d in sent["deliveries"]] == [address]


async def an_unplanned_notification(stack, sessions, external_id: str, email: str):
    """Accepted, its workflow on a task queue no worker polls: nothing plans it but the test."""
    key = f"unplanned-{uuid.uuid4()}"
    idle = stack.settings.model_copy(update={"task_queue": f"nobody-polls-{uuid.uuid4()}"})
    async with sessions() as session:
        accepted = await accept(
            session,
            stack.client,
            idle,
            NewNotification(
                tenant_id=stack.tenant_id,
                event_key="payment.completed",
                idempotency_key=key,
                request_digest=idempotency_key_digest(key),
                contact=RecipientUpsert(stack.tenant_id, external_id, {"email": email}),
                channels=["email"],
                context={"subject": "s", "message": "m"},
            ),
        )
    return accepted.notification


async def test_a_later_write_to_the_recipient_does_not_redirect_an_accepted_notification(
    stack, sessions
):
    """Accepted (its workflow on a task queue no worker polls, so it waits), then the recipient
    changes address, then planned: the plan sends to the address it was accepted with."""
    external_id = f"later-{uuid.uuid4().hex[:12]}"
    notification = await an_unplanned_notification(
        stack, sessions, external_id, "accepted@example.com"
    )
    changed = await stack.api.put(
        f"/v1/recipients/{external_id}", json={"email": "changed-later@example.com"}
    )
    assert changed.status_code == 200, changed.text

    plan = await PlanningActivities(sessions).plan_notification(
        PlanInput(notification.id, stack.tenant_id, notification.created_at, None)
    )
    assert [c.status for c in plan.channels] == [DeliveryStatus.PENDING]
    async with sessions() as session:
        addresses = (
            await session.scalars(
                text("SELECT address FROM deliveries WHERE notification_id = :id"),
                {"id": notification.id},
            )
        ).all()
    assert addresses == ["accepted@example.com"]
    await stack.client.get_workflow_handle(notification.workflow_id).terminate("test done")
