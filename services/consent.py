"""Consent history: every opt-in and opt-out of a recipient, recorded with its source in the
transaction of the change (record_consent, called by each place consent changes: the
preferences use cases for the API, the inbox and the dashboard; the unsubscribe link; a
provider's spam report or unsubscribe), and listed newest first."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.consent import ConsentEventPublic, ConsentPage
from db import consent as store
from domain.consent import ConsentChange, ConsentSource
from domain.tenants import TenantIdentity
from services.pages import decode_cursor, page
from services.recipients import find_recipient


async def record_consent(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    changes: Sequence[ConsentChange],
    source: ConsentSource,
    details: dict[str, Any] | None = None,
) -> None:
    """Record the changes in the caller's transaction, so they are kept exactly when the
    change itself is. Nothing is written for no change, nor for a recipient that is gone."""
    await store.insert_consent_events(
        session, tenant_id, recipient_id, changes, str(source), details or {}
    )


async def list_consents(
    session: AsyncSession, tenant: TenantIdentity, external_id: str, cursor: str | None, limit: int
) -> ConsentPage:
    """The recipient's consent events, newest first."""
    after = decode_cursor(cursor, datetime, int)
    recipient = await find_recipient(session, tenant, external_id)
    rows = await store.consent_events(session, tenant.id, recipient.id, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda row: (row.at, row.id))
    return ConsentPage(
        data=[ConsentEventPublic.model_validate(row, from_attributes=True) for row in shown],
        next_cursor=next_cursor,
    )
