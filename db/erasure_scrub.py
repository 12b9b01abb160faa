"""Removing what names an erased recipient (services/erasure.py), in the transaction that
locked them (db/erasure.footprint with `lock`): the rows statistics count (the recipient, its
notifications and deliveries) stay, anonymous; the rest goes. Their addresses and external id
are also looked for in free text (idempotency keys, workflow ids, reasons, audit entries)."""

import json
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.erasure import SUBJECTS_SQL, UNFINISHED_SQL, Footprint, erased_external_id
from domain.types import DeliveryStatus, NotificationStatus


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
        WHERE id = ANY(CAST(:ids AS uuid[])) AND status IN ({UNFINISHED_SQL})
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
        WHERE tenant_id = :t AND subject_id IN ({SUBJECTS_SQL})
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

# An organizer's own templates (their words, their signature): deleted, their versions'
# content emptied; the rows stay for the deliveries and statistics that name a version.
_EMPTY = """subject = NULL, html_body = NULL, text_body = NULL, body = NULL, action_url = NULL,
    icon = NULL, required_placeholders = '[]', fallbacks = '{}', name = 'erased'"""
_TEMPLATES = text(f"""
    WITH theirs AS (
        UPDATE templates SET owner_id = :erased, deleted_at = coalesce(deleted_at, now()),
            updated_at = now(), {_EMPTY}
        WHERE tenant_id = :t AND owner_id = :external_id
        RETURNING id
    ),
    versions AS (
        UPDATE template_versions SET {_EMPTY} WHERE template_id IN (SELECT id FROM theirs)
    )
    SELECT count(*) FROM theirs
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
        session, _TEMPLATES, {"t": t, "erased": erased, "external_id": found.external_id}
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
