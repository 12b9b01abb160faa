"""The dashboard's History: a tenant's deliveries, filtered, newest first, a page at a time; one
delivery with everything Herald recorded about it; the failed ones a filter matches, to resend.

Every list is bounded so its cost does not grow with the table (bench/history_query.py has the
plans and timings at a million deliveries): it walks ix_deliveries_tenant_created within the
filter's time range from the page's position. A filter narrowed by recipients or ids is driven
by their indexes instead. Any other narrowing looks through at most `scan_limit` deliveries per
page (a fence the planner cannot see past, so a rare value never turns into a scan of the whole
table); the page then says how far back it looked, and the next page looks further back."""

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, InAppMessage, Notification, Recipient
from domain.filters import HistoryFilter

Position = tuple[datetime, uuid.UUID]  # (created_at, id): a delivery's place in the list


@dataclass(frozen=True)
class HistoryRow:
    id: uuid.UUID
    notification_id: uuid.UUID
    channel: str
    provider: str | None
    address: str | None
    status: str
    status_reason: str | None
    error: str | None
    subject: str | None
    deferred_until: datetime | None
    resent_from_id: uuid.UUID | None
    created_at: datetime
    event_key: str
    recipient: str  # the recipient's external id


@dataclass(frozen=True)
class HistoryRows:
    rows: list[HistoryRow]
    # Set when the page looked through `scan_limit` deliveries without filling up: the last
    # position it looked at (the next page looks before it).
    scanned_to: Position | None = None


_ROW_COLUMNS = ", ".join(
    {
        "recipient": "r.external_id AS recipient",
        "event_key": "n.event_key",
    }.get(f.name, f"d.{f.name}")
    for f in fields(HistoryRow)
)
_JOINS = """JOIN notifications n ON n.id = d.notification_id
    JOIN recipients r ON r.id = n.recipient_id"""
_NEWEST_FIRST = "ORDER BY d.created_at DESC, d.id DESC"
# The tenant's deliveries in the range, from the page's position: ix_deliveries_tenant_created.
_IN_RANGE = "d.tenant_id = :tenant_id AND d.created_at >= :since AND d.created_at < :until"
_BEFORE = "(d.created_at, d.id) < (:after_created, :after_id)"


def _narrowing(
    filters: HistoryFilter, on: str = "d", joined: bool = True
) -> tuple[list[str], dict[str, Any]]:
    """The filter's conditions beyond the time range, on the deliveries `on`, and their
    parameters. Not `joined` to their notifications, a notification's event key and recipient
    are looked up delivery by delivery: a join could be planned as a scan of every one."""
    clauses, params = [], {}
    for name in ("status", "channel", "provider"):
        value = getattr(filters, name)
        if value is not None:
            clauses.append(f"{on}.{name} = :{name}")
            params[name] = value

    def notifications(column: str) -> str:
        if joined:
            return f"n.{column}"
        return f"(SELECT n.{column} FROM notifications n WHERE n.id = {on}.notification_id)"

    if filters.event_key is not None:
        clauses.append(f"{notifications('event_key')} = :event_key")
        params["event_key"] = filters.event_key
    if filters.recipient_ids is not None:
        clauses.append(f"{notifications('recipient_id')} = ANY(:recipient_ids)")
        params["recipient_ids"] = list(filters.recipient_ids)
    if filters.ids is not None:
        clauses.append(f"({on}.id = ANY(:ids) OR {on}.notification_id = ANY(:ids))")
        params["ids"] = list(filters.ids)
    return clauses, params


def _range(
    tenant_id: uuid.UUID, filters: HistoryFilter, after: Position | None
) -> tuple[str, dict[str, Any]]:
    where = _IN_RANGE + (f" AND {_BEFORE}" if after else "")
    params: dict[str, Any] = {
        "tenant_id": tenant_id,
        "since": filters.since,
        "until": filters.until,
    }
    if after:
        params |= {"after_created": after[0], "after_id": after[1]}
    return where, params


_FAILED = ("failed", "bounced")


def _served_by_an_index(filters: HistoryFilter) -> bool:
    """Whether an index leads straight to what the filter matches: recipients' notifications,
    ids, or failed and bounced deliveries (ix_deliveries_failed) without an event key to join
    for. The time range alone needs none: the first page's worth of it is what is shown."""
    if filters.recipient_ids is not None or filters.ids is not None:
        return True
    if filters.status in _FAILED and filters.event_key is None:
        return True
    return not any(
        getattr(filters, name) for name in ("status", "channel", "provider", "event_key")
    )


# A filter no index serves: the window of the range's next `scan_limit` deliveries is read
# first (MATERIALIZED: the planner cannot trade it for a scan of a whole table, whatever it
# guesses of the filter's values), filtered, and only the page's rows joined for their columns.
_WINDOWED = """
    WITH s AS MATERIALIZED (
        SELECT d.id, d.created_at, d.status, d.channel, d.provider, d.notification_id
        FROM deliveries d WHERE {in_range} {newest_first} LIMIT :scan_limit
    ), matched AS MATERIALIZED (
        SELECT s.id FROM s WHERE {where} ORDER BY s.created_at DESC, s.id DESC LIMIT :limit
    )
    SELECT {columns} FROM matched JOIN deliveries d ON d.id = matched.id {joins} {newest_first}
"""


async def history_rows(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: HistoryFilter,
    after: Position | None,
    limit: int,
    scan_limit: int,
) -> HistoryRows:
    """Up to `limit` deliveries matching `filters`, newest first, after the position `after`."""
    if filters.recipient_ids == () or filters.ids == ():
        return HistoryRows([])  # the search named no one
    in_range, params = _range(tenant_id, filters, after)
    params["limit"] = limit
    if _served_by_an_index(filters):
        clauses, narrowing = _narrowing(filters)
        where = "".join(f" AND {clause}" for clause in clauses)
        statement = f"""SELECT {_ROW_COLUMNS} FROM deliveries d {_JOINS}
            WHERE {in_range}{where} {_NEWEST_FIRST} LIMIT :limit"""
        found = await session.execute(text(statement), params | narrowing)
        return HistoryRows([HistoryRow(**row._mapping) for row in found])
    clauses, narrowing = _narrowing(filters, on="s", joined=False)
    statement = _WINDOWED.format(
        in_range=in_range,
        newest_first=_NEWEST_FIRST,
        where=" AND ".join(clauses),
        columns=_ROW_COLUMNS,
        joins=_JOINS,
    )
    found = await session.execute(text(statement), params | narrowing | {"scan_limit": scan_limit})
    rows = [HistoryRow(**row._mapping) for row in found]
    if len(rows) == limit:
        return HistoryRows(rows)
    window_end = f"""SELECT d.created_at, d.id FROM deliveries d WHERE {in_range}
        {_NEWEST_FIRST} OFFSET :last LIMIT 1"""
    end = (await session.execute(text(window_end), params | {"last": scan_limit - 1})).first()
    return HistoryRows(rows, (end.created_at, end.id) if end else None)


async def ids_by_provider_message(
    session: AsyncSession, tenant_id: uuid.UUID, providers: tuple[str, ...], message_id: str
) -> list[uuid.UUID]:
    """The tenant's deliveries a provider gave this message id (ix_deliveries_provider_message,
    one probe per provider)."""
    found = await session.scalars(
        select(Delivery.id)
        .where(
            Delivery.provider.in_(providers),
            Delivery.provider_message_id == message_id,
            Delivery.tenant_id == tenant_id,
        )
        .limit(50)
    )
    return list(found.all())


# Not resent yet: ix_deliveries_resent_from (migration 0018) finds a resend of a delivery.
_NOT_RESENT = "NOT EXISTS (SELECT 1 FROM deliveries c WHERE c.resent_from_id = d.id)"


async def resendable_ids(
    session: AsyncSession, tenant_id: uuid.UUID, filters: HistoryFilter, limit: int
) -> list[uuid.UUID]:
    """The failed or bounced deliveries `filters` matches that were not resent, newest first,
    at most `limit`: what "resend every failed delivery shown" resends."""
    if filters.recipient_ids == () or filters.ids == ():
        return []
    if filters.status is not None and filters.status not in ("failed", "bounced"):
        return []
    in_range, params = _range(tenant_id, filters, None)
    clauses, narrowing = _narrowing(filters, joined=False)
    where = "".join(f" AND {clause}" for clause in clauses)
    # ix_deliveries_failed, newest first: the failures of the range, however many others.
    statement = f"""SELECT d.id FROM deliveries d
        WHERE {in_range}{where} AND d.status IN ('failed', 'bounced') AND {_NOT_RESENT}
        {_NEWEST_FIRST} LIMIT :limit"""
    found = await session.scalars(text(statement), params | narrowing | {"limit": limit})
    return list(found.all())


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery with its notification, recipient and in-app message (if any)."""

    delivery: Delivery
    notification: Notification
    recipient: Recipient
    in_app: InAppMessage | None
    resent_as: list[tuple[uuid.UUID, datetime, str]]  # later chains made from this one: id, at
    siblings: list[Delivery]  # the notification's deliveries (this one included), oldest first


async def delivery_record(
    session: AsyncSession, tenant_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRecord | None:
    """The tenant's delivery `delivery_id` (None: no such delivery of this tenant)."""
    found = (
        await session.execute(
            select(Delivery, Notification, Recipient, InAppMessage)
            .join(Notification, Notification.id == Delivery.notification_id)
            .join(Recipient, Recipient.id == Notification.recipient_id)
            .outerjoin(InAppMessage, InAppMessage.id == Delivery.id)
            .where(Delivery.id == delivery_id, Delivery.tenant_id == tenant_id)
        )
    ).first()
    if found is None:
        return None
    delivery, notification, recipient, in_app = found
    resent_as = await session.execute(
        select(Delivery.id, Delivery.created_at, Delivery.status)
        .where(Delivery.resent_from_id == delivery_id)
        .order_by(Delivery.created_at)
    )
    siblings = await session.scalars(
        select(Delivery)
        .where(Delivery.notification_id == notification.id)
        .order_by(Delivery.created_at, Delivery.channel)
    )
    return DeliveryRecord(
        delivery,
        notification,
        recipient,
        in_app,
        [(row.id, row.created_at, row.status) for row in resent_as],
        list(siblings.all()),
    )
