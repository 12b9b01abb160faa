"""POST/GET /v1/notifications and cancel."""

import uuid

from fastapi import APIRouter, Response

from api.deps import IdempotencyKeyDep, SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.notifications import (
    CancelOutcome,
    NotificationAccepted,
    NotificationCreate,
    NotificationPublic,
)
from services import notifications

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.post(
    "",
    status_code=202,
    response_model=NotificationAccepted,
    responses={
        409: {
            "description": "The Idempotency-Key was used for a notification with other details "
            "(`idempotency_conflict`)."
        }
    },
)
async def create_notification(
    body: NotificationCreate,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep,
) -> NotificationAccepted:
    """Accept a notification; the same Idempotency-Key returns the same notification."""
    accepted = await notifications.submit_notification(
        session, temporal, settings, tenant, body, idempotency_key
    )
    response.headers["Location"] = f"/v1/notifications/{accepted.id}"
    return accepted


@router.get("/{notification_id}", response_model=NotificationPublic)
async def get_notification(
    notification_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> NotificationPublic:
    return await notifications.read_notification(session, tenant, notification_id)


@router.post(
    "/{notification_id}/cancel",
    response_model=CancelOutcome,
    responses={409: {"description": "The notification has finished (`already_finished`)."}},
)
async def cancel_notification(
    notification_id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> CancelOutcome:
    """Stop a notification before it is sent; channels already sent stay as they are."""
    return await notifications.cancel(session, temporal, tenant, notification_id)
