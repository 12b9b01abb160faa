"""POST/GET /v1/notifications and cancel."""

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.errors import ApiError, field_error
from api.schemas import CancelOutcome, DeliveryPublic, NotificationAccepted, NotificationCreate, NotificationPublic
from api.submission import submit_notification
from temporal_clients.notifications import WorkflowGone, cancel_notification
from db.notifications import get_notification

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@router.post("", status_code=202, response_model=NotificationAccepted)
async def create(
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
        raise field_error("Idempotency-Key", "must be 1-255 visible ASCII characters without spaces")
    accepted = await submit_notification(session, temporal, settings, tenant, body, idempotency_key)
    response.headers["Location"] = f"/v1/notifications/{accepted.id}"
    return accepted


@router.get("/{notification_id}", response_model=NotificationPublic)
async def read(notification_id: uuid.UUID, tenant: TenantDep, session: SessionDep) -> NotificationPublic:
    found = await get_notification(session, tenant.id, notification_id)
    if found is None:
        raise ApiError(404, "not_found", f"notification {notification_id} not found")
    notification, external_id, deliveries = found
    return NotificationPublic(
        id=notification.id,
        recipient=external_id,
        event_key=notification.event_key,
        priority=notification.priority,
        channels=notification.channels,
        context=notification.context,
        idempotency_key=notification.idempotency_key,
        send_at=notification.send_at,
        workflow_id=notification.workflow_id,
        status=notification.status,
        created_at=notification.created_at,
        updated_at=notification.updated_at,
        deliveries=[DeliveryPublic.model_validate(d) for d in deliveries],
    )


@router.post("/{notification_id}/cancel", response_model=CancelOutcome)
async def cancel(
    notification_id: uuid.UUID, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> CancelOutcome:
    """Stop a notification before it is sent; channels already sent stay as they are."""
    found = await get_notification(session, tenant.id, notification_id)
    if found is None:
        raise ApiError(404, "not_found", f"notification {notification_id} not found")
    notification = found[0]
    await session.close()  # do not hold a connection while the workflow settles
    try:
        result = await cancel_notification(temporal, notification.workflow_id)
    except WorkflowGone:
        raise ApiError(409, "already_finished", f"notification {notification_id} has already finished ({notification.status})")
    except RPCError as exc:
        raise ApiError(503, "temporal_unavailable", f"could not reach the workflow: {exc.message}") from exc
    message = (
        "cancelled before sending" if result.cancelled else f"nothing left to cancel: the notification is {result.status}"
    )
    return CancelOutcome(id=notification_id, cancelled=result.cancelled, status=result.status, message=message)
