"""Delivering booking events to their BookingWorkflow, and changing its reminders, for the API."""

import asyncio
import time
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from config.settings import Settings
from domain.booking_chain import event_verdict
from domain.booking_contracts import (
    BookingEvent,
    BookingEventType,
    BookingInput,
    BookingState,
    EventOutcome,
    EventVerdict,
    ReminderChange,
    ReminderState,
)
from workflows import search_attributes as sa
from workflows.booking import BookingWorkflow

RPC_TIMEOUT = timedelta(seconds=10)
# How long the events API waits for a booking's chain to decide on an event it has already
# received durably. A chain decides within milliseconds when its worker is up; with no worker
# the answer says "queued" after this long rather than holding the sender.
VERDICT_WAIT_SECONDS = 1.5


class BookingUnknown(Exception):
    """No chain for this booking ever started: booking.created has not arrived (yet)."""


class BookingEnded(Exception):
    """The booking's chain has ended (cancelled, or past its end): it changes no more."""


class ReminderChangeRefused(Exception):
    """The chain refused to change the reminder (sent, cancelled, or an impossible time)."""


def booking_workflow_id(tenant_id, booking_id: str) -> str:
    return f"booking-{tenant_id}-{booking_id}"


async def deliver_booking_event(
    client: Client, settings: Settings, tenant_id, event: BookingEvent
) -> str:
    """Signal the booking's chain, starting it for booking.created (signal-with-start);
    returns its workflow id.

    Out-of-order events: any other event for a booking whose chain never started raises
    BookingUnknown, which the API answers with a 409 so that the sender retries it after
    booking.created. Holding such events instead would need the full booking from an event
    that may never come; a retry costs the sender nothing and keeps the order clear.
    """
    booking = event.booking
    workflow_id = booking_workflow_id(tenant_id, booking.booking_id)
    if event.type == BookingEventType.CREATED:
        try:
            await client.start_workflow(
                BookingWorkflow.run,
                BookingInput(tenant_id, booking.booking_id),
                id=workflow_id,
                task_queue=settings.task_queue,
                # A chain that ended stays ended: a late or repeated booking.created starts
                # no new one.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal="event",  # BookingWorkflow.event: signal-with-start takes a name
                start_signal_args=[event],
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.TENANT, str(tenant_id)),
                        SearchAttributePair(sa.BOOKING_ID, booking.booking_id),
                        SearchAttributePair(sa.ORGANIZER, booking.organizer.id),
                    ]
                ),
                static_summary=f"booking {booking.booking_id}: {booking.event_name or 'booking'}",
                rpc_timeout=RPC_TIMEOUT,
            )
        except WorkflowAlreadyStartedError as exc:
            raise BookingEnded(f"booking {booking.booking_id}'s chain has ended") from exc
        return workflow_id
    handle = client.get_workflow_handle(workflow_id)
    try:
        await handle.signal(BookingWorkflow.event, event, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        await _raise_why_not_running(handle, booking.booking_id)
    return workflow_id


async def await_verdict(
    client: Client, tenant_id: object, booking_id: str, event_id: str
) -> EventVerdict:
    """What the chain did with an event it has received, once it has decided, or QUEUED after
    VERDICT_WAIT_SECONDS. Never raises: the event is durable already, only the answer waits.

    A query sees the state after every signal the server holds (queries are consistent with
    the workflow's pending tasks), so an event the chain ignores shows at the first answer;
    one it applies shows once the workflow task that runs its store steps (the booking's
    settings, its record, its notices: local activities) has completed, hence the short polls."""
    handle = client.get_workflow_handle(booking_workflow_id(tenant_id, booking_id))
    deadline = time.monotonic() + VERDICT_WAIT_SECONDS
    pause = 0.02
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return EventVerdict(EventOutcome.QUEUED)
        try:
            state = await handle.query(
                BookingWorkflow.state, rpc_timeout=timedelta(seconds=remaining)
            )
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
            # No worker answered in time, Temporal went away, or the chain's task is failing.
            return EventVerdict(EventOutcome.QUEUED)
        verdict = event_verdict(state, event_id)
        if verdict.outcome != EventOutcome.QUEUED:
            return verdict
        await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.2)


async def cancel_reminder(
    client: Client, workflow_id: str, change: ReminderChange
) -> ReminderState:
    return await _change_reminder(client, workflow_id, BookingWorkflow.cancel_reminder, change)


async def reschedule_reminder(
    client: Client, workflow_id: str, change: ReminderChange
) -> ReminderState:
    return await _change_reminder(client, workflow_id, BookingWorkflow.reschedule_reminder, change)


async def booking_state(client: Client, tenant_id: object, booking_id: str) -> BookingState:
    """The chain's state as its `state` query shows it, also once the chain has ended."""
    handle = client.get_workflow_handle(booking_workflow_id(tenant_id, booking_id))
    try:
        return await handle.query(BookingWorkflow.state, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise BookingUnknown(f"booking {booking_id} unknown") from exc


async def _change_reminder(
    client: Client,
    workflow_id: str,
    update: UpdateMethodMultiParam[[BookingWorkflow, ReminderChange], ReminderState],
    change: ReminderChange,
) -> ReminderState:
    """Run one of the chain's reminder updates; a refusal or an ended chain says why."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, change, rpc_timeout=timedelta(seconds=30))
    except WorkflowUpdateFailedError as exc:
        # The cause is the workflow's ApplicationError: its message says why.
        cause = exc.cause
        message = cause.message if isinstance(cause, FailureError) else str(cause or exc)
        raise ReminderChangeRefused(message) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise BookingEnded("the booking's chain has ended") from exc


async def _raise_why_not_running(handle: WorkflowHandle, booking_id: str) -> None:
    try:
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise BookingUnknown(
                f"booking {booking_id} unknown: send booking.created first"
            ) from exc
        raise
    status = description.status.name.lower() if description.status else "closed"
    raise BookingEnded(f"booking {booking_id}'s chain has ended ({status})")
