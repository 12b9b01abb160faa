"""The preferences view inside the bell: the recipient's channel switches (all, and per category)
and their do-not-disturb window, read and changed through GET/PATCH /v1/inbox/preferences with
their own token; a change the server refuses says why and shows what is stored."""

from playwright.async_api import expect

from tests.browser.inbox_widget import embed, new_recipient, send_samples


async def stored_preferences(stack, recipient) -> dict:
    """As the tenant's API reads them: what the widget changed is the recipient's own."""
    response = await stack.api.get(f"/v1/recipients/{recipient.external_id}/preferences")
    assert response.status_code == 200, response.text
    return response.json()


async def test_channel_switches_per_category_and_the_dnd_window_are_saved(
    served, host_pages, new_page, console
):
    stack = served.stack
    recipient = await new_recipient(served, host_pages)
    await send_samples(stack, recipient, 1)  # its category is listed
    widget = await embed(new_page, served, host_pages, recipient)
    page = widget.page
    await page.evaluate(
        """document.querySelector("herald-inbox").categoryLabels =
               {"account.notice": "Account notices"}"""
    )
    await widget.open()
    await page.get_by_role("button", name="Notification preferences").click()
    await expect(page.get_by_role("heading", name="Notification preferences")).to_be_visible()
    status = page.locator("herald-inbox [role=status]")

    # A channel off everywhere: its per-category switches are off and disabled with it.
    await page.get_by_role("switch", name="SMS").uncheck()
    await expect(status).to_have_text("Saved.")
    assert (await stored_preferences(stack, recipient))["channels"]["sms"] is False
    sms_for_notices = page.get_by_role("checkbox", name="SMS for Account notices")
    await expect(sms_for_notices).to_be_disabled()
    await expect(sms_for_notices).not_to_be_checked()

    # One category's email off; the others' and the channel's stay on.
    await page.get_by_role("checkbox", name="Email for Account notices").uncheck()
    await expect(status).to_have_text("Saved.")
    stored = await stored_preferences(stack, recipient)
    assert stored["rules"]["account.notice"]["email"] is False
    assert stored["channels"].get("email", True) is True  # a channel not named is on

    # Do not disturb, 21:30 to 06:45.
    await page.get_by_role("checkbox", name="Hold notifications during these hours").check()
    await expect(status).to_have_text("Saved.")
    await page.get_by_label("From", exact=True).fill("21:30")
    await expect(status).to_have_text("Saved.")
    await page.get_by_label("Until", exact=True).fill("06:45")
    await expect(status).to_have_text("Saved.")
    dnd = (await stored_preferences(stack, recipient))["dnd"]
    assert (dnd["enabled"], dnd["start"][:5], dnd["end"][:5]) == (True, "21:30", "06:45")

    # A window of no length is refused, named, and the form shows what is stored.
    console.allow(r"status of 422 .*/v1/inbox/preferences")  # the browser logs the refusal
    await page.get_by_label("From", exact=True).fill("06:45")
    await expect(status).to_contain_text("That did not work")
    await expect(status).to_contain_text("dnd")
    await expect(page.get_by_label("From", exact=True)).to_have_value("21:30")
    assert (await stored_preferences(stack, recipient))["dnd"]["start"][:5] == "21:30"

    # Reopened, the view reads the stored preferences again.
    await page.get_by_role("button", name="Back to notifications").click()
    await expect(widget.items).to_have_count(1)
    await page.get_by_role("button", name="Notification preferences").click()
    await expect(page.get_by_role("checkbox", name="Email for Account notices")).not_to_be_checked()
    await expect(page.get_by_role("switch", name="SMS")).not_to_be_checked()
    await expect(page.get_by_role("switch", name="Email")).to_be_checked()
