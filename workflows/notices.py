"""Sending a notification from a workflow (booking notices, daily agendas).

One activity stores the notification and starts its NotificationWorkflow, exactly as the API
does (services.notifications.accept): the same rows, the same workflow start (providers and
failover, retries, search attributes), once per idempotency key. The notification then runs
on its own, whatever becomes of the chain that asked for it.
"""

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notices import NoticeActivities
    from domain.booking_contracts import NoticeCreated, NoticeRequest
    from workflows.activity_options import ActivityOptions

# Short DB and Temporal work; retried until both answer (the chain must not lose a notice).
STORE = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=15),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)


async def send_notice(request: NoticeRequest) -> uuid.UUID:
    """Returns the notification's id. Never sends one idempotency key twice."""
    created: NoticeCreated = await workflow.execute_activity_method(
        NoticeActivities.create_notice, request, **STORE
    )
    return created.notification_id
