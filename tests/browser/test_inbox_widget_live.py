"""The bell on a page of another origin, live (issue 13, flows 1 and 2): a notification sent
through the API appears in the open dropdown without a reload and the badge rises within a
second; marking read lowers the badge in this tab and in a second one (and the other changes reach
both: unread, deleted); a stream cut by the
server going away resumes where it stopped once it is back."""

import re
from datetime import datetime

from playwright.async_api import expect

from tests.browser.conftest import serving_on_a_port
from tests.browser.inbox_widget import (
    embed,
    inbox_message,
    new_recipient,
    send_in_app,
    wait_counts,
)
from tests.conftest import free_port
from tests.e2e.inbox_factory import as_recipient


async def test_a_sent_notification_appears_in_the_open_dropdown_and_the_badge_rises_within_a_second(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    widget = await embed(new_page, served, host_pages, recipient)
    assert await widget.unread() == 0
    await widget.open()
    await expect(widget.page.get_by_text("No notifications yet.")).to_be_visible()
    await widget.page.evaluate("window.notReloaded = true")

    await send_in_app(
        served.stack,
        recipient,
        "Your order shipped",
        "Parcel 1Z999 left the warehouse.",
        priority="high",
        context={"action_url": f"{host_pages.origin}/orders/42"},
    )

    item = widget.item("Your order shipped")
    await expect(item).to_be_visible(timeout=5000)
    await expect(item).to_contain_text("Parcel 1Z999 left the warehouse.")
    await expect(item).to_have_attribute("data-priority", "high")
    await widget.wait_unread(1)
    await expect(widget.page.locator("herald-inbox .badge")).to_have_text("1")
    await expect(widget.bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    assert await widget.page.evaluate("window.notReloaded") is True  # the same page all along

    # Within a second of the message's row being written (its created_at: the transaction's
    # start, before the commit, so this errs on the strict side).
    message = await inbox_message(served.stack, recipient, "Your order shipped")
    written = datetime.fromisoformat(message["created_at"]).timestamp()
    [rise] = [e for e in await widget.events("herald-unread-change") if e["detail"]["unread"] == 1]
    assert 0 <= rise["at"] / 1000 - written < 1.0, rise["at"] / 1000 - written
    [received] = await widget.events("herald-message-received")
    assert received["detail"]["message"]["id"] == message["id"]


async def test_mark_as_read_lowers_the_badge_in_this_tab_and_in_a_second_tab(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    for title in ("Invoice 1001 is ready", "Invoice 1002 is ready", "Invoice 1003 is ready"):
        await send_in_app(served.stack, recipient, title)
        await inbox_message(served.stack, recipient, title)
    first = await embed(new_page, served, host_pages, recipient)
    second = await embed(new_page, served, host_pages, recipient, beside=first.page)
    await first.wait_unread(3)
    await second.wait_unread(3)
    await second.open()

    await first.open()
    await first.item("Invoice 1001 is ready").get_by_role("button", name="Mark as read").click()
    await first.wait_unread(2, timeout=1)
    await second.wait_unread(2, timeout=2)
    # The second tab's open list shows it read, without a reload.
    await expect(second.item("Invoice 1001 is ready")).not_to_have_class(re.compile(r"\bunread\b"))
    await expect(second.item("Invoice 1002 is ready")).to_have_class(re.compile(r"\bunread\b"))

    await first.page.get_by_role("button", name="Mark all as read").click()
    await first.wait_unread(0, timeout=1)
    await second.wait_unread(0, timeout=2)
    await expect(second.page.locator("herald-inbox .badge")).to_be_hidden()
    await wait_counts(served.stack, recipient, unread=0)

    # Unread again, from the second tab: the first follows.
    await second.item("Invoice 1003 is ready").get_by_role("button", name="Mark as unread").click()
    await first.wait_unread(1, timeout=2)
    await wait_counts(served.stack, recipient, unread=1)

    # The read ones deleted from another device: both lists drop them (messages.deleted).
    async with as_recipient(served.stack, recipient.token) as phone:
        deleted = await phone.delete("/v1/inbox/read")
    assert deleted.status_code == 200 and deleted.json()["deleted"] == 2, deleted.text
    for tab in (first, second):
        await expect(tab.items).to_have_count(1)
        await expect(tab.item("Invoice 1003 is ready")).to_be_visible()


async def test_when_the_server_goes_away_and_comes_back_the_stream_resumes_and_misses_nothing(
    make_stack, temporal_env, host_pages, new_page, console
):
    # The cut stream and the reconnection attempts while the port is closed.
    console.allow(r"ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE")
    port = free_port()
    async with make_stack(temporal_env) as stack:
        async with serving_on_a_port(stack, port) as served:
            recipient = await new_recipient(served, host_pages)
            widget = await embed(new_page, served, host_pages, recipient)
            await widget.open()
            await send_in_app(stack, recipient, "Before the outage")
            await expect(widget.item("Before the outage")).to_be_visible(timeout=5000)
        # Herald's port is closed, and with it the widget's stream; a message is sent meanwhile.
        await send_in_app(stack, recipient, "During the outage")
        await inbox_message(stack, recipient, "During the outage")
        async with serving_on_a_port(stack, port):
            await expect(widget.item("During the outage")).to_be_visible(timeout=20000)
            await widget.wait_unread(2)
            received = await widget.events("herald-message-received")
            assert [e["detail"]["message"]["title"] for e in received] == [
                "Before the outage",
                "During the outage",
            ]
            resumed = widget.streams[-1]
            assert int(resumed.headers["last-event-id"]) >= 1
