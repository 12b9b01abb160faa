"""Erasing a recipient (services/erasure.py): everything Herald holds about the person found
(`footprint`), then removed in one transaction (`scrub`), keeping the rows that statistics
count (the recipient, its notifications and deliveries) as anonymous rows, and the record of
the erasure (`record_erasure`).

What names the person: the recipient row; their notifications and deliveries (addresses,
rendered subjects, errors, providers' answers, context); in-app messages and inbox events;
devices, topic subscriptions, consent details; the bookings they are the invitee or organizer
of, with the booking notices and daily agendas of the other party that name them; the
suppression list and invalid addresses holding their addresses; status webhook messages about
their deliveries; audit entries naming them; templates of theirs as an organizer."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.integration_models import Erasure
from domain.types import UNFINISHED_NOTIFICATION_STATUSES, DeliveryStatus, NotificationStatus

ERASED_PREFIX = "erased:"
_UNFINISHED = ", ".join(f"'{status}'" for status in sorted(UNFINISHED_NOTIFICATION_STATUSES))


def erased_external_id(recipient_id: uuid.UUID) -> str:
    """What an erased recipient's external id becomes: its own id, naming no one."""
    return f"{ERASED_PREFIX}{recipient_id}"


@dataclass(frozen=True)
class ErasedNotification:
    id: uuid.UUID
    workflow_id: str
    unfinished: bool
    in_broadcast: bool  # its workflow is the broadcast's, which is kept


@dataclass(frozen=True)
class Footprint:
    """What names one recipient, as ids and addresses (normalised: trimmed, lower case)."""

    recipient_id: uuid.UUID
    tenant_id: uuid.UUID
    external_id: str
    emails: list[str]
    phones: list[str]
    booking_ids: list[str]  # bookings they are the invitee or organizer of
    booking_workflow_ids: list[str]  # of those the bookings table holds
    organizers: list[str]  # those bookings' organizers (their agendas listed them)
    bookings_since: datetime | None  # the first of those bookings' creation
    notifications: list[ErasedNotification]
    snoozed_messages: list[uuid.UUID]
    webhook_messages: list[uuid.UUID]  # status webhook messages about their deliveries

    def needles(self) -> list[str]:
        """Strings that name the person inside free text (lower case)."""
        return sorted({self.external_id.lower(), *self.address_needles()})

    def address_needles(self) -> list[str]:
        digits = [phone.removeprefix("+") for phone in self.phones]
        return sorted({*self.emails, *self.phones, *digits})

    def notification_ids(self) -> list[uuid.UUID]:
        return [n.id for n in self.notifications]


_PERSON = """
    SELECT id, external_id FROM recipients
    WHERE tenant_id = :tenant_id AND external_id = :external_id
      AND external_id <> 'erased:' || id::text
"""

# Every address Herald holds or sent to for the person, by channel.
_ADDRESSES = text("""
    SELECT DISTINCT channel, lower(btrim(address)) AS address FROM (
        SELECT 'email' AS channel, email AS address FROM recipients WHERE id = :r
        UNION ALL SELECT 'sms', phone FROM recipients WHERE id = :r
        UNION ALL SELECT 'email', recipient_email FROM notifications WHERE recipient_id = :r
        UNION ALL SELECT 'sms', recipient_phone FROM notifications WHERE recipient_id = :r
        UNION ALL SELECT d.channel, d.address
            FROM notifications n JOIN deliveries d ON d.notification_id = n.id
            WHERE n.recipient_id = :r AND d.channel IN ('email', 'sms')
        UNION ALL SELECT channel, address FROM address_suppressions
            WHERE tenant_id = :t AND recipient_id = :r
    ) held
    WHERE address IS NOT NULL AND btrim(address) <> ''
""")

# The bookings naming the person: by the bookings table (organizer id, invitee's address) and
# by the booking notices they received (a booking the retention purge has dropped included).
_BOOKINGS = text("""
    WITH noticed AS (
        SELECT n.context->>'booking_id' AS id, min(n.created_at) AS since,
               min(n.context->>'owner_id') AS organizer
        FROM notifications n
        WHERE n.recipient_id = :r AND n.event_key LIKE 'booking.%'
          AND n.context->>'booking_id' IS NOT NULL
        GROUP BY 1
    ),
    stored AS (
        SELECT b.id, b.workflow_id, b.created_at AS since, b.organizer_id AS organizer
        FROM bookings b
        WHERE b.tenant_id = :t AND (
            b.organizer_id = :external_id
            OR lower(btrim(b.invitee_email)) = ANY(CAST(:emails AS text[]))
            OR b.payload->'invitee'->>'phone' = ANY(CAST(:phones AS text[]))
            OR b.id IN (SELECT id FROM noticed))
    )
    SELECT id, workflow_id, since, organizer FROM stored
    UNION ALL
    SELECT id, NULL, since, organizer FROM noticed WHERE id NOT IN (SELECT id FROM stored)
""")

_MINE = f"""
    SELECT id, workflow_id, status IN ({_UNFINISHED}) AS unfinished,
           broadcast_id IS NOT NULL AS in_broadcast
    FROM notifications
"""
_NOTIFICATIONS = text(f"{_MINE} WHERE recipient_id = :r")
# The other party's notices of those bookings, and organizers' daily agendas listing them.
_BOOKING_NOTIFICATIONS = text(f"""
    {_MINE}
    WHERE tenant_id = :t AND created_at >= :since AND recipient_id <> :r AND (
        context->>'booking_id' = ANY(CAST(:booking_ids AS text[]))
        OR (jsonb_typeof(context->'bookings') = 'array' AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(context->'bookings') listed
            WHERE listed->>'booking_id' = ANY(CAST(:booking_ids AS text[])))))
""")

_SNOOZED = text("""
    SELECT m.id FROM in_app_messages m
    WHERE m.snoozed_until IS NOT NULL AND (m.recipient_id = :r OR m.id IN (
        SELECT d.id FROM deliveries d
        WHERE d.notification_id = ANY(CAST(:ids AS uuid[])) AND d.channel = 'in_app'))
""")

# The notifications' and their deliveries' ids: what status webhook messages are about.
_SUBJECTS = """
    SELECT unnest(CAST(:ids AS uuid[]))
    UNION ALL SELECT d.id FROM deliveries d WHERE d.notification_id = ANY(CAST(:ids AS uuid[]))
"""
_WEBHOOK_MESSAGES_ABOUT = text(f"""
    SELECT id FROM webhook_messages
    WHERE tenant_id = :t AND subject_id IN ({_SUBJECTS})
""")


async def footprint(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, *, lock: bool = False
) -> Footprint | None:
    """None when the tenant has no such recipient (an erased one is none). With `lock`, the
    recipient's row stays locked until the transaction ends: one erasure at a time."""
    person_query = text(_PERSON + (" FOR UPDATE" if lock else ""))
    person = (
        await session.execute(person_query, {"tenant_id": tenant_id, "external_id": external_id})
    ).one_or_none()
    if person is None:
        return None
    r, t = person.id, tenant_id
    addresses = (await session.execute(_ADDRESSES, {"r": r, "t": t})).all()
    emails = sorted(a.address for a in addresses if a.channel == "email")
    phones = sorted(a.address for a in addresses if a.channel == "sms")
    bookings = (
        await session.execute(
            _BOOKINGS,
            {"r": r, "t": t, "external_id": external_id, "emails": emails, "phones": phones},
        )
    ).all()
    notifications = list((await session.execute(_NOTIFICATIONS, {"r": r})).all())
    booking_ids = sorted({b.id for b in bookings})
    since = min((b.since for b in bookings), default=None)
    if booking_ids:
        theirs = {"r": r, "t": t, "since": since, "booking_ids": booking_ids}
        notifications += (await session.execute(_BOOKING_NOTIFICATIONS, theirs)).all()
    ids = [n.id for n in notifications]
    snoozed = (await session.scalars(_SNOOZED, {"r": r, "ids": ids})).all()
    webhooks = (await session.scalars(_WEBHOOK_MESSAGES_ABOUT, {"t": t, "ids": ids})).all()
    return Footprint(
        recipient_id=r,
        tenant_id=t,
        external_id=person.external_id,
        emails=emails,
        phones=phones,
        booking_ids=booking_ids,
        booking_workflow_ids=sorted({b.workflow_id for b in bookings if b.workflow_id}),
        organizers=sorted({b.organizer for b in bookings if b.organizer}),
        bookings_since=since,
        notifications=[
            ErasedNotification(n.id, n.workflow_id, n.unfinished, n.in_broadcast)
            for n in notifications
        ],
        snoozed_messages=list(snoozed),
        webhook_messages=list(webhooks),
    )


def _mentions(column: str, needles: str = "needles") -> str:
    """SQL: whether the text `column` contains one of the (lower-case) strings `:needles`."""
    return f"""({column} IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(CAST(:{needles} AS text[])) AS needle
        WHERE strpos(lower({column}), needle) > 0))"""


def _erased(column: str) -> str:
    """SQL: the column, or `erased:<row id>` where it names the person (an idempotency key or
    workflow id the caller built from an address or their external id)."""
    return f"CASE WHEN {_mentions(column)} THEN 'erased:' || id::text ELSE {column} END"


# Work still open (Temporal has ended the workflows; a broadcast's is not told): its open
# deliveries cancelled, the notification too, and the broadcast's count of deferred ones.
_PENDING, _DEFERRED = DeliveryStatus.PENDING.value, DeliveryStatus.DEFERRED.value
_CANCELLED = NotificationStatus.CANCELLED.value  # a delivery's word too
_CANCEL_OPEN = text(f"""
    WITH open AS (
        SELECT d.id, d.notification_id, d.status FROM deliveries d
        WHERE d.notification_id = ANY(CAST(:ids AS uuid[]))
          AND d.status IN ('{_PENDING}', '{_DEFERRED}')
        FOR UPDATE
    ),
    cancelled AS (
        UPDATE deliveries d SET status = '{_CANCELLED}', deferred_until = NULL, updated_at = now()
        FROM open WHERE d.id = open.id
        RETURNING open.notification_id, open.status AS was
    ),
    given_back AS (
        UPDATE broadcasts b SET deferred = greatest(b.deferred - x.count, 0)
        FROM (SELECT n.broadcast_id, count(*) AS count
              FROM cancelled c JOIN notifications n ON n.id = c.notification_id
              WHERE c.was = '{_DEFERRED}' AND n.broadcast_id IS NOT NULL
              GROUP BY n.broadcast_id) x
        WHERE b.id = x.broadcast_id
    ),
    settled AS (
        UPDATE notifications SET status = '{_CANCELLED}', updated_at = now()
        WHERE id = ANY(CAST(:ids AS uuid[])) AND status IN ({_UNFINISHED})
        RETURNING id
    )
    SELECT count(*) FROM settled
""")

_SCRUB_DELIVERIES = text(f"""
    UPDATE deliveries SET address = NULL, subject = NULL, error = NULL, provider_response = NULL,
        status_reason = CASE WHEN {_mentions("status_reason")} THEN NULL ELSE status_reason END,
        -- Which provider moved to which, and when, stay; why (a provider's words) goes.
        failover_log = CASE WHEN jsonb_typeof(failover_log) = 'array' THEN (
            SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(entry) = 'object'
                                           THEN entry - 'reason' END), '[]')
            FROM jsonb_array_elements(failover_log) entry) END,
        updated_at = now()
    WHERE notification_id = ANY(CAST(:ids AS uuid[]))
""")

_SCRUB_NOTIFICATIONS = text(f"""
    UPDATE notifications SET context = '{{}}', recipient_email = NULL, recipient_phone = NULL,
        status_reason = CASE WHEN {_mentions("status_reason")} THEN NULL ELSE status_reason END,
        idempotency_key = {_erased("idempotency_key")}, workflow_id = {_erased("workflow_id")},
        updated_at = now()
    WHERE id = ANY(CAST(:ids AS uuid[]))
""")

# In-app messages (theirs, and the other party's copies of booking notices: an in-app
# message's id is its delivery's) and the inbox events that carry them.
_DELETE_INBOX = text("""
    WITH gone AS (
        DELETE FROM in_app_messages m
        WHERE m.recipient_id = :r OR m.id IN (
            SELECT d.id FROM deliveries d
            WHERE d.notification_id = ANY(CAST(:ids AS uuid[])) AND d.channel = 'in_app')
        RETURNING m.id, m.recipient_id
    ),
    events AS (
        DELETE FROM inbox_events e
        WHERE e.recipient_id = :r
           OR (e.recipient_id IN (SELECT recipient_id FROM gone)
               AND e.data->'message'->>'id' IN (SELECT id::text FROM gone))
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) AS messages, (SELECT count(*) FROM events) AS events
""")

_WEBHOOK_MESSAGES = text(f"""
    WITH scrubbed AS (
        UPDATE webhook_messages SET payload = jsonb_build_object('type', event_type, 'erased', true)
        WHERE tenant_id = :t AND subject_id IN ({_SUBJECTS})
        RETURNING id
    ),
    answers AS (
        UPDATE webhook_attempts SET response_body = NULL, error = NULL
        WHERE message_id IN (SELECT id FROM scrubbed)
    )
    SELECT count(*) FROM scrubbed
""")

# Addresses another recipient of the tenant holds too: their opt-outs and bounces stay.
_SHARED = text("""
    SELECT DISTINCT lower(btrim(email)) AS email, lower(btrim(phone)) AS phone FROM recipients
    WHERE tenant_id = :t AND id <> :r AND (lower(btrim(email)) = ANY(CAST(:emails AS text[]))
                                         OR lower(btrim(phone)) = ANY(CAST(:phones AS text[])))
""")
_BY_ADDRESS = """(channel = 'email' AND lower(address) = ANY(CAST(:emails AS text[]))
                 OR channel = 'sms' AND lower(address) = ANY(CAST(:phones AS text[])))"""

# Entries naming the person: dashboard changes to the recipient, sends to it, searches for it.
_TARGET_NAMES_THEM = (
    f"(target = 'recipient ' || :external_id OR {_mentions('target', 'addresses')})"
)
_DETAILS_NAME_THEM = (
    f"(strpos(details::text, :quoted) > 0 OR {_mentions('details::text', 'addresses')})"
)
_AUDIT = text(f"""
    UPDATE audit_log SET
        target = CASE WHEN {_TARGET_NAMES_THEM} THEN 'recipient ' || :erased ELSE target END,
        details = CASE WHEN {_DETAILS_NAME_THEM} THEN '{{}}' ELSE details END
    WHERE tenant_id = :t AND ({_TARGET_NAMES_THEM} OR {_DETAILS_NAME_THEM})
""")

_ANONYMOUS = text("""
    UPDATE recipients SET external_id = :erased, name = NULL, email = NULL, phone = NULL,
        timezone = 'UTC', locale = 'en', preference_overrides = '{}', chat_addresses = '{}',
        updated_at = now()
    WHERE id = :r
""")


async def _count(session: AsyncSession, statement: Any, values: dict[str, Any]) -> int:
    """The rows an UPDATE or DELETE changed, or the count a statement's final SELECT gives."""
    result = cast(CursorResult[Any], await session.execute(statement, values))
    return int(result.scalar_one()) if result.returns_rows else int(result.rowcount)


async def scrub(session: AsyncSession, found: Footprint) -> dict[str, int]:
    """Remove what names the person (inside the transaction that locked them: `footprint`
    with `lock`); returns what was removed, counted by kind."""
    r, t = found.recipient_id, found.tenant_id
    ids = found.notification_ids()
    needles = {"needles": found.needles()}
    erased = erased_external_id(r)
    removed = {"notifications_cancelled": await _count(session, _CANCEL_OPEN, {"ids": ids})}
    removed["deliveries"] = await _count(session, _SCRUB_DELIVERIES, {"ids": ids, **needles})
    removed["notifications"] = await _count(session, _SCRUB_NOTIFICATIONS, {"ids": ids, **needles})
    inbox = (await session.execute(_DELETE_INBOX, {"r": r, "ids": ids})).one()
    removed["in_app_messages"], removed["inbox_events"] = inbox.messages, inbox.events
    removed["webhook_messages"] = await _count(session, _WEBHOOK_MESSAGES, {"t": t, "ids": ids})
    own = {"r": r}
    for table in ("devices", "topic_subscriptions"):
        removed[table] = await _count(
            session, text(f"DELETE FROM {table} WHERE recipient_id = :r"), own
        )
    removed["consent_events"] = await _count(
        session,
        text(
            "UPDATE consent_events SET details = '{}' WHERE recipient_id = :r AND details <> '{}'"
        ),
        own,
    )
    removed["bookings"] = await _count(
        session,
        text("DELETE FROM bookings WHERE tenant_id = :t AND id = ANY(CAST(:ids AS text[]))"),
        {"t": t, "ids": found.booking_ids},
    )
    removed |= await _forget_addresses(session, found)
    removed["audit_entries"] = await _count(
        session,
        _AUDIT,
        {
            "t": t,
            "external_id": found.external_id,
            "erased": erased,
            "quoted": json.dumps(found.external_id, ensure_ascii=False),
            "addresses": found.address_needles(),
        },
    )
    removed["templates"] = await _count(
        session,
        text("""UPDATE templates SET owner_id = :erased, deleted_at = coalesce(deleted_at, now())
                WHERE tenant_id = :t AND owner_id = :external_id"""),
        {"t": t, "erased": erased, "external_id": found.external_id},
    )
    await session.execute(_ANONYMOUS, {"r": r, "erased": erased})
    return removed


async def _forget_addresses(session: AsyncSession, found: Footprint) -> dict[str, int]:
    """The suppression list's and invalid addresses' rows of the person's addresses, unless
    another recipient of the tenant holds the address (their opt-out must hold)."""
    values = {"t": found.tenant_id, "r": found.recipient_id}
    shared = (
        await session.execute(_SHARED, values | {"emails": found.emails, "phones": found.phones})
    ).all()
    emails = sorted(set(found.emails) - {row.email for row in shared})
    phones = sorted(set(found.phones) - {row.phone for row in shared})
    by_address = values | {"emails": emails, "phones": phones}
    suppressions = await _count(
        session,
        text(f"DELETE FROM address_suppressions WHERE tenant_id = :t AND {_BY_ADDRESS}"),
        by_address,
    )
    await session.execute(  # the kept ones no longer say whose link they came through
        text("UPDATE address_suppressions SET recipient_id = NULL WHERE recipient_id = :r"),
        values,
    )
    invalid = await _count(
        session,
        text(f"DELETE FROM invalid_addresses WHERE tenant_id = :t AND {_BY_ADDRESS}"),
        by_address,
    )
    return {"suppressions": suppressions, "invalid_addresses": invalid}


async def record_erasure(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    requested_by: str,
    requested_at: datetime,
    removed: dict[str, int],
) -> Erasure:
    """Completed when the transaction that scrubbed the person commits (its time)."""
    statement = (
        insert(Erasure)
        .values(
            tenant_id=tenant_id,
            recipient_id=recipient_id,
            requested_by=requested_by,
            requested_at=requested_at,
            completed_at=func.now(),
            removed=removed,
        )
        .returning(Erasure)
    )
    return (await session.execute(statement)).scalar_one()
