"""A tenant's own settings: its delivery policy and its booking follow-up; and its alerts.

A change made by an operator from the dashboard (`by`) is recorded in the tenant's audit log
in the change's own transaction (services/audit.py)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.scheduling import BookingSettings
from api.schemas.settings import DeliveryPolicySettings
from db import policy_store
from db.bookings import get_booking_settings, put_booking_settings
from db.maintenance import recent_alerts
from domain.operators import Operator
from domain.tenants import TenantIdentity
from services import audit


async def delivery_policy(session: AsyncSession, tenant: TenantIdentity) -> DeliveryPolicySettings:
    """Which events are reminders, which urgent events bypass, and the channel fallbacks."""
    settings, fallbacks = await policy_store.policy_settings(session, tenant.id)
    return DeliveryPolicySettings.model_validate(
        {
            "reminder_event_keys": sorted(settings.reminder_event_keys),
            "urgent_bypass": dict(settings.urgent_bypass),
            "fallbacks": fallbacks,  # stored as validated, so they validate again
            "retry_window_minutes": settings.retry_window_minutes,
        }
    )


async def save_delivery_policy(
    session: AsyncSession,
    tenant: TenantIdentity,
    policy: DeliveryPolicySettings,
    by: Operator | None = None,
) -> DeliveryPolicySettings:
    async with session.begin():
        await policy_store.save_tenant_settings(
            session,
            tenant.id,
            policy.reminder_event_keys,
            policy.urgent_bypass,
            {key: rule.model_dump(mode="json") for key, rule in policy.fallbacks.items()},
            policy.retry_window_minutes,
        )
        if by is not None:
            await audit.record(
                session,
                by,
                "settings.delivery_policy",
                "delivery policy",
                policy.model_dump(mode="json"),
            )
    return policy


async def booking_settings(session: AsyncSession, tenant: TenantIdentity) -> BookingSettings:
    config = await get_booking_settings(session, tenant.id)
    return BookingSettings(
        follow_up_enabled=config.follow_up_enabled,
        follow_up_delay_minutes=int(config.follow_up_delay_minutes),
    )


async def save_booking_settings(
    session: AsyncSession,
    tenant: TenantIdentity,
    settings: BookingSettings,
    by: Operator | None = None,
) -> BookingSettings:
    """Applies to bookings created or rescheduled from now on."""
    async with session.begin():
        await put_booking_settings(
            session, tenant.id, settings.follow_up_enabled, settings.follow_up_delay_minutes
        )
        if by is not None:
            await audit.record(
                session,
                by,
                "settings.bookings",
                "booking settings",
                settings.model_dump(mode="json"),
            )
    return settings


async def tenant_alerts(
    session: AsyncSession, tenant: TenantIdentity
) -> dict[str, list[dict[str, Any]]]:
    """The tenant's failure-rate alerts of the last 7 days."""
    since = datetime.now(UTC) - timedelta(days=7)
    found = await recent_alerts(session, since, tenant_id=tenant.id)
    return {
        "data": [
            {
                "id": a.id,
                "window_start": a.window_start,
                "total": a.total,
                "failed": a.failed,
                "rate": a.rate,
                "notified_at": a.notified_at,
            }
            for a in found
        ]
    }
