"""Reading an in-app message, or following its link, is reported on its delivery as a provider's
webhook reports on an email: the delivery moves to `opened` / `clicked` with its time, and the
notification's workflow is told, so an "in-app, then email unless opened" fallback sends the
email only when the message was not read."""

import asyncio
from datetime import datetime

from tests.e2e.inbox_messages import Inbox, inbox_events, last_event, new_inbox

WAITS = "inbox.waits"  # read within the window (10 minutes): the workflow learns of it
SHORT = "inbox.short"  # nobody reads it within the window (3 seconds): the email goes


async def in_app_unless(stack, unless: str) -> None:
    """The tenant's fallbacks: in-app first, then email unless the message reached `unless`."""
    rule = {"from_channel": "in_app", "to_channel": "email", "unless": unless}
    response = await stack.api.put(
        "/v1/settings/delivery-policy",
        json={
            "fallbacks": {
                WAITS: rule | {"within_minutes": 10},
                SHORT: rule | {"within_minutes": 0.05},
            }
        },
    )
    assert response.status_code == 200, response.text


async def send_waiting(stack, inbox: Inbox, event_key: str, action_url: str = "/go") -> dict:
    """Sends an in-app notification with a fallback; returns it once its message is stored
    (the workflow then waits for the message's news)."""
    accepted = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": inbox.external_id},
            "event_key": event_key,
            "channels": ["in_app"],
            "context": {"title": "Your invoice", "message": "is ready", "action_url": action_url},
        },
    )
    assert accepted.status_code == 202, accepted.text
    for _ in range(200):
        notification = await stack.notification(accepted.json()["id"])
        if [d["status"] for d in notification["deliveries"]] == ["delivered"]:
            return notification
        await asyncio.sleep(0.1)
    raise AssertionError(f"the in-app message was not stored: {notification}")


async def result_of(stack, notification: dict) -> dict:
    handle = stack.client.get_workflow_handle(notification["workflow_id"])
    return await asyncio.wait_for(handle.result(), 20)


async def test_reading_opens_the_delivery_and_the_email_is_not_sent(stack, sessions, smtp):
    await in_app_unless(stack, "opened")
    ann = await new_inbox(stack)
    first, second = await asyncio.gather(
        send_waiting(stack, ann, WAITS), send_waiting(stack, ann, WAITS)
    )
    before = await last_event(sessions, ann.recipient_id)

    read = await ann.client.post("/v1/inbox/read", json={"filter": {}})
    assert read.status_code == 200 and read.json()["updated"] == 2, read.text

    for notification in (first, second):
        result = await result_of(stack, notification)  # told at once, not after 10 minutes
        assert [(c["channel"], c["status"]) for c in result["channels"]] == [("in_app", "opened")]
        [delivery] = (await stack.notification(notification["id"]))["deliveries"]
        assert delivery["status"] == "opened" and delivery["opened_at"] is not None
    [event] = await inbox_events(sessions, ann.recipient_id, before)
    assert event.data["change"] == "read" and len(event.data["ids"]) == 2
    assert smtp.to(f"{ann.external_id}@example.com") == []

    # Only the first read dates the opening.
    [delivery] = (await stack.notification(first["id"]))["deliveries"]
    for action in ("unread", "read"):
        again = await ann.client.post(f"/v1/inbox/{action}", json={"ids": [delivery["id"]]})
        assert again.json()["updated"] == 1
    [after] = (await stack.notification(first["id"]))["deliveries"]
    assert (after["status"], after["opened_at"]) == ("opened", delivery["opened_at"])


async def test_an_unread_message_falls_back_to_email(stack, smtp):
    await in_app_unless(stack, "opened")
    ann = await new_inbox(stack)
    notification = await send_waiting(stack, ann, SHORT)

    result = await result_of(stack, notification)
    assert {c["channel"]: c["status"] for c in result["channels"]} == {
        "in_app": "delivered",
        "email": "sent",
    }
    assert len(await smtp.wait_for(f"{ann.external_id}@example.com")) == 1
    in_app = (await ann.client.get("/v1/inbox")).json()["data"]
    assert [m["read_at"] for m in in_app] == [None]


async def test_a_click_reads_the_message_moves_it_to_clicked_and_gives_the_link(
    stack, sessions, smtp
):
    await in_app_unless(stack, "clicked")
    ann, bob = await new_inbox(stack), await new_inbox(stack)
    notification = await send_waiting(stack, ann, WAITS, action_url="https://example.com/inv/7")
    [delivery] = notification["deliveries"]

    theirs = await bob.client.post(f"/v1/inbox/messages/{delivery['id']}/click")
    assert theirs.status_code == 404, theirs.text  # another recipient's message: not found
    before = await last_event(sessions, ann.recipient_id)

    click = await ann.client.post(f"/v1/inbox/messages/{delivery['id']}/click")
    assert click.status_code == 200, click.text
    assert click.json() == {"action_url": "https://example.com/inv/7"}
    result = await result_of(stack, notification)
    assert [(c["channel"], c["status"]) for c in result["channels"]] == [("in_app", "clicked")]
    [clicked] = (await stack.notification(notification["id"]))["deliveries"]
    assert clicked["status"] == "clicked" and clicked["clicked_at"] and clicked["opened_at"]
    assert datetime.fromisoformat(clicked["opened_at"]) <= datetime.fromisoformat(
        clicked["clicked_at"]
    )
    [message] = (await ann.client.get("/v1/inbox")).json()["data"]
    assert message["read_at"] is not None
    [event] = await inbox_events(sessions, ann.recipient_id, before)
    assert (event.data["change"], event.data["ids"]) == ("read", [delivery["id"]])

    # A second click reads nothing new (no event) and gives the link again.
    again = await ann.client.post(f"/v1/inbox/messages/{delivery['id']}/click")
    assert again.json() == {"action_url": "https://example.com/inv/7"}
    assert await last_event(sessions, ann.recipient_id) == event.seq
    assert smtp.to(f"{ann.external_id}@example.com") == []
