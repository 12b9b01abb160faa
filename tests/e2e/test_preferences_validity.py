"""No stored preferences strand a notification: a defaults change that would make some
recipient's own settings invalid is refused (naming them), and whatever is stored already,
however it got there, reads as valid preferences and plans."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from db.models import Recipient, Tenant
from tests.utils.bad_preferences import BAD_STORED_STATE

QUIET_FROM_21 = {"dnd": {"enabled": True, "start": "21:00", "end": "07:00"}}


def new_id() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def recipient(stack, **preferences) -> str:
    external_id = new_id()
    response = await stack.api.put(
        f"/v1/recipients/{external_id}", json={"email": f"{external_id}@example.com"}
    )
    assert response.status_code == 200, response.text
    if preferences:
        response = await stack.api.put(
            f"/v1/recipients/{external_id}/preferences", json=preferences
        )
        assert response.status_code == 200, response.text
    return external_id


async def send(stack, external_id: str, event_key: str = "system.alert") -> dict:
    response = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": event_key,
            "channels": ["email"],
            "priority": "urgent",  # not held by quiet hours: it is sent or suppressed now
            "context": {"subject": "Hello", "message": "Hello"},
        },
    )
    assert response.status_code == 202, response.text
    return response.json()


async def test_a_defaults_change_that_would_strand_recipients_is_refused_naming_them(stack):
    assert (await stack.api.put("/v1/preferences/defaults", json=QUIET_FROM_21)).status_code == 200
    # Quiet 21:00-22:00 is valid over those defaults; the defaults starting at 22:00 make it
    # a window of zero length.
    stranded = sorted([await recipient(stack, dnd={"end": "22:00"}) for _ in range(12)])
    unaffected = await recipient(stack, dnd={"end": "23:00"})

    response = await stack.api.put(
        "/v1/preferences/defaults", json={"dnd": {"enabled": True, "start": "22:00"}}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "dnd"
    detail = problem["detail"]
    assert "12 recipient(s)" in detail and "zero length" in detail
    assert all(repr(e) in detail for e in stranded[:10]) and "and 2 more" in detail
    assert repr(unaffected) not in detail

    # Nothing was written: the defaults and every recipient read as before.
    defaults = (await stack.api.get("/v1/preferences/defaults")).json()
    assert defaults["dnd"]["start"] == "21:00:00"
    prefs = await stack.api.get(f"/v1/recipients/{stranded[0]}/preferences")
    assert prefs.status_code == 200 and prefs.json()["dnd"]["end"] == "22:00:00"

    # A change that strands no one goes through.
    response = await stack.api.put(
        "/v1/preferences/defaults", json={"dnd": {"enabled": True, "start": "20:00"}}
    )
    assert response.status_code == 200, response.text


async def test_stored_state_already_invalid_does_not_block_an_unrelated_defaults_change(
    stack, sessions
):
    legacy = await recipient(stack)
    async with sessions.begin() as session:
        await session.execute(
            update(Recipient)
            .where(Recipient.tenant_id == stack.tenant_id, Recipient.external_id == legacy)
            .values(preference_overrides={"max_reminders_per_day": 0})
        )
    response = await stack.api.put("/v1/preferences/defaults", json={"preferred_method": "both"})
    assert response.status_code == 200, response.text


async def test_every_kind_of_bad_stored_state_reads_and_plans(stack, sessions):
    """Each case stored as an older version could have (straight into the database): the
    preferences GET answers 200 with the stored opt-out kept, and a notification to the
    recipient is planned at once, never stranded."""
    cases = {}
    for name, (defaults, overrides, _) in BAD_STORED_STATE.items():
        external_id = await recipient(stack)
        cases[name] = (external_id, defaults, overrides)

    for name, (external_id, defaults, overrides) in cases.items():
        async with sessions.begin() as session:
            await session.execute(
                update(Tenant)
                .where(Tenant.id == stack.tenant_id)
                .values(preference_defaults=defaults)
            )
            await session.execute(
                update(Recipient)
                .where(Recipient.tenant_id == stack.tenant_id, Recipient.external_id == external_id)
                .values(preference_overrides=overrides)
            )
        response = await stack.api.get(f"/v1/recipients/{external_id}/preferences")
        assert response.status_code == 200, (name, response.text)
        assert response.json()["rules"]["booking"] == {"email": False}, name
        # The stored opt-out holds in planning too; a notification the opt-out does not
        # cover is sent.
        opted_out = await send(stack, external_id, "booking.confirmation")
        done = await stack.wait_for_status(opted_out["id"], "suppressed")
        assert done["deliveries"][0]["status_reason"].startswith("rule_disabled:"), name
        other = await send(stack, external_id)
        await stack.wait_for_status(other["id"], "sent", "delivered")


async def test_bad_stored_defaults_read_and_plan(stack, sessions):
    external_id = await recipient(stack)
    for stored in (
        {"dnd": {"enabled": True, "start": "09:00", "end": "09:00"}, "timezone": "Mars/Base"},
        ["not", "an", "object"],
        "off",
    ):
        async with sessions.begin() as session:
            await session.execute(
                update(Tenant)
                .where(Tenant.id == stack.tenant_id)
                .values(preference_defaults=stored)
            )
        assert (await stack.api.get("/v1/preferences/defaults")).status_code == 200
        response = await stack.api.get(f"/v1/recipients/{external_id}/preferences")
        assert response.status_code == 200, (stored, response.text)
        # A recipient's own change is still accepted over them.
        response = await stack.api.patch(
            f"/v1/recipients/{external_id}/preferences", json={"preferred_method": "email"}
        )
        assert response.status_code == 200, (stored, response.text)
        accepted = await send(stack, external_id)
        await stack.wait_for_status(accepted["id"], "sent", "delivered")


async def test_a_defaults_change_and_a_recipients_change_cannot_interleave_into_a_bad_state(
    stack,
):
    """Whichever commits first, the other is checked against it: the stored pair is valid."""
    assert (await stack.api.put("/v1/preferences/defaults", json=QUIET_FROM_21)).status_code == 200
    for _ in range(10):
        external_id = await recipient(stack)
        own, defaults = await asyncio.gather(
            stack.api.patch(
                f"/v1/recipients/{external_id}/preferences", json={"dnd": {"end": "22:00"}}
            ),
            stack.api.put(
                "/v1/preferences/defaults", json={"dnd": {"enabled": True, "start": "22:00"}}
            ),
        )
        # Not both: together they make a window of zero length.
        assert not (own.status_code == 200 and defaults.status_code == 200), (own, defaults)
        await stack.api.put("/v1/preferences/defaults", json=QUIET_FROM_21)
        await stack.api.put(f"/v1/recipients/{external_id}/preferences", json={})


async def test_a_recipient_stored_with_no_real_zone_or_locale_still_plans(stack, sessions):
    # Quiet for one minute, half a day from now in UTC (where a zone that is none counts): a
    # fixed minute such as 00:00-00:01 would defer the sends when the suite runs in it.
    later = datetime.now(UTC) + timedelta(hours=12)
    window = {
        "start": later.strftime("%H:%M"),
        "end": (later + timedelta(minutes=1)).strftime("%H:%M"),
    }
    external_id = await recipient(stack, dnd={"enabled": True, **window})
    for timezone, locale in (("Mars/Base", "en"), ("", "xx-NOPE"), ("../../etc/passwd", "")):
        async with sessions.begin() as session:
            await session.execute(
                update(Recipient)
                .where(Recipient.tenant_id == stack.tenant_id, Recipient.external_id == external_id)
                .values(timezone=timezone, locale=locale)
            )
        accepted = await send(stack, external_id, "booking.reminder")
        await stack.wait_for_status(accepted["id"], "sent", "delivered")
