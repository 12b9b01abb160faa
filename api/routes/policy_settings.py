"""GET/PUT /v1/settings/delivery-policy: which events are reminders, which urgent events bypass."""

from fastapi import APIRouter

from api.deps import SessionDep, TenantDep
from api.schemas.settings import DeliveryPolicySettings
from services.tenant_settings import delivery_policy, save_delivery_policy

router = APIRouter(prefix="/v1/settings/delivery-policy", tags=["preferences"])


@router.get("", response_model=DeliveryPolicySettings)
async def get_delivery_policy(tenant: TenantDep, session: SessionDep) -> DeliveryPolicySettings:
    return await delivery_policy(session, tenant)


@router.put("", response_model=DeliveryPolicySettings)
async def put_delivery_policy(
    body: DeliveryPolicySettings, tenant: TenantDep, session: SessionDep
) -> DeliveryPolicySettings:
    return await save_delivery_policy(session, tenant, body)
