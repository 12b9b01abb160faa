"""Does the Temporal server in use order a task queue's backlog by priority key? (issue 15's
lanes: separate task queues, or Temporal's task-queue priority?)

BENCH_QUEUE_PRIORITY_BACKLOG workflows (default 300, priority key 3) are started on a queue no
worker polls yet, then one with priority key 1; a worker with two workflow task slots then
drains the queue. Printed and written to bench/results/queue_priority.json: the position the
priority-1 workflow was run at, and the same for a priority-3 workflow started last (the
control: FIFO puts it last). Run: .venv/bin/python -m bench.queue_priority"""

import asyncio
import json
import os
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import Priority
from temporalio.worker import Worker

from bench.stats import provenance
from tests.conftest import free_port, temporal_binary

BACKLOG = int(os.environ.get("BENCH_QUEUE_PRIORITY_BACKLOG", "300"))
RESULTS = Path(__file__).parent / "results" / "queue_priority.json"
order: list[str] = []  # workflow ids in the order their first task ran


@workflow.defn(sandboxed=False)
class Recorded:
    @workflow.run
    async def run(self) -> None:
        if not workflow.unsafe.is_replaying():
            order.append(workflow.info().workflow_id)


async def position_of_last(client: Client, priority_key: int) -> int:
    """The 1-based position at which the last-started workflow (of `priority_key`) ran."""
    queue = f"priority-probe-{uuid.uuid4()}"
    order.clear()
    for i in range(BACKLOG):
        await client.start_workflow(Recorded.run, id=f"{queue}-{i}", task_queue=queue)
    last = f"{queue}-last"
    await client.start_workflow(
        Recorded.run, id=last, task_queue=queue, priority=Priority(priority_key=priority_key)
    )
    async with Worker(
        client, task_queue=queue, workflows=[Recorded], max_concurrent_workflow_tasks=2
    ):
        await client.get_workflow_handle(last).result()
        while len(order) < BACKLOG + 1:
            await asyncio.sleep(0.1)
    return order.index(last) + 1


async def main() -> None:
    port = free_port()
    server = subprocess.Popen(
        [temporal_binary(), "server", "start-dev", "--headless", "--port", str(port),
         "--ui-port", str(free_port()), "--log-level", "error"],
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                client = await Client.connect(f"127.0.0.1:{port}")
                break
            except RuntimeError:
                await asyncio.sleep(0.2)
        version = subprocess.run(
            [temporal_binary(), "--version"], capture_output=True, text=True
        ).stdout.strip()
        urgent = await asyncio.wait_for(position_of_last(client, 1), timedelta(minutes=5).seconds)
        control = await asyncio.wait_for(position_of_last(client, 3), timedelta(minutes=5).seconds)
    finally:
        server.terminate()
        server.wait()
    result = {
        **provenance(),
        "server": version,
        "backlog": BACKLOG,
        "priority_key_1_started_last_ran_at": urgent,
        "priority_key_3_started_last_ran_at": control,
    }
    print(json.dumps(result, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
