"""GET/PUT /v1/settings/delivery-policy: which events are reminders, which urgent events bypass."""

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SessionDep, TenantDep
from api.schemas import EventKey
from db import policy_store
from domain.policy import DEFAULT_REMINDER_EVENT_KEYS

router = APIRouter(prefix="/v1/settings/delivery-policy", tags=["preferences"])


class DeliveryPolicySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminder_event_keys: list[EventKey] = Field(
        default_factory=lambda: sorted(DEFAULT_REMINDER_EVENT_KEYS),
        description="Event keys counted against each recipient's daily reminder cap.",
    )
    urgent_bypass: dict[EventKey, bool] = Field(
        default_factory=dict,
        description="Whether an urgent notification of this event key bypasses quiet hours, "
        "weekends, digests and rate limits (unlisted keys bypass). Opt-outs always apply.",
    )


@router.get("", response_model=DeliveryPolicySettings)
async def read(tenant: TenantDep, session: SessionDep) -> DeliveryPolicySettings:
    settings = await policy_store.tenant_settings(session, tenant.id)
    return DeliveryPolicySettings(
        reminder_event_keys=sorted(settings.reminder_event_keys), urgent_bypass=dict(settings.urgent_bypass)
    )


@router.put("", response_model=DeliveryPolicySettings)
async def write(body: DeliveryPolicySettings, tenant: TenantDep, session: SessionDep) -> DeliveryPolicySettings:
    async with session.begin():
        await policy_store.save_tenant_settings(session, tenant.id, body.reminder_event_keys, body.urgent_bypass)
    return body
