"""Herald's VAPID key pair for Web Push (table vapid_keys: one row, id 1)."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.channel_models import VapidKey

KEY_ROW = 1  # the one row


@dataclass(frozen=True)
class StoredVapidKeys:
    public_key: str  # base64url, the uncompressed P-256 point
    private_key_sealed: str


async def stored_vapid_keys(session: AsyncSession) -> StoredVapidKeys | None:
    row = (
        await session.execute(
            select(VapidKey.public_key, VapidKey.private_key_sealed).where(VapidKey.id == KEY_ROW)
        )
    ).one_or_none()
    return StoredVapidKeys(row.public_key, row.private_key_sealed) if row else None


async def add_vapid_keys_if_absent(
    session: AsyncSession, public_key: str, private_key_sealed: str
) -> None:
    """Stores the pair unless one is stored already: of two processes making the first pair
    at once, one pair wins and both read it back (stored_vapid_keys)."""
    await session.execute(
        insert(VapidKey)
        .values(id=KEY_ROW, public_key=public_key, private_key_sealed=private_key_sealed)
        .on_conflict_do_nothing(index_elements=[VapidKey.id])
    )
