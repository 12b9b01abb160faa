"""Issue 14's second flow in Chromium, under the pages' real Content-Security-Policy: an editor
creates an email template with the variable helper (a click inserts at the cursor), sees the
live preview follow the typing (the email in its sandboxed frame, at desktop and phone width), a
syntax error beside its field with a link that selects its line, saves it, sends a test that
arrives in the mail catcher, and finds it in History with its timeline. The SMS counter
(characters, encoding, segments) changes as the message is typed, at phone width; a version is
restored from its diff; a viewer (flow 1's last step) reads a template and cannot save it. Every
Templates page passes axe-core at desktop, 375 px and dark; screenshots: dashboard-templates*.png
(tests/artifacts/screenshots/, docs/screenshots/ by `make screenshots`)."""

import re
import uuid

from playwright.async_api import Page, expect

from domain.operators import Role
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.dashboard import DESKTOP, PHONE
from tests.browser.test_dashboard_access_flow import wait_for_mail
from tests.e2e.test_templates_api import CONFIRMATION_HTML, create, email_template, sms_template

BASE = "/dashboard/templates"


async def insert(page: Page, variable: str) -> None:
    await page.get_by_role("button", name=f"{{{{ {variable} }}}} (insert)").click()


async def test_an_editor_creates_an_email_template_previews_it_saves_it_and_sends_a_test(
    dashboard, new_page
):
    page = await dashboard.open(new_page, BASE, viewport=DESKTOP)
    await page.get_by_role("link", name="New template").click()
    await page.get_by_label("Event", exact=True).fill("booking.confirmation")
    await page.get_by_label("Channel").select_option("email")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("New template")
    assert await page.evaluate("typeof window.htmx") == "object"  # loaded under the policy

    await page.get_by_label("Name", exact=True).fill("Welcome email")
    subject = page.get_by_label("Subject", exact=True)
    await subject.press_sequentially("See you, ")
    await insert(page, "invitee_name")  # at the subject's cursor: the field last typed in
    await expect(subject).to_have_value("See you, {{ invitee_name }}")
    body = page.get_by_label("HTML body", exact=True)
    await body.press_sequentially("<p>Hello </p>")
    for _ in "</p>":
        await body.press("ArrowLeft")
    await insert(page, "event_name")  # inside the paragraph, where the cursor is
    await expect(body).to_have_value("<p>Hello {{ event_name }}</p>")

    # The preview follows: the subject, and the email in its frame, with the sample data.
    await expect(page.locator('[data-preview="subject"]')).to_have_text("See you, Ana Souza")
    frame = page.frame_locator('iframe[name="email-preview"]')
    await expect(frame.get_by_text("Hello Intro call")).to_be_visible()
    phone = page.get_by_role("button", name="Phone width")
    await phone.click()
    await expect(phone).to_have_attribute("aria-pressed", "true")
    box = await page.locator('iframe[name="email-preview"]').bounding_box()
    assert box is not None and round(box["width"]) == 375
    await page.get_by_role("button", name="Desktop width").click()
    box = await page.locator('iframe[name="email-preview"]').bounding_box()
    assert box is not None and box["width"] > 375

    # A required variable is marked as such.
    required = page.get_by_label("invitee_name is required")
    await required.check()
    row = page.locator("tr", has=required)
    await expect(row.locator(".required-badge")).to_be_visible()

    # A syntax error: beside its field, at its line; the link selects that line.
    await body.press("End")
    await body.press_sequentially("\n<p>{{ invitee_name }</p>")
    problems = page.locator("#problems-html_body")
    await expect(problems).to_contain_text("line 2")
    await expect(body).to_have_attribute("aria-describedby", re.compile("problems-html_body"))
    await problems.get_by_role("link", name="line 2").click()
    await expect(body).to_be_focused()
    selected = await body.evaluate("(f) => f.value.slice(f.selectionStart, f.selectionEnd)")
    assert selected == "<p>{{ invitee_name }</p>"
    await body.fill("<p>Hello {{ event_name }}</p>\n<p>Bye, {{ invitee_name }}</p>")
    await expect(problems).to_have_text("")
    await expect(frame.get_by_text("Bye, Ana Souza")).to_be_visible()

    await page.get_by_role("button", name="Create template").click()
    await expect(page.get_by_role("status")).to_have_text("Template created as version 1.")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome email")
    await expect(page.get_by_label("invitee_name is required")).to_be_checked()
    # The saved version's frame loads by itself.
    await expect(frame.get_by_text("Bye, Ana Souza")).to_be_visible()

    address = f"flow2.{uuid.uuid4().hex[:8]}@example.com"
    await page.get_by_label("Email address").fill(address)
    await page.get_by_role("button", name="Send test").click()
    await expect(page.get_by_role("status")).to_contain_text("Test sent")
    mail = await wait_for_mail(dashboard.catcher, address)
    assert mail.subject == "[TEST] See you, Ana Souza"
    assert "Hello Intro call" in mail.text() and "Bye, Ana Souza" in mail.text()

    # ... and finds it in History, with its timeline.
    await page.get_by_role("link", name="See it in History").click()
    deliveries = page.locator('section[aria-labelledby="deliveries"] tbody tr')
    await expect(deliveries).to_have_count(1)
    await expect(deliveries).to_contain_text("[TEST] See you, Ana Souza")
    await deliveries.get_by_role("link").click()
    timeline = page.locator("ol.timeline")
    await expect(timeline).to_contain_text("Accepted")
    await expect(timeline).to_contain_text("Sent via smtp", timeout=20_000)


async def test_the_sms_counter_follows_the_typing_at_phone_width(dashboard, new_page):
    page = await dashboard.open(
        new_page, f"{BASE}/new?event_key=booking.reminder&channel=sms", viewport=PHONE
    )
    # The counter beside the message (in reach while typing on a phone); the preview's agrees.
    counter = page.locator("#sms-counter-inline")
    body = page.get_by_label("Message", exact=True)
    await body.press_sequentially("Hi ")
    await insert(page, "invitee_name")
    await expect(page.locator('[data-preview="sms"]')).to_have_text("Hi Ana Souza")
    await expect(counter.locator('[data-figure="characters"]')).to_have_text("12")
    await expect(counter.locator('[data-figure="encoding"]')).to_have_text("GSM-7")
    await expect(counter.locator('[data-figure="segments"]')).to_have_text("1")
    await expect(counter).to_contain_text("(12 of 160 septets)")

    await body.press_sequentially(", see you at {{ start_time_invitee }}. " + "x" * 100)
    await expect(counter.locator('[data-figure="segments"]')).to_have_text("2")
    await body.press_sequentially(" 👋")
    await expect(counter.locator('[data-figure="encoding"]')).to_have_text("UCS-2")
    await expect(counter.locator('[data-figure="segments"]')).to_have_text("3")
    await expect(page.locator("[data-sms-counter]")).to_have_text(await counter.inner_text())
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the editor is {overflow} px wider than the phone"


async def test_a_version_is_compared_and_restored(dashboard, new_page):
    api = dashboard.served.stack.api
    template = await create(api, email_template(subject="Booked: {{ event_name }}"))
    changed = await api.put(
        f"/v1/templates/{template['id']}", json={"subject": "Soon: {{ event_name }}"}
    )
    assert changed.status_code == 200

    page = await dashboard.open(new_page, f"{BASE}/{template['id']}", viewport=DESKTOP)
    await page.get_by_role("link", name="Version history").click()
    await page.get_by_role("button", name="Compare").click()
    await expect(page.locator("del")).to_have_text("Booked: {{ event_name }}")
    await expect(page.locator("ins")).to_have_text("Soon: {{ event_name }}")
    await page.get_by_role("button", name="Restore version 1").click()
    await expect(page.get_by_role("status")).to_contain_text("Restored")
    await expect(page.get_by_label("Subject", exact=True)).to_have_value("Booked: {{ event_name }}")
    await expect(page.get_by_role("button", name="Save as version 4")).to_be_visible()


async def test_a_viewer_reads_a_template_and_cannot_save_it(dashboard, new_page, console):
    template = await create(dashboard.served.stack.api, sms_template())
    viewer = await dashboard.operator(Role.VIEWER)
    page = await dashboard.open(new_page, f"{BASE}/{template['id']}", viewer, viewport=DESKTOP)
    await expect(page.get_by_role("note")).to_contain_text("editors and owners change it")
    await expect(page.get_by_label("Message", exact=True)).to_have_attribute("readonly", "")
    await expect(page.get_by_role("button", name=re.compile("Save"))).to_have_count(0)
    await expect(page.locator('[data-preview="sms"]')).to_contain_text("Intro call")
    # Posting the form anyway (its token included) is refused.
    console.allow("status of 403")
    status = await page.evaluate(
        """async () => {
            const form = document.getElementById("template-form");
            const response = await fetch(form.action, {method: "POST", body: new FormData(form)});
            return response.status;
        }"""
    )
    assert status == 403


async def test_every_templates_page_passes_axe_and_is_screenshot(dashboard, new_page):
    api = dashboard.served.stack.api
    email = await create(api, email_template(name="Booking confirmed", is_default=True))
    await api.put(
        f"/v1/templates/{email['id']}",
        json={
            "html_body": CONFIRMATION_HTML
            + "<p>Reply to this email to reach {{ organizer_name }}.</p>\n"
        },
    )
    sms = await create(api, sms_template(name="Reminder text"))
    sent = await api.post(f"/v1/templates/{email['id']}/test", json={"email": "ada@example.com"})
    await dashboard.served.stack.wait_for_status(sent.json()["id"], "sent")
    pages = {
        BASE: ("templates", "Templates"),
        f"{BASE}/{email['id']}": ("templates-editor", "Booking confirmed"),
        f"{BASE}/{sms['id']}": ("templates-sms", "Reminder text"),
        f"{BASE}/{email['id']}/versions": ("templates-versions", "Versions of Booking confirmed"),
        f"{BASE}/{email['id']}/diff": ("templates-diff", "Booking confirmed: version 1 → 2"),
        f"{BASE}/new": ("templates-new", "New template"),
    }
    for viewport, scheme, suffix in (
        (DESKTOP, "light", ""),
        (PHONE, "light", "-phone"),
        (DESKTOP, "dark", "-dark"),
    ):
        # bypass_csp: axe-core is injected as an inline script, which the pages' policy refuses.
        page = await dashboard.open(
            new_page, BASE, viewport=viewport, color_scheme=scheme, bypass_csp=True
        )
        for path, (name, heading) in pages.items():
            response = await page.goto(dashboard.base_url + path)
            assert response is not None and response.status == 200, path
            await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            if name == "templates":
                usage = page.locator(f'tr[data-template="{email["id"]}"] [data-usage]')
                await expect(usage).to_have_text("1")
            await assert_accessible(page, f"{path} at {viewport['width']} px, {scheme}")
            await screenshot(page, f"dashboard-{name}{suffix}", full_page=True)
