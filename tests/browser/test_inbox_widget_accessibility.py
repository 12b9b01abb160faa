"""The bell for keyboard and assistive technology users (issue 13, flow 6): axe-core reports no
serious or critical violation in any of its states, light or dark; the button, the tabs, the
list and the snooze menu work from the keyboard; the exact unread count is in the bell's label
when the badge shows 99+."""

import asyncio

from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible
from tests.browser.inbox_widget import (
    embed,
    new_recipient,
    recipient_counts,
    send_in_app,
    send_samples,
    wait_counts,
)


async def focused(page: Page) -> str:
    """What has the keyboard focus inside the widget: a short description."""
    return await page.evaluate(
        """() => {
            const host = document.activeElement;
            if (!host || host.tagName !== "HERALD-INBOX") return "outside";
            const el = host.shadowRoot.activeElement;
            if (!el) return "host";
            return el.getAttribute("role") === "tab" ? "tab " + el.textContent.trim()
                : el.tagName === "ARTICLE" ? "item " + el.querySelector(".title").textContent.trim()
                : el.getAttribute("role") === "menuitem" ? "menuitem " + el.textContent.trim()
                : el.className + " " + (el.getAttribute("aria-label") || el.textContent.trim());
        }"""
    )


async def test_axe_finds_no_serious_violation_in_any_state_light_or_dark(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    await send_samples(served.stack, recipient)
    widget = await embed(new_page, served, host_pages, recipient)
    page = widget.page
    await widget.wait_unread(4)
    await assert_accessible(page, "the page with the closed bell and its badge")

    await widget.open()
    await expect(widget.items).to_have_count(4)
    await widget.item("Weekly digest is ready").get_by_role("button", name="Mark as read").click()
    await widget.wait_unread(3)
    await assert_accessible(page, "the open dropdown, light")
    await page.emulate_media(color_scheme="dark")
    await expect(page.locator("herald-inbox .root")).to_have_attribute("data-theme", "dark")
    await assert_accessible(page, "the open dropdown, dark")

    await widget.item("Your order shipped").get_by_role("button", name="Snooze").click()
    await expect(page.get_by_role("menu")).to_be_visible()
    await assert_accessible(page, "the snooze menu, dark")
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("menu")).to_be_hidden()

    await widget.tab("Archived").click()
    await expect(page.get_by_text("Nothing archived.")).to_be_visible()
    await assert_accessible(page, "an empty tab, dark")

    await page.get_by_role("button", name="Notification preferences").click()
    await expect(page.get_by_role("switch", name="Email")).to_be_visible()
    await assert_accessible(page, "the preferences view, dark")
    await page.emulate_media(color_scheme="light")
    await assert_accessible(page, "the preferences view, light")


async def test_the_bell_the_tabs_the_list_and_the_snooze_menu_work_from_the_keyboard(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    await send_samples(served.stack, recipient, 3)
    widget = await embed(new_page, served, host_pages, recipient)
    page = widget.page
    await widget.wait_unread(3)
    bell = "bell Notifications, 3 unread"

    await page.keyboard.press("Tab")  # the first thing to focus on the host page
    assert await focused(page) == bell
    await page.keyboard.press("Enter")
    await expect(widget.panel).to_be_visible()
    await expect(widget.bell).to_have_attribute("aria-expanded", "true")
    assert await focused(page) == "tab All"
    await page.keyboard.press("Escape")
    await expect(widget.panel).to_be_hidden()
    await expect(widget.bell).to_have_attribute("aria-expanded", "false")
    assert await focused(page) == bell  # focus returns to the button
    await page.keyboard.press("Space")
    await expect(widget.panel).to_be_visible()

    # Tabs: a tablist; arrows move and select, Home and End too.
    await page.keyboard.press("ArrowRight")
    assert await focused(page) == "tab Archived"
    await expect(widget.tab("Archived")).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Home")
    assert await focused(page) == "tab Unread, 3"
    await expect(widget.items).to_have_count(3)
    await page.keyboard.press("ArrowRight")
    assert await focused(page) == "tab All"
    await expect(widget.items).to_have_count(3)

    # The list: Tab enters it at its first item, arrows move between items.
    await page.keyboard.press("Tab")
    assert await focused(page) == "item Unread: New comment on your post"
    await page.keyboard.press("ArrowDown")
    assert await focused(page) == "item Unread: Your order shipped"
    await page.keyboard.press("End")
    assert await focused(page) == "item Unread: Payment failed"
    await page.keyboard.press("ArrowUp")
    assert await focused(page) == "item Unread: Your order shipped"

    # Its actions: mark read keeps the focus on the item's controls.
    await page.keyboard.press("Tab")
    assert await focused(page) == "icon-button Mark as read"
    await page.keyboard.press("Enter")
    await widget.wait_unread(2)
    assert await focused(page) == "icon-button Mark as unread"

    # The snooze menu: opens on its first item, arrows, Escape back to its button.
    await page.keyboard.press("Tab")
    assert await focused(page) == "icon-button Snooze"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("menu")).to_be_visible()
    assert (await focused(page)).startswith("menuitem In 1 hour")
    await page.keyboard.press("ArrowDown")
    assert (await focused(page)).startswith("menuitem Tomorrow morning")
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("menu")).to_be_hidden()
    assert await focused(page) == "icon-button Snooze"
    await expect(widget.panel).to_be_visible()  # the first Escape closed only the menu
    await page.keyboard.press("Enter")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")  # Next week
    await expect(widget.item("Your order shipped")).to_have_count(0)
    await wait_counts(served.stack, recipient, total=2, unread=2)

    await page.keyboard.press("Escape")
    await expect(widget.panel).to_be_hidden()
    assert await focused(page) == "bell Notifications, 2 unread"


async def test_past_99_the_badge_shows_99_plus_the_label_the_exact_count_and_pages_load(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    await asyncio.gather(
        *(send_in_app(served.stack, recipient, f"Alert {n}") for n in range(1, 121))
    )
    widget = await embed(new_page, served, host_pages, recipient)
    await widget.wait_unread(120, timeout=60)
    await expect(widget.page.locator("herald-inbox .badge")).to_have_text("99+")
    await expect(widget.bell).to_have_attribute("aria-label", "Notifications, 120 unread")
    assert (await recipient_counts(served.stack, recipient))["unread"] == 120
    # Loaded afresh, the list comes a page at a time (live, every new message joins it).
    await widget.page.reload()
    await widget.wait_unread(120)
    await widget.open()
    await expect(widget.items).to_have_count(20)
    await widget.page.get_by_role("button", name="Load more").click()
    await expect(widget.items).to_have_count(40)
    titles = await widget.page.locator("herald-inbox [role=feed] .title").all_text_contents()
    assert len(set(titles)) == 40
