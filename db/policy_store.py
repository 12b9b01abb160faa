"""Reads and atomic writes for the delivery policy: tenant settings and send counters."""

import json
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.policy import DEFAULT_REMINDER_EVENT_KEYS, TenantSettings

_SETTINGS = text(
    "SELECT reminder_event_keys, urgent_bypass, fallbacks, retry_window_minutes"
    " FROM tenant_policy_settings"
    " WHERE tenant_id = :tenant_id"
)


async def policy_settings(
    session: AsyncSession, tenant_id: uuid.UUID
) -> tuple[TenantSettings, dict[str, dict]]:
    """The tenant's policy settings and its fallback rules per event key, in one read."""
    row = (await session.execute(_SETTINGS, {"tenant_id": tenant_id})).one_or_none()
    if row is None:
        return TenantSettings(), {}
    return settings_from_columns(
        row.reminder_event_keys, row.urgent_bypass, row.fallbacks, row.retry_window_minutes
    )


def settings_from_columns(
    reminder_event_keys: list | None,
    urgent_bypass: dict | None,
    fallbacks: dict | None,
    retry_window_minutes: int | None = None,
) -> tuple[TenantSettings, dict[str, dict]]:
    """A tenant_policy_settings row (or its absence: all None) as settings and fallback rules."""
    settings = TenantSettings(
        reminder_event_keys=frozenset(reminder_event_keys or DEFAULT_REMINDER_EVENT_KEYS),
        urgent_bypass=dict(urgent_bypass or {}),
        retry_window_minutes=retry_window_minutes,
    )
    return settings, dict(fallbacks or {})


_SAVE_SETTINGS = text("""
    INSERT INTO tenant_policy_settings
        (tenant_id, reminder_event_keys, urgent_bypass, fallbacks, retry_window_minutes)
    VALUES (:tenant_id, CAST(:reminder_event_keys AS jsonb), CAST(:urgent_bypass AS jsonb),
            CAST(:fallbacks AS jsonb), :retry_window_minutes)
    ON CONFLICT (tenant_id) DO UPDATE
    SET reminder_event_keys = excluded.reminder_event_keys, urgent_bypass = excluded.urgent_bypass,
        fallbacks = excluded.fallbacks, retry_window_minutes = excluded.retry_window_minutes
""")


async def save_tenant_settings(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    reminder_event_keys: list[str],
    urgent_bypass: dict[str, bool],
    fallbacks: dict[str, dict],
    retry_window_minutes: int | None = None,
) -> None:
    await session.execute(
        _SAVE_SETTINGS,
        {
            "tenant_id": tenant_id,
            "reminder_event_keys": json.dumps(reminder_event_keys),
            "urgent_bypass": json.dumps(urgent_bypass),
            "fallbacks": json.dumps(fallbacks),
            "retry_window_minutes": retry_window_minutes,
        },
    )


_COUNT = text(
    "SELECT count FROM send_counters WHERE recipient_id = :recipient_id AND kind = :kind "
    "AND window_start = :window_start"
)


async def sent_in(
    session: AsyncSession, recipient_id: uuid.UUID, kind: str, window_start: datetime
) -> int:
    count = await session.scalar(
        _COUNT, {"recipient_id": recipient_id, "kind": kind, "window_start": window_start}
    )
    return count or 0


# Takes a slot only while fewer than :cap are taken. ON CONFLICT locks the row, so two
# concurrent callers are serialised and cannot both take the last slot.
_TAKE = text("""
    INSERT INTO send_counters (recipient_id, kind, window_start, count)
    VALUES (:recipient_id, :kind, :window_start, 1)
    ON CONFLICT (recipient_id, kind, window_start)
    DO UPDATE SET count = send_counters.count + 1 WHERE send_counters.count < :cap
    RETURNING count
""")


async def take_slot(
    session: AsyncSession, recipient_id: uuid.UUID, kind: str, window_start: datetime, cap: int
) -> bool:
    taken = await session.scalar(
        _TAKE,
        {"recipient_id": recipient_id, "kind": kind, "window_start": window_start, "cap": cap},
    )
    return taken is not None


_GIVE_BACK = text("""
    UPDATE send_counters SET count = count - 1
    WHERE recipient_id = :recipient_id AND kind = :kind AND window_start = :window_start
      AND count > 0
""")


async def give_back_slot(
    session: AsyncSession, recipient_id: uuid.UUID, kind: str, window_start: datetime
) -> None:
    await session.execute(
        _GIVE_BACK, {"recipient_id": recipient_id, "kind": kind, "window_start": window_start}
    )
