"""DailyAgendaWorkflow: what the organizer's agenda Schedule starts, once a day in their zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.agenda import AgendaActivities
    from domain.booking_contracts import (
        DailyAgendaInput,
        DailyAgendaResult,
        LoadAgendaInput,
        NoticeRequest,
    )
    from domain.policy import AGENDA_EVENT_KEY
    from workflows.notices import send_notice, store

NO_BOOKINGS = "No bookings today."


@workflow.defn
class DailyAgendaWorkflow:
    @workflow.run
    async def run(self, input: DailyAgendaInput) -> DailyAgendaResult:
        day = input.agenda_date or _today(workflow.now(), input.timezone)
        agenda = await store(
            AgendaActivities.load_agenda,
            LoadAgendaInput(input.tenant_id, input.organizer_id, input.timezone, day),
        )
        if agenda.organizer is None or not (agenda.bookings or input.send_empty):
            return DailyAgendaResult(day, len(agenda.bookings))
        context = {
            "agenda_date": agenda.agenda_date_text,
            "agenda_day": day,
            "bookings": agenda.bookings,
            "organizer_name": agenda.organizer.name,
            "organizer_email": agenda.organizer.email,
            "owner_id": input.organizer_id,
        }
        if not agenda.bookings:
            context["message"] = NO_BOOKINGS
        notification_id = await send_notice(
            NoticeRequest(
                tenant_id=input.tenant_id,
                recipient_external_id=input.organizer_id,
                recipient=agenda.organizer,
                event_key=AGENDA_EVENT_KEY,
                # One agenda per organizer and day, however often the Schedule fires.
                idempotency_key=f"agenda-{input.organizer_id}-{day}",
                context={k: v for k, v in context.items() if v is not None},
            )
        )
        return DailyAgendaResult(day, len(agenda.bookings), notification_id)


def _today(now: datetime, timezone: str) -> str:
    return now.astimezone(ZoneInfo(timezone)).date().isoformat()
