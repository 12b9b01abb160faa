"""Starting and ending a snoozed message's wake-up (workflows/inbox_snooze.py).

One workflow per message, its id derived from the message's. Snoozing again starts a new run
under the same id with TERMINATE_EXISTING: the server ends the old wait and starts the new one
in one step, so the workflow stays a straight line (sleep, return) with no signal to handle,
and each snooze is its own run in Temporal's history. ALLOW_DUPLICATE lets a message be
snoozed again after an earlier snooze has returned.
"""

import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from config.settings import Settings
from domain.inbox_snooze import SnoozeWakeUp
from workflows.inbox_snooze import InboxSnoozeWorkflow

RPC_TIMEOUT = timedelta(seconds=10)


def snooze_workflow_id(message_id: uuid.UUID) -> str:
    return f"inbox-snooze-{message_id}"


async def start_wake_up(
    client: Client, settings: Settings, wake: SnoozeWakeUp
) -> WorkflowHandle[InboxSnoozeWorkflow, bool]:
    """Wake the message at `wake.until`, replacing any wake-up it has."""
    return await client.start_workflow(
        InboxSnoozeWorkflow.run,
        wake,
        id=snooze_workflow_id(wake.message_id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"snoozed until {wake.until.isoformat()}",
        rpc_timeout=RPC_TIMEOUT,
    )


async def end_wake_up(client: Client, message_id: uuid.UUID) -> None:
    """End the message's wake-up, if one is waiting. Best effort: one that already ran, or
    none at all, has nothing to end, and one left waiting (Temporal unreachable) finds no
    snooze at its time and does nothing."""
    try:
        await client.get_workflow_handle(snooze_workflow_id(message_id)).terminate(
            reason="unsnoozed", rpc_timeout=RPC_TIMEOUT
        )
    except RPCError:
        pass
