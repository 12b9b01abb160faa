"""No stored state strands a notification (issue 11): whatever its recipient's or tenant's rows
hold, planning either decides or fails for good, and the notification ends; one that fails
ends `failed` with a reason an operator sees in GET /v1/notifications/{id} and in /v1/logs,
instead of staying `accepted` while planning is retried without limit.

Each kind of bad state is written by SQL, as a bug, an older version or a hand edit would."""

import uuid

import pytest
from sqlalchemy import text

from domain.types import UNFINISHED_NOTIFICATION_STATUSES
from tests.conftest import Stack

FINISHED = ("sent", "failed", "partially_failed", "suppressed", "digested", "cancelled")


async def _recipient(stack: Stack) -> str:
    external_id = f"stored-{uuid.uuid4().hex[:10]}"
    put = await stack.api.put(
        f"/v1/recipients/{external_id}", json={"email": f"{external_id}@example.com"}
    )
    assert put.status_code == 200, put.text
    return external_id


async def _notify(stack: Stack, external_id: str) -> str:
    response = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": "payment.completed",
            "channels": ["email"],
            "context": {"subject": "Payment received", "message": "Thanks."},
        },
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


async def _write(sessions, sql: str, **values) -> None:
    async with sessions.begin() as session:
        await session.execute(text(sql), values)


# Stored state planning cannot read: (what, the SQL that stores it, a word the reason names).
UNREADABLE = [
    pytest.param(
        """INSERT INTO tenant_policy_settings (tenant_id, reminder_event_keys, urgent_bypass,
               fallbacks)
           VALUES (:tenant_id, '[]', '{}', '{"payment.completed": "sms"}')
           ON CONFLICT (tenant_id) DO UPDATE SET fallbacks = excluded.fallbacks""",
        "TypeError",
        id="tenant-fallback-rule-not-an-object",
    ),
    pytest.param(
        """INSERT INTO tenant_policy_settings (tenant_id, reminder_event_keys, urgent_bypass,
               fallbacks)
           VALUES (:tenant_id, '42', '{}', '{}')
           ON CONFLICT (tenant_id)
           DO UPDATE SET reminder_event_keys = excluded.reminder_event_keys""",
        "TypeError",
        id="tenant-reminder-keys-not-a-list",
    ),
]


@pytest.mark.parametrize(("sql", "named"), UNREADABLE)
async def test_stored_state_planning_cannot_read_ends_the_notification_failed_with_a_reason(
    stack, sessions, sql, named
):
    external_id = await _recipient(stack)
    await _write(sessions, sql, external_id=external_id, tenant_id=stack.tenant_id)

    notification_id = await _notify(stack, external_id)

    # Not retried: it cannot succeed. Well within the retry bound of a transient failure.
    ended = await stack.wait_for_status(notification_id, *FINISHED, timeout=20)
    assert ended["status"] == "failed"
    reason = ended["status_reason"]
    assert reason and named in reason and "plan_notification" in reason, reason
    [delivery] = ended["deliveries"]
    assert (delivery["channel"], delivery["status"]) == ("email", "failed")
    assert delivery["status_reason"] == reason
    assert delivery["address"] == f"{external_id}@example.com"
    # Where an operator looks for failures.
    logs = (await stack.api.get("/v1/logs", params={"status": "failed"})).json()["data"]
    [entry] = [e for e in logs if e["notification_id"] == notification_id]
    assert entry["status_reason"] == reason and entry["recipient"] == external_id


# Stored state of the wrong shape that planning reads past (the preferences as a whole are
# resolved to valid ones, services/preferences.py): the notification is sent as usual.
READABLE = [
    pytest.param(
        "UPDATE recipients SET preference_overrides = '\"not an object\"' "
        "WHERE external_id = :external_id",
        id="recipient-preferences-not-an-object",
    ),
    pytest.param(
        "UPDATE recipients SET preference_overrides = "
        """'{"dnd": {"enabled": true, "start": "09:00", "end": "09:00"}}' """
        "WHERE external_id = :external_id",
        id="recipient-dnd-window-of-zero-length",
    ),
    pytest.param(
        "UPDATE tenants SET preference_defaults = '[1, 2]' WHERE id = :tenant_id",
        id="tenant-defaults-not-an-object",
    ),
    # A zone name the tz database does not know is planned in UTC (domain/policy/inputs.py).
    pytest.param(
        "UPDATE recipients SET timezone = 'Mars/Olympus' WHERE external_id = :external_id",
        id="recipient-timezone-unknown",
    ),
]


@pytest.mark.parametrize("sql", READABLE)
async def test_stored_preferences_of_the_wrong_shape_do_not_strand_a_notification(
    stack, sessions, sql
):
    external_id = await _recipient(stack)
    await _write(sessions, sql, external_id=external_id, tenant_id=stack.tenant_id)

    notification_id = await _notify(stack, external_id)

    ended = await stack.wait_for_status(notification_id, *FINISHED, timeout=20)
    assert ended["status"] not in UNFINISHED_NOTIFICATION_STATUSES
    assert ended["status"] == "sent" and ended["status_reason"] is None
