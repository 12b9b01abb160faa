"""DailyAgendaWorkflow: the organizer's bookings of the day as one notice, or nothing."""

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.booking_contracts import DailyAgendaInput, DailyAgendaResult, LoadAgendaInput
from domain.policy import AGENDA_EVENT_KEY
from tests.unit.workflows.fakes import ORGANIZER, agenda_day, agenda_input
from workflows.agenda import DailyAgendaWorkflow

DAY = "2026-12-01"
BOOKINGS = [
    {
        "booking_id": "bk-1",
        "event_name": "Intro call",
        "start_time": "09:00",
        "invitee_name": "Grace",
    },
    {"booking_id": "bk-2", "event_name": "Review", "start_time": "14:30", "invitee_name": "Linus"},
]


def agenda(send_empty: bool = False, agenda_date: str | None = DAY) -> DailyAgendaInput:
    return agenda_input("org-ada", "Europe/Berlin", send_empty=send_empty, day=agenda_date)


async def test_the_days_bookings_go_to_the_organizer_as_one_notice(harness):
    harness.agendas.day = agenda_day(ORGANIZER, *BOOKINGS)
    input = agenda()

    result = await harness.execute(DailyAgendaWorkflow.run, input)

    assert harness.agendas.loaded == [
        LoadAgendaInput(input.tenant_id, "org-ada", "Europe/Berlin", DAY)
    ]
    [call] = harness.notices.calls
    assert result == DailyAgendaResult(DAY, 2, call.created.notification_id)
    notice = call.request
    assert (notice.event_key, notice.recipient_external_id, notice.recipient) == (
        AGENDA_EVENT_KEY,
        "org-ada",
        ORGANIZER,
    )
    assert (
        notice.idempotency_key == f"agenda-org-ada-{DAY}"
    )  # one agenda a day, however often it runs
    assert notice.context["bookings"] == BOOKINGS and "message" not in notice.context
    assert (notice.context["organizer_name"], notice.context["agenda_date"]) == (
        ORGANIZER.name,
        "Tuesday, December 1, 2026",
    )


async def test_a_day_without_bookings_sends_nothing_by_default(harness):
    harness.agendas.day = agenda_day(ORGANIZER)

    result = await harness.execute(DailyAgendaWorkflow.run, agenda(send_empty=False))

    assert result == DailyAgendaResult(DAY, 0, None)
    assert harness.notices.calls == []


async def test_a_day_without_bookings_says_so_when_asked_to(harness):
    harness.agendas.day = agenda_day(ORGANIZER)

    result = await harness.execute(DailyAgendaWorkflow.run, agenda(send_empty=True))

    [call] = harness.notices.calls
    assert result == DailyAgendaResult(DAY, 0, call.created.notification_id)
    assert (
        call.request.context["message"] == "No bookings today."
        and call.request.context["bookings"] == []
    )


async def test_an_unknown_organizer_gets_nothing(harness):
    harness.agendas.day = agenda_day(None, *BOOKINGS)

    result = await harness.execute(DailyAgendaWorkflow.run, agenda(send_empty=True))

    assert (result.notification_id, harness.notices.calls) == (None, [])


async def test_without_a_date_it_is_the_organizers_today(harness):
    harness.agendas.day = agenda_day(ORGANIZER, *BOOKINGS)
    zone = ZoneInfo("Europe/Berlin")
    before = datetime.now(zone).date().isoformat()

    result = await harness.execute(DailyAgendaWorkflow.run, agenda(agenda_date=None))

    assert result.agenda_date in {before, datetime.now(zone).date().isoformat()}
    assert (
        harness.notices.calls[0].request.idempotency_key == f"agenda-org-ada-{result.agenda_date}"
    )
