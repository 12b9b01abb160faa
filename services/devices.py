"""Recipients' push devices: registered (or refreshed), listed and removed, by the tenant
(/v1/recipients/{external_id}/devices) or by the recipient themselves through their inbox token
(/v1/inbox/devices): the same use cases, the token naming the recipient.

A token is one device per tenant and kind: registering it again refreshes it (seen now, active
again) and moves it to the registering recipient if it was another's (a shared browser, a
phone that changed hands). A recipient keeps at most MAX_ACTIVE_DEVICES active devices:
one more deactivates the least recently seen. Sends go to the active ones
(activities/channel_sends.py); a push service's "gone" deactivates a device there.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.devices import DevicePage, DevicePublic, DeviceRegistration
from db import devices
from domain.device_tokens import MAX_ACTIVE_DEVICES, REPLACED_REASON, endpoint_origin
from domain.devices import DeviceKind
from domain.inbox import InboxRecipient
from domain.tenants import TenantIdentity
from services.errors import NotFound
from services.pages import decode_cursor, page
from services.recipients import find_recipient

TOKEN_ENDING_CHARS = 6


@dataclass(frozen=True)
class Registered:
    device: DevicePublic
    created: bool  # a new device, not one registered before


async def register_device(
    session: AsyncSession,
    tenant: TenantIdentity,
    external_id: str,
    registration: DeviceRegistration,
) -> Registered:
    """Register the device for the recipient, or refresh it; past MAX_ACTIVE_DEVICES active
    devices, the least recently seen are deactivated."""
    async with session.begin():
        # Locked: registrations for one recipient take turns, so the cap holds.
        recipient = await find_recipient(session, tenant, external_id, for_update=True)
        device, created = await devices.register_device(
            session,
            tenant.id,
            recipient.id,
            registration.kind,
            registration.stored_token(),
            registration.label,
        )
        await devices.deactivate_least_recently_seen(
            session, tenant.id, recipient.id, MAX_ACTIVE_DEVICES, REPLACED_REASON, device.id
        )
    return Registered(_public(device), created)


async def list_devices(
    session: AsyncSession,
    tenant: TenantIdentity,
    external_id: str,
    cursor: str | None,
    limit: int,
) -> DevicePage:
    """The recipient's devices, active and deactivated, newest first."""
    after = decode_cursor(cursor, datetime, uuid.UUID)
    recipient = await find_recipient(session, tenant, external_id)
    rows = await devices.recipient_devices(session, tenant.id, recipient.id, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.created_at, row.id))
    return DevicePage(data=[_public(row) for row in shown], next_cursor=next_cursor)


async def remove_device(
    session: AsyncSession, tenant: TenantIdentity, external_id: str, device_id: uuid.UUID
) -> None:
    """Delete the device; NotFound unless it is the recipient's."""
    async with session.begin():
        recipient = await find_recipient(session, tenant, external_id)
        if not await devices.delete_device(session, tenant.id, recipient.id, device_id):
            raise NotFound(f"device {device_id} not found for recipient {external_id!r}")


def own(recipient: InboxRecipient) -> tuple[TenantIdentity, str]:
    """The tenant and the recipient's external id, as the use cases above take them, from the
    recipient's inbox token (which carries no tenant name)."""
    return TenantIdentity(recipient.tenant_id, name=""), recipient.external_id


def _public(device: devices.DeviceRow) -> DevicePublic:
    webpush = device.kind == DeviceKind.WEBPUSH
    return DevicePublic(
        id=device.id,
        kind=DeviceKind(device.kind),
        label=device.label,
        active=device.active,
        last_seen=device.last_seen,
        created_at=device.created_at,
        deactivated_at=device.deactivated_at,
        deactivation_reason=device.deactivation_reason,
        endpoint_origin=endpoint_origin(device.token) if webpush else None,
        token_ending=None if webpush else device.token[-TOKEN_ENDING_CHARS:],
    )
