"""Starting, cancelling and signalling NotificationWorkflows, for the API and for activities."""

from datetime import timedelta

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from db.models import Notification
from domain.contracts import CancelResult, DeliveryRetry, NotificationInput
from config.settings import Settings
from workflows import search_attributes as sa
from workflows.notification import NotificationWorkflow


def notification_workflow_id(tenant_id, idempotency_key: str) -> str:
    return f"notification-{tenant_id}-{idempotency_key}"


def delivery_retry(settings: Settings) -> DeliveryRetry:
    return DeliveryRetry(
        max_attempts=settings.delivery_max_attempts,
        initial_seconds=settings.delivery_retry_initial_seconds,
        max_interval_seconds=settings.delivery_retry_max_interval_seconds,
        max_total_seconds=settings.delivery_max_retry_seconds,
        attempt_timeout_seconds=settings.delivery_attempt_timeout_seconds,
    )


async def start_notification(client: Client, settings: Settings, notification: Notification) -> None:
    """Idempotent: a second call for the same notification starts nothing new."""
    try:
        await client.start_workflow(
            NotificationWorkflow.run,
            NotificationInput(
                notification_id=str(notification.id),
                tenant_id=str(notification.tenant_id),
                event_key=notification.event_key,
                send_at=notification.send_at.isoformat() if notification.send_at else None,
                retry=delivery_retry(settings),
                providers={channel: settings.provider_order(channel) for channel in ("email", "sms")},
            ),
            id=notification.workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=sa.for_new_notification(str(notification.tenant_id), notification.event_key),
            static_summary=f"{notification.event_key} ({notification.priority})",
            rpc_timeout=timedelta(seconds=10),
            # With a worker in this process (the API's embedded one), the server hands the first
            # workflow task straight back in the reply; otherwise this changes nothing.
            request_eager_start=True,
        )
    except WorkflowAlreadyStartedError:
        pass  # it ran to completion already: nothing to do


class WorkflowGone(Exception):
    """The workflow has finished; it can no longer be changed."""


async def cancel_notification(client: Client, workflow_id: str) -> CancelResult:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(
            NotificationWorkflow.cancel, result_type=CancelResult, rpc_timeout=timedelta(seconds=30)
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
            await client.get_workflow_handle(workflow_id).signal(NotificationWorkflow.preferences_changed)
        except RPCError:
            pass
