"""GET/PUT /v1/settings/bookings (the tenant's follow-up) and GET /v1/alerts."""

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter

from api.deps import SessionDep, TenantDep
from api.scheduling_schemas import BookingSettings
from db.bookings import get_booking_settings, put_booking_settings
from db.maintenance import recent_alerts

router = APIRouter(tags=["settings"])


@router.get("/v1/settings/bookings", response_model=BookingSettings)
async def get(tenant: TenantDep, session: SessionDep) -> BookingSettings:
    config = await get_booking_settings(session, tenant.id)
    return BookingSettings(
        follow_up_enabled=config.follow_up_enabled,
        follow_up_delay_minutes=int(config.follow_up_delay_minutes),
    )


@router.put("/v1/settings/bookings", response_model=BookingSettings)
async def put(body: BookingSettings, tenant: TenantDep, session: SessionDep) -> BookingSettings:
    """Applies to bookings created or rescheduled from now on."""
    async with session.begin():
        await put_booking_settings(
            session, tenant.id, body.follow_up_enabled, body.follow_up_delay_minutes
        )
    return body


@router.get("/v1/alerts")
async def alerts(tenant: TenantDep, session: SessionDep) -> dict:
    """The tenant's failure-rate alerts of the last 7 days."""
    since = datetime.now(timezone.utc) - timedelta(days=7)
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
