"""Herald keeps at most 10 streams per recipient on a process and closes the oldest for a newer
one (`event: closed`). A bell whose stream was closed so must not reconnect at once, or windows of
the same person would close each other's streams in turn: it pauses until it is looked at again
(its dropdown opened, or its page shown again), then resumes from its last event."""

import asyncio
import contextlib

import httpx
from playwright.async_api import expect

from tests.browser.inbox_widget import embed, new_recipient, send_in_app

STREAMS_PER_RECIPIENT = 10


async def test_a_bell_whose_stream_was_closed_for_newer_ones_pauses_until_looked_at(
    served, host_pages, new_page
):
    recipient = await new_recipient(served, host_pages)
    widget = await embed(new_page, served, host_pages, recipient)
    assert len(widget.streams) == 1

    async with contextlib.AsyncExitStack() as streams:
        client = await streams.enter_async_context(
            httpx.AsyncClient(base_url=served.base_url, timeout=10)
        )
        for _ in range(STREAMS_PER_RECIPIENT):  # the widget's is now the oldest of eleven
            response = await streams.enter_async_context(
                client.stream(
                    "GET",
                    "/v1/inbox/stream",
                    headers={"Authorization": f"Bearer {recipient.token}"},
                )
            )
            assert response.status_code == 200
        await expect(widget.page.locator("herald-inbox [role=status]")).to_contain_text(
            "paused", timeout=5000
        )
        await asyncio.sleep(3)  # well past the first reconnection's back-off (about 1 s)
        assert len(widget.streams) == 1, "the bell reconnected and closed another window's stream"

    await send_in_app(served.stack, recipient, "Sent while paused")
    await widget.open()  # looked at again: it resumes and catches up from its last event
    await expect(widget.item("Sent while paused")).to_be_visible(timeout=5000)
    assert len(widget.streams) == 2
