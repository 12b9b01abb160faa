"""Feeding a recipient's DigestWorkflow: one per (recipient, category, frequency)."""

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from config.settings import Settings
from domain.contracts import DigestInput, DigestItem
from workflows.digest import DigestWorkflow, digest_workflow_id


async def add_to_digest(client: Client, settings: Settings, digest: DigestInput, item: DigestItem) -> None:
    """Signal-with-start: feeds the running digest, or starts the next one."""
    await client.start_workflow(
        DigestWorkflow.run,
        digest,
        id=digest_workflow_id(digest.tenant_id, digest.recipient_id, digest.category, digest.frequency),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="add",
        start_signal_args=[item],
    )
