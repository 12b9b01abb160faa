""" "In-app, then email unless opened" with the bell (issue 13, flow 4): the email goes out only
for the message its recipient did not read in the widget in time."""

from playwright.async_api import expect

from tests.browser.inbox_widget import embed, inbox_message, new_recipient, send_in_app

EVENT_KEY = "account.security"
WITHIN_MINUTES = 0.25  # 15 s: time for the browser to read one message, none to waste


async def test_the_fallback_email_is_sent_only_for_the_message_not_read_in_the_widget(
    served, host_pages, new_page, smtp
):
    stack = served.stack
    policy = await stack.api.put(
        "/v1/settings/delivery-policy",
        json={
            "fallbacks": {
                EVENT_KEY: {
                    "from_channel": "in_app",
                    "to_channel": "email",
                    "unless": "opened",
                    "within_minutes": WITHIN_MINUTES,
                }
            }
        },
    )
    assert policy.status_code == 200, policy.text
    recipient = await new_recipient(served, host_pages)
    widget = await embed(new_page, served, host_pages, recipient)
    await widget.open()

    read_one = await send_in_app(
        stack, recipient, "New sign-in from Firefox", "Was it you?", event_key=EVENT_KEY
    )
    unread_one = await send_in_app(
        stack, recipient, "New sign-in from Safari", "Was it you?", event_key=EVENT_KEY
    )
    await expect(widget.items).to_have_count(2, timeout=5000)
    await widget.item("New sign-in from Firefox").get_by_role("button", name="Mark as read").click()
    await widget.wait_unread(1)

    for accepted in (read_one, unread_one):  # each workflow waits its 15 s, then ends
        await stack.client.get_workflow_handle(accepted["workflow_id"]).result()
    [mail] = await smtp.wait_for(recipient.email)
    assert "New sign-in from Safari" in mail.subject, mail.subject
    assert not [m for m in smtp.to(recipient.email) if "Firefox" in m.subject]

    read = await stack.notification(read_one["id"])
    assert {(d["channel"], d["status"]) for d in read["deliveries"]} == {("in_app", "opened")}
    unread = await stack.notification(unread_one["id"])
    assert {d["channel"] for d in unread["deliveries"]} == {"in_app", "email"}
    # The message read in the widget is read on the server too.
    assert (await inbox_message(stack, recipient, "New sign-in from Firefox"))["read_at"]
