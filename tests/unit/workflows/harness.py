"""A time-skipping Temporal dev server, and a worker per test running every Herald workflow
in the sandbox against the fakes of tests/unit/workflows/fakes.py.

Shared by the tests (conftest.py) and by record_histories.py, so the recorded histories come
from the very scenarios the tests run.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bootstrap import BROADCAST_WORKFLOWS, polling
from bootstrap import WORKFLOWS as DEFAULT_LANE_WORKFLOWS
from tests.unit.workflows.broadcast_fakes import BroadcastActivities
from tests.unit.workflows.fakes import (
    AgendaActivities,
    BookingActivities,
    DigestActivities,
    InboxActivities,
    MaintenanceActivities,
    NoticeActivities,
    NotificationActivities,
    StatusWebhookActivities,
    registered,
)
from tests.utils.temporal import FAST_TIMERS, TIME_SKIPPING_FLAGS, temporal_binary
from workflows import search_attributes as sa

# Every Herald workflow: the default lane's, and the broadcast lane's (bootstrap.py).
WORKFLOWS = [*DEFAULT_LANE_WORKFLOWS, *BROADCAST_WORKFLOWS]

T = TypeVar("T")


def sandboxed_runner() -> SandboxedWorkflowRunner:
    """As the tests run every workflow (bootstrap.workflow_runner): non-determinism fails."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )


async def start_server() -> WorkflowEnvironment:
    """Every workflow started through its client skips time unless a test says otherwise."""
    return await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_binary(),
        search_attributes=sa.ALL,
        dev_server_extra_args=TIME_SKIPPING_FLAGS + FAST_TIMERS,
    )


@dataclass
class Harness:
    """One test's worker: its task queue, its fakes, and the workflows it started."""

    env: WorkflowEnvironment
    task_queue: str = field(default_factory=lambda: str(uuid.uuid4()))
    notifications: NotificationActivities = field(default_factory=NotificationActivities)
    digests: DigestActivities = field(default_factory=DigestActivities)
    notices: NoticeActivities = field(default_factory=NoticeActivities)
    bookings: BookingActivities = field(default_factory=BookingActivities)
    agendas: AgendaActivities = field(default_factory=AgendaActivities)
    maintenance: MaintenanceActivities = field(default_factory=MaintenanceActivities)
    inbox: InboxActivities = field(default_factory=InboxActivities)
    broadcasts: BroadcastActivities = field(default_factory=BroadcastActivities)
    status_webhooks: StatusWebhookActivities = field(default_factory=StatusWebhookActivities)
    started: list[WorkflowHandle] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.notices.clock = self.workflow_time

    async def workflow_time(self, workflow_id: str) -> datetime:
        """A workflow's virtual clock (each has its own on this test server)."""
        return await self.env.get_current_time(self.env.client.get_workflow_handle(workflow_id))

    def activities(self) -> list[Callable]:
        fakes = (
            self.notifications,
            self.digests,
            self.notices,
            self.bookings,
            self.agendas,
            self.maintenance,
            self.inbox,
            self.broadcasts,
            self.status_webhooks,
        )
        return [activity for fake in fakes for activity in registered(fake)]

    async def start(
        self, run: Callable, arg: Any, *, id: str | None = None, skip_time: bool = True, **options
    ) -> WorkflowHandle:
        """Start a workflow on this worker. With `skip_time=False` its clock runs as the
        real one (its timers wait) until the test fast-forwards it."""
        with nullcontext() if skip_time else self.env.with_time_skipping_disabled():
            handle = await self.env.client.start_workflow(
                run, arg, id=id or f"test-{uuid.uuid4()}", task_queue=self.task_queue, **options
            )
        self.started.append(handle)
        return handle

    async def execute(self, run: Callable, arg: Any, **options) -> Any:
        return await (await self.start(run, arg, **options)).result()


@asynccontextmanager
async def running(env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    harness = Harness(env)
    worker = Worker(
        env.client,
        task_queue=harness.task_queue,
        workflows=WORKFLOWS,
        activities=harness.activities(),
        workflow_runner=sandboxed_runner(),
    )
    # As Herald runs its Workers: a shutdown stuck in Temporal's Core is given up on after
    # 15 s rather than hanging this test and the ones after it (bootstrap.polling).
    async with polling([worker], overrun=timedelta(seconds=15)):
        yield harness


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Poll `probe` until `check` holds of its answer; returns that answer."""
    deadline = time.monotonic() + timeout
    while not check(answer := await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {answer!r} after {timeout}s")
        await asyncio.sleep(0.02)
    return answer


async def search_attribute(handle: WorkflowHandle, key: SearchAttributeKey) -> Any:
    return (await handle.describe()).typed_search_attributes.get(key)


async def reached(handle: WorkflowHandle, event_type: EventType.ValueType) -> bool:
    """Whether the workflow's history has an event of this type yet."""
    return any([e.event_type == event_type async for e in handle.fetch_history_events()])
