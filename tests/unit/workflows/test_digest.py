"""DigestWorkflow: collect until the boundary, send once, carry late items into the next run."""

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from domain.contracts import SendDigestInput
from tests.unit.workflows.fakes import digest, digest_item, new_id, utc_now
from tests.unit.workflows.harness import eventually, reached
from workflows.digest import DigestWorkflow


def workflow_id(input) -> str:
    """One digest per recipient, category and frequency, as enqueue_digest names it."""
    return f"digest-{input.tenant_id}-{input.recipient_id}-{input.category}-{input.frequency}"


def start_digest(harness, input, item, *, skip_time: bool = True):
    """As enqueue_digest starts one: signal-with-start, the item as the start signal."""
    return harness.start(
        DigestWorkflow.run,
        input,
        id=workflow_id(input),
        skip_time=skip_time,
        start_signal="add",
        start_signal_args=[item],
    )


async def test_items_are_collected_until_the_boundary_then_sent_once(harness, workflow_env):
    flush_at = utc_now() + timedelta(hours=1)
    input = digest(flush_at)
    first, second = (
        digest_item(new_id(), flush_at, "Order 1 shipped"),
        digest_item(new_id(), flush_at, "Order 2 shipped"),
    )
    handle = await start_digest(harness, input, first, skip_time=False)
    await handle.signal(DigestWorkflow.add, second)
    await handle.signal(DigestWorkflow.add, first)  # a retried hand-over: not added twice

    await workflow_env.fast_forward(handle, timedelta(hours=1, minutes=1))

    assert await handle.result() == 2
    assert harness.digests.sent == [
        SendDigestInput(
            input.tenant_id,
            input.recipient_id,
            input.category,
            input.frequency,
            [first, second],
            batch_id=f"{workflow_id(input)}-{input.flush_at.isoformat()}",
        )
    ]


async def test_items_arriving_during_the_send_go_into_the_next_digest(harness):
    flush_at = utc_now() + timedelta(hours=1)
    input = digest(flush_at)
    first = digest_item(new_id(), flush_at)
    release = harness.digests.hold_sends()
    handle = await start_digest(harness, input, first)
    await asyncio.wait_for(harness.digests.sending.wait(), 10)

    late = digest_item(new_id(), utc_now() + timedelta(hours=3), "Order 2 shipped")
    await handle.signal(DigestWorkflow.add, late)
    await handle.signal(DigestWorkflow.add, first)  # already in the digest going out
    release.set()

    assert await handle.result() == 1  # the next run's count: the late item alone
    this_digest, next_digest = harness.digests.sent
    assert (this_digest.items, next_digest.items) == ([first], [late])
    assert next_digest.batch_id == f"{workflow_id(input)}-{late.flush_at.isoformat()}"
    first_run = harness.env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    events = [e async for e in first_run.fetch_history_events()]
    assert events[-1].HasField("workflow_execution_continued_as_new_event_attributes")


async def test_a_late_duplicate_of_the_previous_digest_is_not_sent_again(harness, workflow_env):
    flush_at = utc_now() + timedelta(hours=1)
    sent_before = new_id()
    input = digest(flush_at, recently_sent=[sent_before])  # as the previous run continued as new
    fresh = digest_item(new_id(), flush_at)
    handle = await start_digest(harness, input, fresh, skip_time=False)
    # Once past its first workflow task (which may hold the signals sent with the start).
    await eventually(lambda: reached(handle, EventType.EVENT_TYPE_TIMER_STARTED), bool)
    await handle.signal(DigestWorkflow.add, digest_item(sent_before, flush_at))

    await workflow_env.fast_forward(handle, timedelta(hours=1, minutes=1))

    assert await handle.result() == 1
    assert [d.items for d in harness.digests.sent] == [[fresh]]


async def test_a_duplicate_arriving_with_the_runs_first_task_is_not_sent_again(harness):
    flush_at = utc_now() + timedelta(hours=1)
    sent_before = new_id()
    input = digest(flush_at, recently_sent=[sent_before])

    handle = await start_digest(harness, input, digest_item(sent_before, flush_at))

    assert await handle.result() == 0 and harness.digests.sent == []
