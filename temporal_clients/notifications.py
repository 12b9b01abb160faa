"""Starting, cancelling and signalling NotificationWorkflows: the one place that starts one.

Every path that makes a notification (the API, booking chains and agendas, digests, resends,
the retry job) starts its workflow through `start_notification`, so the workflow id, the
providers per channel, the retry policy, the search attributes and the summary are decided
here once: a new channel or provider setting reaches every path by changing this module."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import Priority as TemporalPriority
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from domain.contracts import (
    CancelResult,
    ChannelState,
    DeliveryEvent,
    DeliveryRetry,
    NotificationInput,
)
from domain.types import Channel, Priority
from workflows import search_attributes as sa

if TYPE_CHECKING:
    from workflows.notification import NotificationWorkflow

RPC_TIMEOUT = timedelta(seconds=10)
# Channels whose sends go through external providers, each with its failover order.
PROVIDER_CHANNELS = (Channel.EMAIL, Channel.SMS)


def _notification_workflow() -> "type[NotificationWorkflow]":
    # Imported on first use: activities that start notifications (notices, digests, the retry
    # job) reach this module, and workflow modules import their activities to call them by
    # reference; a module-level import here would close that circle.
    from workflows.notification import NotificationWorkflow

    return NotificationWorkflow


# The urgent lane (settings.urgent_queue(), its own workers and slots): nothing these wait for
# is queued behind a broadcast or a backlog of ordinary notifications.
URGENT_LANE = frozenset({Priority.URGENT, Priority.HIGH})
# Temporal's task-queue priority (1 first, 3 unless set) orders a lane's backlog when one forms:
# urgent before high on the urgent lane, low after normal on the default one.
TEMPORAL_PRIORITY_KEYS = {Priority.URGENT: 1, Priority.HIGH: 2, Priority.NORMAL: 3, Priority.LOW: 4}


def notification_queue(settings: Settings, priority: str) -> str:
    """The task queue of a notification of this priority."""
    return settings.urgent_queue() if priority in URGENT_LANE else settings.task_queue


def notification_workflow_id(tenant_id: uuid.UUID | str, idempotency_key: str) -> str:
    return f"notification-{tenant_id}-{idempotency_key}"


def resend_workflow_id(delivery_id: uuid.UUID | str) -> str:
    return f"resend-{delivery_id}"


def delivery_retry(settings: Settings) -> DeliveryRetry:
    return DeliveryRetry(
        max_attempts=settings.delivery_max_attempts,
        initial_seconds=settings.delivery_retry_initial_seconds,
        max_interval_seconds=settings.delivery_retry_max_interval_seconds,
        max_total_seconds=settings.delivery_max_retry_seconds,
        attempt_timeout_seconds=settings.delivery_attempt_timeout_seconds,
    )


def channel_providers(settings: Settings) -> dict[str, list[str]]:
    """Each provider channel's providers in failover order, as workflows are started with."""
    return {str(channel): settings.provider_order(channel) for channel in PROVIDER_CHANNELS}


@dataclass(frozen=True)
class NotificationStart:
    """A stored notification whose workflow is to run (a row of the notifications table has
    these fields; a resend adds the one new delivery to send)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    event_key: str
    priority: str
    workflow_id: str
    send_at: datetime | None = None
    resend: ChannelState | None = None


async def start_notification(client: Client, settings: Settings, start: NotificationStart) -> None:
    """Idempotent: a second call for the same workflow id starts nothing new, whether the
    first run is still going (USE_EXISTING) or has finished (REJECT_DUPLICATE)."""
    summary = f"{start.event_key} ({start.priority})"
    if start.resend is not None:
        summary = f"resend of {start.resend.channel}: {summary}"
    try:
        await client.start_workflow(
            _notification_workflow().run,
            NotificationInput(
                notification_id=start.id,
                tenant_id=start.tenant_id,
                event_key=start.event_key,
                send_at=start.send_at,
                retry=delivery_retry(settings),
                providers=channel_providers(settings),
                resend=start.resend,
            ),
            id=start.workflow_id,
            task_queue=notification_queue(settings, start.priority),
            priority=TemporalPriority(
                priority_key=TEMPORAL_PRIORITY_KEYS[Priority(start.priority)]
            ),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=sa.for_new_notification(str(start.tenant_id), start.event_key),
            static_summary=summary,
            rpc_timeout=RPC_TIMEOUT,
            # With a worker for its lane in this process (the API's embedded one, or the worker
            # running the activity that starts it), the server hands the first workflow task
            # straight back in the reply; otherwise this changes nothing.
            request_eager_start=True,
        )
    except WorkflowAlreadyStartedError:
        pass  # it ran to completion already: nothing to do


class WorkflowGone(Exception):
    """The workflow has finished; it can no longer be changed."""


async def cancel_notification(client: Client, workflow_id: str) -> CancelResult:
    handle = client.get_workflow_handle(workflow_id)
    try:
        # The result type (CancelResult) comes from the update method's annotation.
        return await handle.execute_update(
            _notification_workflow().cancel, rpc_timeout=timedelta(seconds=30)
        )
    except WorkflowUpdateFailedError as exc:
        raise WorkflowGone(str(exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowGone(exc.message) from exc
        raise


async def notify_preferences_changed(client: Client, workflow_ids: list[str]) -> None:
    """Wake notifications that wait (send_at, quiet hours...) so they decide again now.

    Best effort: one that finished in the meantime has nothing to re-decide."""
    for workflow_id in workflow_ids:
        try:
            await client.get_workflow_handle(workflow_id).signal(
                _notification_workflow().preferences_changed
            )
        except RPCError:
            pass


async def tell_delivery_event(client: Client, workflow_id: str, event: DeliveryEvent) -> None:
    """A provider's news about a delivery, for a workflow that may be waiting on it (a fallback).

    Best effort: the workflow has usually finished long before; the delivery row is the
    record."""
    try:
        await client.get_workflow_handle(workflow_id).signal(
            _notification_workflow().delivery_event, event
        )
    except RPCError:
        pass
