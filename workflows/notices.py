"""Sending a notification from a workflow (booking notices, daily agendas), and the store steps
the chains around them take.

One activity stores the notification and starts its NotificationWorkflow, exactly as the API
does (services.notifications.accept): the same rows, the same workflow start (providers and
failover, retries, search attributes), once per idempotency key. The notification then runs
on its own, whatever becomes of the chain that asked for it.

The store steps (this one, a booking's settings and its record, an organizer's agenda) are short,
idempotent database work, so they run as local activities (`store`): a regular activity costs
the server a task to schedule, hand out and complete, and the workflow another task to go on,
so that a booking's first events took five workflow tasks where they now take one.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notices import NoticeActivities
    from domain.booking_contracts import NoticeCreated, NoticeRequest
    from workflows.activity_options import ActivityOptions, LocalActivityOptions

# Short DB and Temporal work; retried until both answer (the chain must not lose a notice).
STORE = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=15),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)
# The same steps as local activities; a wait between attempts past a second is a durable timer.
STORE_LOCALLY = LocalActivityOptions(
    start_to_close_timeout=STORE["start_to_close_timeout"],
    retry_policy=STORE["retry_policy"],
    local_retry_threshold=timedelta(seconds=1),
)
# workflow.patched() id: the store steps run as local activities. Histories from before replay
# them as the regular activities they were.
LOCAL_STORE_STEPS = "local-store-steps"

_Input = TypeVar("_Input")
_Output = TypeVar("_Output")


async def store(step: Callable[[Any, _Input], Awaitable[_Output]], input: _Input) -> _Output:
    """Runs a store step (an activity method) with the STORE retries, as a local activity."""
    if workflow.patched(LOCAL_STORE_STEPS):
        return await workflow.execute_local_activity_method(step, input, **STORE_LOCALLY)
    return await workflow.execute_activity_method(step, input, **STORE)


async def send_notice(request: NoticeRequest) -> uuid.UUID:
    """Returns the notification's id. Never sends one idempotency key twice."""
    created: NoticeCreated = await store(NoticeActivities.create_notice, request)
    return created.notification_id
