"""Recipients' consent history (consent_events): written in the transaction of the change it
records, read newest first."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.integration_models import ConsentEvent
from db.models import Recipient
from domain.consent import ConsentChange


@dataclass(frozen=True)
class ConsentRow:
    id: int
    action: str
    channel: str | None
    scope: str | None
    source: str
    details: dict[str, Any]
    at: datetime


async def insert_consent_events(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    changes: Sequence[ConsentChange],
    source: str,
    details: dict[str, Any],
) -> None:
    """One row per change, for the recipient if it is the tenant's and still exists (an
    unsubscribe for a recipient deleted since records nothing, as it changes nothing)."""
    if not changes:
        return
    rows = union_all(
        *(
            select(
                Recipient.tenant_id,
                Recipient.id,
                literal(str(change.action)),
                literal(change.channel, ConsentEvent.channel.type),
                literal(change.scope, ConsentEvent.scope.type),
                literal(source),
                literal(details, ConsentEvent.details.type),
            ).where(Recipient.id == recipient_id, Recipient.tenant_id == tenant_id)
            for change in changes
        )
    )
    columns = ["tenant_id", "recipient_id", "action", "channel", "scope", "source", "details"]
    await session.execute(insert(ConsentEvent).from_select(columns, rows))


async def consent_events(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[ConsentRow]:
    """The recipient's consent events newest first (the events of one transaction share its
    time: then the later written first), after the position `after`."""
    query = select(
        ConsentEvent.id,
        ConsentEvent.action,
        ConsentEvent.channel,
        ConsentEvent.scope,
        ConsentEvent.source,
        ConsentEvent.details,
        ConsentEvent.at,
    ).where(ConsentEvent.tenant_id == tenant_id, ConsentEvent.recipient_id == recipient_id)
    if after is not None:
        query = query.where(tuple_(ConsentEvent.at, ConsentEvent.id) < after)
    rows = await session.execute(
        query.order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc()).limit(limit)
    )
    return [ConsentRow(**row._asdict()) for row in rows]
