"""Issue 14's sixth flow in Chromium, under the pages' real Content-Security-Policy: an operator
chooses a period and a channel on Analytics, sees the charts (inline SVG, each with its data
table on demand), exports the CSV (a real download) and every row of it is what GET /v1/stats
answers for the same range and filter. Settings in the browser: a fallback saved and read back
by the API, a bad value refused beside its field, an API key created (shown once) and revoked.
Both pages pass axe-core at desktop and 375 px, nothing wider than the phone; screenshots:
dashboard-analytics*.png and dashboard-settings*.png (tests/artifacts/screenshots/, and
docs/screenshots/ by `make screenshots`)."""

import re
from datetime import UTC, datetime, time, timedelta

from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.dashboard import DESKTOP, PHONE, Dashboard, some_activity
from tests.utils.analytics_csv import assert_export_matches_the_stats_api
from tests.utils.deliveries import Batch, add_deliveries, add_template

ANALYTICS = "/dashboard/analytics"
SETTINGS = "/dashboard/settings"


async def history(dashboard: Dashboard) -> None:
    """A month of past deliveries (two templates, three providers) beside today's real ones."""
    stack = dashboard.served.stack
    midnight = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    batches: list[Batch] = []
    for days_ago in range(1, 29, 3):
        day = midnight - timedelta(days=days_ago) + timedelta(hours=10)
        batches += [
            (day, "email", "sendgrid", "booking.confirmation", "Booking confirmed",
             {"delivered": 6 + days_ago % 4, "opened": 4, "clicked": days_ago % 3, "bounced": 1}),
            (day, "email", "smtp", "booking.reminder", "Reminder",
             {"sent": 5, "failed": days_ago % 2}),
            (day, "sms", "twilio", "booking.reminder", None, {"delivered": 3, "failed": 1}),
        ]  # fmt: skip
    async with dashboard.sessions.begin() as session:
        versions = {
            name: (await add_template(session, stack.tenant_id, name, event))[1]
            for name, event in (
                ("Booking confirmed", "booking.confirmation"),
                ("Reminder", "booking.reminder"),
            )
        }
        await add_deliveries(session, stack.tenant_id, batches, versions)


async def no_wider_than_the_phone(page: Page, what: str) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what} is {overflow} px wider than the phone"


async def test_analytics_exported_as_csv_is_what_the_stats_api_counts(dashboard, new_page):
    await some_activity(dashboard)
    await history(dashboard)
    page = await dashboard.open(new_page, ANALYTICS, viewport=DESKTOP)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")

    await page.get_by_label("Period", exact=True).select_option("30")
    await page.get_by_label("Channel", exact=True).select_option("email")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"days=30&channel=email"))

    # Each chart is an image named by its title, with its table a click away.
    for name in ("Rates over time", "Deliveries attempted per day", "Rates by provider"):
        chart = page.get_by_role("img", name=name)
        await expect(chart).to_be_visible()
    table = page.get_by_role("region", name="Rates by provider, table")
    await expect(table).to_be_hidden()
    await page.get_by_text("Rates by provider: the data as a table").click()
    await expect(table).to_be_visible()
    await expect(table.get_by_role("rowheader", name="sendgrid")).to_be_visible()
    await expect(table.get_by_role("rowheader", name="twilio")).to_have_count(0)  # sms: filtered
    # A dot says its value when pointed at.
    assert await page.locator("svg circle title").count() > 0

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Export CSV").click()
    download = await downloading.value
    first_day = datetime.now(UTC).date() - timedelta(days=29)
    today = datetime.now(UTC).date()
    assert download.suggested_filename == f"herald-analytics-{first_day}-to-{today}-email.csv"
    exported = (await download.path()).read_text(encoding="utf-8")
    rows = await assert_export_matches_the_stats_api(
        dashboard.served.stack.api, exported, first_day, 30, channel="email"
    )
    # Today's real sends are in it: three sent, one refused by the receiving server.
    (today_row,) = [row for row in rows if row["section"] == "day" and row["key"] == str(today)]
    assert today_row["sent"] == "3" and today_row["failed"] == "1"
    assert {row["name"] for row in rows if row["section"] == "template"} >= {
        "Booking confirmed",
        "Reminder",
    }


async def test_analytics_is_accessible_and_fits_a_phone(dashboard, new_page):
    await some_activity(dashboard)
    await history(dashboard)
    for viewport, scheme, suffix in (
        (DESKTOP, "light", ""),
        (PHONE, "light", "-phone"),
        (DESKTOP, "dark", "-dark"),
    ):
        # bypass_csp: axe-core is injected as an inline script, which the pages' policy refuses.
        page = await dashboard.open(
            new_page, ANALYTICS, viewport=viewport, color_scheme=scheme, bypass_csp=True
        )
        await expect(page.get_by_role("img", name="Rates over time")).to_be_visible()
        for details in await page.locator("details.chart-data").all():
            await details.locator("summary").click()  # the tables open are checked too
        await assert_accessible(page, f"Analytics at {viewport['width']} px, {scheme}")
        if viewport is PHONE:
            await no_wider_than_the_phone(page, "Analytics")
        await page.goto(dashboard.base_url + ANALYTICS)  # the tables closed again
        await screenshot(page, f"dashboard-analytics{suffix}", full_page=True)


async def test_settings_in_the_browser(dashboard, new_page, console):
    # A refused form answers 422: Chromium logs the status of the page it loads.
    console.allow(r"status of 422")
    stack = dashboard.served.stack
    page = await dashboard.open(new_page, SETTINGS, viewport=DESKTOP)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Settings")

    fallback = page.get_by_role("group", name="Fallback 1")
    await fallback.get_by_label("Event key").fill("booking.reminder")
    await fallback.get_by_label("From channel").select_option("email")
    await fallback.get_by_label("To channel").select_option("sms")
    await fallback.get_by_label("Unless").select_option("opened")
    await fallback.get_by_label("Within (minutes)").fill("0")
    await page.get_by_role("button", name="Save the delivery policy").click()
    # Refused beside the field, in the API's words; the form keeps what was typed.
    within = page.get_by_role("group", name="Fallback 1").get_by_label("Within (minutes)")
    await expect(within).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#error-fallback-0-within_minutes")).to_have_text(
        "Input should be greater than 0"
    )
    await expect(
        page.get_by_role("group", name="Fallback 1").get_by_label("Event key")
    ).to_have_value("booking.reminder")
    assert (await stack.api.get("/v1/settings/delivery-policy")).json()["fallbacks"] == {}

    await within.fill("45")
    await page.get_by_role("button", name="Save the delivery policy").click()
    await expect(page.get_by_role("status")).to_have_text("Delivery policy saved.")
    policy = (await stack.api.get("/v1/settings/delivery-policy")).json()
    assert policy["fallbacks"] == {
        "booking.reminder": {
            "from_channel": "email",
            "to_channel": "sms",
            "unless": "opened",
            "within_minutes": 45.0,
        }
    }

    await page.get_by_label("New key's name").fill("billing")
    await page.get_by_role("button", name="Create a key").click()
    key = await page.locator("#new-key").text_content()
    assert key and key.startswith("hk_")
    async with await stack.as_tenant(key) as client:
        assert (await client.get("/v1/api-keys")).status_code == 200
    await screenshot(page, "dashboard-settings-new-key", full_page=True)
    keys = page.get_by_role("region", name="API keys, table")
    await keys.get_by_role("button", name=re.compile(r"^Revoke billing")).click()
    await expect(page.get_by_role("status")).to_have_text("API key revoked: it no longer works.")
    async with await stack.as_tenant(key) as client:
        assert (await client.get("/v1/api-keys")).status_code == 401


async def test_settings_is_accessible_and_fits_a_phone(dashboard, new_page):
    for viewport, scheme, suffix in (
        (DESKTOP, "light", ""),
        (PHONE, "light", "-phone"),
        (DESKTOP, "dark", "-dark"),
    ):
        page = await dashboard.open(
            new_page, SETTINGS, viewport=viewport, color_scheme=scheme, bypass_csp=True
        )
        await expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
        await assert_accessible(page, f"Settings at {viewport['width']} px, {scheme}")
        if viewport is PHONE:
            await no_wider_than_the_phone(page, "Settings")
        await screenshot(page, f"dashboard-settings{suffix}", full_page=True)
