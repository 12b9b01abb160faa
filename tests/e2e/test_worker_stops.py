"""Leaving `bootstrap.polling` stops its Workers, and never waits for them without end.

Temporal's Core can drop a local activity's cancel while a Worker shuts down and then wait for
it forever (temporalio/sdk-python#1837): a `herald worker` told to stop, or a test's stack,
hung there. These tests stand in for that race with what waits the same way on a real Worker:
an activity that ignores its cancel, which the Worker's shutdown waits for."""

import asyncio
import logging
import time
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from bootstrap import polling

GRACE = timedelta(seconds=0.5)
OVERRUN = timedelta(seconds=1)

released = asyncio.Event()  # set by a test when it is done with its stuck Worker


@activity.defn
async def outlast_the_cancel() -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        await released.wait()  # until then, what a hung activity does: never finishes


@workflow.defn(sandboxed=False)
class WaitsOnAnActivity:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            outlast_the_cancel, start_to_close_timeout=timedelta(hours=2)
        )


def a_worker(client: Client) -> Worker:
    return Worker(
        client,
        task_queue=f"stops-{uuid.uuid4()}",
        workflows=[WaitsOnAnActivity],
        activities=[outlast_the_cancel],
        graceful_shutdown_timeout=GRACE,
    )


async def test_a_worker_that_cannot_stop_is_left_behind_after_its_grace_and_logged(
    temporal_env, caplog
):
    worker = a_worker(temporal_env.client)
    handle = None
    try:
        async with polling([worker], OVERRUN):
            handle = await temporal_env.client.start_workflow(
                WaitsOnAnActivity.run, id=str(uuid.uuid4()), task_queue=worker.task_queue
            )
            async with asyncio.timeout(30):
                while not (await handle.describe()).raw_description.pending_activities:
                    await asyncio.sleep(0.1)
            began = time.monotonic()
        took = time.monotonic() - began

        assert (GRACE + OVERRUN).total_seconds() <= took < (GRACE + OVERRUN).total_seconds() + 5
        assert not worker.is_shutdown  # still stuck: left behind, not waited for
        assert any(
            r.levelno == logging.ERROR and worker.task_queue in r.getMessage()
            for r in caplog.records
        )
    finally:  # the Worker left behind still finishes stopping once it can
        released.set()
        await asyncio.wait_for(worker.shutdown(), 30)
        if handle is not None:
            await handle.terminate()


async def test_workers_with_nothing_in_flight_stop_at_once_and_quietly(temporal_env, caplog):
    workers = [a_worker(temporal_env.client) for _ in range(2)]
    async with polling(workers, OVERRUN):
        await asyncio.sleep(0.5)
        began = time.monotonic()

    assert time.monotonic() - began < GRACE.total_seconds()
    assert all(worker.is_shutdown for worker in workers)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_worker_that_fails_cancels_the_block_and_its_error_is_raised(temporal_env):
    config = temporal_env.client.config()
    elsewhere = Client(**(config | {"namespace": f"no-such-{uuid.uuid4()}"}))
    began = time.monotonic()

    with pytest.raises(RuntimeError, match=r"(?i)namespace"):
        async with asyncio.timeout(30) as limit, polling([a_worker(elsewhere)], OVERRUN):
            await asyncio.sleep(3600)

    assert not limit.expired()  # the failure cancelled the block: no timeout did
    assert time.monotonic() - began < 10
    this = asyncio.current_task()
    assert this is not None and this.cancelling() == 0  # and took its cancel back
