"""GET/PUT /v1/settings/bookings (the tenant's follow-up) and GET /v1/alerts."""

from fastapi import APIRouter

from api.deps import SessionDep, TenantDep
from api.schemas.scheduling import BookingSettings
from services.tenant_settings import booking_settings, save_booking_settings, tenant_alerts

router = APIRouter(tags=["settings"])


@router.get("/v1/settings/bookings", response_model=BookingSettings)
async def get_booking_settings(tenant: TenantDep, session: SessionDep) -> BookingSettings:
    return await booking_settings(session, tenant)


@router.put("/v1/settings/bookings", response_model=BookingSettings)
async def put_booking_settings(
    body: BookingSettings, tenant: TenantDep, session: SessionDep
) -> BookingSettings:
    """Applies to bookings created or rescheduled from now on."""
    return await save_booking_settings(session, tenant, body)


@router.get("/v1/alerts")
async def list_alerts(tenant: TenantDep, session: SessionDep) -> dict:
    """The tenant's failure-rate alerts of the last 7 days."""
    return await tenant_alerts(session, tenant)
