"""The immediate path as production runs it: the API's embedded worker (eager start), no
sandbox, and a send that succeeds at once finishing inside the first workflow task."""

import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bootstrap import workflow_runner
from config.settings import Settings
from tests.e2e.test_email_smtp import email_request


@pytest.fixture
async def production_stack(make_stack, temporal_env):
    async with make_stack(temporal_env, embedded_worker=True, workflow_sandbox=False) as stack:
        yield stack


async def test_a_send_that_succeeds_at_once_takes_one_workflow_task(production_stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    accepted = (
        await production_stack.api.post("/v1/notifications", json=email_request(address))
    ).json()

    [_mail] = await smtp.wait_for(address)
    notification = await production_stack.wait_for_status(accepted["id"], "sent")
    assert notification["deliveries"][0]["status"] == "sent"

    handle = production_stack.client.get_workflow_handle(accepted["workflow_id"])
    await handle.result()
    history = [event async for event in handle.fetch_history_events()]
    events = [event.event_type for event in history]
    assert events.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in events  # plan and send ran locally
    assert events[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    # In one local activity (plan_and_send): no activation and local activity between the two.
    local_activities = [
        e
        for e in history
        if e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert len(local_activities) == 1


async def test_a_transient_failure_hands_the_send_to_a_server_kept_retry(production_stack, smtp):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    smtp.script.append("451 4.3.0 Try again later")
    accepted = (
        await production_stack.api.post("/v1/notifications", json=email_request(address))
    ).json()

    await smtp.wait_for(address)
    notification = await production_stack.wait_for_status(accepted["id"], "sent")
    assert notification["deliveries"][0]["retry_count"] == 1

    handle = production_stack.client.get_workflow_handle(accepted["workflow_id"])
    await handle.result()
    events = [event.event_type async for event in handle.fetch_history_events()]
    assert (
        events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1
    )  # the retry, after a timer
    assert EventType.EVENT_TYPE_TIMER_STARTED in events


def test_the_sandbox_is_on_only_when_asked():
    assert isinstance(workflow_runner(Settings()), UnsandboxedWorkflowRunner)
    assert isinstance(workflow_runner(Settings(workflow_sandbox=True)), SandboxedWorkflowRunner)
