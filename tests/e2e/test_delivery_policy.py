"""Preferences enforced inside the workflow: quiet hours, urgent, weekends, caps, digests."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.deliveries import load_notification_context
from db.models import Recipient
from domain.unsubscribe import verify
from tests.e2e.test_email_smtp import email_request

ZONE = "Asia/Tokyo"


async def recipient(stack, **preferences) -> tuple[str, str]:
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    address = f"{external_id}@example.com"
    response = await stack.api.put(
        f"/v1/recipients/{external_id}",
        json={"email": address, "phone": "+14155550123", "timezone": ZONE},
    )
    assert response.status_code == 200, response.text
    if preferences:
        response = await stack.api.put(
            f"/v1/recipients/{external_id}/preferences", json=preferences
        )
        assert response.status_code == 200, response.text
    return external_id, address


async def send(stack, external_id: str, event_key: str = "booking.confirmation", **extra) -> dict:
    body = {
        "recipient": {"external_id": external_id},
        "event_key": event_key,
        "channels": ["email"],
        "context": {"subject": f"About {event_key}", "message": "Details inside."},
        **extra,
    }
    response = await stack.api.post("/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def quiet_window_around_now() -> tuple[str, str, datetime]:
    """A DND window that began 90 minutes ago and ends in 7.5 hours, local to ZONE
    (as 22:00-07:00 is for a notification created at 23:30); returns start, end, end instant."""
    local_now = datetime.now(ZoneInfo(ZONE)).replace(second=0, microsecond=0)
    start, end = local_now - timedelta(minutes=90), local_now + timedelta(hours=7, minutes=30)
    return start.strftime("%H:%M"), end.strftime("%H:%M"), end.astimezone(UTC)


async def test_quiet_hours_defer_until_the_window_ends_in_the_recipients_zone(
    ts_stack, time_skipping_env, smtp
):
    start, end, ends_at = quiet_window_around_now()
    external_id, address = await recipient(
        ts_stack, dnd={"enabled": True, "start": start, "end": end}
    )
    accepted = await send(ts_stack, external_id)

    deferred = await ts_stack.wait_for_status(accepted["id"], "deferred")
    [delivery] = deferred["deliveries"]
    assert delivery["status"] == "deferred"
    assert datetime.fromisoformat(delivery["deferred_until"]) == ends_at
    assert (
        datetime.fromisoformat(delivery["deferred_until"])
        .astimezone(ZoneInfo(ZONE))
        .strftime("%H:%M")
        == end
    )
    assert delivery["status_reason"].startswith("dnd:")
    assert smtp.to(address) == []
    scheduled = (await ts_stack.api.get("/v1/scheduled")).json()["data"]
    [waiting] = [item for item in scheduled if item["id"] == accepted["id"]]
    assert datetime.fromisoformat(waiting["due_at"]) == ends_at  # listed with its deferral's end

    handle = ts_stack.client.get_workflow_handle(accepted["workflow_id"])
    await time_skipping_env.fast_forward(handle, timedelta(hours=7, minutes=31))
    await smtp.wait_for(address)
    sent = await ts_stack.wait_for_status(accepted["id"], "sent")
    assert sent["deliveries"][0]["status"] == "sent"


async def test_a_preference_change_during_a_deferral_is_honoured(ts_stack, smtp):
    start, end, _ = quiet_window_around_now()
    external_id, address = await recipient(
        ts_stack, dnd={"enabled": True, "start": start, "end": end}
    )
    accepted = await send(ts_stack, external_id)
    await ts_stack.wait_for_status(accepted["id"], "deferred")

    response = await ts_stack.api.patch(
        f"/v1/recipients/{external_id}/preferences", json={"dnd": {"enabled": False}}
    )
    assert response.status_code == 200
    await smtp.wait_for(address)  # no time skipped: the change woke the workflow
    await ts_stack.wait_for_status(accepted["id"], "sent")


async def test_an_opt_out_during_a_deferral_suppresses_it(ts_stack, smtp):
    start, end, _ = quiet_window_around_now()
    external_id, address = await recipient(
        ts_stack, dnd={"enabled": True, "start": start, "end": end}
    )
    accepted = await send(ts_stack, external_id)
    await ts_stack.wait_for_status(accepted["id"], "deferred")

    await ts_stack.api.patch(
        f"/v1/recipients/{external_id}/preferences", json={"channels": {"email": False}}
    )
    done = await ts_stack.wait_for_status(accepted["id"], "suppressed")
    assert done["deliveries"][0]["status_reason"].startswith("channel_disabled:")
    assert smtp.to(address) == []


async def test_urgent_bypasses_quiet_hours_but_not_an_opt_out(ts_stack, smtp):
    start, end, _ = quiet_window_around_now()
    external_id, address = await recipient(
        ts_stack,
        dnd={"enabled": True, "start": start, "end": end},
        rules={"security": {"sms": False}},
    )
    urgent = await send(
        ts_stack, external_id, "security.login_alert", priority="urgent", channels=["email", "sms"]
    )
    done = await ts_stack.wait_for_status(urgent["id"], "sent")
    by_channel = {d["channel"]: d for d in done["deliveries"]}
    assert by_channel["email"]["status"] == "sent"
    assert by_channel["sms"]["status"] == "suppressed"
    await smtp.wait_for(address)


async def test_urgent_bypass_can_be_turned_off_per_event_key(ts_stack, smtp):
    response = await ts_stack.api.put(
        "/v1/settings/delivery-policy", json={"urgent_bypass": {"payment.failed": False}}
    )
    assert response.status_code == 200, response.text
    start, end, _ = quiet_window_around_now()
    external_id, _ = await recipient(ts_stack, dnd={"enabled": True, "start": start, "end": end})
    accepted = await send(ts_stack, external_id, "payment.failed", priority="urgent")
    await ts_stack.wait_for_status(accepted["id"], "deferred")


def today_weekday() -> int:
    return datetime.now(ZoneInfo(ZONE)).weekday()


async def test_weekend_reminders_move_to_the_next_weekday(ts_stack):
    external_id, _ = await recipient(
        ts_stack,
        exclude_weekends_reminders=True,
        weekend_reminder_action="move",
        weekend_days=[today_weekday()],
    )
    accepted = await send(ts_stack, external_id, "booking.reminder")
    deferred = await ts_stack.wait_for_status(accepted["id"], "deferred")
    [delivery] = deferred["deliveries"]
    until = datetime.fromisoformat(delivery["deferred_until"]).astimezone(ZoneInfo(ZONE))
    assert until.date() == datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=1)
    assert delivery["status_reason"].startswith("weekend:")


async def test_weekend_reminders_drop_when_configured(ts_stack):
    external_id, _ = await recipient(
        ts_stack,
        exclude_weekends_reminders=True,
        weekend_reminder_action="drop",
        weekend_days=[today_weekday()],
    )
    accepted = await send(ts_stack, external_id, "booking.reminder")
    done = await ts_stack.wait_for_status(accepted["id"], "suppressed")
    assert done["deliveries"][0]["status_reason"].startswith("weekend_drop:")


async def test_the_eleventh_reminder_of_a_day_with_a_cap_of_ten_is_suppressed(stack, smtp):
    external_id, address = await recipient(stack, max_reminders_per_day=10)
    statuses = []
    for _ in range(11):
        accepted = await send(stack, external_id, "booking.reminder")
        statuses.append(
            (await stack.wait_for_status(accepted["id"], "sent", "suppressed"))["status"]
        )
    assert statuses == ["sent"] * 10 + ["suppressed"]
    last = await stack.notification(accepted["id"])
    assert last["deliveries"][0]["status_reason"].startswith("daily_cap:")
    assert len(await smtp.wait_for(address, count=10)) == 10


async def test_the_daily_cap_holds_under_concurrency(stack, smtp):
    external_id, address = await recipient(stack, max_reminders_per_day=3)
    accepted = await asyncio.gather(
        *(send(stack, external_id, "booking.reminder") for _ in range(8))
    )
    final = [await stack.wait_for_status(a["id"], "sent", "suppressed") for a in accepted]
    assert sorted(n["status"] for n in final) == ["sent"] * 3 + ["suppressed"] * 5
    await asyncio.sleep(0.5)
    assert len(smtp.to(address)) == 3


async def test_an_hourly_digest_of_five_events_arrives_once_with_all_five(
    ts_stack, time_skipping_env, smtp, sessions
):
    external_id, address = await recipient(ts_stack, digests={"ticket": {"frequency": "hourly"}})
    accepted = [
        await send(ts_stack, external_id, "ticket.replied", context={"subject": f"Reply {i}"})
        for i in range(5)
    ]
    for notification in accepted:
        done = await ts_stack.wait_for_status(notification["id"], "digested")
        assert done["deliveries"][0]["status"] == "digested"
    assert smtp.to(address) == []

    async with sessions() as session:
        recipient_id = await session.scalar(
            select(Recipient.id).where(
                Recipient.tenant_id == ts_stack.tenant_id, Recipient.external_id == external_id
            )
        )
    handle = ts_stack.client.get_workflow_handle(
        f"digest-{ts_stack.tenant_id}-{recipient_id}-ticket-hourly"
    )
    await time_skipping_env.fast_forward(handle, timedelta(hours=1, minutes=1))
    [digest] = await smtp.wait_for(address)
    assert "5 updates" in digest.subject
    token = digest.message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert verify(ts_stack.settings.signing_key(), token).category == "ticket"  # not "digest"
    for i in range(5):
        assert f"Reply {i}" in digest.text()
    await asyncio.sleep(1)
    assert len(smtp.to(address)) == 1


async def test_a_waiting_channel_is_decided_again_even_after_the_preferred_method_changed(
    ts_stack, smtp
):
    start, end, _ = quiet_window_around_now()
    external_id, address = await recipient(
        ts_stack, dnd={"enabled": True, "start": start, "end": end}
    )
    body = {
        "recipient": {"external_id": external_id},
        "event_key": "booking.confirmation",
        "context": {"subject": "Booked", "message": "See you."},
    }  # channels from the preferred method
    accepted = (await ts_stack.api.post("/v1/notifications", json=body)).json()
    await ts_stack.wait_for_status(accepted["id"], "deferred")

    await ts_stack.api.patch(
        f"/v1/recipients/{external_id}/preferences",
        json={"preferred_method": "sms", "dnd": {"enabled": False}},
    )
    await smtp.wait_for(address)  # the waiting email channel went out; nothing spins
    done = await ts_stack.wait_for_status(accepted["id"], "sent")
    assert [d["channel"] for d in done["deliveries"]] == ["email"]


async def test_a_tenants_retry_window_is_set_validated_and_reaches_planning(stack, sessions):
    assert (await stack.api.get("/v1/settings/delivery-policy")).json()[
        "retry_window_minutes"
    ] is None
    for bad in (0, 4321, "60", 1.5):
        refused = await stack.api.put(
            "/v1/settings/delivery-policy", json={"retry_window_minutes": bad}
        )
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["errors"][0]["field"] == "retry_window_minutes"
    saved = await stack.api.put("/v1/settings/delivery-policy", json={"retry_window_minutes": 30})
    assert saved.status_code == 200, saved.text
    policy = (await stack.api.get("/v1/settings/delivery-policy")).json()
    assert policy["retry_window_minutes"] == 30

    accepted = await stack.api.post("/v1/notifications", json=email_request("window@example.com"))
    async with sessions() as session:
        loaded = await load_notification_context(
            session, uuid.UUID(accepted.json()["id"]), stack.tenant_id
        )
    assert loaded is not None and loaded.policy_settings.retry_window_minutes == 30
