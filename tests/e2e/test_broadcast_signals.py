"""A broadcast's notifications share their BroadcastWorkflow's id (no workflow per recipient),
so the news Herald signals to a notification's workflow (a delivery's status from a webhook or
the inbox, a recipient's changed preferences) must not reach the broadcast: it has no handler
for either, and a hundred thousand reads would pile up in its history. The queries that find
whom to tell leave a broadcast's notifications out (db/delivery_tracking.py,
db/preferences.waiting_workflow_ids)."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType

from tests.e2e.inbox_factory import as_recipient, recipient_token
from tests.utils.audience import broadcast_progress, wait_for_broadcast


def quiet_now() -> dict:
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(hours=1)), "end": (now + timedelta(hours=3))}
    return {"dnd": {"enabled": True} | {k: v.strftime("%H:%M") for k, v in window.items()}}


async def test_a_notifications_news_never_reaches_the_broadcast_workflow(stack):
    api = stack.api
    run = uuid.uuid4().hex[:8]
    ann, bob = f"ann-{run}", f"bob-{run}"
    await recipient_token(api, ann)
    bob_token = await recipient_token(api, bob)
    quiet = await api.patch(f"/v1/recipients/{ann}/preferences", json=quiet_now())
    assert quiet.status_code == 200, quiet.text
    created = await api.post(
        "/v1/broadcasts",
        json={
            "audience": {"recipients": [ann, bob]},
            "event_key": "news.update",
            "channels": ["in_app"],
            "context": {"title": "Hello", "message": "News"},
        },
    )
    assert created.status_code == 202, created.text
    broadcast_id, workflow_id = created.json()["id"], created.json()["workflow_id"]
    # Bob's message is in his inbox; Ann's waits for her quiet hours to end.
    progress = await wait_for_broadcast(api, broadcast_id, statuses=["running"], timeout=60)
    while progress["sent"] + progress["deferred"] < 2:
        await asyncio.sleep(0.2)
        progress = await broadcast_progress(api, broadcast_id)

    async with as_recipient(stack, bob_token) as inbox:  # Bob follows his message's link
        [message] = (await inbox.get("/v1/inbox/recent")).json()["data"]
        clicked = await inbox.post(f"/v1/inbox/messages/{message['id']}/click")
        assert clicked.status_code == 200, clicked.text
    changed = await api.patch(  # Ann changes her preferences while her notification waits
        f"/v1/recipients/{ann}/preferences", json={"muted_event_keys": ["news.other"]}
    )
    assert changed.status_code == 200, changed.text

    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    signalled = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signalled == []
