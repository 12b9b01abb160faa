"""Broadcasts: one notification to a whole audience (docs/broadcasts.md).

The vocabulary and the dataclasses that cross the Temporal boundary between BroadcastWorkflow
(workflows/broadcast.py) and its activities (activities/broadcasts.py). As in domain/contracts.py:
one input and one result type per call; new fields get defaults, so running workflows keep
working.

How a broadcast runs, in one paragraph: the API stores the broadcast row (and, for a listed
audience, its broadcast_recipients) and starts BroadcastWorkflow. The workflow walks the
audience in pages ordered by recipient id: `plan_broadcast_page` writes, in one transaction per
page, one notification per recipient (idempotency key "broadcast:<broadcast>:<recipient>", so a
page written twice writes nothing twice) and its deliveries as the pure policy decides them
(domain/policy: opt-outs, suppressions, DND deferral, digests, caps), the in-app messages and
their inbox events in one statement each, and advances the broadcast's counters and cursor.
`send_broadcast_batch` then sends the page's pending email and SMS deliveries with bounded
concurrency per provider. Deferred deliveries wait in the table (deliveries.deferred_until);
the workflow sleeps until the earliest and `release_broadcast_deferred` plans and sends those
due: no workflow per recipient. Transient send failures stay pending with their error and are
swept again after a backoff until the tenant's retry window ends (then failed).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.contracts import DeliveryRetry

MAX_LISTED_RECIPIENTS = 10_000  # recipients one POST /v1/broadcasts may list
DEFAULT_PAGE_SIZE = 500  # recipients per page (BROADCAST_PAGE_SIZE)
# Pages walked before the workflow continues as new, keeping its history small.
PAGES_PER_RUN = 50


class AudienceKind(StrEnum):
    RECIPIENTS = "recipients"  # the recipients the request listed (broadcast_recipients)
    TOPIC = "topic"  # a topic's subscribers, as they are when each page is read
    TENANT = "tenant"  # every recipient of the tenant, as they are when each page is read


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for send_at
    RUNNING = "running"  # walking its audience, sending, or waiting for deferred recipients
    PAUSED = "paused"
    CANCELLED = "cancelled"  # nothing more is written or sent; what was sent stays sent
    COMPLETED = "completed"  # every recipient written and every delivery settled
    FAILED = "failed"  # a step that could not succeed (the reason in the workflow's history)


FINISHED_BROADCAST_STATUSES = frozenset(
    {BroadcastStatus.CANCELLED, BroadcastStatus.COMPLETED, BroadcastStatus.FAILED}
)


# A broadcast's workflow id begins so (temporal_clients/broadcasts.broadcast_workflow_id); its
# notifications carry that id, having no workflow of their own.
BROADCAST_WORKFLOW_PREFIX = "broadcast-"


def broadcast_notification_key(broadcast_id: uuid.UUID, recipient_id: uuid.UUID) -> str:
    """The idempotency key of a broadcast's notification for one recipient."""
    return f"broadcast:{broadcast_id}:{recipient_id}"


@dataclass
class BroadcastCounters:
    """What the workflow has counted so far (as the activities reported it): its `progress`
    query reads them, and continue-as-new carries them."""

    total: int | None = None  # the audience when the broadcast started running
    planned: int = 0
    sent: int = 0
    suppressed: int = 0
    deferred: int = 0  # deferred now (a release takes its deliveries off)
    failed: int = 0


@dataclass
class BroadcastInput:
    broadcast_id: uuid.UUID
    tenant_id: uuid.UUID
    send_at: datetime | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    providers: dict[str, list[str]] = field(default_factory=dict)  # failover order per channel
    retry: DeliveryRetry = field(default_factory=DeliveryRetry)
    # Carried across continue-as-new: where the walk is, and what the workflow was doing.
    cursor: uuid.UUID | None = None  # the last recipient id whose page was written
    walked: bool = False  # every page written; only deferred and retried sends remain
    paused: bool = False
    retry_round: int = 0  # sweeps of transient failures made so far
    started_at: datetime | None = None  # when it started running (None: not yet)
    counters: BroadcastCounters = field(default_factory=BroadcastCounters)
    deferred_until: datetime | None = None  # the earliest deferral written so far
    retrying: list[str] = field(default_factory=list)  # channels with transient failures pending
    retry_window_ends: datetime | None = None  # after this, a transient failure is final


@dataclass
class PageInput:
    broadcast_id: uuid.UUID
    tenant_id: uuid.UUID
    after: uuid.UUID | None  # the page starts after this recipient id (None: the first page)
    limit: int


@dataclass
class PageResult:
    # The page's last recipient id; None when the audience had no recipient after `after`.
    last_recipient_id: uuid.UUID | None
    written: int  # notifications this page wrote (0 when an earlier run had written them)
    pending: dict[str, int] = field(default_factory=dict)  # channel -> deliveries to send now
    deferred_until: datetime | None = None  # the earliest deferral the page wrote
    suppressed: int = 0  # what this page wrote suppressed (counted as broadcasts.suppressed)
    deferred: int = 0  # what this page wrote deferred (counted as broadcasts.deferred)
    total: int | None = None  # broadcasts.total, for the workflow's progress query
    sent: int = 0  # in-app messages this page delivered (counted as broadcasts.sent)
    failed: int = 0  # what this page wrote failed: in-app content that cannot render, a
    # recipient whose stored preferences cannot be read (counted as broadcasts.failed)


def page_parts(
    after: uuid.UUID | None, ids: list[uuid.UUID], parts: int
) -> list[tuple[uuid.UUID | None, uuid.UUID]]:
    """A page's recipient ids (in order, after `after`) cut into at most `parts` runs of
    nearly equal length, each as its bounds (after, through]."""
    count = min(parts, len(ids))
    bounds = []
    for part in range(count):
        through = ids[(part + 1) * len(ids) // count - 1]
        bounds.append((after, through))
        after = through
    return bounds


def merged_page(last: uuid.UUID, parts: list[PageResult | None]) -> PageResult:
    """The page's result from its parts' (None: a part found the broadcast finished, which
    ends the walk, as a page finding it finished does)."""
    page = PageResult(None if None in parts else last, 0)
    for part in parts:
        if part is None:
            continue
        page.written += part.written
        for channel, count in part.pending.items():
            page.pending[channel] = page.pending.get(channel, 0) + count
        if part.deferred_until is not None and (
            page.deferred_until is None or part.deferred_until < page.deferred_until
        ):
            page.deferred_until = part.deferred_until
        page.suppressed += part.suppressed
        page.deferred += part.deferred
        page.sent += part.sent
        page.failed += part.failed
        page.total = part.total if part.total is not None else page.total
    return page


@dataclass
class SendBatchInput:
    """Send the pending deliveries of one channel of the broadcast's recipients in
    (after, through]; through None: every recipient (a retry sweep)."""

    broadcast_id: uuid.UUID
    tenant_id: uuid.UUID
    channel: str
    after: uuid.UUID | None
    through: uuid.UUID | None
    providers: list[str]  # the channel's providers in failover order
    retry_window_ends: datetime | None = None  # a transient failure after this is final


@dataclass
class SendBatchResult:
    sent: int = 0
    failed: int = 0  # failed for good (permanent, or the retry window ended)
    retrying: int = 0  # transient failures left pending for the next sweep
    retry_after_seconds: float | None = None  # the longest Retry-After a provider asked for


@dataclass
class ReleaseInput:
    broadcast_id: uuid.UUID
    tenant_id: uuid.UUID
    now: datetime  # the workflow's time: deferrals due by then are planned again


@dataclass
class ReleaseResult:
    pending: dict[str, int] = field(default_factory=dict)  # channel -> now to send
    next_deferred_until: datetime | None = None  # the earliest deferral still waiting
    released: int = 0  # deferrals planned again (no longer counted as deferred)
    suppressed: int = 0  # of those, the ones the policy now suppressed
    sent: int = 0  # of those, in-app messages delivered now
    failed: int = 0  # of those, the ones that failed (in-app content that cannot render)


@dataclass
class BroadcastStatusInput:
    broadcast_id: uuid.UUID
    tenant_id: uuid.UUID
    status: BroadcastStatus


@dataclass
class BroadcastProgress:
    """What GET /v1/broadcasts/{id} and the workflow's `progress` query report."""

    status: BroadcastStatus
    total: int | None
    planned: int
    sent: int
    suppressed: int
    deferred: int
    failed: int
    rate_per_second: float | None = None  # recipients written per second since it started
    eta_seconds: float | None = None  # until every recipient is written, at that rate


def broadcast_progress(
    status: BroadcastStatus,
    counters: BroadcastCounters,
    started_at: datetime | None,
    now: datetime,
) -> BroadcastProgress:
    """Progress from counters: the rate is recipients written per second since the broadcast
    started running, the ETA the audience left at that rate (None until both can be told)."""
    rate = eta = None
    elapsed = (now - started_at).total_seconds() if started_at is not None else 0.0
    if elapsed > 0 and counters.planned > 0:
        rate = counters.planned / elapsed
        if counters.total is not None:
            eta = max(counters.total - counters.planned, 0) / rate
    return BroadcastProgress(
        status,
        counters.total,
        counters.planned,
        counters.sent,
        counters.suppressed,
        counters.deferred,
        counters.failed,
        rate_per_second=rate,
        eta_seconds=eta,
    )
