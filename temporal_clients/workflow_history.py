"""A workflow's history, read for the dashboard's delivery timeline: the activities it ran (with
each one's attempt and failure), its timers, the signals and updates it received, and how it
ended, as timeline entries.

Bounded on every side, because a page waits for it: at most MAX_EVENTS events, within
TIMEOUT_SECONDS; Temporal unreachable, slow or without the workflow (its retention passed)
gives an empty history that says why, and the page renders from Herald's own records."""

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.delivery_timeline import WORKFLOW, TimelineEntry

MAX_EVENTS = 500  # a notification's workflow has a few dozen; a runaway one is cut short
TIMEOUT_SECONDS = 2.0
LOCAL_ACTIVITY_MARKER = "core_local_activity"
# How an activity ended: its event's attributes, and the word for it.
_ACTIVITY_ENDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: (
        "activity_task_completed_event_attributes",
        "completed",
    ),
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("activity_task_failed_event_attributes", "failed"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: (
        "activity_task_timed_out_event_attributes",
        "timed out",
    ),
}


@dataclass(frozen=True)
class WorkflowHistory:
    entries: list[TimelineEntry] = field(default_factory=list)
    run_id: str | None = None  # the run read (for a link to it in the Web UI)
    truncated: bool = False  # more than MAX_EVENTS events: the first ones are shown
    unavailable: str | None = None  # why there is no history to show


async def read_history(
    client: Client,
    workflow_id: str,
    max_events: int = MAX_EVENTS,
    timeout: float = TIMEOUT_SECONDS,
) -> WorkflowHistory:
    """The latest run's history of `workflow_id`, as timeline entries; never raises for
    Temporal's sake."""
    reader = _Reader(client)
    truncated = False
    try:
        async with asyncio.timeout(timeout):
            events = client.get_workflow_handle(workflow_id).fetch_history_events(
                page_size=min(max_events, 200), rpc_timeout=timedelta(seconds=timeout)
            )
            async for event in events:
                if reader.count >= max_events:
                    truncated = True
                    break
                await reader.read(event)
    except TimeoutError:
        return WorkflowHistory(unavailable=f"Temporal did not answer within {timeout:g} s")
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return WorkflowHistory(
                unavailable="Temporal has no such workflow (any more: its namespace's "
                "retention may have removed it)"
            )
        return WorkflowHistory(unavailable=f"Temporal could not be reached: {error.message}")
    return WorkflowHistory(reader.entries, reader.run_id, truncated)


class _Reader:
    """Turns events into entries, remembering what later events refer back to."""

    def __init__(self, client: Client):
        self._converter = client.data_converter
        self.entries: list[TimelineEntry] = []
        self.run_id: str | None = None
        self.count = 0
        self._activities: dict[int, str] = {}  # scheduled event id -> activity name
        self._attempts: dict[int, int] = {}  # started event id -> attempt
        self._timers: dict[str, str] = {}  # timer id -> what it waits for

    async def read(self, event: HistoryEvent) -> None:
        self.count += 1
        at = event.event_time.ToDatetime(tzinfo=UTC)
        entry = await self._entry(event, at)
        if entry is not None:
            self.entries.append(entry)

    async def _entry(self, event: HistoryEvent, at: datetime) -> TimelineEntry | None:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started = event.workflow_execution_started_event_attributes
            self.run_id = started.original_execution_run_id or None
            return _step(at, "Workflow started", started.workflow_type.name)
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            self._activities[event.event_id] = name
            return _step(at, f"Activity {name} scheduled")
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            self._attempts[event.event_id] = event.activity_task_started_event_attributes.attempt
            return None
        if kind in _ACTIVITY_ENDS:
            return await self._activity_ended(event, at)
        if kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            return await self._local_activity(event, at)
        if kind == EventType.EVENT_TYPE_TIMER_STARTED:
            timer = event.timer_started_event_attributes
            waits = timer.start_to_fire_timeout.ToTimedelta()
            self._timers[timer.timer_id] = _duration(waits)
            fires = (at + waits).strftime("%Y-%m-%d %H:%M:%S UTC")
            return _step(at, f"Timer started for {_duration(waits)}", f"fires at {fires}")
        if kind == EventType.EVENT_TYPE_TIMER_FIRED:
            timer_id = event.timer_fired_event_attributes.timer_id
            return _step(at, "Timer fired", f"after {self._timers.get(timer_id, '?')}")
        if kind == EventType.EVENT_TYPE_TIMER_CANCELED:
            return _step(at, "Timer cancelled", "woken before its time")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            name = event.workflow_execution_signaled_event_attributes.signal_name
            return _step(at, f"Signal {name} received")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            return _step(at, f"Update {request.input.name} accepted")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            return _step(at, "Update completed")
        return await self._ending(event, at)

    async def _activity_ended(self, event: HistoryEvent, at: datetime) -> TimelineEntry:
        attributes_name, outcome = _ACTIVITY_ENDS[event.event_type]
        ended = getattr(event, attributes_name)
        name = self._activities.get(ended.scheduled_event_id, "?")
        attempt = self._attempts.get(ended.started_event_id)
        title = f"Activity {name} {outcome}" + (f" (attempt {attempt})" if attempt else "")
        if outcome == "completed":
            return _step(at, title, tone="ok")
        return _step(at, title, await self._message(ended.failure), "bad")

    async def _local_activity(self, event: HistoryEvent, at: datetime) -> TimelineEntry | None:
        marker = event.marker_recorded_event_attributes
        if marker.marker_name != LOCAL_ACTIVITY_MARKER:
            return None
        data: dict[str, Any] = {}
        payloads = marker.details.get("data")
        if payloads is not None and payloads.payloads:
            try:  # written by the SDK's core as JSON, not through the payload codec
                data = json.loads(payloads.payloads[0].data)
            except (ValueError, UnicodeDecodeError):
                data = {}
        name = data.get("activity_type", "?")
        attempt = f" (attempt {data['attempt']})" if data.get("attempt") else ""
        if marker.HasField("failure"):
            title = f"Local activity {name} failed{attempt}"
            return _step(at, title, await self._message(marker.failure), "bad")
        return _step(at, f"Local activity {name} completed{attempt}", tone="ok")

    async def _ending(self, event: HistoryEvent, at: datetime) -> TimelineEntry | None:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            return _step(at, "Workflow completed", tone="ok")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            failure = event.workflow_execution_failed_event_attributes.failure
            return _step(at, "Workflow failed", await self._message(failure), "bad")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            reason = event.workflow_execution_terminated_event_attributes.reason
            return _step(at, "Workflow terminated", reason, "bad")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
            return _step(at, "Workflow cancelled")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            return _step(at, "Workflow timed out", tone="bad")
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return _step(at, "Workflow continued as new")
        return None  # workflow tasks, search attributes: the engine's bookkeeping

    async def _message(self, failure: Failure) -> str:
        """A failure's message, decrypted when the payload codec encrypted it."""
        try:
            return str(await self._converter.decode_failure(failure))
        except Exception:  # a key rotated away, say: the raw message is better than nothing
            return failure.message


def _step(at: datetime, title: str, detail: str = "", tone: str = "") -> TimelineEntry:
    return TimelineEntry(at, title, detail, tone, WORKFLOW)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{delta.total_seconds():g} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
