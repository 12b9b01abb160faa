"""POST/GET /v1/notifications and cancel."""

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.errors import field_error
from api.schemas.notifications import (
    CancelOutcome,
    NotificationAccepted,
    NotificationCreate,
    NotificationPublic,
)
from services import notifications

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


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
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> NotificationAccepted:
    """Accept a notification; the same Idempotency-Key returns the same notification."""
    if idempotency_key is not None and not _KEY.match(idempotency_key):
        raise field_error(
            "Idempotency-Key", "must be 1-255 visible ASCII characters without spaces"
        )
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
