"""Who changed what: every change made from the dashboard calls `record` in the transaction that
makes the change, so the entry exists exactly when the change does."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from domain.operators import Operator
from services.pages import decode_cursor, page


async def record(
    session: AsyncSession,
    operator: Operator,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Note that `operator` did `action` (a dotted verb: `template.update`, `operator.invite`)
    to `target` (what it names: `template 3f2a...`, `ada@example.com`), with `details` (JSON:
    what changed). Call it inside the change's transaction."""
    await audit.insert_entry(
        session, operator.tenant_id, operator.id, operator.email, action, target, details or {}
    )


@dataclass(frozen=True)
class AuditEntryView:
    at: datetime
    operator_email: str
    action: str
    target: str
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntryView]
    next_cursor: str | None


async def audit_page(
    session: AsyncSession, operator: Operator, cursor: str | None, limit: int = 50
) -> AuditPage:
    """A page of the operator's tenant's audit log, newest first."""
    after = decode_cursor(cursor, datetime, int)
    rows = await audit.entries(
        session, operator.tenant_id, (after[0], after[1]) if after else None, limit + 1
    )
    kept, next_cursor = page(rows, limit, lambda row: (row.at, row.id))
    views = [
        AuditEntryView(row.at, row.operator_email, row.action, row.target, row.details)
        for row in kept
    ]
    return AuditPage(views, next_cursor)
