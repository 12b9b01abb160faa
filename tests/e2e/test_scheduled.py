"""send_at: a durable timer, fast-forwarded by a time-skipping Temporal server; cancel before it
fires."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.test_email_smtp import email_request


def in_two_days() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


async def test_send_at_two_days_ahead_sends_after_the_timer(ts_stack, time_skipping_env, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    accepted = (
        await ts_stack.api.post(
            "/v1/notifications", json=email_request(address, send_at=in_two_days())
        )
    ).json()
    scheduled = await ts_stack.wait_for_status(accepted["id"], "scheduled")
    assert scheduled["deliveries"][0]["status"] == "pending"
    assert smtp.to(address) == []

    handle = ts_stack.client.get_workflow_handle(accepted["workflow_id"])
    await time_skipping_env.fast_forward(handle, timedelta(days=2, minutes=1))

    await smtp.wait_for(address)
    notification = await ts_stack.wait_for_status(accepted["id"], "sent")
    assert notification["deliveries"][0]["status"] == "sent"


async def test_cancel_before_send_at_sends_nothing(ts_stack, time_skipping_env, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    body = email_request(address, send_at=in_two_days(), channels=["email", "in_app"])
    accepted = (await ts_stack.api.post("/v1/notifications", json=body)).json()
    await ts_stack.wait_for_status(accepted["id"], "scheduled")

    response = await ts_stack.api.post(f"/v1/notifications/{accepted['id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["cancelled"] is True

    notification = await ts_stack.wait_for_status(accepted["id"], "cancelled")
    assert {d["status"] for d in notification["deliveries"]} == {"cancelled"}
    assert {d["status_reason"] for d in notification["deliveries"]} == {"cancelled before sending"}
    handle = ts_stack.client.get_workflow_handle(accepted["workflow_id"])
    assert (await handle.result())["status"] == "cancelled"  # the workflow ended: no timer left
    assert smtp.to(address) == []

    again = await ts_stack.api.post(f"/v1/notifications/{accepted['id']}/cancel")
    assert again.status_code == 409


async def test_cancel_after_sending_changes_nothing(stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    accepted = (await stack.api.post("/v1/notifications", json=email_request(address))).json()
    await stack.wait_for_status(accepted["id"], "sent")

    response = await stack.api.post(f"/v1/notifications/{accepted['id']}/cancel")
    assert response.status_code == 409
    assert (await stack.notification(accepted["id"]))["deliveries"][0]["status"] == "sent"


async def test_workflow_query_and_search_attributes(stack, smtp):
    accepted = (
        await stack.api.post("/v1/notifications", json=email_request("sa@example.com"))
    ).json()
    await stack.wait_for_status(accepted["id"], "sent")
    handle = stack.client.get_workflow_handle(accepted["workflow_id"])
    state = await handle.query("status")
    assert state["status"] == "sent" and state["channels"][0]["channel"] == "email"

    query = (
        f"HeraldTenant = '{stack.tenant_id}' AND HeraldEventKey = 'payment.completed' "
        "AND HeraldStatus = 'sent' AND HeraldChannels = 'email'"
    )

    async def found() -> list[str]:
        return [w.id async for w in stack.client.list_workflows(query)]

    for _ in range(50):  # visibility is eventually consistent
        if accepted["workflow_id"] in await found():
            break
        await asyncio.sleep(0.1)
    assert await found() == [accepted["workflow_id"]]
