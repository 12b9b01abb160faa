"""Broadcasts: one notification to a whole audience (a list of up to 10,000 recipients, a
topic's subscribers, or every recipient of the tenant). Submit one, read its progress, list
them, pause, resume or cancel one.

A submission is idempotent by its Idempotency-Key as a notification's is
(services/new_notifications.py): the same key and body answers the broadcast made the first
time (and starts its workflow if that failed then; a broadcast whose request had no key is
started by the sweep of services/stranded_broadcasts.py); the same key with another body is a 409;
a refused request writes nothing. The broadcast row and a listed audience are written in one
transaction, then BroadcastWorkflow (workflows/broadcast.py) is started on the broadcast lane
(temporal_clients/broadcasts.py) and walks the audience in pages."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.broadcasts import (
    AudiencePublic,
    BroadcastAccepted,
    BroadcastCreate,
    BroadcastPage,
    BroadcastProgressPublic,
    BroadcastPublic,
)
from config.settings import Settings
from db import broadcast_store
from db.broadcast_models import Broadcast
from db.topics import get_topic
from domain.broadcasts import (
    FINISHED_BROADCAST_STATUSES,
    AudienceKind,
    BroadcastCounters,
    BroadcastProgress,
    BroadcastStatus,
    broadcast_progress,
)
from domain.tenants import TenantIdentity
from services.errors import Conflict, NotFound, invalid_field
from services.new_notifications import idempotency_conflict, request_digest
from services.notifications import refuse_untimely
from services.pages import decode_cursor, page
from services.topics import refuse_unknown_recipients
from temporal_clients.broadcasts import (
    BroadcastNotRunning,
    BroadcastRefused,
    BroadcastStart,
    broadcast_workflow_id,
    cancel_broadcast,
    pause_broadcast,
    resume_broadcast,
    start_broadcast,
)


async def submit_broadcast(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    request: BroadcastCreate,
    idempotency_key: str | None,
) -> BroadcastAccepted:
    """POST /v1/broadcasts. Without a key, every call is a new broadcast."""
    refuse_untimely(request)
    key = idempotency_key or str(uuid.uuid4())
    digest = request_digest(request.model_dump(mode="json"))
    async with session.begin():
        broadcast = await broadcast_store.broadcast_for_key(session, tenant.id, key)
        created = broadcast is None
        if broadcast is None:
            broadcast, created = await _create(session, tenant, request, key, digest)
    if not created and broadcast.request_digest != digest:
        raise idempotency_conflict()
    if broadcast.status in FINISHED_BROADCAST_STATUSES:  # its workflow's history may be gone
        return _accepted(broadcast, key, created)
    await start_broadcast(temporal, settings, broadcast_start(broadcast))
    return _accepted(broadcast, key, created)


def broadcast_start(broadcast: Broadcast) -> BroadcastStart:
    """What starting a stored broadcast's workflow takes from its row."""
    return BroadcastStart(
        id=broadcast.id,
        tenant_id=broadcast.tenant_id,
        event_key=broadcast.event_key,
        workflow_id=broadcast.workflow_id,
        send_at=broadcast.send_at,
    )


def _accepted(broadcast: Broadcast, key: str, created: bool) -> BroadcastAccepted:
    return BroadcastAccepted(
        id=broadcast.id,
        status=broadcast.status,
        workflow_id=broadcast.workflow_id,
        idempotency_key=key,
        replayed=not created,
        total=broadcast.total,
    )


async def _create(
    session: AsyncSession,
    tenant: TenantIdentity,
    request: BroadcastCreate,
    key: str,
    digest: bytes,
) -> tuple[Broadcast, bool]:
    """The broadcast row and its listed audience, once the audience is known to exist (a
    request with the same key at the same time: the one that waited gets the other's row)."""
    audience = request.audience
    listed = list(dict.fromkeys(audience.recipients)) if audience.recipients else None
    if listed is not None:
        await refuse_unknown_recipients(session, tenant.id, listed, "audience.recipients")
    if audience.topic is not None and await get_topic(session, tenant.id, audience.topic) is None:
        raise invalid_field(
            "audience.topic",
            f"no topic {audience.topic!r}; add its subscribers with "
            "PUT /v1/topics/{key}/subscribers",
        )
    broadcast_id = uuid.uuid4()
    later = request.send_at is not None and request.send_at > datetime.now(UTC)
    broadcast, created = await broadcast_store.create_broadcast(
        session,
        dict(
            id=broadcast_id,
            tenant_id=tenant.id,
            idempotency_key=key,
            request_digest=digest,
            event_key=request.event_key,
            priority=request.priority,
            channels=[str(c) for c in request.channels] if request.channels else None,
            context=request.context,
            inbox_options=request.inbox.model_dump(mode="json") if request.inbox else None,
            audience_kind=_kind(request),
            topic_key=audience.topic,
            send_at=request.send_at,
            workflow_id=broadcast_workflow_id(tenant.id, broadcast_id),
            status=BroadcastStatus.SCHEDULED if later else BroadcastStatus.RUNNING,
            total=len(listed) if listed is not None else None,
        ),
    )
    if created and listed is not None:
        await broadcast_store.list_recipients(session, tenant.id, broadcast.id, listed)
    return broadcast, created


def _kind(request: BroadcastCreate) -> AudienceKind:
    if request.audience.recipients is not None:
        return AudienceKind.RECIPIENTS
    if request.audience.topic is not None:
        return AudienceKind.TOPIC
    return AudienceKind.TENANT


async def read_broadcast(
    session: AsyncSession, tenant: TenantIdentity, broadcast_id: uuid.UUID
) -> BroadcastPublic:
    """GET /v1/broadcasts/{id}: its progress as the rows say (each page's transaction advances
    the counters with the rows it writes)."""
    return _public(await _find(session, tenant, broadcast_id))


async def list_broadcasts(
    session: AsyncSession, tenant: TenantIdentity, cursor: str | None, limit: int
) -> BroadcastPage:
    """The tenant's broadcasts, newest first, a page at a time (services/pages.py)."""
    before = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await broadcast_store.tenant_broadcasts(session, tenant.id, before, limit + 1)
    shown, next_cursor = page(rows, limit, lambda b: (b.created_at, b.id))
    return BroadcastPage(data=[_public(b) for b in shown], next_cursor=next_cursor)


Steer = Callable[[Client, str], Awaitable[BroadcastProgress]]


async def pause(
    session: AsyncSession, temporal: Client, tenant: TenantIdentity, broadcast_id: uuid.UUID
) -> BroadcastProgressPublic:
    """Nothing more is written or sent until it is resumed (a page being written finishes)."""
    return await _steer(session, temporal, tenant, broadcast_id, pause_broadcast)


async def resume(
    session: AsyncSession, temporal: Client, tenant: TenantIdentity, broadcast_id: uuid.UUID
) -> BroadcastProgressPublic:
    return await _steer(session, temporal, tenant, broadcast_id, resume_broadcast)


async def cancel(
    session: AsyncSession, temporal: Client, tenant: TenantIdentity, broadcast_id: uuid.UUID
) -> BroadcastProgressPublic:
    """Nothing more is written or sent; what was sent stays sent."""
    return await _steer(session, temporal, tenant, broadcast_id, cancel_broadcast)


async def _steer(
    session: AsyncSession,
    temporal: Client,
    tenant: TenantIdentity,
    broadcast_id: uuid.UUID,
    steer: Steer,
) -> BroadcastProgressPublic:
    """One of the workflow's updates. A finished broadcast is a 409 naming its status; one
    the workflow refuses (resume when not paused) a 409 with the workflow's reason."""
    broadcast = await _find(session, tenant, broadcast_id)
    await session.close()  # no connection held while the workflow answers
    if broadcast.status in FINISHED_BROADCAST_STATUSES:
        raise _finished(broadcast)
    try:
        progress = await steer(temporal, broadcast.workflow_id)
    except BroadcastRefused as refused:
        raise Conflict(f"broadcast {broadcast_id}: {refused}", code="broadcast_refused") from None
    except BroadcastNotRunning:
        broadcast = await _find(session, tenant, broadcast_id)
        if broadcast.status in FINISHED_BROADCAST_STATUSES:
            raise _finished(broadcast) from None
        raise Conflict(
            f"broadcast {broadcast_id} has no running workflow: repeat its POST /v1/broadcasts "
            "with the same Idempotency-Key to start it",
            code="not_started",
        ) from None
    return _progress_public(broadcast.id, progress)


async def _find(
    session: AsyncSession, tenant: TenantIdentity, broadcast_id: uuid.UUID
) -> Broadcast:
    broadcast = await broadcast_store.get_broadcast(session, tenant.id, broadcast_id)
    if broadcast is None:
        raise NotFound(f"broadcast {broadcast_id} not found")
    return broadcast


def _finished(broadcast: Broadcast) -> Conflict:
    return Conflict(
        f"broadcast {broadcast.id} has already finished ({broadcast.status})",
        "status",
        code="already_finished",
    )


def row_progress(broadcast: Broadcast) -> BroadcastProgress:
    """A broadcast's progress from its row: the rate over its run so far (over its whole run,
    once finished); no ETA once finished."""
    status = BroadcastStatus(broadcast.status)
    finished = status in FINISHED_BROADCAST_STATUSES
    progress = broadcast_progress(
        status,
        BroadcastCounters(
            total=broadcast.total,
            planned=broadcast.planned,
            sent=broadcast.sent,
            suppressed=broadcast.suppressed,
            deferred=broadcast.deferred,
            failed=broadcast.failed,
        ),
        broadcast.started_at,
        (broadcast.finished_at if finished else None) or datetime.now(UTC),
    )
    if finished:
        progress.eta_seconds = None
    return progress


def _progress_public(
    broadcast_id: uuid.UUID, progress: BroadcastProgress
) -> BroadcastProgressPublic:
    return BroadcastProgressPublic(
        id=broadcast_id,
        status=progress.status,
        total=progress.total,
        planned=progress.planned,
        sent=progress.sent,
        suppressed=progress.suppressed,
        deferred=progress.deferred,
        failed=progress.failed,
        rate_per_second=progress.rate_per_second,
        eta_seconds=progress.eta_seconds,
    )


def _public(broadcast: Broadcast) -> BroadcastPublic:
    progress = _progress_public(broadcast.id, row_progress(broadcast))
    return BroadcastPublic(
        **progress.model_dump(),
        event_key=broadcast.event_key,
        audience=AudiencePublic(
            kind=AudienceKind(broadcast.audience_kind), topic=broadcast.topic_key
        ),
        priority=broadcast.priority,
        channels=broadcast.channels,
        context=broadcast.context,
        send_at=broadcast.send_at,
        workflow_id=broadcast.workflow_id,
        idempotency_key=broadcast.idempotency_key,
        created_at=broadcast.created_at,
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
    )
