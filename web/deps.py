"""Dependencies of the dashboard's pages beyond web/auth.py's, as `Annotated` aliases."""

from typing import Annotated

from fastapi import Depends

from domain.tenants import TenantIdentity
from web.auth import CurrentOperator


async def current_tenant(operator: CurrentOperator) -> TenantIdentity:
    """The signed-in operator's tenant, as the services the API shares with the dashboard take
    it. They read only its id; an operator's session does not carry the tenant's name."""
    return TenantIdentity(id=operator.tenant_id, name="")


CurrentTenant = Annotated[TenantIdentity, Depends(current_tenant)]
