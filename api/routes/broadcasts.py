"""POST/GET /v1/broadcasts, GET /v1/broadcasts/{id}, and pause, resume, cancel."""

import uuid

from fastapi import APIRouter, Response

from api.deps import IdempotencyKeyDep, SessionDep, SettingsDep, TemporalDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.broadcasts import (
    BroadcastAccepted,
    BroadcastCreate,
    BroadcastPage,
    BroadcastProgressPublic,
    BroadcastPublic,
)
from services import broadcasts

router = APIRouter(prefix="/v1/broadcasts", tags=["broadcasts"])

# What pause, resume and cancel answer when the broadcast cannot take the change.
REFUSED: dict[int | str, dict] = {
    409: {
        "description": "The broadcast has finished (`already_finished`, naming its status), or "
        "cannot take this change now (`broadcast_refused`: resume when not paused, say)."
    }
}


@router.post(
    "",
    status_code=202,
    response_model=BroadcastAccepted,
    responses={
        409: {
            "description": "The Idempotency-Key was used for a broadcast with other details "
            "(`idempotency_conflict`)."
        }
    },
)
async def create_broadcast(
    body: BroadcastCreate,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep,
) -> BroadcastAccepted:
    """Notify a whole audience: up to 10,000 listed recipients, a topic's subscribers, or
    every recipient of the tenant. The same Idempotency-Key returns the same broadcast."""
    accepted = await broadcasts.submit_broadcast(
        session, temporal, settings, tenant, body, idempotency_key
    )
    response.headers["Location"] = f"/v1/broadcasts/{accepted.id}"
    return accepted


@router.get("", response_model=BroadcastPage)
async def list_broadcasts(
    tenant: TenantDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> BroadcastPage:
    """The tenant's broadcasts, newest first."""
    return await broadcasts.list_broadcasts(session, tenant, cursor, limit)


@router.get("/{broadcast_id}", response_model=BroadcastPublic)
async def get_broadcast(
    broadcast_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> BroadcastPublic:
    """The broadcast and its progress: recipients written, deliveries sent, suppressed,
    deferred and failed, the rate and the ETA."""
    return await broadcasts.read_broadcast(session, tenant, broadcast_id)


@router.post("/{broadcast_id}/pause", response_model=BroadcastProgressPublic, responses=REFUSED)
async def pause_broadcast(
    broadcast_id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> BroadcastProgressPublic:
    """Stop writing and sending (a page being written finishes) until resumed."""
    return await broadcasts.pause(session, temporal, tenant, broadcast_id)


@router.post("/{broadcast_id}/resume", response_model=BroadcastProgressPublic, responses=REFUSED)
async def resume_broadcast(
    broadcast_id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> BroadcastProgressPublic:
    return await broadcasts.resume(session, temporal, tenant, broadcast_id)


@router.post("/{broadcast_id}/cancel", response_model=BroadcastProgressPublic, responses=REFUSED)
async def cancel_broadcast(
    broadcast_id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> BroadcastProgressPublic:
    """Stop the broadcast for good: nothing more is written or sent; what was sent stays."""
    return await broadcasts.cancel(session, temporal, tenant, broadcast_id)
