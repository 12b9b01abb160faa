"""Sending a notification from a workflow (booking notices, daily agendas), and the store steps
the chains around them take.

One activity stores the notification and starts its NotificationWorkflow, exactly as the API
does (services.notifications.accept): the same rows, the same workflow start (providers and
failover, retries, search attributes), once per idempotency key. The notification then runs
on its own, whatever becomes of the chain that asked for it.

The store steps (this one, a booking's settings and its record, an organizer's agenda) are short,
idempotent database work, so they run as local activities (`store`): a regular activity costs
the server a task to schedule, hand out and complete, and the workflow another task to go on,
so that a booking's first event took five workflow tasks before its first timer where it now
takes two (the events API's verdict query splits the first). A local activity's result is
durable only once its workflow task completes: a worker lost before then runs the step again,
which is why each is idempotent and why a notice is keyed by what it is, not by its content
(services/new_notifications.submit_notice).
"""

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.notices import NoticeActivities
    from domain.booking_contracts import NoticeCreated, NoticeRequest
    from workflows.activity_options import ActivityOptions, LocalActivityOptions
    from workflows.send_failures import was_cancelled

# Short DB and Temporal work; retried until both answer (the chain must not lose a notice).
_STORE_RETRIES = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
STORE = ActivityOptions(start_to_close_timeout=timedelta(seconds=15), retry_policy=_STORE_RETRIES)
# The same steps as local activities, for about two minutes: STORE's waits, 8 attempts
# (1 + 2 + ... + 32 + 60 s = about 2 min 3 s of waiting, up to 2 min more if every attempt takes
# its 15 s), which ride out a database restart. A wait past a second is a durable timer, and
# each one adds a timer, a workflow task and a failure marker to the history; so past the bound
# the step goes on as a regular activity, whose retries the server keeps without writing them
# into the history, for as long as it takes.
STORE_LOCALLY = LocalActivityOptions(
    start_to_close_timeout=STORE["start_to_close_timeout"],
    retry_policy=dataclasses.replace(_STORE_RETRIES, maximum_attempts=8),
    local_retry_threshold=timedelta(seconds=1),
)
# workflow.patched() id: the store steps run as local activities. Histories from before replay
# them as the regular activities they were.
LOCAL_STORE_STEPS = "local-store-steps"

_Input = TypeVar("_Input")
_Output = TypeVar("_Output")


async def store(step: Callable[[Any, _Input], Awaitable[_Output]], input: _Input) -> _Output:
    """Runs a store step (an activity method): as a local activity, then, if that keeps failing
    past STORE_LOCALLY's bound, as a regular one with the STORE retries (never given up)."""
    if not workflow.patched(LOCAL_STORE_STEPS):
        return await workflow.execute_activity_method(step, input, **STORE)
    try:
        return await workflow.execute_local_activity_method(step, input, **STORE_LOCALLY)
    except FailureError as err:  # a local activity's failure comes unwrapped, not as ActivityError
        if was_cancelled(err) or (isinstance(err, ApplicationError) and err.non_retryable):
            raise
        # Deterministic on replay: the local activity's failure is in the history.
        workflow.logger.warning(
            "store step %s still failing after its local attempts (%s); retrying it on the server",
            getattr(step, "__name__", step),
            err,
        )
        return await workflow.execute_activity_method(step, input, **STORE)


async def send_notice(request: NoticeRequest) -> uuid.UUID:
    """Returns the notification's id. Never sends one idempotency key twice."""
    created: NoticeCreated = await store(NoticeActivities.create_notice, request)
    return created.notification_id
