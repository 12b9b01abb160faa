"""A broadcast's own rows as the API writes and reads them: the broadcasts row (created once per
tenant and Idempotency-Key) and a listed audience's broadcast_recipients. What its workflow
writes as it walks the audience lives in db/broadcasts.py."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcast_models import Broadcast
from domain.broadcasts import BroadcastStatus


async def create_broadcast(session: AsyncSession, values: dict[str, Any]) -> tuple[Broadcast, bool]:
    """Insert unless the tenant's Idempotency-Key exists: (the broadcast, whether this call
    created it). Two requests with one key take turns on the unique index: the second waits for
    the first's transaction, then finds its broadcast and inserts nothing."""
    created = await session.scalar(
        insert(Broadcast)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
        .returning(Broadcast)
    )
    if created is not None:
        return created, True
    existing = await broadcast_for_key(session, values["tenant_id"], values["idempotency_key"])
    if existing is None:  # cannot be: the insert found the key taken
        raise LookupError(f"broadcast with key {values['idempotency_key']!r} vanished")
    return existing, False


async def broadcast_for_key(
    session: AsyncSession, tenant_id: uuid.UUID, idempotency_key: str
) -> Broadcast | None:
    return await session.scalar(
        select(Broadcast).where(
            Broadcast.tenant_id == tenant_id, Broadcast.idempotency_key == idempotency_key
        )
    )


_LIST_RECIPIENTS = text("""
    INSERT INTO broadcast_recipients (broadcast_id, recipient_id)
    SELECT :broadcast_id, r.id FROM recipients r
    WHERE r.tenant_id = :tenant_id AND r.external_id = ANY(CAST(:external_ids AS text[]))
    ON CONFLICT DO NOTHING
""")


async def list_recipients(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    broadcast_id: uuid.UUID,
    external_ids: Sequence[str],
) -> int:
    """The broadcast's listed audience, in one statement: how many recipients it holds."""
    inserted = await session.execute(
        _LIST_RECIPIENTS,
        {"broadcast_id": broadcast_id, "tenant_id": tenant_id, "external_ids": list(external_ids)},
    )
    return int(inserted.rowcount)  # type: ignore[attr-defined]  # a CursorResult


async def get_broadcast(
    session: AsyncSession, tenant_id: uuid.UUID, broadcast_id: uuid.UUID
) -> Broadcast | None:
    return await session.scalar(
        select(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.tenant_id == tenant_id)
    )


async def tenant_broadcasts(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Broadcast]:
    """The tenant's broadcasts, newest first, from before `before`
    (ix_broadcasts_tenant_created)."""
    query = select(Broadcast).where(Broadcast.tenant_id == tenant_id)
    if before is not None:
        query = query.where(tuple_(Broadcast.created_at, Broadcast.id) < tuple_(*before))
    query = query.order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def unstarted_broadcasts(
    session: AsyncSession, created_before: datetime, due_by: datetime, limit: int
) -> list[Broadcast]:
    """Every tenant's broadcasts whose walk has not begun (scheduled or running, no
    started_at) though due (no send_at, or one at or before `due_by`), created before
    `created_before`: oldest first. A sequential scan: the table holds a row per broadcast."""
    query = (
        select(Broadcast)
        .where(
            Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING]),
            Broadcast.started_at.is_(None),
            Broadcast.created_at < created_before,
            or_(Broadcast.send_at.is_(None), Broadcast.send_at <= due_by),
        )
        .order_by(Broadcast.created_at, Broadcast.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
