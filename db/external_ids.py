"""Recipients named in bulk by the tenant's own ids (topics' subscribers, a broadcast's listed
audience): which of the names are unknown, checked in one statement before anything is written."""

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The ids given, in the order given, that no recipient of the tenant has.
_UNKNOWN = text("""
    SELECT given.external_id
    FROM unnest(CAST(:external_ids AS text[])) WITH ORDINALITY AS given(external_id, position)
    WHERE NOT EXISTS (
        SELECT 1 FROM recipients r
        WHERE r.tenant_id = :tenant_id AND r.external_id = given.external_id
    )
    ORDER BY given.position
    LIMIT :first
""")


async def unknown_external_ids(
    session: AsyncSession, tenant_id: uuid.UUID, external_ids: Sequence[str], first: int
) -> list[str]:
    """The first `first` of `external_ids` that name no recipient of the tenant, in their
    order (an empty list: every one is known)."""
    rows = await session.scalars(
        _UNKNOWN, {"tenant_id": tenant_id, "external_ids": list(external_ids), "first": first}
    )
    return list(rows)
