"""Starting StatusWebhookWorkflows (workflows/status_webhook.py): one per message and run, on the
default lane, under the id the message records (`status-webhook-<message id>`, a replay's
`...-replay-<n>`: domain/status_webhooks.workflow_id).

A start is idempotent: a run still going is left alone, and so is one that completed (the
message it settled is no longer pending). Only a run that ended abnormally (failed,
terminated, timed out) may be started again under its id: the dispatcher's sweep does so for
a message left pending."""

import uuid
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from config.settings import Settings
from domain.status_webhooks import StatusWebhookInput, replay_number
from temporal_clients.notifications import RPC_TIMEOUT
from workflows import search_attributes as sa

if TYPE_CHECKING:
    from workflows.status_webhook import StatusWebhookWorkflow


def _workflow() -> "type[StatusWebhookWorkflow]":
    # Imported on first use, as the other workflow clients do: the workflow module imports its
    # activities to call them by reference, and those reach the services.
    from workflows.status_webhook import StatusWebhookWorkflow

    return StatusWebhookWorkflow


async def start_status_webhook(
    client: Client,
    settings: Settings,
    message_id: uuid.UUID,
    tenant_id: uuid.UUID,
    workflow_id: str,
) -> None:
    """Start the message's run under `workflow_id` unless it runs or ran to completion."""
    try:
        await client.start_workflow(
            _workflow().run,
            StatusWebhookInput(
                message_id=message_id,
                tenant_id=tenant_id,
                replay=replay_number(workflow_id),
                schedule_seconds=list(settings.status_webhook_schedule()),
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.TENANT, str(tenant_id))]
            ),
            static_summary="status webhook",
            rpc_timeout=RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        pass  # it ran to completion already: nothing to do
