"""Addresses a provider reported as permanently undeliverable, per tenant and channel.

Recorded from webhooks (a hard bounce, a number that does not exist); the planning step
asks before every send, so a later notification to that address is suppressed with the reason
instead of hurting the sender's reputation with another bounce.
"""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_REASON = text("""
    SELECT reason FROM invalid_addresses
    WHERE tenant_id = :tenant_id AND channel = :channel AND lower(address) = lower(:address)
""")

# The first report's reason stays: later bounces of the same address add nothing.
_MARK = text("""
    INSERT INTO invalid_addresses (id, tenant_id, channel, address, reason)
    VALUES (:id, :tenant_id, :channel, :address, :reason)
    ON CONFLICT (tenant_id, channel, lower(address)) DO NOTHING
""")


async def invalid_address_reason(
    session: AsyncSession, tenant_id: uuid.UUID, channel: str, address: str
) -> str | None:
    """Why `address` cannot receive `channel` messages of this tenant; None while it can."""
    return await session.scalar(
        _REASON, {"tenant_id": tenant_id, "channel": channel, "address": address}
    )


async def mark_address_invalid(
    session: AsyncSession, tenant_id: uuid.UUID, channel: str, address: str, reason: str
) -> None:
    await session.execute(
        _MARK,
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "channel": channel,
            "address": address,
            "reason": reason,
        },
    )
