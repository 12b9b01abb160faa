"""Starting and steering BroadcastWorkflows (workflows/broadcast.py): one per broadcast, on the
broadcast task queue (settings.broadcast_queue()), so a broadcast's backlog never delays the
notifications of the default and urgent lanes.

The workflow is started with the same providers per channel and retry rules a notification's
workflow gets (temporal_clients/notifications.py), and steered by its updates `pause`,
`resume` and `cancel`, each answering its progress."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from domain.broadcasts import BROADCAST_WORKFLOW_PREFIX, BroadcastInput, BroadcastProgress
from temporal_clients.notifications import RPC_TIMEOUT, channel_providers, delivery_retry
from workflows import search_attributes as sa

if TYPE_CHECKING:
    from temporalio.workflow import UpdateMethodMultiParam

    from workflows.broadcast import BroadcastWorkflow

UPDATE_TIMEOUT = timedelta(seconds=30)


def _broadcast_workflow() -> "type[BroadcastWorkflow]":
    # Imported on first use, as the other workflow clients do: the workflow module imports its
    # activities to call them by reference, and those reach the services.
    from workflows.broadcast import BroadcastWorkflow

    return BroadcastWorkflow


def broadcast_workflow_id(tenant_id: uuid.UUID, broadcast_id: uuid.UUID) -> str:
    return f"{BROADCAST_WORKFLOW_PREFIX}{tenant_id}-{broadcast_id}"


@dataclass(frozen=True)
class BroadcastStart:
    """A stored broadcast whose workflow is to run (a row of the broadcasts table has these)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    event_key: str
    workflow_id: str
    send_at: datetime | None = None


async def start_broadcast(client: Client, settings: Settings, start: BroadcastStart) -> None:
    """Idempotent: a second call for the same workflow id starts nothing new, whether the
    first run is still going (USE_EXISTING) or has finished (REJECT_DUPLICATE)."""
    try:
        await client.start_workflow(
            _broadcast_workflow().run,
            BroadcastInput(
                broadcast_id=start.id,
                tenant_id=start.tenant_id,
                send_at=start.send_at,
                page_size=settings.broadcast_page_size,
                providers=channel_providers(settings),
                retry=delivery_retry(settings),
            ),
            id=start.workflow_id,
            task_queue=settings.broadcast_queue(),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.TENANT, str(start.tenant_id)),
                    SearchAttributePair(sa.EVENT_KEY, start.event_key),
                ]
            ),
            static_summary=f"broadcast of {start.event_key}",
            rpc_timeout=RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        pass  # it ran to completion already: nothing to do


# What start_missing_broadcast found: no workflow (so it started one), one running, or one
# that ended without finishing the broadcast's row (terminated, say; a new start is refused
# until Temporal's retention forgets it).
StartOutcome = Literal["started", "running", "ended"]


async def start_missing_broadcast(
    client: Client, settings: Settings, start: BroadcastStart
) -> StartOutcome:
    """Start the broadcast's workflow if Temporal has none under its id; one it has is left
    alone."""
    try:
        described = await client.get_workflow_handle(start.workflow_id).describe(
            rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        await start_broadcast(client, settings, start)  # idempotent, should one start meanwhile
        return "started"
    return "running" if described.status == WorkflowExecutionStatus.RUNNING else "ended"


class BroadcastRefused(Exception):
    """The workflow refused the change (resume when not paused, say): its reason."""


class BroadcastNotRunning(Exception):
    """No run of the workflow takes updates: it has finished (or was never started)."""


async def pause_broadcast(client: Client, workflow_id: str) -> BroadcastProgress:
    return await _update(client, workflow_id, _broadcast_workflow().pause)


async def resume_broadcast(client: Client, workflow_id: str) -> BroadcastProgress:
    return await _update(client, workflow_id, _broadcast_workflow().resume)


async def cancel_broadcast(client: Client, workflow_id: str) -> BroadcastProgress:
    return await _update(client, workflow_id, _broadcast_workflow().cancel)


async def _update(
    client: Client,
    workflow_id: str,
    update: "UpdateMethodMultiParam[[BroadcastWorkflow], BroadcastProgress]",
) -> BroadcastProgress:
    """Run one of the workflow's updates, named by reference (its result type comes from the
    method's annotation). Temporal unreachable: the RPCError goes on (503)."""
    try:
        progress: BroadcastProgress = await client.get_workflow_handle(workflow_id).execute_update(
            update, rpc_timeout=UPDATE_TIMEOUT
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise BroadcastRefused(
            cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        ) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise BroadcastNotRunning(exc.message) from exc
        raise
    return progress
