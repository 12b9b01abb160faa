"""What the dashboard's Recipients page reads: a search over a tenant's recipients and one
recipient's latest notifications with their deliveries. Both are bounded whatever the tables
hold: the search examines at most `scan` recipients, the activity at most `limit`
notifications of the one recipient.

Recipients have one index, the unique (tenant_id, external_id): an exact external id is found
through it alone; a search by part of a name, email address or phone number walks the tenant's
recipients in that index's order, so it is complete for tenants with up to `scan` recipients
and says so when it is not (an index on those columns needs a migration)."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PHONE_LIKE = re.compile(r"^[\d\s+().-]*\d{3}[\d\s+().-]*$")


@dataclass(frozen=True)
class RecipientMatch:
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    timezone: str


@dataclass(frozen=True)
class RecipientMatches:
    matches: list[RecipientMatch]
    more: bool  # more matched than were returned
    partial: bool  # the tenant has more recipients than the search examines


# The exact external id first (the unique index), then the matches among the first :scan
# recipients in external id order (the same index, read in order: the LIMIT stops the walk).
_SEARCH = text(r"""
    SELECT external_id, name, email, phone, timezone FROM (
        SELECT external_id, name, email, phone, timezone, 0 AS rank
        FROM recipients WHERE tenant_id = :tenant_id AND external_id = :query
        UNION ALL
        SELECT external_id, name, email, phone, timezone, 1 AS rank FROM (
            SELECT external_id, name, email, phone, timezone FROM recipients
            WHERE tenant_id = :tenant_id ORDER BY external_id LIMIT :scan
        ) scanned
        WHERE external_id <> :query
          AND (external_id ILIKE :pattern ESCAPE '\'
               OR name ILIKE :pattern ESCAPE '\'
               OR email ILIKE :pattern ESCAPE '\'
               OR (:digits <> '' AND phone LIKE :digit_pattern))
    ) found
    ORDER BY rank, external_id
    LIMIT :limit
""")

_MORE_THAN_SCANNED = text("""
    SELECT count(*) > :scan FROM (
        SELECT 1 FROM recipients WHERE tenant_id = :tenant_id LIMIT :scan + 1
    ) first
""")


async def search_recipients(
    session: AsyncSession, tenant_id: uuid.UUID, query: str, limit: int, scan: int
) -> RecipientMatches:
    """Recipients whose external id is `query`, or whose external id, name or email contains
    it (any case), or whose phone number contains its digits (3 or more)."""
    # A phone number as people type one (+1 415 555-0123): its digits, matched in the stored
    # E.164 form. A name or an address with digits in it is not one.
    digits = re.sub(r"\D", "", query) if PHONE_LIKE.match(query) else ""
    rows = await session.execute(
        _SEARCH,
        {
            "tenant_id": tenant_id,
            "query": query,
            "pattern": f"%{_escape_like(query)}%",
            "digits": digits,
            "digit_pattern": f"%{digits}%",
            "scan": scan,
            "limit": limit + 1,
        },
    )
    matches = [RecipientMatch(**row._mapping) for row in rows]
    partial = bool(await session.scalar(_MORE_THAN_SCANNED, {"tenant_id": tenant_id, "scan": scan}))
    return RecipientMatches(matches[:limit], more=len(matches) > limit, partial=partial)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class DeliveryLine:
    id: uuid.UUID
    channel: str
    provider: str | None
    address: str | None
    status: str
    status_reason: str | None
    error: str | None
    deferred_until: datetime | None
    sent_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class NotificationLine:
    """A notification to the recipient and its deliveries (none yet while it waits to plan)."""

    id: uuid.UUID
    event_key: str
    status: str
    status_reason: str | None
    send_at: datetime | None
    created_at: datetime
    deliveries: list[DeliveryLine] = field(default_factory=list)


# The recipient's newest notifications (ix_notifications_recipient_status leads with the
# recipient), then each one's deliveries (ix_deliveries_notification).
_ACTIVITY = text("""
    SELECT n.id AS n_id, n.event_key, n.status AS n_status, n.status_reason AS n_status_reason,
           n.send_at, n.created_at AS n_created_at,
           d.id, d.channel, d.provider, d.address, d.status, d.status_reason, d.error,
           d.deferred_until, d.sent_at, d.created_at
    FROM (
        SELECT id, event_key, status, status_reason, send_at, created_at FROM notifications
        WHERE tenant_id = :tenant_id AND recipient_id = :recipient_id
        ORDER BY created_at DESC, id DESC
        LIMIT :limit
    ) n
    LEFT JOIN deliveries d ON d.notification_id = n.id
    ORDER BY n.created_at DESC, n.id DESC, d.created_at, d.id
""")


async def recent_notifications(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID, limit: int
) -> list[NotificationLine]:
    """The recipient's `limit` newest notifications, newest first, each with its deliveries."""
    rows = await session.execute(
        _ACTIVITY, {"tenant_id": tenant_id, "recipient_id": recipient_id, "limit": limit}
    )
    lines: dict[uuid.UUID, NotificationLine] = {}
    for row in rows:
        values = row._mapping
        line = lines.get(values["n_id"])
        if line is None:
            line = lines[values["n_id"]] = NotificationLine(
                id=values["n_id"],
                event_key=values["event_key"],
                status=values["n_status"],
                status_reason=values["n_status_reason"],
                send_at=values["send_at"],
                created_at=values["n_created_at"],
            )
        if values["id"] is not None:
            line.deliveries.append(
                DeliveryLine(**{name: values[name] for name in DeliveryLine.__dataclass_fields__})
            )
    return list(lines.values())
