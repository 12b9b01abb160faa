"""The dashboard's shell and first pages in a real browser (issue 14): Overview, Health and the
Dev mailbox render under their Content-Security-Policy without a console
error, at desktop and phone width, light and dark, with no serious or critical axe-core
violation; the navigation works from the keyboard; an email's HTML runs no script. Screenshots
of each go to tests/artifacts/screenshots/dashboard-*.png (docs/screenshots/ by `make
screenshots`)."""

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.dashboard import DESKTOP, PHONE, some_activity
from tests.e2e.test_dashboard_dev_mailbox import HOSTILE
from web.pages import PAGES

# path -> the screenshot's name and the heading the page shows
PAGES_SHOWN = {
    "/dashboard": ("overview", "Overview"),
    "/dashboard/health": ("health", "Health"),
    "/dashboard/dev-mailbox": ("dev-mailbox", "Dev mailbox"),
    "/dashboard/dev-mailbox/000001": ("dev-mailbox-message", "Payment received"),
}


@pytest.fixture
async def with_activity(dashboard):
    await some_activity(dashboard)
    return dashboard


async def visit(page: Page, base_url: str, path: str, heading: str) -> None:
    response = await page.goto(base_url + path)
    assert response is not None and response.status == 200, path
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)


async def test_the_pages_render_under_their_policy_without_console_errors(with_activity, new_page):
    page = await with_activity.open(new_page, viewport=DESKTOP)
    for path, (_, heading) in PAGES_SHOWN.items():
        await visit(page, with_activity.base_url, path, heading)
        # The stylesheet and htmx loaded (the policy allows only the dashboard's own files).
        assert await page.evaluate("getComputedStyle(document.body).display") == "grid"
        assert await page.evaluate("typeof window.htmx") == "object"
    # The Overview shows the day's figures and the refused email among the failures.
    await page.goto(with_activity.base_url + "/dashboard")
    await expect(page.locator('[data-figure="sent"]')).to_have_text("3")
    await expect(page.locator('[data-figure="failed"]')).to_have_text("1")
    await expect(page.locator('[data-figure="deferred"]')).to_have_text("1")
    attention = page.locator('section[aria-labelledby="attention"]')
    await expect(attention).to_contain_text("nobody@example.com")
    await expect(attention).to_contain_text("5.1.1 No such user here")


async def test_every_page_passes_axe_and_is_screenshot_on_desktop_and_phone_light_and_dark(
    with_activity, new_page
):
    for viewport, scheme, suffix in (
        (DESKTOP, "light", ""),
        (PHONE, "light", "-phone"),
        (DESKTOP, "dark", "-dark"),
        (PHONE, "dark", "-phone-dark"),
    ):
        # bypass_csp: axe-core is injected as an inline script, which the pages' policy refuses.
        page = await with_activity.open(
            new_page, viewport=viewport, color_scheme=scheme, bypass_csp=True
        )
        for path, (name, heading) in PAGES_SHOWN.items():
            await visit(page, with_activity.base_url, path, heading)
            await assert_accessible(page, f"{path} at {viewport['width']} px, {scheme}")
            if scheme == "light" or name == "overview":
                await screenshot(page, f"dashboard-{name}{suffix}", full_page=True)


async def test_at_phone_width_nothing_overflows_and_the_navigation_stays_in_reach(
    with_activity, new_page
):
    page = await with_activity.open(new_page, viewport=PHONE)
    for path, (_, heading) in PAGES_SHOWN.items():
        await visit(page, with_activity.base_url, path, heading)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px wider than the phone"
        navigation = page.get_by_role("navigation", name="Dashboard")
        for link in await navigation.get_by_role("link").all():
            box = await link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 24, "a link too small to tap"  # WCAG 2.5.8's minimum


async def test_the_navigation_works_from_the_keyboard(dashboard, new_page):
    page = await dashboard.open(new_page, viewport=DESKTOP)
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    # It slides into view (a 0.1 s transition unless the reader asks for reduced motion).
    box = await skip.bounding_box()
    for _ in range(40):
        if box is not None and box["y"] >= 0:
            break
        await asyncio.sleep(0.05)
        box = await skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the skip link shows when focused"
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    # From the top: the skip link, the brand, logout, then each page in the navigation's order.
    await page.goto(dashboard.base_url + "/dashboard")
    expected = ["Skip to main content", "Herald", "Log out"]
    expected += [p.label for p in PAGES]  # the Dev mailbox is there: the catcher runs
    reached = []
    for _ in expected:
        await page.keyboard.press("Tab")
        reached.append(await page.evaluate("document.activeElement.textContent.trim()"))
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid", f"no visible focus on {reached[-1]!r}"
    assert reached == expected

    # Enter follows the focused link; the page it opens is marked current.
    await page.goto(dashboard.base_url + "/dashboard")
    health = page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Health")
    await health.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/dashboard/health$"))
    await expect(health).to_have_attribute("aria-current", "page")


async def test_an_emails_html_runs_no_script_and_loads_nothing_remote(dashboard, new_page, console):
    directory = Path(str(dashboard.served.stack.settings.dev_mailbox_path))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "000009.eml").write_bytes(HOSTILE)
    # What the browser reports refusing is the point of this test.
    console.allow(r"Blocked script execution|violates the following Content Security Policy")

    page = await dashboard.open(new_page, "/dashboard/dev-mailbox/000009", viewport=DESKTOP)
    frame_element = page.locator("iframe.mail-frame")
    await expect(frame_element).to_have_attribute("sandbox", "")
    content = page.frame_locator("iframe.mail-frame")
    await expect(content.locator("p")).to_have_text("Hi")
    # The script would have renamed the email's document; the tracker image never loads.
    frame = next(f for f in page.frames if f.url.endswith("/000009/html"))
    assert await frame.evaluate("document.title") == ""
    assert await frame.evaluate("document.images[0].naturalWidth") == 0
    await expect(page).to_have_title(re.compile("Herald"))
