"""GET /v1/bookings/{booking_id}: a booking's chain, and the events it ignored."""

from fastapi import APIRouter

from api.deps import TemporalDep, TenantDep
from api.schemas.bookings import BookingPublic
from api.schemas.events import BookingId
from services.bookings import read_booking

router = APIRouter(prefix="/v1/bookings", tags=["events"])


@router.get("/{booking_id}", response_model=BookingPublic)
async def get_booking(
    booking_id: BookingId, tenant: TenantDep, temporal: TemporalDep
) -> BookingPublic:
    """Where the chain stands: status, reminders to come, follow-up, and the latest events it
    ignored with the reason (a repeated id, one older than the last applied, one after the end)."""
    return await read_booking(temporal, tenant, booking_id)
