"""Channel fallback per event key: the workflow waits for status news with a durable timeout."""

import json
import uuid
from datetime import timedelta
from pathlib import Path

from domain.contracts import DeliveryEvent
from domain.types import DeliveryStatus


async def setup(stack, within_minutes: float = 30) -> tuple[str, str]:
    response = await stack.api.put(
        "/v1/settings/delivery-policy",
        json={
            "fallbacks": {
                "booking.reminder": {
                    "from_channel": "email",
                    "to_channel": "sms",
                    "unless": "delivered",
                    "within_minutes": within_minutes,
                }
            }
        },
    )
    assert response.status_code == 200, response.text
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    await stack.api.put(
        f"/v1/recipients/{external_id}",
        json={"email": f"{external_id}@example.com", "phone": "+14155550123"},
    )
    accepted = (
        await stack.api.post(
            "/v1/notifications",
            json={
                "recipient": {"external_id": external_id},
                "event_key": "booking.reminder",
                "channels": ["email"],
                "context": {
                    "subject": "Tomorrow at 10",
                    "message": "Your call is tomorrow at 10:00.",
                },
            },
        )
    ).json()
    return accepted["id"], accepted["workflow_id"]


def sms_sent_for(stack, notification: dict) -> list[dict]:
    outbox = Path(stack.settings.sms_outbox_path)
    ids = {d["id"] for d in notification["deliveries"] if d["channel"] == "sms"}
    lines = (
        [json.loads(line) for line in outbox.read_text().splitlines()] if outbox.exists() else []
    )
    return [line for line in lines if line["reference"] in ids]


async def email_delivery_id(stack, notification_id: str) -> str:
    notification = await stack.notification(notification_id)
    return next(d["id"] for d in notification["deliveries"] if d["channel"] == "email")


async def test_a_bounce_falls_back_to_sms_at_once(ts_stack, smtp):
    notification_id, workflow_id = await setup(ts_stack)
    await ts_stack.wait_for_status(notification_id, "sending")
    email = await email_delivery_id(ts_stack, notification_id)
    await smtp.wait_for((await ts_stack.notification(notification_id))["deliveries"][0]["address"])

    handle = ts_stack.client.get_workflow_handle(workflow_id)
    await handle.signal("delivery_event", DeliveryEvent(uuid.UUID(email), DeliveryStatus.BOUNCED))
    result = await handle.result()
    assert {c["channel"]: c["status"] for c in result["channels"]} == {
        "email": "bounced",
        "sms": "sent",
    }
    notification = await ts_stack.wait_for_status(notification_id, "sent", "partially_failed")
    assert len(sms_sent_for(ts_stack, notification)) == 1


async def test_no_delivery_within_the_time_falls_back(ts_stack, time_skipping_env, smtp):
    notification_id, workflow_id = await setup(ts_stack, within_minutes=30)
    await ts_stack.wait_for_status(notification_id, "sending")
    handle = ts_stack.client.get_workflow_handle(workflow_id)
    await time_skipping_env.fast_forward(handle, timedelta(minutes=31))
    notification = await ts_stack.wait_for_status(notification_id, "sent")
    assert {d["channel"] for d in notification["deliveries"]} == {"email", "sms"}
    assert len(sms_sent_for(ts_stack, notification)) == 1


async def test_a_delivered_email_needs_no_fallback(ts_stack, smtp):
    notification_id, workflow_id = await setup(ts_stack)
    await ts_stack.wait_for_status(notification_id, "sending")
    email = await email_delivery_id(ts_stack, notification_id)
    handle = ts_stack.client.get_workflow_handle(workflow_id)
    await handle.signal("delivery_event", DeliveryEvent(uuid.UUID(email), DeliveryStatus.DELIVERED))
    result = await handle.result()
    assert [c["channel"] for c in result["channels"]] == ["email"]


async def test_fallback_rules_are_validated(ts_stack):
    response = await ts_stack.api.put(
        "/v1/settings/delivery-policy",
        json={
            "fallbacks": {
                "booking.reminder": {
                    "from_channel": "email",
                    "to_channel": "email",
                    "within_minutes": 5,
                }
            }
        },
    )
    assert response.status_code == 422 and "to_channel must differ" in response.json()["detail"]
    response = await ts_stack.api.put(
        "/v1/settings/delivery-policy",
        json={
            "fallbacks": {
                "booking.reminder": {
                    "from_channel": "email",
                    "to_channel": "sms",
                    "within_minutes": 0,
                }
            }
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("fallbacks.booking.reminder.within_minutes")
