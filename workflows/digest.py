"""DigestWorkflow: one per (recipient, category, frequency), collecting notifications until
the boundary in the recipient's zone, then sending them as one digest email."""

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities
    from domain.contracts import DigestInput, DigestItem, SendDigestInput


@workflow.defn
class DigestWorkflow:
    @workflow.init
    def __init__(self, input: DigestInput) -> None:
        # Seeded here, not in run(): signals that arrive with the first workflow task are
        # applied before run() starts, and a late duplicate of the previous batch's hand-over
        # must find its id already seen.
        self._items: list[DigestItem] = []
        self._seen: set[uuid.UUID] = set(input.recently_sent)
        for item in input.items:
            self.add(item)

    @workflow.signal
    def add(self, item: DigestItem) -> None:
        if item.notification_id not in self._seen:  # a retried hand-over adds nothing twice
            self._seen.add(item.notification_id)
            self._items.append(item)

    @workflow.run
    async def run(self, input: DigestInput) -> int:
        delay = input.flush_at - workflow.now()
        if delay > timedelta(0):
            await workflow.sleep(delay)  # durable: survives worker restarts with what it holds

        # Workflow code runs one step at a time, so taking the list is atomic: an item
        # signalled from here on belongs to the next digest, never to two.
        batch, self._items = self._items, []
        if batch:
            await workflow.execute_activity_method(
                DigestActivities.send_digest,
                SendDigestInput(
                    input.tenant_id,
                    input.recipient_id,
                    input.category,
                    input.frequency,
                    batch,
                    batch_id=f"{workflow.info().workflow_id}-{input.flush_at.isoformat()}",
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._items:  # arrived while this digest was going out
            workflow.continue_as_new(
                DigestInput(
                    input.tenant_id,
                    input.recipient_id,
                    input.category,
                    input.frequency,
                    flush_at=min(item.flush_at for item in self._items),
                    items=self._items,
                    recently_sent=[item.notification_id for item in batch],
                )
            )
        return len(batch)
