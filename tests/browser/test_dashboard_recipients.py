"""Issue 14's flows 4 and 5 in Chromium. Flow 4: find a recipient, set their do-not-disturb and
see the blocked hours previewed as the fields change, in their zone and the operator's (the
browser's), save; a notification sent during the window is deferred, and their page shows until
when, in their zone. Flow 5: a booking made through the events API has its reminder chain; one
reminder is cancelled from Scheduled, after a confirmation. The pages pass axe-core at desktop
and phone width; screenshots: dashboard-recipients*, dashboard-scheduled*
(tests/artifacts/screenshots/, docs/screenshots/ by `make screenshots`)."""

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from domain.dnd_preview import DASH
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.dashboard import DESKTOP, PHONE
from tests.e2e.bookings_factory import booking_event, eventually, new_booking_id, state
from tests.e2e.test_delivery_policy import ZONE, quiet_window_around_now, send

OPERATOR_ZONE = "Europe/London"  # the browser's: Intl.DateTimeFormat() in the page says it


def your_time(start: str, end: str) -> str:
    """Today's occurrence of the recipient's window start-end, as the operator's clocks show
    it: `14:00-23:00 Europe/London` (with an en dash)."""
    zone, today = ZoneInfo(ZONE), datetime.now(ZoneInfo(ZONE)).date()
    crosses = end <= start
    begins = datetime.combine(today, time.fromisoformat(start), zone)
    ends = datetime.combine(today + timedelta(days=crosses), time.fromisoformat(end), zone)
    mine = [moment.astimezone(ZoneInfo(OPERATOR_ZONE)) for moment in (begins, ends)]
    return f"{mine[0]:%H:%M}{DASH}{mine[1]:%H:%M} {OPERATOR_ZONE}"


async def overflow(page: Page) -> int:
    return await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


async def check_and_shoot(page: Page, what: str, name: str, phone: bool) -> None:
    await assert_accessible(page, f"{what} at {'375 px' if phone else 'desktop width'}")
    if phone:
        over = await overflow(page)
        assert over <= 0, f"{what} is {over} px wider than the phone"
    await screenshot(page, f"{name}{'-phone' if phone else ''}", full_page=True)


async def test_flow_4_dnd_preview_then_a_send_during_the_window_is_deferred(dashboard, new_page):
    stack = dashboard.served.stack
    external_id = f"quiet-{uuid.uuid4().hex[:8]}"
    created = await stack.api.put(
        f"/v1/recipients/{external_id}",
        json={"name": "Kenji Quiet", "email": f"{external_id}@example.com", "timezone": ZONE},
    )
    assert created.status_code == 200, created.text
    start, end, ends_at = quiet_window_around_now()  # began 90 minutes ago in Asia/Tokyo

    # bypass_csp: axe-core is injected as an inline script, which the pages' policy refuses.
    page = await dashboard.open(
        new_page, "/dashboard/recipients", viewport=DESKTOP, timezone_id=OPERATOR_ZONE,
        bypass_csp=True,
    )  # fmt: skip
    await page.get_by_label("Search recipients").fill("Kenji")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=external_id).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Recipient {external_id}")

    # The preview follows the fields as they change, before anything is saved.
    preview = page.locator("#dnd-preview")
    await expect(preview).to_contain_text("Do-not-disturb is off")
    await expect(preview).to_contain_text(f"(your time {your_time('22:00', '07:00')})")
    await page.get_by_label("On: hold notifications back during these hours").check()
    await page.get_by_label("From").fill(start)
    await page.get_by_label("Until").fill(end)
    await page.get_by_label("Until").dispatch_event("change")
    summary = f"Blocked {start}{DASH}{end} {ZONE} (your time {your_time(start, end)})"
    await expect(preview.locator("[data-dnd-summary] strong")).to_have_text(summary)
    strips = preview.locator("ol.day-strip")
    await expect(strips).to_have_count(2)
    their_day = strips.nth(0)
    hour = datetime.now(ZoneInfo(ZONE)).hour  # inside the window: blocked on their strip
    await expect(their_day.locator("li").nth(hour)).to_have_class("hour blocked")
    await expect(their_day.locator("li").nth(hour)).to_contain_text("blocked")
    await check_and_shoot(page, "a recipient's page", "dashboard-recipients-detail", phone=False)

    await page.get_by_role("button", name="Save preferences").click()
    await expect(page.get_by_role("status")).to_contain_text("Preferences saved")
    on = page.get_by_label("On: hold notifications back during these hours")
    await expect(on).to_be_checked()

    # Sent during the window: deferred until it ends, said in their zone on their page.
    accepted = await send(stack, external_id)
    await stack.wait_for_status(accepted["id"], "deferred")
    await page.reload()
    deliveries = page.locator('section[aria-labelledby="deliveries"]')
    await expect(deliveries.locator(".badge")).to_have_text("deferred")
    until = ends_at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M JST")
    await expect(deliveries.locator(".deferred-until")).to_contain_text(f"until {until}")
    await expect(deliveries.locator(".deferred-until")).to_contain_text(
        f"({ends_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    )

    # The same pages at phone width, and the search list.
    phone = await dashboard.open(
        new_page, f"/dashboard/recipients/{external_id}", viewport=PHONE,
        timezone_id=OPERATOR_ZONE, bypass_csp=True,
    )  # fmt: skip
    await expect(phone.locator("#dnd-preview [data-dnd-summary] strong")).to_have_text(summary)
    await check_and_shoot(phone, "a recipient's page", "dashboard-recipients-detail", phone=True)
    for shown, viewport in ((page, False), (phone, True)):
        await shown.goto(dashboard.base_url + "/dashboard/recipients?q=quiet")
        await expect(shown.get_by_role("link", name=external_id)).to_be_visible()
        await check_and_shoot(shown, "the recipients' search", "dashboard-recipients", viewport)


async def test_flow_5_cancel_a_booking_reminder_from_scheduled(dashboard, new_page):
    stack = dashboard.served.stack
    booking_id = new_booking_id()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    made = await stack.api.post(
        "/v1/events", json=booking_event("booking.created", booking_id, start)
    )
    assert made.status_code == 202, made.text

    async def reminders() -> list[dict]:
        listed = (await stack.api.get("/v1/scheduled")).json()["data"]
        return [item for item in listed if item.get("booking_id") == booking_id]

    day_before, hour_before = await eventually(
        reminders, lambda found: len(found) == 2, what="the booking's two reminders"
    )

    page = await dashboard.open(
        new_page, "/dashboard/scheduled", viewport=DESKTOP, timezone_id=OPERATOR_ZONE,
        bypass_csp=True,
    )  # fmt: skip
    row = page.locator(f'tr[data-scheduled-id="{day_before["id"]}"]')
    await expect(row).to_contain_text(f"Reminder 1 day before booking {booking_id}")
    await check_and_shoot(page, "Scheduled", "dashboard-scheduled", phone=False)
    # Reschedule states the zone the time is read in: the operator's.
    await row.get_by_text("Reschedule…").click()
    await expect(row.get_by_text(f"New time, in your zone ({OPERATOR_ZONE})")).to_be_visible()
    await row.get_by_text("Reschedule…").click()

    # Cancelling asks first.
    await row.get_by_text("Cancel…").click()
    await expect(row).to_contain_text("Cancel this booking reminder? It will not be sent")
    await row.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.get_by_role("status")).to_have_text("Cancelled: it will not be sent.")
    await expect(page.locator(f'tr[data-scheduled-id="{day_before["id"]}"]')).to_have_count(0)
    await expect(page.locator(f'tr[data-scheduled-id="{hour_before["id"]}"]')).to_have_count(1)
    chain = await state(stack, booking_id)
    assert chain["cancelled_offsets"] == [1440]
    assert [item["id"] for item in await reminders()] == [hour_before["id"]]

    phone = await dashboard.open(
        new_page, "/dashboard/scheduled", viewport=PHONE, timezone_id=OPERATOR_ZONE,
        bypass_csp=True,
    )  # fmt: skip
    await expect(phone.locator(f'tr[data-scheduled-id="{hour_before["id"]}"]')).to_have_count(1)
    await check_and_shoot(phone, "Scheduled", "dashboard-scheduled", phone=True)
