"""A recipient switching one category off for one channel (spam report, provider unsubscribe)."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Recipient
from domain.preferences import merge_overrides


async def switch_off_category(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    category: str,
    channel: str,
) -> None:
    """Merge {"rules": {category: {channel: false}}} into the recipient's own preferences.

    The row is locked first: a concurrent preferences PUT must not be lost to this merge.
    Waiting notifications need no wake-up: the policy reads the preferences again when they wake."""
    overrides = await session.scalar(
        select(Recipient.preference_overrides)
        .where(Recipient.id == recipient_id, Recipient.tenant_id == tenant_id)
        .with_for_update()
    )
    if overrides is None:
        return  # the recipient was deleted since
    await session.execute(
        update(Recipient)
        .where(Recipient.id == recipient_id)
        .values(
            preference_overrides=merge_overrides(overrides, {"rules": {category: {channel: False}}})
        )
    )
