"""Sending a notification from a workflow: store its row, then run it as a child NotificationWorkflow.

Shared by the booking chain and the daily agenda, so there is one sending path: the same
rows, the same NotificationWorkflow, the same retries as a notification from the API.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.booking_contracts import NoticeCreated, NoticeRequest
    from domain.contracts import NotificationInput
    from workflows import search_attributes as sa
    from workflows.notification import NotificationWorkflow

# Short DB work; retried until the database answers (the chain must not lose a notice).
STORE = dict(
    start_to_close_timeout=timedelta(seconds=15),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)


async def send_notice(request: NoticeRequest) -> str:
    """Returns the notification's id. Never sends one idempotency key twice."""
    created: NoticeCreated = await workflow.execute_activity(
        "create_notice", request, result_type=NoticeCreated, **STORE
    )
    try:
        await workflow.start_child_workflow(
            NotificationWorkflow.run,
            NotificationInput(
                created.notification_id, request.tenant_id, request.event_key, retry=created.retry
            ),
            id=created.workflow_id,
            # A workflow that ran under this id before sent this very notification already.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            # The notification finishes on its own, even once the chain has ended or continued as new.
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=sa.for_new_notification(request.tenant_id, request.event_key),
            static_summary=f"{request.event_key} for {request.recipient_external_id}",
        )
    except WorkflowAlreadyStartedError:
        pass  # the same key was sent before (a replayed event, a reschedule back to a sent time)
    return created.notification_id
