"""The bell as people see it: screenshots of the bell, the dropdown (light and dark), the
preferences view and a phone (tests/artifacts/screenshots/inbox-*.png on every run; `make
screenshots` copies them to docs/screenshots/ for the README). Also what the pictures show:
the dropdown fits a 375 px screen, follows the page's colour scheme unless told otherwise, and
writes times in the recipient's locale."""

from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.inbox_widget import Widget, embed, new_recipient, send_samples

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 960, "height": 680}


async def around_the_dropdown(widget: Widget, margin: int = 16) -> dict:
    """The top right of the page: the bell and its open dropdown."""
    panel = await widget.panel.bounding_box()
    assert panel
    left = max(0, panel["x"] - margin)
    return {
        "x": left,
        "y": 0,
        "width": DESKTOP["width"] - left,
        "height": panel["y"] + panel["height"] + margin,
    }


async def read_the_digest(widget: Widget) -> None:
    """One message read, so the pictures show read and unread ones."""
    await widget.item("Weekly digest is ready").get_by_role("button", name="Mark as read").click()
    await widget.wait_unread(3)
    await widget.page.locator("herald-inbox [role=status]").evaluate("e => e.textContent = ''")
    await widget.page.mouse.move(0, 0)  # no hover effect in the picture


async def test_screenshots_of_the_bell_the_dropdown_light_and_dark_and_the_preferences(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    await send_samples(served.stack, recipient)
    widget = await embed(
        new_page, served, host_pages, recipient, viewport=DESKTOP, device_scale_factor=2
    )
    page = widget.page
    await widget.wait_unread(4)
    bell = await widget.bell.bounding_box()
    assert bell
    await screenshot(
        page,
        "inbox-bell",
        clip={"x": bell["x"] - 120, "y": 0, "width": bell["width"] + 144, "height": 64},
    )

    await widget.open()
    await expect(widget.items).to_have_count(4)
    await read_the_digest(widget)
    await widget.bell.focus()
    await screenshot(page, "inbox-dropdown-light", clip=await around_the_dropdown(widget))
    await page.emulate_media(color_scheme="dark")
    await expect(page.locator("herald-inbox .root")).to_have_attribute("data-theme", "dark")
    await screenshot(page, "inbox-dropdown-dark", clip=await around_the_dropdown(widget))

    await page.emulate_media(color_scheme="light")
    await page.get_by_role("button", name="Notification preferences").click()
    await expect(page.get_by_role("switch", name="Email")).to_be_visible()
    # Without browser notifications on this origin, their part is left out, not written "null".
    preferences = await page.locator("herald-inbox .prefs").inner_text()
    assert "null" not in preferences, preferences
    await screenshot(page, "inbox-preferences", clip=await around_the_dropdown(widget))


async def test_on_a_phone_the_dropdown_fits_the_screen(served, host_pages, new_page):
    recipient = await new_recipient(served, host_pages)
    await send_samples(served.stack, recipient)
    widget = await embed(
        new_page,
        served,
        host_pages,
        recipient,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    await widget.wait_unread(4)
    await widget.bell.tap()
    await expect(widget.items).to_have_count(4)
    await read_the_digest(widget)
    box = await widget.panel.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] + box["height"] <= PHONE["height"], box
    assert await widget.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Every action is on screen and big enough to tap.
    for button in await widget.items.first.get_by_role("button").all():
        tap = await button.bounding_box()
        assert tap and tap["x"] + tap["width"] <= PHONE["width"] and tap["width"] >= 24, tap
    await screenshot(widget.page, "inbox-phone")


async def theme(page: Page) -> str:
    return await page.locator("herald-inbox .root").get_attribute("data-theme") or ""


async def test_the_theme_follows_the_page_unless_set_and_times_are_in_the_recipients_locale(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    await send_samples(served.stack, recipient, 1)
    following = await embed(new_page, served, host_pages, recipient, color_scheme="dark")
    assert await theme(following.page) == "dark"
    await following.page.emulate_media(color_scheme="light")
    await expect(following.page.locator("herald-inbox .root")).to_have_attribute(
        "data-theme", "light"
    )
    forced = await embed(
        new_page, served, host_pages, recipient, attributes={"theme": "dark"}, color_scheme="light"
    )
    assert await theme(forced.page) == "dark"

    german = await embed(new_page, served, host_pages, recipient, attributes={"locale": "de-DE"})
    await german.open()
    when = german.items.first.locator("time")
    await expect(when).to_have_text("jetzt")  # Intl.RelativeTimeFormat("de-DE"): "now"
    english = await embed(new_page, served, host_pages, recipient)
    await english.open()
    await expect(english.items.first.locator("time")).to_have_text("now")
