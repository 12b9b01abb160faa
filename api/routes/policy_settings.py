"""GET/PUT /v1/settings/delivery-policy: which events are reminders, which urgent events bypass."""

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import SessionDep, TenantDep
from api.schemas import EventKey
from db import policy_store
from domain.policy import DEFAULT_REMINDER_EVENT_KEYS
from domain.types import Channel

router = APIRouter(prefix="/v1/settings/delivery-policy", tags=["preferences"])


class FallbackRuleIn(BaseModel):
    """If `from_channel` has not reached `unless` within `within_minutes` (or failed), send `to_channel`."""

    model_config = ConfigDict(extra="forbid")

    from_channel: Channel
    to_channel: Channel
    unless: Literal["delivered", "opened", "clicked"] = "delivered"
    within_minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)]

    @model_validator(mode="after")
    def _two_channels(self) -> "FallbackRuleIn":
        if self.from_channel == self.to_channel:
            raise ValueError("to_channel must differ from from_channel")
        return self


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
    fallbacks: dict[EventKey, FallbackRuleIn] = Field(
        default_factory=dict, description="Channel fallback per event key."
    )


@router.get("", response_model=DeliveryPolicySettings)
async def read(tenant: TenantDep, session: SessionDep) -> DeliveryPolicySettings:
    settings, fallbacks = await policy_store.policy_settings(session, tenant.id)
    return DeliveryPolicySettings(
        reminder_event_keys=sorted(settings.reminder_event_keys),
        urgent_bypass=dict(settings.urgent_bypass),
        fallbacks=fallbacks,
    )


@router.put("", response_model=DeliveryPolicySettings)
async def write(body: DeliveryPolicySettings, tenant: TenantDep, session: SessionDep) -> DeliveryPolicySettings:
    async with session.begin():
        await policy_store.save_tenant_settings(
            session, tenant.id, body.reminder_event_keys, body.urgent_bypass,
            {key: rule.model_dump(mode="json") for key, rule in body.fallbacks.items()},
        )
    return body
