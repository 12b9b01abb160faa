"""The baselines: a bare workflow with one no-op activity (bench/run.py), and a bare chain that
only waits for its two reminders' times (bench/chains.py), served by their own worker process."""

import asyncio
import signal
import sys
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "bench-bare"


@activity.defn
async def noop(value: str) -> str:
    return value


@workflow.defn
class BareWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return await workflow.execute_activity(
            noop, value, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn
class BareChainWorkflow:
    """A booking chain at its barest: two durable timers, one after the other, and nothing
    sent."""

    @workflow.run
    async def run(self, reminders_due: list[str]) -> None:  # ISO 8601 times
        for due in reminders_due:
            await workflow.sleep(max(datetime.fromisoformat(due) - workflow.now(), timedelta(0)))


async def main(address: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[BareWorkflow, BareChainWorkflow],
        activities=[noop],
    ):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
