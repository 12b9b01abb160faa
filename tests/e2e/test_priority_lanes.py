"""Priority lanes (issue 15): urgent and high-priority notifications run on a task queue of their
own (URGENT_TASK_QUEUE), served by Workers of their own, so nothing they need waits behind a
broadcast or a backlog of ordinary notifications; WORKER_QUEUES says which lanes a process serves.
"""

import asyncio
import os
import sys
import time
import uuid

import pytest
from pydantic import SecretStr, ValidationError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from bootstrap import build_worker
from config.settings import Settings
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_graceful_shutdown import WorkerProcess, worker_env


async def accept(stack, address: str, priority: str) -> dict:
    response = await stack.api.post(
        "/v1/notifications", json=email_request(address, priority=priority)
    )
    assert response.status_code == 202, response.text
    return response.json()


async def workflow_queue(client: Client, workflow_id: str) -> tuple[str, int]:
    """The task queue a notification's workflow runs on, and its Temporal priority key."""
    described = await client.get_workflow_handle(workflow_id).describe()
    info = described.raw_description.workflow_execution_info
    return described.task_queue, info.priority.priority_key


async def pollers(client: Client, task_queue: str) -> int:
    """Workers polling the queue's workflow tasks (the server remembers a poller a minute: a
    queue polled by no worker of this test run has never been polled, hence unique queues)."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(described.pollers)


async def polled(client: Client, task_queue: str, timeout: float = 30.0) -> int:
    """The queue's pollers once there are any, or 0 after `timeout`: a Worker's first poll
    reaches the server within moments on an idle host, within seconds on a loaded one."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            count = await pollers(client, task_queue)
        except RPCError:  # a describe cut short by a loaded server ("operation was canceled")
            count = 0
        if count or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("priority", "lane", "priority_key"),
    [
        ("urgent", "urgent", 1),
        ("high", "urgent", 2),
        ("normal", "default", 3),
        ("low", "default", 4),
    ],
)
async def test_a_notification_runs_on_its_priority_lane(stack, smtp, priority, lane, priority_key):
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    accepted = await accept(stack, address, priority)
    await smtp.wait_for(address)
    queues = {"urgent": stack.settings.urgent_queue(), "default": stack.settings.task_queue}
    assert await workflow_queue(stack.client, accepted["workflow_id"]) == (
        queues[lane],
        priority_key,
    )


async def test_an_urgent_notification_is_sent_while_the_default_lane_has_no_worker(
    make_stack, temporal_env, sessions, smtp
):
    """A process serving only the urgent lane (WORKER_QUEUES=urgent) stands for a default lane
    whose workers are all busy or down: the urgent notification is sent, the normal one waits."""
    async with make_stack(temporal_env, worker_queues="urgent") as stack:
        normal, urgent = f"n-{uuid.uuid4().hex[:8]}@example.com", f"u-{uuid.uuid4().hex[:8]}@ex.com"
        waiting = await accept(stack, normal, "normal")
        sent = await accept(stack, urgent, "urgent")

        await smtp.wait_for(urgent)
        assert (await stack.wait_for_status(sent["id"], "sent"))["status"] == "sent"
        assert (await stack.notification(waiting["id"]))["status"] == "accepted"
        assert smtp.to(normal) == []

        # Once a worker serves the default lane, the normal one is sent too.
        async with build_worker(stack.client, stack.settings, sessions, ("default",)):
            await smtp.wait_for(normal)


async def test_the_embedded_worker_serves_default_and_urgent_never_broadcast(
    make_stack, temporal_env
):
    async with make_stack(temporal_env, embedded_worker=True) as stack:
        settings = stack.settings
        assert await polled(stack.client, settings.task_queue) >= 1
        assert await polled(stack.client, settings.urgent_queue()) >= 1
        # Both lanes are polled, so a broadcast Worker would have polled by now too.
        assert await pollers(stack.client, settings.broadcast_queue()) == 0


async def test_worker_queues_picks_the_lanes_a_process_serves(temporal_env, sessions, database_url):
    settings = Settings(
        database_url=database_url,
        task_queue=f"lanes-{uuid.uuid4()}",
        secret_key=SecretStr("lanes-test-key-0123456789abcdef"),
        worker_queues="urgent",
    )
    async with build_worker(temporal_env.client, settings, sessions) as workers:
        assert {lane: worker.task_queue for lane, worker in workers.items()} == {
            "urgent": settings.urgent_queue()
        }
    everything = settings.model_copy(update={"worker_queues": "all"})
    async with build_worker(temporal_env.client, everything, sessions) as workers:
        assert workers["default"].task_queue == settings.task_queue
        assert workers["urgent"].task_queue == settings.urgent_queue()
        assert workers["broadcast"].task_queue == settings.broadcast_queue()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("bulk", "bulk unknown"),
        ("urgent,priority", "priority unknown"),
        ("all,urgent", "all stands alone"),
        (" , ", "got ' , '"),
    ],
)
def test_worker_queues_refuses_what_it_cannot_read(value, problem):
    with pytest.raises(ValidationError) as refused:
        Settings(worker_queues=value)
    message = str(refused.value)
    assert "WORKER_QUEUES must be all or a comma-separated list of default, urgent, broadcast" in (
        message
    )
    assert problem in message


def test_worker_queues_reads_lists_in_any_order_and_case():
    assert Settings(worker_queues="Broadcast, urgent").worker_lanes() == ("urgent", "broadcast")
    assert Settings().worker_lanes() == ("default", "urgent", "broadcast")


def test_the_lanes_need_three_different_task_queues():
    with pytest.raises(ValidationError, match="must be three different task queues"):
        Settings(task_queue="herald", urgent_task_queue="herald")


async def test_a_worker_process_serves_the_lanes_of_worker_queues_at_its_niceness(stack):
    """`herald worker` with WORKER_QUEUES=broadcast (a broadcast worker) polls that lane alone,
    and WORKER_NICE lowers its CPU priority: a broadcast yields the host's cores to the rest."""
    env = worker_env(stack.settings) | {
        "TEMPORAL_ADDRESS": stack.client.service_client.config.target_host,
        "WORKER_QUEUES": "broadcast",
        "WORKER_NICE": "7",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "worker.py", env=env, stderr=asyncio.subprocess.PIPE
    )
    worker = WorkerProcess(process)
    try:
        await asyncio.wait_for(worker.polling.wait(), timeout=60)  # its log says it polls
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == min(19, os.nice(0) + 7)
        settings = stack.settings
        assert f"broadcast: '{settings.broadcast_queue()}'" in worker.log()
        assert "urgent:" not in worker.log() and "default:" not in worker.log()
        assert await polled(stack.client, settings.broadcast_queue()) >= 1
    finally:
        process.terminate()
        await process.wait()
