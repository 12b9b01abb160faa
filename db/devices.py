"""Recipients' push devices: read for a send, deactivated when the push service says they
are gone. (Registering, listing and removing them: the devices API.)"""

import hashlib
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
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


@dataclass(frozen=True)
class DeviceRow:
    """A device as the devices API reads it (its token too: the API shows a hint of it)."""

    id: uuid.UUID
    kind: str
    token: str
    label: str | None
    active: bool
    last_seen: datetime
    created_at: datetime
    deactivated_at: datetime | None
    deactivation_reason: str | None


_DEVICE_COLUMNS = [getattr(Device, f.name) for f in fields(DeviceRow)]


def token_digest(token: str) -> str:
    """What the uniqueness of (tenant, kind, token) is checked on: a token may be long."""
    return hashlib.sha256(token.encode()).hexdigest()


async def register_device(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    kind: str,
    token: str,
    label: str | None,
) -> tuple[DeviceRow, bool]:
    """The device, and whether it is new. A token the tenant already has (of this kind) is the
    same device: seen now, active again, the recipient's (moved from another if it was
    someone else's), labelled anew when a label is given."""
    values = insert(Device).values(
        tenant_id=tenant_id,
        recipient_id=recipient_id,
        kind=kind,
        token=token,
        token_digest=token_digest(token),
        label=label,
    )
    statement = values.on_conflict_do_update(
        index_elements=[Device.tenant_id, Device.kind, Device.token_digest],
        set_=dict(
            recipient_id=recipient_id,
            label=func.coalesce(values.excluded.label, Device.label),
            active=True,
            last_seen=func.now(),
            deactivated_at=None,
            deactivation_reason=None,
        ),
    ).returning(*_DEVICE_COLUMNS, literal_column("xmax = 0").label("created"))
    row = (await session.execute(statement)).one()
    return _device(row), row.created


async def deactivate_least_recently_seen(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    keep: int,
    reason: str,
    registered: uuid.UUID,
) -> None:
    """Deactivates the recipient's active devices past the `keep` most recently seen, never
    the one just `registered`. (Call it with the recipient's row locked, or two registrations
    at once could both keep their device.)"""
    beyond = (
        select(Device.id)
        .where(Device.tenant_id == tenant_id, Device.recipient_id == recipient_id, Device.active)
        .order_by((Device.id == registered).desc(), Device.last_seen.desc(), Device.id)
        .offset(keep)
    )
    await session.execute(
        update(Device)
        .where(Device.id.in_(beyond.scalar_subquery()))
        .values(active=False, deactivated_at=func.now(), deactivation_reason=reason)
    )


async def recipient_devices(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DeviceRow]:
    """The recipient's devices, active or not, newest first (by when registered, then id),
    after the position `after`."""
    query = select(*_DEVICE_COLUMNS).where(
        Device.tenant_id == tenant_id, Device.recipient_id == recipient_id
    )
    if after is not None:
        query = query.where(tuple_(Device.created_at, Device.id) < after)
    rows = await session.execute(
        query.order_by(Device.created_at.desc(), Device.id.desc()).limit(limit)
    )
    return [_device(row) for row in rows]


async def delete_device(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID, device_id: uuid.UUID
) -> bool:
    """Removes the device if it is this recipient's; whether it was."""
    deleted = await session.execute(
        delete(Device)
        .where(
            Device.id == device_id,
            Device.tenant_id == tenant_id,
            Device.recipient_id == recipient_id,
        )
        .returning(Device.id)
    )
    return deleted.one_or_none() is not None


def _device(row: Row[Any]) -> DeviceRow:
    values = row._mapping
    return DeviceRow(**{f.name: values[f.name] for f in fields(DeviceRow)})
