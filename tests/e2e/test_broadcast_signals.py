"""A broadcast's notifications share their BroadcastWorkflow's id (no workflow per recipient),
so the news Herald signals to a notification's workflow (a delivery's status from a webhook or
the inbox, a recipient's changed preferences) must not reach the broadcast: it has no handler
for either, and a hundred thousand reads would pile up in its history."""

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType

from domain.contracts import DeliveryEvent
from domain.types import DeliveryStatus
from services.tracking import WorkflowNews, tell_workflows
from temporal_clients.notifications import notify_preferences_changed
from tests.e2e.test_broadcasts_api import broadcast
from tests.e2e.test_topics import seed


async def test_a_notifications_news_never_reaches_the_broadcast_workflow(stack, database_url):
    ids = await seed(database_url, stack.tenant_id, 2)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = await stack.api.post(
        "/v1/broadcasts", json=broadcast({"recipients": ids}, channels=["in_app"], send_at=later)
    )
    assert response.status_code == 202, response.text
    workflow_id = response.json()["workflow_id"]  # waiting for send_at: running

    event = DeliveryEvent(uuid.uuid4(), DeliveryStatus.OPENED, datetime.now(UTC))
    await tell_workflows(stack.client, [WorkflowNews(workflow_id, event)])
    await notify_preferences_changed(stack.client, [workflow_id])

    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    signalled = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signalled == []
