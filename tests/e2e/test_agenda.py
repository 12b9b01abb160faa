"""The daily agenda: its Schedule (spec per zone and weekend choice) and its content for a day,
on the time-skipping server (nothing here waits on a timer)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.booking_contracts import DailyAgendaInput, DailyAgendaResult
from tests.e2e.bookings_factory import (
    booking_event,
    chain,
    eventually,
    new_booking_id,
    post_event,
    recorded_status,
)
from workflows.agenda import DailyAgendaWorkflow

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def stack(ts_stack):
    """Here, the stack on the time-skipping server."""
    return ts_stack


async def organizer(stack, timezone: str, locale: str = "en", **preferences) -> tuple[str, str]:
    """A known organizer. Tests that send agendas turn exclude_weekends_agenda off: the
    delivery policy holds a weekend's agenda back, and the suite runs on any day."""
    organizer_id = f"org-{new_booking_id()}"
    address = f"{organizer_id}@example.com"  # as booking events give it (bookings_factory)
    body = {"email": address, "name": "Ada", "timezone": timezone, "locale": locale}
    assert (await stack.api.put(f"/v1/recipients/{organizer_id}", json=body)).status_code == 200
    if preferences:
        response = await stack.api.put(
            f"/v1/recipients/{organizer_id}/preferences", json=preferences
        )
        assert response.status_code == 200, response.text
    return organizer_id, address


def values(ranges) -> set[int]:
    return {d for r in ranges for d in range(r.start, max(r.end, r.start) + 1, r.step or 1)}


async def test_the_schedule_fires_at_the_agenda_time_in_the_zone_skipping_that_locales_weekend(
    stack,
):
    organizer_id, _ = await organizer(
        stack, "Asia/Riyadh", locale="ar-SA"
    )  # weekend: Friday and Saturday
    response = await stack.api.put(
        f"/v1/organizers/{organizer_id}/agenda",
        json={"time": "07:30", "timezone": "Asia/Tokyo", "skip_weekends": True},
    )
    assert response.status_code == 200, response.text
    agenda = response.json()
    assert (agenda["time"], agenda["timezone"], agenda["weekdays"], agenda["paused"]) == (
        "07:30",
        "Asia/Tokyo",
        [0, 1, 2, 3, 6],
        False,
    )

    description = await stack.client.get_schedule_handle(agenda["schedule_id"]).describe()
    spec = description.schedule.spec
    [calendar] = spec.calendars
    assert (values(calendar.hour), values(calendar.minute)) == ({7}, {30})
    assert values(calendar.day_of_week) == {0, 1, 2, 3, 4}  # Temporal counts Sunday as 0
    assert spec.time_zone_name == "Asia/Tokyo"
    action = description.schedule.action
    assert (action.workflow, action.task_queue) == (
        "DailyAgendaWorkflow",
        stack.settings.task_queue,
    )
    for run in description.info.next_action_times:
        local = run.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (local.hour, local.minute) == (7, 30) and local.weekday() not in (4, 5)

    every_day = await stack.api.put(
        f"/v1/organizers/{organizer_id}/agenda", json={"time": "07:30", "skip_weekends": False}
    )
    assert every_day.json()["weekdays"] == [0, 1, 2, 3, 4, 5, 6]
    assert every_day.json()["timezone"] == "Asia/Riyadh"  # left out: the organizer's own zone
    paused = await stack.api.put(f"/v1/organizers/{organizer_id}/agenda", json={"paused": True})
    assert paused.json()["paused"] is True
    assert (
        await stack.client.get_schedule_handle(agenda["schedule_id"]).describe()
    ).schedule.state.paused
    assert (await stack.api.get(f"/v1/organizers/{organizer_id}/agenda")).json() == paused.json()


async def test_the_schedule_follows_the_organizers_preferences(stack):
    organizer_id, _ = await organizer(stack, "Europe/Berlin", daily_agenda_time="06:45")
    agenda = (await stack.api.put(f"/v1/organizers/{organizer_id}/agenda", json={})).json()
    # exclude_weekends_agenda defaults to true; "en" has a Saturday-Sunday weekend
    assert (agenda["time"], agenda["timezone"], agenda["weekdays"]) == (
        "06:45",
        "Europe/Berlin",
        [0, 1, 2, 3, 4],
    )
    unknown = await stack.api.put("/v1/organizers/nobody-here/agenda", json={})
    assert unknown.status_code == 404
    assert (await stack.api.get("/v1/organizers/nobody-here/agenda")).status_code == 404

    # Later preference changes move the Schedule with them, keeping its own send_empty and pause.
    await stack.api.put(f"/v1/organizers/{organizer_id}/agenda", json={"send_empty": True})
    changed = await stack.api.patch(
        f"/v1/recipients/{organizer_id}/preferences",
        json={"daily_agenda_time": "07:15", "exclude_weekends_agenda": False},
    )
    assert changed.status_code == 200, changed.text
    agenda = (await stack.api.get(f"/v1/organizers/{organizer_id}/agenda")).json()
    assert (agenda["time"], agenda["weekdays"], agenda["send_empty"]) == (
        "07:15",
        [0, 1, 2, 3, 4, 5, 6],
        True,
    )


async def book(stack, sessions, organizer_id: str, local_start: datetime, **kwargs) -> str:
    booking_id = new_booking_id()
    body = booking_event(
        "booking.created",
        booking_id,
        local_start,
        organizer_id=organizer_id,
        organizer_tz="America/Los_Angeles",
        **kwargs,
    )
    await post_event(stack, body)
    await eventually(
        lambda: recorded_status(sessions, stack.tenant_id, booking_id),
        lambda status: status == "confirmed",
        what="the booking recorded",
    )
    return booking_id


async def run_agenda(
    stack, organizer_id: str, day: date, send_empty: bool = False
) -> DailyAgendaResult:
    return await stack.client.execute_workflow(
        DailyAgendaWorkflow.run,
        DailyAgendaInput(
            stack.tenant_id, organizer_id, "America/Los_Angeles", send_empty, day.isoformat()
        ),
        id=f"agenda-test-{new_booking_id()}",
        task_queue=stack.settings.task_queue,
    )


async def test_the_agenda_holds_that_days_bookings_in_the_organizers_zone(stack, smtp, sessions):
    organizer_id, address = await organizer(
        stack, "America/Los_Angeles", exclude_weekends_agenda=False
    )
    day = datetime.now(LA).date() + timedelta(days=5)

    def local(d: date, h: int, m: int = 0) -> datetime:
        return datetime.combine(d, time(h, m), LA)

    late = await book(stack, sessions, organizer_id, local(day, 23, 30))  # the next day in UTC
    early = await book(stack, sessions, organizer_id, local(day, 9))
    await book(stack, sessions, organizer_id, local(day + timedelta(days=1), 0, 30))  # the next day
    cancelled = await book(stack, sessions, organizer_id, local(day, 13))
    await post_event(
        stack,
        booking_event("booking.cancelled", cancelled, local(day, 13), organizer_id=organizer_id),
    )
    await chain(stack, cancelled).result()
    await book(stack, sessions, f"{organizer_id}-other", local(day, 10))  # another organizer's

    result = await run_agenda(stack, organizer_id, day)
    assert (result.agenda_date, result.bookings) == (day.isoformat(), 2)
    notification = await stack.wait_for_status(result.notification_id, "sent")
    assert (notification["event_key"], notification["recipient"]) == ("daily_agenda", organizer_id)
    context = notification["context"]
    assert [b["booking_id"] for b in context["bookings"]] == [early, late]
    assert [b["start_time"] for b in context["bookings"]] == ["9:00\u202fAM", "11:30\u202fPM"]
    assert (
        context["agenda_date"] == day.strftime("%A, %B %-d, %Y")
        and context["owner_id"] == organizer_id
    )
    await smtp.wait_for(address)
    again = await run_agenda(stack, organizer_id, day)  # the Schedule firing twice on one day
    assert again.notification_id == result.notification_id


async def test_an_empty_day_sends_nothing_unless_the_organizer_wants_a_short_note(stack, smtp):
    organizer_id, address = await organizer(
        stack, "America/Los_Angeles", exclude_weekends_agenda=False
    )
    day = datetime.now(LA).date() + timedelta(days=30)
    assert (await run_agenda(stack, organizer_id, day)).notification_id is None
    note = await run_agenda(stack, organizer_id, day, send_empty=True)
    notification = await stack.wait_for_status(note.notification_id, "sent")
    assert (notification["context"]["bookings"], notification["context"]["message"]) == (
        [],
        "No bookings today.",
    )
    [mail] = await smtp.wait_for(address)
    assert "No bookings today." in mail.text()


async def test_the_schedule_starts_the_agenda_workflow_on_this_task_queue(stack, smtp):
    # Agendas every day, so that the test does not depend on today's weekday.
    organizer_id, address = await organizer(
        stack, "America/Los_Angeles", exclude_weekends_agenda=False
    )
    agenda = (
        await stack.api.put(f"/v1/organizers/{organizer_id}/agenda", json={"send_empty": True})
    ).json()
    assert agenda["send_empty"] is True
    await stack.client.get_schedule_handle(agenda["schedule_id"]).trigger()
    [mail] = await smtp.wait_for(address)  # today in Los Angeles has no bookings: the short note
    assert "No bookings today." in mail.text()
