"""An organizer's daily agenda: its Schedule follows their preferences unless told otherwise."""

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas.scheduling import AgendaPublic, AgendaPut
from config.settings import Settings
from db.bookings import recipient_preferences
from domain.booking_contracts import DailyAgendaInput
from domain.policy import agenda_schedule_spec, resolve_weekend_days
from domain.tenants import TenantIdentity
from services.errors import NotFound
from temporal_clients.agendas import (
    AgendaSchedule,
    NoAgendaSchedule,
    get_agenda_schedule,
    put_agenda_schedule,
)

log = logging.getLogger("herald.agendas")
AGENDA_PREFERENCES = ("daily_agenda_time", "exclude_weekends_agenda", "weekend_days", "timezone")


async def put_agenda(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    organizer_id: str,
    body: AgendaPut,
) -> AgendaPublic:
    """Create or update the organizer's Schedule; what the body leaves out comes from their
    preferences."""
    organizer, preferences = await recipient_preferences(session, tenant.id, organizer_id)
    await session.close()  # no connection held while Temporal answers
    if organizer is None:
        raise NotFound(
            f"organizer {organizer_id!r} is not a known recipient: it becomes one with its "
            "first booking event, or create it with PUT /v1/recipients/{external_id}"
        )
    spec = agenda_schedule_spec(
        body.time or preferences.daily_agenda_time,
        body.timezone or preferences.timezone or organizer.timezone,
        preferences.exclude_weekends_agenda if body.skip_weekends is None else body.skip_weekends,
        resolve_weekend_days(preferences.weekend_days, organizer.locale),
    )
    agenda = DailyAgendaInput(tenant.id, organizer_id, spec.timezone, body.send_empty)
    # With no day left to fire on, Temporal would read an empty day list as "every day":
    # pause instead.
    paused = body.paused or not spec.weekdays
    return _public(
        organizer_id, await put_agenda_schedule(temporal, settings, spec, agenda, paused)
    )


async def get_agenda(temporal: Client, tenant: TenantIdentity, organizer_id: str) -> AgendaPublic:
    try:
        return _public(organizer_id, await get_agenda_schedule(temporal, tenant.id, organizer_id))
    except NoAgendaSchedule:
        raise NotFound(f"organizer {organizer_id!r} has no agenda schedule") from None


async def follow_preferences(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    organizer_id: str,
) -> None:
    """The organizer's agenda preferences changed: their Schedule, if they have one, follows,
    keeping its own send_empty and paused (an explicit time given to PUT .../agenda yields).
    Best effort, as the preferences are saved already: with Temporal unreachable, the
    Schedule follows at the next change or PUT .../agenda."""
    try:
        current = await get_agenda_schedule(temporal, tenant.id, organizer_id)
        await put_agenda(
            session,
            temporal,
            settings,
            tenant,
            organizer_id,
            AgendaPut(send_empty=current.agenda.send_empty, paused=current.paused),
        )
    except NoAgendaSchedule:
        return
    except RPCError as exc:
        log.warning("agenda schedule of %s not updated: %s", organizer_id, exc.message)


def _public(organizer_id: str, schedule: AgendaSchedule) -> AgendaPublic:
    return AgendaPublic(
        organizer_id=organizer_id,
        schedule_id=schedule.schedule_id,
        time=schedule.time,
        timezone=schedule.timezone,
        weekdays=schedule.weekdays,
        send_empty=schedule.agenda.send_empty,
        paused=schedule.paused,
        next_runs=schedule.next_runs,
    )
