"""SMS outbox and in-app channels, channel choice from preferences, and opt-out suppression."""

import json
import uuid
from pathlib import Path

from sqlalchemy import select

from db.models import InAppMessage


def new_recipient_id() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def put_recipient(stack, external_id: str, **fields) -> None:
    body = {
        "email": f"{external_id}@example.com",
        "phone": "+14155550123",
        "name": "Grace",
        **fields,
    }
    response = await stack.api.put(f"/v1/recipients/{external_id}", json=body)
    assert response.status_code == 200, response.text


async def test_sms_goes_to_the_development_outbox(stack):
    external_id = new_recipient_id()
    await put_recipient(stack, external_id)
    accepted = (
        await stack.api.post(
            "/v1/notifications",
            json={
                "recipient": {"external_id": external_id},
                "event_key": "booking.reminder",
                "channels": ["sms"],
                "context": {"message": "See you at 10:00"},
            },
        )
    ).json()

    notification = await stack.wait_for_status(accepted["id"], "sent")
    [delivery] = notification["deliveries"]
    lines = [
        json.loads(line) for line in Path(stack.settings.sms_outbox_path).read_text().splitlines()
    ]
    [sms] = [line for line in lines if line["reference"] == delivery["id"]]
    assert (sms["to"], sms["body"]) == ("+14155550123", "See you at 10:00")
    assert delivery["provider"] == "outbox" and delivery["provider_message_id"] == sms["id"]


async def test_in_app_message_is_stored_as_delivered(stack, sessions):
    external_id = new_recipient_id()
    await put_recipient(stack, external_id)
    accepted = (
        await stack.api.post(
            "/v1/notifications",
            json={
                "recipient": {"external_id": external_id},
                "event_key": "system.alert",
                "priority": "high",
                "channels": ["in_app"],
                "context": {
                    "title": "New login",
                    "message": "A new device signed in.",
                    "action_url": "/security",
                },
            },
        )
    ).json()

    notification = await stack.wait_for_status(accepted["id"], "sent")
    [delivery] = notification["deliveries"]
    assert delivery["status"] == "delivered" and delivery["delivered_at"]
    async with sessions() as session:
        message = await session.scalar(
            select(InAppMessage).where(InAppMessage.id == uuid.UUID(delivery["id"]))
        )
    assert (message.title, message.body, message.action_url, message.priority) == (
        "New login",
        "A new device signed in.",
        "/security",
        "high",
    )


async def test_channels_come_from_the_preferred_method(stack, smtp):
    external_id = new_recipient_id()
    await put_recipient(stack, external_id)
    response = await stack.api.patch(
        f"/v1/recipients/{external_id}/preferences", json={"preferred_method": "both"}
    )
    assert response.status_code == 200, response.text
    accepted = (
        await stack.api.post(
            "/v1/notifications",
            json={
                "recipient": {"external_id": external_id},
                "event_key": "payment.completed",
                "context": {"message": "Paid"},
            },
        )
    ).json()

    notification = await stack.wait_for_status(accepted["id"], "sent")
    assert sorted(d["channel"] for d in notification["deliveries"]) == ["email", "sms"]
    assert all(d["status"] == "sent" for d in notification["deliveries"])


async def test_opted_out_channels_are_suppressed_with_the_reason(stack, smtp):
    external_id = new_recipient_id()
    await put_recipient(stack, external_id)
    await stack.api.put(
        f"/v1/recipients/{external_id}/preferences",
        json={"channels": {"sms": False}, "rules": {"payment": {"email": False}}},
    )
    accepted = (
        await stack.api.post(
            "/v1/notifications",
            json={
                "recipient": {"external_id": external_id},
                "event_key": "payment.completed",
                "channels": ["email", "sms", "in_app"],
                "context": {"message": "Paid"},
            },
        )
    ).json()

    notification = await stack.wait_for_status(accepted["id"], "sent")
    by_channel = {d["channel"]: d for d in notification["deliveries"]}
    assert by_channel["email"]["status"] == "suppressed"
    assert (
        by_channel["email"]["status_reason"]
        == "rule_disabled: email is switched off for the payment category by the recipient"
    )
    assert by_channel["sms"]["status"] == "suppressed"
    assert (
        by_channel["sms"]["status_reason"]
        == "channel_disabled: sms is switched off by the recipient"
    )
    assert by_channel["in_app"]["status"] == "delivered"
    assert smtp.to(f"{external_id}@example.com") == []


async def test_everything_suppressed_means_nothing_is_sent(stack, smtp):
    external_id = new_recipient_id()
    await put_recipient(stack, external_id)
    await stack.api.put(
        f"/v1/recipients/{external_id}/preferences", json={"muted_event_keys": ["marketing.promo"]}
    )
    accepted = (
        await stack.api.post(
            "/v1/notifications",
            json={
                "recipient": {"external_id": external_id},
                "event_key": "marketing.promo",
                "channels": ["email"],
            },
        )
    ).json()

    notification = await stack.wait_for_status(accepted["id"], "suppressed")
    assert (
        notification["deliveries"][0]["status_reason"]
        == "event_muted: marketing.promo is muted by the recipient"
    )


async def test_preference_validation_names_the_field(stack):
    external_id = new_recipient_id()
    await put_recipient(stack, external_id)
    cases = {
        "max_reminders_per_day": {"max_reminders_per_day": 51},
        "dnd": {"dnd": {"enabled": True, "start": "22:00", "end": "22:00"}},
        "channels.fax": {"channels": {"fax": True}},
        "reminder_minutes_before.0": {"reminder_minutes_before": [-5]},
        "daily_agenda_time": {"daily_agenda_time": "25:00"},
        "dnd.start": {"dnd": {"start": "7pm"}},
        "muted_event_keys": {"muted_event_keys": ["Not A Key"]},
        "rules": {"rules": {"booking reminder": {"email": False}}},
        "preferred_method": {"preferred_method": "fax"},
        "weekend_days": {"weekend_days": [0, 1, 2, 3, 4, 5, 6]},
        "rate_limit.max_count": {"rate_limit": {"max_count": 0, "window_minutes": 60}},
        "digests.booking.frequency": {"digests": {"booking": {"frequency": "monthly"}}},
    }
    for field, body in cases.items():
        response = await stack.api.patch(f"/v1/recipients/{external_id}/preferences", json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"].startswith(field), response.text
    assert (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json()[
        "max_reminders_per_day"
    ] == 10

    defaults = await stack.api.put("/v1/preferences/defaults", json={"max_reminders_per_day": 0})
    assert defaults.status_code == 422 and defaults.json()["detail"].startswith(
        "max_reminders_per_day"
    )
