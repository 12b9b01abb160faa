"""Factories and probes for booking-chain tests: event bodies, chain state, stored notifications,
and moving a chain's virtual clock on the time-skipping server."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from db.booking_models import Booking
from db.models import Notification, Recipient


def booking_event(
    type: str,
    booking_id: str,
    start: datetime,
    *,
    minutes: int = 30,
    organizer_id: str = "org-ada",
    organizer_tz: str = "America/New_York",
    invitee_email: str = "guest@example.com",
    invitee_tz: str = "Europe/Berlin",
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    **data: Any,
) -> dict:
    return {
        "id": event_id or f"evt-{uuid.uuid4().hex[:12]}",
        "type": type,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "data": {
            "booking_id": booking_id,
            "organizer": {
                "id": organizer_id,
                "name": "Ada Organizer",
                "email": f"{organizer_id}@example.com",
                "timezone": organizer_tz,
            },
            "invitee": {"name": "Grace Guest", "email": invitee_email, "timezone": invitee_tz},
            "event_name": "Intro call",
            "event_description": "A short call to get started.",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(),
            "meeting_link": "https://meet.example.com/j/1",
            "booking_url": f"https://book.example.com/b/{booking_id}",
            "custom_answers": {"Company": "Acme"},
            **data,
        },
    }


def new_booking_id() -> str:
    return f"bk-{uuid.uuid4().hex[:10]}"


def new_address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


async def post_event(stack, body: dict, expect: int = 202) -> dict:
    response = await stack.api.post("/v1/events", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def chain(stack, booking_id: str):
    return stack.client.get_workflow_handle(f"booking-{stack.tenant_id}-{booking_id}")


async def state(stack, booking_id: str) -> dict:
    return await chain(stack, booking_id).query("state")


async def eventually(probe, check, timeout: float = 20.0, what: str = "condition"):
    """Poll the async `probe` until `check(result)` holds; returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if check(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {result}")
        await asyncio.sleep(0.1)


async def notifications(sessions, tenant_id, key_prefix: str) -> list[tuple[Notification, str]]:
    """The notifications whose idempotency key starts with `key_prefix`, with their recipient's
    external id."""
    async with sessions() as session:
        rows = await session.execute(
            select(Notification, Recipient.external_id)
            .join(Recipient, Recipient.id == Notification.recipient_id)
            .where(
                Notification.tenant_id == tenant_id,
                Notification.idempotency_key.startswith(key_prefix),
            )
            .order_by(Notification.created_at)
        )
        return [tuple(row) for row in rows.all()]


async def recorded_status(sessions, tenant_id, booking_id: str) -> str | None:
    """The booking's status in the bookings table, as its chain last recorded it."""
    async with sessions() as session:
        return await session.scalar(
            select(Booking.status).where(Booking.tenant_id == tenant_id, Booking.id == booking_id)
        )


def keys(rows) -> set[str]:
    return {notification.idempotency_key for notification, _ in rows}


DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


def whole_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def send(env, stack, body: dict, expect: int = 202) -> dict:
    with env.with_time_skipping_disabled():  # the chain's clock moves only by fast_forward
        return await post_event(stack, body, expect)


async def advance_to(env, stack, booking_id: str, moment: datetime) -> None:
    handle = chain(stack, booking_id)
    await env.fast_forward(handle, moment - await env.get_current_time(handle))


async def sent_count(stack, booking_id: str, count: int) -> dict:
    return await eventually(
        lambda: state(stack, booking_id),
        lambda s: len(s["reminders_sent"]) >= count,
        what=f"{count} reminders",
    )
