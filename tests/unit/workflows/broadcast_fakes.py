"""A fake BroadcastActivities for BroadcastWorkflow's tests: a small in-memory model of one
broadcast's rows (its audience, one delivery per recipient and channel), so a test can assert
what was written and sent, and that nothing was sent twice or missed.

As the real activities (domain/broadcasts.py): a page is written once (a rerun writes nothing
new), a send batch sends the pending deliveries of one channel in (after, through], a delivery
that fails transiently stays pending (failed once retry_window_ends is passed), and a release
turns the deferrals due by then pending.
"""

import asyncio
import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from temporalio import activity

from domain.broadcasts import (
    BroadcastInput,
    BroadcastStatus,
    BroadcastStatusInput,
    PageInput,
    PageResult,
    ReleaseInput,
    ReleaseResult,
    SendBatchInput,
    SendBatchResult,
)
from domain.contracts import DeliveryRetry
from tests.unit.workflows.fakes import loud, new_id

Key = tuple[uuid.UUID, str]  # (recipient, channel)
IN_APP = "in_app"


def broadcast(
    *,
    page_size: int = 3,
    channels: tuple[str, ...] = ("email",),
    send_at: datetime | None = None,
    retry: DeliveryRetry | None = None,
) -> BroadcastInput:
    return BroadcastInput(
        new_id(),
        new_id(),
        send_at=send_at,
        page_size=page_size,
        providers={channel: [f"{channel}-a", f"{channel}-b"] for channel in channels},
        retry=retry or DeliveryRetry(initial_seconds=1.0, max_interval_seconds=10.0),
    )


@dataclass
class Delivery:
    status: str  # pending, deferred, suppressed, sent, failed
    deferred_until: datetime | None = None


@dataclass
class Call:
    input: object
    at: datetime  # the (virtual) time the workflow scheduled it


class BroadcastActivities:
    def __init__(self) -> None:
        # What the test sets up.
        self.audience: list[uuid.UUID] = []  # sorted, as the recipients' ids are read
        self.channels: tuple[str, ...] = ("email",)
        self.deferred: dict[uuid.UUID, datetime] = {}  # recipient -> when it may be sent
        self.suppressed: set[uuid.UUID] = set()
        self.transient: dict[uuid.UUID, float] = {}  # recipient -> sends failing (math.inf)
        self.retry_after: float | None = None  # what a transient failure asks for
        self.pages_fail: Exception | None = None  # what writing a page raises
        # What the workflow did.
        self.statuses: list[BroadcastStatus] = []
        self.pages: list[Call] = []
        self.batches: list[Call] = []
        self.releases: list[Call] = []
        self.sent: list[Key] = []  # each delivery sent, in order
        self.deliveries: dict[Key, Delivery] = {}
        self.page_started = asyncio.Event()
        self.send_started = asyncio.Event()
        self._held_pages: asyncio.Event | None = None
        self._held_sends: asyncio.Event | None = None
        self._held_status: tuple[BroadcastStatus, asyncio.Event] | None = None

    def with_audience(self, size: int) -> list[uuid.UUID]:
        self.audience = sorted(new_id() for _ in range(size))
        return self.audience

    def hold_pages(self) -> asyncio.Event:
        """Pages wait, once asked for, until the returned event is set."""
        self._held_pages = asyncio.Event()
        return self._held_pages

    def hold_sends(self) -> asyncio.Event:
        """Send batches wait, once started, until the returned event is set."""
        self._held_sends = asyncio.Event()
        return self._held_sends

    def hold_status(self, status: BroadcastStatus) -> asyncio.Event:
        """Recording this status waits, once asked for, until the returned event is set."""
        self._held_status = (status, asyncio.Event())
        return self._held_status[1]

    def page_inputs(self) -> list[PageInput]:
        return [call.input for call in self.pages]  # type: ignore[misc]

    def batch_inputs(self) -> list[SendBatchInput]:
        return [call.input for call in self.batches]  # type: ignore[misc]

    def every_delivery(self) -> list[Key]:
        return sorted((r, channel) for r in self.audience for channel in self.channels)

    def _called(self, calls: list[Call], input: object) -> None:
        calls.append(Call(input, activity.info().current_attempt_scheduled_time))

    @activity.defn(name="set_broadcast_status")
    @loud
    async def set_broadcast_status(self, input: BroadcastStatusInput) -> None:
        self.statuses.append(input.status)
        if self._held_status is not None and self._held_status[0] == input.status:
            await self._held_status[1].wait()

    @activity.defn(name="plan_broadcast_page")
    @loud
    async def plan_broadcast_page(self, input: PageInput) -> PageResult:
        self._called(self.pages, input)
        self.page_started.set()
        if self._held_pages is not None:
            await self._held_pages.wait()
        if self.pages_fail is not None:
            raise self.pages_fail
        after = input.after
        page = [r for r in self.audience if after is None or r > after][: input.limit]
        result = PageResult(None, 0, total=len(self.audience))
        for recipient in page:
            result.written += self._write(recipient, result)
        if page:
            result.last_recipient_id = page[-1]
        return result

    def _write(self, recipient: uuid.UUID, result: PageResult) -> int:
        """One recipient's deliveries, once; what is pending in the page is reported."""
        new = (recipient, self.channels[0]) not in self.deliveries
        for channel in self.channels:
            key = (recipient, channel)
            if new:
                until = self.deferred.get(recipient)
                status = (
                    "suppressed"
                    if recipient in self.suppressed
                    else "deferred"
                    if until is not None
                    else "pending"
                )
                if status == "pending" and channel == IN_APP:  # delivered as it is written
                    status = "sent"
                    self.sent.append(key)
                    result.sent += 1
                self.deliveries[key] = Delivery(status, until)
                result.suppressed += status == "suppressed"
                result.deferred += status == "deferred"
                if until is not None and status == "deferred":
                    earliest = result.deferred_until
                    result.deferred_until = until if earliest is None else min(earliest, until)
            if self.deliveries[key].status == "pending":
                result.pending[channel] = result.pending.get(channel, 0) + 1
        return int(new)

    @activity.defn(name="send_broadcast_batch")
    @loud
    async def send_broadcast_batch(self, input: SendBatchInput) -> SendBatchResult:
        self._called(self.batches, input)
        self.send_started.set()
        if self._held_sends is not None:
            await self._held_sends.wait()
        result = SendBatchResult()
        for (recipient, channel), delivery in sorted(self.deliveries.items()):
            in_batch = (input.after is None or recipient > input.after) and (
                input.through is None or recipient <= input.through
            )
            if channel != input.channel or delivery.status != "pending" or not in_batch:
                continue
            if self.transient.get(recipient, 0) > 0:
                self.transient[recipient] -= 1
                if input.retry_window_ends is not None:
                    delivery.status = "failed"
                    result.failed += 1
                else:
                    result.retrying += 1
                    result.retry_after_seconds = self.retry_after
                continue
            delivery.status = "sent"
            self.sent.append((recipient, channel))
            result.sent += 1
        return result

    @activity.defn(name="release_broadcast_deferred")
    @loud
    async def release_broadcast_deferred(self, input: ReleaseInput) -> ReleaseResult:
        self._called(self.releases, input)
        result = ReleaseResult()
        for (_, channel), delivery in sorted(self.deliveries.items()):
            until = delivery.deferred_until
            if delivery.status != "deferred" or until is None:
                continue
            if until <= input.now:
                delivery.status = "pending"
                result.released += 1
                result.pending[channel] = result.pending.get(channel, 0) + 1
            elif result.next_deferred_until is None or until < result.next_deferred_until:
                result.next_deferred_until = until
        return result


ALWAYS = math.inf  # a recipient whose sends always fail transiently
