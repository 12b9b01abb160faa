"""Archive and snooze from the bell (issue 13, flow 3): both take the message out of the feed
and the badge; the snoozed one comes back, live, at its time. The time is skipped: Herald runs
on the time-skipping Temporal server and the snooze's wake-up workflow is fast-forwarded past
the hour the recipient picked, so the message returns on the workflow's own timer."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import serving_on_a_port
from tests.browser.inbox_widget import embed, inbox_message, new_recipient, send_in_app
from tests.e2e.inbox_factory import as_recipient


@pytest.fixture
async def ts_served(make_stack, time_skipping_env):
    async with make_stack(time_skipping_env) as stack, serving_on_a_port(stack) as running:
        yield running


async def test_archive_and_snooze_remove_a_message_and_the_snoozed_one_returns_at_its_time(
    ts_served, time_skipping_env, host_pages, new_page
):
    stack = ts_served.stack
    recipient = await new_recipient(ts_served, host_pages)
    for title in ("Archive me", "Snooze me", "Keep me"):
        await send_in_app(stack, recipient, title)
        await inbox_message(stack, recipient, title)
    widget = await embed(new_page, ts_served, host_pages, recipient)
    await widget.wait_unread(3)
    await widget.open()
    await expect(widget.items).to_have_count(3)

    await widget.item("Archive me").get_by_role("button", name="Archive").click()
    await expect(widget.item("Archive me")).to_have_count(0)
    await widget.wait_unread(2)
    await widget.tab("Archived").click()
    await expect(widget.item("Archive me")).to_be_visible()
    await expect(widget.items).to_have_count(1)
    await widget.tab("All").click()
    await expect(widget.items).to_have_count(2)

    picked_at = datetime.now(UTC)
    await widget.item("Snooze me").get_by_role("button", name="Snooze").click()
    await widget.page.get_by_role("menuitem", name="In 1 hour").click()
    await expect(widget.item("Snooze me")).to_have_count(0)
    await widget.wait_unread(1)
    snoozed = await inbox_message(stack, recipient, "Snooze me", snoozed="true")
    until = datetime.fromisoformat(snoozed["snoozed_until"])
    assert timedelta(minutes=59) < until - picked_at < timedelta(minutes=61), until
    async with as_recipient(stack, recipient.token) as inbox:
        feed = (await inbox.get("/v1/inbox")).json()["data"]
    assert [m["title"] for m in feed] == ["Keep me"]

    # The hour passes for the wake-up workflow; the open dropdown shows the message again.
    wake_up = stack.client.get_workflow_handle(f"inbox-snooze-{snoozed['id']}")
    await time_skipping_env.fast_forward(wake_up, timedelta(hours=1, minutes=1))
    assert await wake_up.result() is True
    await expect(widget.item("Snooze me")).to_be_visible(timeout=5000)
    await widget.wait_unread(2)
    assert not (await inbox_message(stack, recipient, "Snooze me"))["snoozed_until"]
