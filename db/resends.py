"""Queries behind resending a failed or bounced delivery as a new attempt chain."""

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.filters import ResendFilter
from domain.types import DeliveryStatus


@dataclass(frozen=True)
class ResendTarget:
    id: uuid.UUID
    tenant_id: uuid.UUID
    notification_id: uuid.UUID
    channel: str
    status: str
    event_key: str
    priority: str
    email: str | None
    phone: str | None
    chains: int  # attempt chains this notification's channel already has
    resent_as: uuid.UUID | None  # a later chain already made from this delivery
    resent_as_status: str | None  # that chain's status


_TARGET = text("""
    SELECT d.id, d.tenant_id, d.notification_id, d.channel, d.status, n.event_key, n.priority,
           r.email, r.phone,
           (SELECT count(*) FROM deliveries c
             WHERE c.notification_id = d.notification_id AND c.channel = d.channel) AS chains,
           resend.id AS resent_as, resend.status AS resent_as_status
    FROM deliveries d
    JOIN notifications n ON n.id = d.notification_id
    JOIN recipients r ON r.id = n.recipient_id
    LEFT JOIN LATERAL (
        SELECT c.id, c.status FROM deliveries c WHERE c.resent_from_id = d.id LIMIT 1
    ) resend ON true
    WHERE d.id = :delivery_id AND d.tenant_id = :tenant_id
    FOR UPDATE OF d
""")


async def resend_target(
    session: AsyncSession, tenant_id: uuid.UUID, delivery_id: uuid.UUID
) -> ResendTarget | None:
    """Locks the delivery, so two resends of it cannot both start a chain."""
    row = (
        await session.execute(_TARGET, {"delivery_id": delivery_id, "tenant_id": tenant_id})
    ).one_or_none()
    return ResendTarget(**row._mapping) if row else None


_INSERT = text("""
    INSERT INTO deliveries
        (id, tenant_id, notification_id, channel, address, status, resent_from_id)
    VALUES (:id, :tenant_id, :notification_id, :channel, :address, :status, :resent_from_id)
""")


async def insert_resend(
    session: AsyncSession, target: ResendTarget, new_id: uuid.UUID, address: str
) -> None:
    await session.execute(
        _INSERT,
        {
            "id": new_id,
            "tenant_id": target.tenant_id,
            "notification_id": target.notification_id,
            "channel": target.channel,
            "address": address,
            "resent_from_id": target.id,
            "status": DeliveryStatus.PENDING,
        },
    )


_CANDIDATES = """
    SELECT d.id FROM deliveries d JOIN notifications n ON n.id = d.notification_id
    WHERE d.tenant_id = :tenant_id AND d.status IN ('failed', 'bounced')
      AND NOT EXISTS (SELECT 1 FROM deliveries c WHERE c.resent_from_id = d.id)
"""


async def resend_candidates(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: ResendFilter,
) -> list[uuid.UUID]:
    clauses, params = [], {"tenant_id": tenant_id, "limit": filters.limit}
    for column, name, value in (
        ("d.status", "status", filters.status),
        ("d.channel", "channel", filters.channel),
        ("n.event_key", "event_key", filters.event_key),
    ):
        if value:
            clauses.append(f"{column} = :{name}")
            params[name] = value
    if filters.since:
        clauses.append("d.created_at >= :since")
        params["since"] = filters.since
    if filters.until:
        clauses.append("d.created_at < :until")
        params["until"] = filters.until
    where = "".join(f" AND {clause}" for clause in clauses)
    query = text(_CANDIDATES + where + " ORDER BY d.created_at LIMIT :limit")
    return list((await session.scalars(query, params)).all())
