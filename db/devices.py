"""Recipients' push devices: read for a send, deactivated when the push service says they
are gone. (Registering, listing and removing them: the devices API.)"""

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.channel_models import Device
from domain.devices import PushDevice

MAX_DEVICES_PER_SEND = 100  # the newest; a recipient with more has stale ones


async def active_devices(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID
) -> list[PushDevice]:
    """The recipient's active devices, most recently seen first."""
    rows = await session.execute(
        select(Device.id, Device.kind, Device.token)
        .where(
            Device.tenant_id == tenant_id,
            Device.recipient_id == recipient_id,
            Device.active,
        )
        .order_by(Device.last_seen.desc())
        .limit(MAX_DEVICES_PER_SEND)
    )
    return [PushDevice(str(row.id), row.kind, row.token) for row in rows]


async def deactivate_devices(
    session: AsyncSession, tenant_id: uuid.UUID, reasons: dict[str, str]
) -> None:
    """Each device (id -> why) is gone: never sent to again, until registered anew."""
    for device_id, reason in reasons.items():
        await session.execute(
            update(Device)
            .where(Device.id == uuid.UUID(device_id), Device.tenant_id == tenant_id)
            .values(active=False, deactivated_at=func.now(), deactivation_reason=reason[:500])
        )
