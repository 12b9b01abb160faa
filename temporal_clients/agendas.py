"""One Temporal Schedule per organizer that starts their DailyAgendaWorkflow each day."""

from dataclasses import dataclass
from datetime import datetime, timedelta

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

from config.settings import Settings
from domain.booking_contracts import DailyAgendaInput
from domain.policy import AgendaScheduleSpec
from temporal_clients.maintenance import RPC_TIMEOUT, upsert_schedule
from workflows.agenda import DailyAgendaWorkflow


def agenda_schedule_id(tenant_id: object, organizer_id: str) -> str:
    return f"agenda-{tenant_id}-{organizer_id}"


@dataclass(frozen=True)
class AgendaSchedule:
    """An organizer's agenda Schedule as Temporal has it."""

    schedule_id: str
    time: str  # HH:MM
    timezone: str
    weekdays: list[int]  # Monday = 0
    paused: bool
    next_runs: list[datetime]
    agenda: DailyAgendaInput


class NoAgendaSchedule(Exception):
    """The organizer has no agenda Schedule."""


async def put_agenda_schedule(
    client: Client,
    settings: Settings,
    spec: AgendaScheduleSpec,
    agenda: DailyAgendaInput,
    paused: bool,
) -> AgendaSchedule:
    """Create or replace the organizer's Schedule; pause or unpause it."""
    schedule_id = agenda_schedule_id(agenda.tenant_id, agenda.organizer_id)
    handle = await upsert_schedule(
        client, schedule_id, _schedule(spec, agenda, schedule_id, settings, paused)
    )
    await (handle.pause if paused else handle.unpause)(
        note="PUT /v1/organizers/{id}/agenda", rpc_timeout=RPC_TIMEOUT
    )
    return _described(schedule_id, await handle.describe(rpc_timeout=RPC_TIMEOUT), agenda)


async def get_agenda_schedule(
    client: Client, tenant_id: object, organizer_id: str
) -> AgendaSchedule:
    schedule_id = agenda_schedule_id(tenant_id, organizer_id)
    try:
        description = await client.get_schedule_handle(schedule_id).describe(
            rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NoAgendaSchedule(schedule_id) from exc
        raise
    action = description.schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow):  # put_agenda_schedule makes one
        raise ValueError(f"schedule {schedule_id} does not start a workflow")
    [agenda] = await client.data_converter.decode(action.args, [DailyAgendaInput])
    return _described(schedule_id, description, agenda)


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


def _described(
    schedule_id: str, description: ScheduleDescription, agenda: DailyAgendaInput
) -> AgendaSchedule:
    calendar = description.schedule.spec.calendars[0]
    days = [
        d for r in calendar.day_of_week for d in range(r.start, (r.end or r.start) + 1, r.step or 1)
    ]
    return AgendaSchedule(
        schedule_id=schedule_id,
        time=f"{calendar.hour[0].start:02d}:{calendar.minute[0].start:02d}",
        timezone=description.schedule.spec.time_zone_name or "UTC",
        weekdays=sorted((day - 1) % 7 for day in days),  # Temporal counts from Sunday = 0
        paused=description.schedule.state.paused,
        next_runs=list(description.info.next_action_times),
        agenda=agenda,
    )
