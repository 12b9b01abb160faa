"""The daily agenda's activity: one organizer's bookings for one day of their own calendar."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db.bookings import organizer_bookings
from db.recipients import get_recipient
from domain.booking_contracts import AgendaDay, LoadAgendaInput, Person


class AgendaActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="load_agenda")
    async def load_agenda(self, input: LoadAgendaInput) -> AgendaDay:
        tenant_id, zone = input.tenant_id, ZoneInfo(input.timezone)
        day = date.fromisoformat(input.agenda_date)
        # The organizer's day, midnight to midnight in their zone (23 or 25 hours around DST).
        since = datetime.combine(day, time(0), zone)
        until = datetime.combine(day + timedelta(days=1), time(0), zone)
        async with self._sessions() as session:
            organizer = await get_recipient(session, tenant_id, input.organizer_id)
            bookings = await organizer_bookings(
                session, tenant_id, input.organizer_id, since, until
            )
        locale = _locale(organizer.locale if organizer else "en")
        return AgendaDay(
            organizer=Person(organizer.name, organizer.email, organizer.phone, organizer.timezone)
            if organizer
            else None,
            agenda_date_text=format_date(day, "full", locale=locale),
            bookings=[
                {
                    "booking_id": b.id,
                    "event_name": b.payload.get("event_name"),
                    "invitee_name": b.invitee_name,
                    "invitee_email": b.invitee_email,
                    "start": b.start_at.isoformat(),
                    "end": b.end_at.isoformat(),
                    "start_time": format_time(b.start_at, "short", tzinfo=zone, locale=locale),
                    "end_time": format_time(b.end_at, "short", tzinfo=zone, locale=locale),
                    "meeting_link": b.payload.get("meeting_link"),
                    "booking_url": b.payload.get("booking_url"),
                    "status": b.status,
                }
                for b in bookings
            ],
        )


def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale("en")  # an odd locale must not stop the agenda
