"""One Temporal Schedule per organizer that starts their DailyAgendaWorkflow each day."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.scheduling_schemas import AgendaPublic, AgendaPut
from db.bookings import recipient_preferences
from db.tenants import TenantIdentity
from domain.booking_contracts import DailyAgendaInput
from domain.policy import AgendaScheduleSpec, agenda_schedule_spec, resolve_weekend_days
from temporal_clients.maintenance import RPC_TIMEOUT, upsert_schedule
from config.settings import Settings
from workflows.agenda import DailyAgendaWorkflow


def agenda_schedule_id(tenant_id, organizer_id: str) -> str:
    return f"agenda-{tenant_id}-{organizer_id}"


async def put_agenda(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    organizer_id: str,
    body: AgendaPut,
) -> AgendaPublic:
    """Create or update the organizer's Schedule; what the body leaves out comes from their preferences."""
    organizer, preferences = await recipient_preferences(session, tenant.id, organizer_id)
    await session.close()  # no connection held while Temporal answers
    if organizer is None:
        raise ApiError(
            404,
            "not_found",
            f"organizer {organizer_id!r} is not a known recipient: it becomes one with its first booking "
            "event, or create it with PUT /v1/recipients/{external_id}",
        )
    spec = agenda_schedule_spec(
        body.time or preferences.daily_agenda_time,
        body.timezone or preferences.timezone or organizer.timezone,
        preferences.exclude_weekends_agenda if body.skip_weekends is None else body.skip_weekends,
        resolve_weekend_days(preferences.weekend_days, organizer.locale),
    )
    schedule_id = agenda_schedule_id(tenant.id, organizer_id)
    agenda = DailyAgendaInput(str(tenant.id), organizer_id, spec.timezone, body.send_empty)
    # With no day left to fire on, Temporal would read an empty day list as "every day": pause instead.
    paused = body.paused or not spec.weekdays
    try:
        handle = await upsert_schedule(
            temporal, schedule_id, _schedule(spec, agenda, schedule_id, settings, paused)
        )
        await (handle.pause if paused else handle.unpause)(
            note="PUT /v1/organizers/{id}/agenda", rpc_timeout=RPC_TIMEOUT
        )
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        raise ApiError(
            503, "temporal_unavailable", f"the agenda schedule could not be saved ({exc.message})"
        ) from exc
    return _public(organizer_id, schedule_id, description, agenda)


async def get_agenda(temporal: Client, tenant: TenantIdentity, organizer_id: str) -> AgendaPublic:
    schedule_id = agenda_schedule_id(tenant.id, organizer_id)
    try:
        description = await temporal.get_schedule_handle(schedule_id).describe(
            rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(
                404, "not_found", f"organizer {organizer_id!r} has no agenda schedule"
            ) from exc
        raise ApiError(
            503, "temporal_unavailable", f"could not read the agenda schedule ({exc.message})"
        ) from exc
    action = description.schedule.action
    [agenda] = await temporal.data_converter.decode(action.args, [DailyAgendaInput])
    return _public(organizer_id, schedule_id, description, agenda)


def _schedule(
    spec: AgendaScheduleSpec,
    agenda: DailyAgendaInput,
    schedule_id: str,
    settings: Settings,
    paused: bool,
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyAgendaWorkflow.run, agenda, id=schedule_id, task_queue=settings.task_queue
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(spec.hour)],
                    minute=[ScheduleRange(spec.minute)],
                    day_of_week=[ScheduleRange(day) for day in spec.temporal_days_of_week],
                )
            ],
            time_zone_name=spec.timezone,  # Temporal follows the zone's DST changes
        ),
        # An agenda hours late is noise: after an outage, only a recent missed run is caught up.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=1)
        ),
        state=ScheduleState(paused=paused),
    )


def _public(
    organizer_id: str, schedule_id: str, description: ScheduleDescription, agenda: DailyAgendaInput
) -> AgendaPublic:
    calendar = description.schedule.spec.calendars[0]
    days = [
        d for r in calendar.day_of_week for d in range(r.start, (r.end or r.start) + 1, r.step or 1)
    ]
    return AgendaPublic(
        organizer_id=organizer_id,
        schedule_id=schedule_id,
        time=f"{calendar.hour[0].start:02d}:{calendar.minute[0].start:02d}",
        timezone=description.schedule.spec.time_zone_name or "UTC",
        weekdays=sorted((day - 1) % 7 for day in days),  # Temporal counts from Sunday = 0
        send_empty=agenda.send_empty,
        paused=description.schedule.state.paused,
        next_runs=list(description.info.next_action_times),
    )


AGENDA_PREFERENCES = ("daily_agenda_time", "exclude_weekends_agenda", "weekend_days", "timezone")


async def follow_preferences(
    session: AsyncSession, temporal: Client, settings: Settings, tenant: TenantIdentity, organizer_id: str
) -> None:
    """The organizer's agenda preferences changed: their Schedule, if they have one, follows,
    keeping its own send_empty and paused (an explicit time given to PUT .../agenda yields)."""
    try:
        current = await get_agenda(temporal, tenant, organizer_id)
    except ApiError:  # no Schedule (404), or Temporal unreachable: nothing to follow now
        return
    await put_agenda(
        session, temporal, settings, tenant, organizer_id,
        AgendaPut(send_empty=current.send_empty, paused=current.paused),
    )
