"""A broadcast's status changes and its deferred deliveries (activities/broadcasts.py): each a
few set-based statements over the broadcast's notifications (ix_notifications_broadcast)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcasts import (
    DELIVERY_COLUMNS,
    FINISHED_SQL,
    Member,
    Rows,
    as_json,
    invalid_sql,
    member_of,
    recordset,
)
from db.deliveries import PUSH_DEVICES_SQL, WEBHOOK_CHANNEL_SQL
from db.opt_outs import unsubscribed_sql
from domain.broadcasts import BroadcastStatus
from domain.outcome import SENT_STATUSES
from domain.types import FAILED_DELIVERY_STATUSES, Channel, DeliveryStatus, NotificationStatus


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))


# A finished broadcast never moves; RUNNING fills started_at and total once; a finished status
# sets finished_at.
_SET_STATUS = text(f"""
    WITH asked AS (SELECT CAST(:status AS text) AS status)
    UPDATE broadcasts
    SET status = asked.status,
        started_at = CASE WHEN asked.status = 'running' THEN coalesce(started_at, now())
                          ELSE started_at END,
        total = CASE WHEN asked.status = 'running' THEN coalesce(total, CAST(:total AS int))
                     ELSE total END,
        finished_at = CASE WHEN asked.status IN ({FINISHED_SQL}) THEN now()
                           ELSE finished_at END
    FROM asked
    WHERE id = :broadcast_id AND tenant_id = :tenant_id
      AND broadcasts.status NOT IN ({FINISHED_SQL})
    RETURNING id
""")


async def set_status(
    session: AsyncSession,
    broadcast_id: uuid.UUID,
    tenant_id: uuid.UUID,
    status: BroadcastStatus,
    total: int | None,
) -> bool:
    """False when the broadcast is finished already (or is not there): nothing changed."""
    changed = await session.scalar(
        _SET_STATUS,
        {
            "broadcast_id": broadcast_id,
            "tenant_id": tenant_id,
            "status": status.value,
            "total": total,
        },
    )
    return changed is not None


_OPEN = _sql_list({DeliveryStatus.PENDING, DeliveryStatus.DEFERRED})
_SENT = _sql_list(SENT_STATUSES)
_FAILED_STATUSES = _sql_list(FAILED_DELIVERY_STATUSES)

# The broadcast's open deliveries (but a send under way: its claim holds it, and it records
# what the provider said) cancelled, their notifications settled as overall_status says of a
# cancelled one, and the counter of deferred deliveries given back what was cancelled.
_CANCEL = text(f"""
    WITH open AS (
        SELECT d.id, d.notification_id, d.status
        FROM notifications n JOIN deliveries d ON d.notification_id = n.id
        WHERE n.broadcast_id = :broadcast_id AND d.status IN ({_OPEN})
          AND (d.send_claimed_until IS NULL OR d.send_claimed_until < now())
        FOR UPDATE OF d
    ),
    cancelled AS (
        UPDATE deliveries d SET status = '{DeliveryStatus.CANCELLED.value}', deferred_until = NULL,
            updated_at = now()
        FROM open WHERE d.id = open.id
        RETURNING d.id, open.notification_id, open.status AS was
    ),
    settled AS (
        UPDATE notifications n
        SET status = CASE
                WHEN sent AND failed THEN '{NotificationStatus.PARTIALLY_FAILED.value}'
                WHEN failed THEN '{NotificationStatus.FAILED.value}'
                WHEN sent THEN '{NotificationStatus.SENT.value}'
                ELSE '{NotificationStatus.CANCELLED.value}' END,
            updated_at = now()
        FROM (
            -- The deliveries as they were before this statement: a cancelled one was open.
            SELECT x.notification_id,
                   bool_or(x.status IN ({_SENT})) AS sent,
                   bool_or(x.status IN ({_FAILED_STATUSES})) AS failed,
                   bool_or(x.status IN ({_OPEN})
                           AND x.id NOT IN (SELECT id FROM cancelled)) AS still_open
            FROM deliveries x
            WHERE x.notification_id IN (SELECT notification_id FROM cancelled)
            GROUP BY x.notification_id
        ) s
        WHERE n.id = s.notification_id AND NOT s.still_open
    )
    UPDATE broadcasts SET deferred = greatest(deferred - (
        SELECT count(*) FROM cancelled WHERE was = '{DeliveryStatus.DEFERRED.value}'), 0)
    WHERE id = :broadcast_id
""")


async def cancel_open_deliveries(session: AsyncSession, broadcast_id: uuid.UUID) -> None:
    await session.execute(_CANCEL, {"broadcast_id": broadcast_id})


@dataclass(frozen=True)
class DueNotification:
    """A notification of the broadcast with deliveries deferred until now or before."""

    notification_id: uuid.UUID
    member: Member
    due: dict[Channel, uuid.UUID]  # channel -> its deferred delivery's id
    others: list[str]  # the statuses of its other deliveries


_EMAIL, _PHONE = "coalesce(n.recipient_email, r.email)", "coalesce(n.recipient_phone, r.phone)"
# Due deliveries, by recipient, locked (SKIP LOCKED: a send or another release holding one is
# left for the next round), with what the policy reads, as a page reads it.
_DUE = text(f"""
    WITH due AS (
        SELECT d.id, d.notification_id, d.channel
        FROM notifications n JOIN deliveries d ON d.notification_id = n.id
        WHERE n.broadcast_id = :broadcast_id AND d.status = '{DeliveryStatus.DEFERRED.value}'
          AND d.deferred_until <= :now
        ORDER BY n.recipient_id, d.id
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    SELECT n.id AS notification_id, true AS written, r.id, r.external_id, r.name, {_EMAIL} AS email,
           {_PHONE} AS phone, r.timezone, r.locale, r.preference_overrides, r.chat_addresses,
           {PUSH_DEVICES_SQL} AS push_devices, {WEBHOOK_CHANNEL_SQL} AS webhook_channel,
           {invalid_sql("email", _EMAIL)} AS email_invalid,
           {invalid_sql("sms", _PHONE)} AS sms_invalid,
           {unsubscribed_sql("email", _EMAIL)} AS email_unsubscribed,
           {unsubscribed_sql("sms", _PHONE)} AS sms_unsubscribed,
           array_agg(due.channel ORDER BY due.channel) AS due_channels,
           array_agg(due.id ORDER BY due.channel) AS due_ids,
           ARRAY(SELECT o.status FROM deliveries o WHERE o.notification_id = n.id
                 AND o.id <> ALL(array_agg(due.id))) AS others
    FROM due
    JOIN notifications n ON n.id = due.notification_id
    JOIN recipients r ON r.id = n.recipient_id
    GROUP BY n.id, r.id
    ORDER BY r.id
""")


async def due_notifications(
    session: AsyncSession, broadcast_id: uuid.UUID, now: datetime, limit: int
) -> list[DueNotification]:
    rows = await session.execute(_DUE, {"broadcast_id": broadcast_id, "now": now, "limit": limit})
    return [
        DueNotification(
            row.notification_id,
            member_of(row),
            {Channel(c): i for c, i in zip(row.due_channels, row.due_ids, strict=True)},
            list(row.others),
        )
        for row in rows
    ]


# What deciding a deferred delivery again may change.
REPLAN_COLUMNS = {
    name: DELIVERY_COLUMNS[name]
    for name in (
        "id",
        "status",
        "status_reason",
        "deferred_until",
        "subject",
        "template_version_id",
        "error",
    )
}
# The released deliveries as decided again (only while still deferred), and their
# notifications' statuses.
_REPLAN = text(f"""
    WITH replanned AS (
        UPDATE deliveries d
        SET status = u.status, status_reason = u.status_reason, deferred_until = u.deferred_until,
            provider = CASE WHEN u.status = '{DeliveryStatus.DELIVERED.value}' THEN 'database'
                            ELSE d.provider END,
            subject = coalesce(u.subject, d.subject),
            template_version_id = coalesce(u.template_version_id, d.template_version_id),
            error = u.error,
            sent_at = CASE WHEN u.status = '{DeliveryStatus.DELIVERED.value}' THEN now() END,
            delivered_at = CASE WHEN u.status = '{DeliveryStatus.DELIVERED.value}' THEN now() END,
            failed_at = CASE WHEN u.status = '{DeliveryStatus.FAILED.value}' THEN now() END,
            updated_at = now()
        FROM {recordset("u", REPLAN_COLUMNS)}
        WHERE d.id = u.id AND d.status = '{DeliveryStatus.DEFERRED.value}'
        RETURNING d.id
    )
    UPDATE notifications n SET status = s.status, updated_at = now()
    FROM {recordset("s", {"id": "uuid", "status": "text"})}
    WHERE n.id = s.id
""")


async def replan_deliveries(
    session: AsyncSession, deliveries: Rows, notification_statuses: dict[uuid.UUID, str]
) -> None:
    """`deliveries`: REPLAN_COLUMNS of each delivery decided again."""
    statuses = [{"id": n, "status": status} for n, status in notification_statuses.items()]
    await session.execute(_REPLAN, {"u": as_json(deliveries), "s": as_json(statuses)})


_NEXT_DEFERRAL = text(f"""
    SELECT min(d.deferred_until)
    FROM notifications n JOIN deliveries d ON d.notification_id = n.id
    WHERE n.broadcast_id = :broadcast_id AND d.status = '{DeliveryStatus.DEFERRED.value}'
""")


async def next_deferral(session: AsyncSession, broadcast_id: uuid.UUID) -> datetime | None:
    return await session.scalar(_NEXT_DEFERRAL, {"broadcast_id": broadcast_id})
