"""The Scheduled page at the HTTP level (issue 14), against the real application, database and
Temporal: scheduled notifications and booking reminders listed soonest first; cancelled and
rescheduled (a wall time in the operator's zone) through services/scheduled.py, audited;
refusals in the API's words beside the field, nothing changed; a viewer and another tenant
change nothing."""

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.operators import Role
from tests.conftest import new_tenant
from tests.e2e.bookings_factory import (
    booking_event,
    eventually,
    new_address,
    new_booking_id,
    post_event,
    state,
)
from tests.e2e.test_dashboard_access import audit_actions
from tests.e2e.test_email_smtp import email_request
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import csrf_of, field_error

PAGE = "/dashboard/scheduled"
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@pytest.fixture
async def editor(stack, sessions):
    return await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.EDITOR)


@pytest.fixture
async def browser(stack, editor):
    async with dashboard_client(stack.app, editor.cookies) as client:
        yield client


async def listed(stack) -> list[dict]:
    response = await stack.api.get("/v1/scheduled")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def a_booking(stack) -> tuple[str, str, list[dict]]:
    """A booking three days ahead, created through the events API: its chain's reminders
    (a day and an hour before) are pending."""
    booking_id, invitee = new_booking_id(), new_address()
    start = (datetime.now(UTC) + 3 * DAY).replace(second=0, microsecond=0)
    await post_event(
        stack, booking_event("booking.created", booking_id, start, invitee_email=invitee)
    )
    reminders = await eventually(
        lambda: listed(stack),
        lambda items: len([i for i in items if i.get("booking_id") == booking_id]) == 2,
        what="the booking's two reminders",
    )
    return booking_id, invitee, [i for i in reminders if i.get("booking_id") == booking_id]


async def a_scheduled_notification(stack, days: int = 2) -> dict:
    send_at = (datetime.now(UTC) + days * DAY).replace(microsecond=0)
    accepted = await stack.api.post(
        "/v1/notifications", json=email_request(new_address(), send_at=send_at.isoformat())
    )
    assert accepted.status_code == 202, accepted.text
    return await stack.wait_for_status(accepted.json()["id"], "scheduled")


def row(page: str, id: str) -> str:
    start = page.index(f'data-scheduled-id="{id}"')
    return page[start : page.index("</tr>", start)]


async def post(browser, path: str, fields: dict[str, str]):
    token = csrf_of((await browser.get(PAGE)).text)
    return await browser.post(path, data={"csrf_token": token, **fields})


async def test_both_kinds_are_listed_soonest_first_with_what_they_are(stack, browser):
    booking_id, invitee, (day_before, hour_before) = await a_booking(stack)
    notification = await a_scheduled_notification(stack, days=1)

    page = (await browser.get(PAGE)).text
    ids = re.findall(r'data-scheduled-id="([^"]+)"', page)
    expected = [item["id"] for item in await listed(stack)]
    assert ids == expected[: len(ids)]  # the API's order: soonest first
    assert (
        ids.index(notification["id"]) < ids.index(day_before["id"]) < ids.index(hour_before["id"])
    )
    reminder = row(page, day_before["id"])
    assert f'Reminder 1 day before booking <span class="mono">{booking_id}</span>' in reminder
    assert invitee in reminder and "Yes, cancel it" in reminder
    assert "1 hour before" in row(page, hour_before["id"])
    sent_to = notification["recipient"]
    assert f'href="/dashboard/recipients/{sent_to}"' in row(page, notification["id"])


async def test_cancelling_a_booking_reminder(stack, browser, sessions):
    booking_id, _, (day_before, hour_before) = await a_booking(stack)

    response = await post(browser, f"{PAGE}/{day_before['id']}/cancel", {})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{PAGE}?notice=cancelled"
    page = (await browser.get(response.headers["location"])).text
    assert "Cancelled: it will not be sent." in page
    assert day_before["id"] not in page and hour_before["id"] in page
    chain = await state(stack, booking_id)
    assert chain["cancelled_offsets"] == [1440]
    assert ("scheduled.cancel", f"booking_reminder {day_before['id']}") in await audit_actions(
        sessions, stack.tenant_id
    )

    # Cancelled already: nothing left to change, said at the top (it is listed no more).
    again = await post(browser, f"{PAGE}/{day_before['id']}/cancel", {})
    api = await stack.api.post(f"/v1/scheduled/{day_before['id']}/cancel")
    assert again.status_code == api.status_code == 409
    shown = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', again.text)
    assert shown and html.unescape(shown.group(1)) == api.json()["detail"]
    unknown = await post(browser, f"{PAGE}/{uuid.uuid4()}/cancel", {})
    assert unknown.status_code == 404


async def test_rescheduling_a_notification_reads_the_time_in_the_operators_zone(
    stack, browser, sessions
):
    notification = await a_scheduled_notification(stack)
    zone = ZoneInfo("America/New_York")
    wanted = (datetime.now(zone) + 4 * DAY).replace(hour=9, minute=30, second=0, microsecond=0)

    response = await post(
        browser,
        f"{PAGE}/{notification['id']}/reschedule",
        {"send_at": wanted.strftime("%Y-%m-%dT%H:%M"), "operator_zone": "America/New_York"},
    )
    assert response.status_code == 303, response.text
    assert (await stack.wait_for_status(notification["id"], "cancelled"))["status"] == "cancelled"
    # Its copy waits for 09:30 in New York.
    await eventually(
        lambda: listed(stack),
        lambda items: any(
            datetime.fromisoformat(item["due_at"]) == wanted.astimezone(UTC)
            and item["event_key"] == notification["event_key"]
            for item in items
        ),
        what="the copy at the new time",
    )
    actions = await audit_actions(sessions, stack.tenant_id)
    assert ("scheduled.reschedule", f"notification {notification['id']}") in actions


@pytest.mark.parametrize(
    ("send_at", "problem"),
    [
        ("2020-01-01T09:00", "must be in the future"),
        ("next tuesday", None),  # the API's own words for a date-time it cannot read
    ],
)
async def test_a_refused_reschedule_says_why_beside_the_field_and_changes_nothing(
    stack, browser, sessions, send_at, problem
):
    notification = await a_scheduled_notification(stack)
    if problem is None:
        api = await stack.api.post(
            f"/v1/scheduled/{notification['id']}/reschedule", json={"send_at": send_at}
        )
        assert api.status_code == 422, api.text
        problem = api.json()["errors"][0]["problem"]
    before = await audit_actions(sessions, stack.tenant_id)

    response = await post(browser, f"{PAGE}/{notification['id']}/reschedule", {"send_at": send_at})
    assert response.status_code == 422, response.text
    [field_id] = re.findall(r'id="error-(send_at-\d+)"', response.text)
    assert field_error(response.text, field_id) == problem
    assert f'value="{send_at}"' in response.text  # what was typed stays
    assert (await stack.notification(notification["id"]))["status"] == "scheduled"
    assert await audit_actions(sessions, stack.tenant_id) == before


async def test_a_viewer_sees_the_list_and_changes_nothing(stack, sessions):
    notification = await a_scheduled_notification(stack)
    viewer = await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.VIEWER)
    async with dashboard_client(stack.app, viewer.cookies) as browser:
        page = await browser.get(PAGE)
        assert page.status_code == 200 and notification["id"] in page.text
        assert "Yes, cancel it" not in page.text and "Reschedule…" not in page.text
        token = csrf_of(page.text)
        later = (datetime.now(UTC) + 5 * DAY).strftime("%Y-%m-%dT%H:%M")
        for action, fields in (("cancel", {}), ("reschedule", {"send_at": later})):
            response = await browser.post(
                f"{PAGE}/{notification['id']}/{action}", data={"csrf_token": token, **fields}
            )
            assert response.status_code == 403, action
    assert (await stack.notification(notification["id"]))["status"] == "scheduled"


async def test_another_tenants_scheduled_items_are_not_found_nor_shown(stack, sessions):
    notification = await a_scheduled_notification(stack)
    other_tenant, _ = await new_tenant(sessions, "Other")
    other = await signed_in_operator(sessions, stack.settings, other_tenant, Role.OWNER)
    async with dashboard_client(stack.app, other.cookies) as browser:
        page = await browser.get(PAGE)
        assert notification["id"] not in page.text and "Nothing is scheduled." in page.text
        token = csrf_of(page.text)
        later = (datetime.now(UTC) + 5 * DAY).strftime("%Y-%m-%dT%H:%M")
        for action, fields in (("cancel", {}), ("reschedule", {"send_at": later})):
            response = await browser.post(
                f"{PAGE}/{notification['id']}/{action}", data={"csrf_token": token, **fields}
            )
            assert response.status_code == 404, action
    assert (await stack.notification(notification["id"]))["status"] == "scheduled"
