"""The ledger of accepted events: one row per (tenant, event id)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.booking_models import ProcessedEvent


@dataclass
class Claim:
    new: bool
    digest: bytes  # of the event that holds the id
    received_at: datetime | None


async def claim_event(
    session: AsyncSession, tenant_id: uuid.UUID, event_id: str, type: str, digest: bytes
) -> Claim:
    """Insert the event's row, or find the one that holds its id. Call it in the transaction
    that acts on the event: a concurrent duplicate waits on the row until that transaction
    ends, then sees it committed (a duplicate) or rolled back (its own turn)."""
    received_at = await session.scalar(
        insert(ProcessedEvent)
        .values(tenant_id=tenant_id, event_id=event_id, type=type, digest=digest)
        .on_conflict_do_nothing(index_elements=[ProcessedEvent.tenant_id, ProcessedEvent.event_id])
        .returning(ProcessedEvent.received_at)
    )
    if received_at is not None:
        return Claim(True, digest, received_at)
    existing = (
        await session.execute(
            select(ProcessedEvent.digest, ProcessedEvent.received_at).where(
                ProcessedEvent.tenant_id == tenant_id, ProcessedEvent.event_id == event_id
            )
        )
    ).one()
    return Claim(False, existing.digest, existing.received_at)
