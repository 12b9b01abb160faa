"""Feeding a recipient's DigestWorkflow: one per (recipient, category, frequency)."""

import uuid
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from config.settings import Settings
from domain.contracts import DigestInput, DigestItem

if TYPE_CHECKING:
    from workflows.digest import DigestWorkflow


def digest_workflow_id(
    tenant_id: uuid.UUID, recipient_id: uuid.UUID, category: str, frequency: str
) -> str:
    return f"digest-{tenant_id}-{recipient_id}-{category}-{frequency}"


def _digest_workflow() -> "type[DigestWorkflow]":
    # Imported on first use: the digest's own activities reach this module (a notification's
    # hand-over), and the workflow module imports those activities to call them by reference.
    from workflows.digest import DigestWorkflow

    return DigestWorkflow


async def add_to_digest(
    client: Client, settings: Settings, digest: DigestInput, item: DigestItem
) -> None:
    """Signal-with-start: feeds the running digest, or starts the next one."""
    await client.start_workflow(
        _digest_workflow().run,
        digest,
        id=digest_workflow_id(
            digest.tenant_id, digest.recipient_id, digest.category, digest.frequency
        ),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="add",  # DigestWorkflow.add: signal-with-start takes a name
        start_signal_args=[item],
    )
