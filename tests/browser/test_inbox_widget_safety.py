"""Message text is data, never markup: a title such as `<img src=x onerror=...>` shows as those
characters and runs nothing; only http(s) action links are followed, and following one records
the click before the page navigates."""

from playwright.async_api import expect

from tests.browser.inbox_widget import embed, inbox_message, new_recipient, send_in_app

TITLE = "<img src=x onerror=\"window.__xss = 'title'\">"
BODY = "<script>window.__xss = 'body'</script><b>not bold</b>"
NASTY_LINK = "javascript:window.__xss = 'link'"


async def test_message_text_renders_as_text_and_runs_nothing(served, host_pages, new_page):
    recipient = await new_recipient(served, host_pages)
    widget = await embed(new_page, served, host_pages, recipient)
    await widget.open()
    await send_in_app(served.stack, recipient, TITLE, BODY, context={"action_url": NASTY_LINK})
    item = widget.items.first
    await expect(item).to_be_visible(timeout=5000)

    assert await item.locator(".title").text_content() == f"Unread: {TITLE}"
    assert await item.locator(".body").text_content() == BODY
    # Nothing of it became an element: no img, script or b, no link for javascript:.
    assert await item.locator("img, script, b, a").count() == 0
    # Following it (Enter on the item) reads it but goes nowhere.
    url = widget.page.url
    await item.focus()
    await widget.page.keyboard.press("Enter")
    await widget.wait_unread(0)
    await widget.page.wait_for_timeout(300)
    assert widget.page.url == url
    assert await widget.page.evaluate("window.__xss") is None
    [clicked] = await widget.events("herald-message-click")
    assert clicked["detail"]["url"] is None and clicked["detail"]["message"]["title"] == TITLE


async def test_an_http_link_is_followed_after_the_click_is_recorded(served, host_pages, new_page):
    recipient = await new_recipient(served, host_pages)
    landing = host_pages.put(
        "/orders/42", "<!doctype html><title>Order 42</title><h1>Order 42</h1>"
    )
    sent = await send_in_app(
        served.stack, recipient, "Your order shipped", context={"action_url": landing}
    )
    await inbox_message(served.stack, recipient, "Your order shipped")
    widget = await embed(new_page, served, host_pages, recipient)
    await widget.open()
    link = widget.item("Your order shipped").get_by_role("link", name="Your order shipped")
    await expect(link).to_have_attribute("href", landing)

    async with widget.page.expect_navigation():
        await link.click()
    assert widget.page.url == landing
    await expect(widget.page.get_by_role("heading", name="Order 42")).to_be_visible()
    notification = await served.stack.notification(sent["id"])
    assert [d["status"] for d in notification["deliveries"]] == ["clicked"]
    assert (await inbox_message(served.stack, recipient, "Your order shipped"))["read_at"]
