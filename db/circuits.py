"""Provider circuit states as the workers last recorded them, for health to show."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_RECORD = text("""
    INSERT INTO provider_circuits (provider, state, opened_at, updated_at)
    VALUES (:provider, :state, :opened_at, now())
    ON CONFLICT (provider) DO UPDATE
    SET state = excluded.state, opened_at = excluded.opened_at, updated_at = now()
""")


async def record_circuit(
    session: AsyncSession, provider: str, state: str, opened_at: datetime | None
) -> None:
    await session.execute(_RECORD, {"provider": provider, "state": state, "opened_at": opened_at})
