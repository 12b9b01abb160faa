"""History and Send in Chromium (issue 14), under the pages' real Content-Security-Policy.

Flow 3: an email the receiving server refuses fails; the operator finds it in History by its
status and address, opens its timeline (the refusal, the workflow's steps), resends it, and
watches the new delivery become sent while the mail arrives. Flow 2, its History part: a
template's test send is found in History with its timeline and content. Send: an event, its
default template and a recipient picked from what typing finds, previewed, sent, and found in
History. Every page passes axe-core at desktop and 375 px; screenshots: dashboard-history*.png
and dashboard-send*.png (tests/artifacts/screenshots/, docs/screenshots/ by `make screenshots`).
"""

import re
import uuid

from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.dashboard import DESKTOP, PHONE, some_activity
from tests.browser.test_dashboard_access_flow import wait_for_mail
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_templates_api import create, email_template

HISTORY = "/dashboard/history"


async def filter_history(page: Page, status: str, search: str) -> None:
    await page.get_by_label("Status").select_option(status)
    await page.get_by_label("Search").fill(search)
    await page.get_by_role("button", name="Filter").click()


def rows(page: Page):
    return page.locator('section[aria-labelledby="deliveries"] tbody tr')


def timeline(page: Page):
    return page.locator("ol.timeline")


async def no_horizontal_overflow(page: Page, what: str) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what} is {overflow} px wider than the window"


async def screenshot_whole(page: Page, name: str, viewport: dict) -> None:
    """The whole page, an email's frame drawn too: Chromium draws a frame's document only
    where the window shows it, so the window is made as tall as the page for the shot."""
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": viewport["width"], "height": height})
    if await page.locator("iframe.mail-frame").count():
        email = page.frame_locator("iframe.mail-frame").locator("body")
        await expect(email).to_contain_text("We received 42.00 EUR.")
    await screenshot(page, name, full_page=True)
    await page.set_viewport_size({"width": viewport["width"], "height": viewport["height"]})


async def test_a_refused_email_is_found_by_filter_resent_and_delivered(dashboard, new_page):
    await some_activity(dashboard)  # others around it: sent, failed, deferred
    stack = dashboard.served.stack
    address = f"flow3.{uuid.uuid4().hex[:8]}@example.com"
    dashboard.catcher.refused.add(address)
    accepted = await stack.api.post("/v1/notifications", json=email_request(address))
    await stack.wait_for_status(accepted.json()["id"], "failed")

    page = await dashboard.open(new_page, HISTORY, viewport=DESKTOP)
    await filter_history(page, "failed", address[:12])
    await expect(rows(page)).to_have_count(1)
    await expect(rows(page)).to_contain_text(address)
    await expect(rows(page)).to_contain_text("5.1.1 No such user here")

    dashboard.catcher.refused.discard(address)  # the mailbox exists now
    await rows(page).get_by_role("link").click()
    await expect(page.locator("#summary")).to_contain_text("failed")
    await expect(timeline(page)).to_contain_text("No such user here")
    await expect(timeline(page)).to_contain_text("Workflow started")
    web_ui = page.get_by_role("link", name="Open the workflow in Temporal's Web UI")
    await expect(web_ui).to_have_attribute("href", re.compile(r"/namespaces/default/workflows/"))

    await page.get_by_role("button", name="Resend this delivery").click()
    await expect(page.get_by_role("status")).to_have_text("Resent.")
    # The new delivery's page refreshes itself until it is sent.
    await expect(page.locator("#summary .badge")).to_have_text("sent", timeout=20_000)
    await expect(timeline(page)).to_contain_text("Sent via smtp")
    await expect(timeline(page)).to_contain_text("Resent")
    mail = await wait_for_mail(dashboard.catcher, address)
    assert mail.subject == "Payment received"

    # Both in History: the failure, and its resend that was sent.
    await page.goto(dashboard.base_url + HISTORY)
    await page.get_by_label("Search").fill(address)
    await page.get_by_role("button", name="Filter").click()
    await expect(rows(page)).to_have_count(2)
    await expect(rows(page).nth(0)).to_contain_text("sent")
    await expect(rows(page).nth(0)).to_contain_text("(a resend)")
    await expect(rows(page).nth(1)).to_contain_text("failed")


async def test_a_test_send_is_found_in_history_with_its_timeline(dashboard, new_page):
    stack = dashboard.served.stack
    template = await create(stack.api, email_template(subject="Booked: {{ event_name }}"))
    address = f"flow2.{uuid.uuid4().hex[:8]}@example.com"
    sent = await stack.api.post(f"/v1/templates/{template['id']}/test", json={"email": address})
    await stack.wait_for_status(sent.json()["id"], "sent")
    await wait_for_mail(dashboard.catcher, address)

    page = await dashboard.open(new_page, HISTORY, viewport=DESKTOP)
    await page.get_by_label("Search").fill(address)
    await page.get_by_role("button", name="Filter").click()
    await expect(rows(page)).to_have_count(1)
    await expect(rows(page)).to_contain_text("[TEST] Booked: Intro call")
    await rows(page).get_by_role("link").click()
    await expect(timeline(page)).to_contain_text("Accepted")
    await expect(timeline(page)).to_contain_text("Sent via smtp")
    await expect(timeline(page)).to_contain_text("Workflow completed")
    await expect(page.locator("#content ~ p strong").first).to_have_text("Subject:")
    await expect(page.get_by_text("[TEST] Booked: Intro call")).to_be_visible()
    frame = page.frame_locator("iframe.mail-frame")
    await expect(frame.get_by_text("Ana Souza").first).to_be_visible()


async def test_send_a_notification_by_hand_and_find_it_in_history(dashboard, new_page):
    stack = dashboard.served.stack
    await create(
        stack.api,
        email_template(
            name="Booking confirmed",
            subject="See you, {{ invitee_name }}",
            is_default=True,
            required_placeholders=["invitee_name"],
        ),
    )
    external_id = f"kj-{uuid.uuid4().hex[:6]}"
    address = f"{external_id}@example.com"
    await stack.api.put(
        f"/v1/recipients/{external_id}", json={"name": "Katherine Johnson", "email": address}
    )

    page = await dashboard.open(new_page, "/dashboard/send", viewport=DESKTOP)
    await page.get_by_label("Event").select_option("booking.confirmation")
    # Its default template is chosen, with its required variable marked.
    await expect(page.get_by_label("Template")).to_contain_text("Booking confirmed")
    invitee = page.get_by_role("textbox", name="invitee_name (required)", exact=True)
    await invitee.fill("Katherine")
    await page.get_by_label("Recipient").press_sequentially("johns")
    await page.get_by_role("button", name=re.compile(external_id)).click()
    await expect(page.get_by_label("Recipient")).to_have_value(external_id)

    await page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    await expect(preview).to_contain_text("See you, Katherine")
    await expect(
        page.frame_locator("#preview iframe").get_by_text("Katherine").first
    ).to_be_visible()

    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Sent.")
    await expect(rows(page)).to_have_count(1, timeout=20_000)
    await rows(page).get_by_role("link").click()
    await expect(page.locator("#summary .badge")).to_have_text("sent", timeout=20_000)
    mail = await wait_for_mail(dashboard.catcher, address)
    assert mail.subject == "See you, Katherine"


async def test_history_and_send_pass_axe_and_are_screenshot(dashboard, new_page):
    await some_activity(dashboard)
    stack = dashboard.served.stack
    failed = (await stack.api.get("/v1/logs", params={"status": "failed"})).json()["data"][0]
    await stack.api.put(
        "/v1/recipients/ada-1", json={"name": "Ada Lovelace", "email": "ada-1@example.com"}
    )
    pages = {
        HISTORY: ("history", "History"),
        f"{HISTORY}?status=failed": ("history-failed", "History"),
        f"{HISTORY}/{failed['id']}": ("history-delivery", f"Delivery {failed['id']}"),
        f"{HISTORY}/resend?status=failed": ("history-resend", "Resend failed deliveries"),
        "/dashboard/send?event_key=payment.completed&recipient=ada-1": ("send", "Send"),
    }
    for viewport, scheme, suffix in (
        (DESKTOP, "light", ""),
        (PHONE, "light", "-phone"),
        (DESKTOP, "dark", "-dark"),
    ):
        # bypass_csp: axe-core is injected as an inline script, which the pages' policy refuses.
        page = await dashboard.open(
            new_page, HISTORY, viewport=viewport, color_scheme=scheme, bypass_csp=True
        )
        for path, (name, heading) in pages.items():
            response = await page.goto(dashboard.base_url + path)
            assert response is not None and response.status == 200, path
            await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            await assert_accessible(page, f"{path} at {viewport['width']} px, {scheme}")
            if viewport is PHONE:
                await no_horizontal_overflow(page, path)
            await screenshot_whole(page, f"dashboard-{name}{suffix}", viewport)
        # The Send form with its matches and preview showing.
        await page.goto(dashboard.base_url + "/dashboard/send?event_key=payment.completed")
        await page.get_by_label("Recipient").press_sequentially("ada")
        await expect(page.locator("#recipient-matches")).to_contain_text("ada-1")
        await assert_accessible(page, f"Send with matches at {viewport['width']} px, {scheme}")
        await screenshot_whole(page, f"dashboard-send-matches{suffix}", viewport)
