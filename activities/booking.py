"""Activities of the booking chain: read the organizer's settings, record the booking."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db import bookings as store
from domain.booking_contracts import BookingConfigInput, ChainConfig, RecordBookingInput


class BookingActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="load_booking_config")
    async def load_booking_config(self, input: BookingConfigInput) -> ChainConfig:
        """Reminder offsets from the organizer's preferences (the tenant's defaults for an
        organizer Herald does not know yet); follow-up from the tenant's booking settings."""
        tenant_id = input.tenant_id
        async with self._sessions() as session:
            _, preferences = await store.recipient_preferences(
                session, tenant_id, input.organizer_id
            )
            config = await store.get_booking_settings(session, tenant_id)
        config.reminder_offsets_minutes = [float(m) for m in preferences.reminder_minutes_before]
        return config

    @activity.defn(name="record_booking")
    async def record_booking(self, input: RecordBookingInput) -> None:
        async with self._sessions.begin() as session:
            await store.record_booking(session, input.tenant_id, input.workflow_id, input.state)
