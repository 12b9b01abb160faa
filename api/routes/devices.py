"""Push devices: PUT/GET /v1/recipients/{external_id}/devices and
DELETE /v1/recipients/{external_id}/devices/{device_id} (tenant key), and the same for the
recipient themselves through their inbox token at /v1/inbox/devices (the inbox widget
registers the browser with one call). The use cases: services/devices.py."""

import uuid
from typing import Any

from fastapi import APIRouter, Response

from api.deps import InboxRecipientDep, SessionDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.common import ExternalId
from api.schemas.devices import DevicePage, DevicePublic, DeviceRegistration
from domain.device_tokens import MAX_ACTIVE_DEVICES
from services import devices

router = APIRouter(tags=["devices"])

REGISTERED: dict[int | str, dict[str, Any]] = {
    200: {"description": "A device registered before: seen now, active again, this recipient's."},
    201: {"description": "A new device."},
}
REGISTER_DOC = f"""Register a push device, or refresh one: the same token (of the same kind)
is the same device, which registering again marks seen now and active, relabels when `label`
is given, and moves to this recipient if it was another's. A recipient keeps at most
{MAX_ACTIVE_DEVICES} active devices: one more deactivates the least recently seen. Kind
`webpush` takes the browser's `subscription` (as `PushSubscription.toJSON()` gives it), `fcm`
and `apns` a `token`. Invalid, it is a 422 naming the field, and nothing is written."""


@router.put(
    "/v1/recipients/{external_id}/devices",
    response_model=DevicePublic,
    responses=REGISTERED,
    description=REGISTER_DOC,
)
async def register_device(
    external_id: ExternalId,
    body: DeviceRegistration,
    tenant: TenantDep,
    session: SessionDep,
    response: Response,
) -> DevicePublic:
    registered = await devices.register_device(session, tenant, external_id, body)
    response.status_code = 201 if registered.created else 200
    return registered.device


@router.get("/v1/recipients/{external_id}/devices", response_model=DevicePage)
async def list_devices(
    external_id: ExternalId,
    tenant: TenantDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DevicePage:
    """The recipient's devices, active and deactivated (with why), newest first."""
    return await devices.list_devices(session, tenant, external_id, cursor, limit)


@router.delete("/v1/recipients/{external_id}/devices/{device_id}", status_code=204)
async def remove_device(
    external_id: ExternalId, device_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> Response:
    """Remove the device: nothing is sent to it any more (until it is registered again)."""
    await devices.remove_device(session, tenant, external_id, device_id)
    return Response(status_code=204)


@router.put(
    "/v1/inbox/devices",
    response_model=DevicePublic,
    responses=REGISTERED,
    description=REGISTER_DOC.replace("this recipient", "the token's recipient"),
    tags=["inbox"],
)
async def register_own_device(
    body: DeviceRegistration,
    recipient: InboxRecipientDep,
    session: SessionDep,
    response: Response,
) -> DevicePublic:
    registered = await devices.register_device(session, *devices.own(recipient), body)
    response.status_code = 201 if registered.created else 200
    return registered.device


@router.get("/v1/inbox/devices", response_model=DevicePage, tags=["inbox"])
async def list_own_devices(
    recipient: InboxRecipientDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> DevicePage:
    """The recipient's own devices, active and deactivated (with why), newest first."""
    return await devices.list_devices(session, *devices.own(recipient), cursor, limit)


@router.delete("/v1/inbox/devices/{device_id}", status_code=204, tags=["inbox"])
async def remove_own_device(
    device_id: uuid.UUID, recipient: InboxRecipientDep, session: SessionDep
) -> Response:
    """Remove one of the recipient's own devices (a browser turning notifications off)."""
    await devices.remove_device(session, *devices.own(recipient), device_id)
    return Response(status_code=204)
