"""POST /v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/replay: a status webhook
message sent again (services/status_webhooks.replay_message). The endpoints, their messages
and attempts: api/routes/webhook_endpoints.py."""

import uuid

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.webhook_replay import WebhookReplayStarted
from services import status_webhooks as service

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhook endpoints"])


@router.post(
    "/{endpoint_id}/messages/{message_id}/replay",
    status_code=202,
    response_model=WebhookReplayStarted,
    responses={
        404: {"description": "The tenant has no such endpoint, or it has no such message."},
        409: {
            "description": "The message is still pending (being delivered), or the endpoint "
            "is disabled (enable it first)."
        },
    },
)
async def replay_webhook_message(
    endpoint_id: uuid.UUID,
    message_id: uuid.UUID,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> WebhookReplayStarted:
    """Send a delivered or failed message again, with the same `webhook-id` and a fresh
    schedule of attempts, each payload built from its subject's state at that time."""
    return await service.replay_message(
        session, temporal, settings, tenant, endpoint_id, message_id
    )
