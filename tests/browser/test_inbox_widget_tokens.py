"""Token refresh (issue 13, flow 5): when the recipient's token expires the widget asks the host
page for a new one (element.tokenProvider, or the herald-token-expired event the page answers by
setting element.token), and its stream resumes from the last event it saw (Last-Event-ID): a
message sent while it had no valid token is not missed."""

import pytest
from playwright.async_api import expect

from tests.browser.inbox_widget import (
    Widget,
    embed,
    inbox_message,
    new_recipient,
    self_signed_token,
    send_in_app,
)
from tests.e2e.inbox_factory import recipient_token

LIFETIME_SECONDS = 4  # the first token's: the stream ends with `expired` this soon


@pytest.mark.parametrize("token_from", ["provider", "event"])
async def test_an_expired_token_is_refreshed_through_the_host_and_nothing_sent_meanwhile_is_missed(
    served, host_pages, new_page, token_from
):
    stack = served.stack
    recipient = await new_recipient(served, host_pages)
    short_lived = await self_signed_token(stack, recipient, LIFETIME_SECONDS)

    async def new_token() -> str:
        """The host's backend, asked for a token once the first has expired: a message is sent
        (and stored) first, while the widget has no valid token and no stream."""
        await send_in_app(stack, recipient, "Sent while the token was expired")
        await inbox_message(stack, recipient, "Sent while the token was expired")
        return await recipient_token(stack.api, recipient.external_id)

    widget = await embed(
        new_page,
        served,
        host_pages,
        recipient,
        token=short_lived,
        token_from=token_from,
        functions={"heraldNewToken": new_token},
    )
    await send_in_app(stack, recipient, "Sent with the first token")
    await widget.wait_unread(1)
    await widget.open()

    await expect(widget.item("Sent while the token was expired")).to_be_visible(
        timeout=(LIFETIME_SECONDS + 10) * 1000
    )
    await widget.wait_unread(2)
    assert await widget.page.evaluate("window.heraldTokenRequests") == 1
    assert len(await widget.events("herald-token-expired")) == 1
    # It came over the resumed stream (not a reload), which named the last event it had seen.
    received = await widget.events("herald-message-received")
    titles = [e["detail"]["message"]["title"] for e in received]
    assert titles == ["Sent with the first token", "Sent while the token was expired"]
    assert len(widget.streams) == 2, [r.headers for r in widget.streams]
    assert "last-event-id" not in widget.streams[0].headers
    resumed_after = int(widget.streams[1].headers["last-event-id"])
    assert resumed_after >= 1
    assert widget.streams[1].headers["authorization"] != widget.streams[0].headers["authorization"]

    # The new token goes on working: live events and changes.
    await send_in_app(stack, recipient, "Sent with the new token")
    await expect(widget.item("Sent with the new token")).to_be_visible(timeout=5000)
    await widget.item("Sent with the new token").get_by_role("button", name="Mark as read").click()
    await widget.wait_unread(2)


async def test_a_token_expired_before_the_page_loads_is_refreshed_before_anything_shows(
    served, host_pages, new_page, console
):
    stack = served.stack
    recipient = await new_recipient(served, host_pages)
    await send_in_app(stack, recipient, "Waiting for you")
    await inbox_message(stack, recipient, "Waiting for you")
    expired = await self_signed_token(stack, recipient, -120)  # beyond the clock-skew leeway
    console.allow(r"status of 401")  # the browser logs the refused requests; the widget copes

    async def new_token() -> str:
        return await recipient_token(stack.api, recipient.external_id)

    widget: Widget = await embed(
        new_page,
        served,
        host_pages,
        recipient,
        token=expired,
        functions={"heraldNewToken": new_token},
    )
    await widget.wait_unread(1)
    await widget.open()
    await expect(widget.item("Waiting for you")).to_be_visible()
    # One refresh, however many requests the expired token failed.
    assert await widget.page.evaluate("window.heraldTokenRequests") == 1
