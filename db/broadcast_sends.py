"""A broadcast's batched sends: claim a chunk of a page's pending deliveries, record a chunk's
outcomes. Plain SQL, a few statements per chunk whatever its size (activities/broadcast_sends.py).

The claim is the single send's (db/deliveries.load_and_claim_delivery_job) for many rows at
once: a delivery is claimed by setting send_claimed_until, and only while no other attempt's
claim holds it, so a batch run again after a crash never sends what an earlier run claimed and
may have handed to the provider. Each outcome's statement releases the claim it records."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.deliveries import CLAIMED_UNTIL, JOB_COLUMNS, JOB_JOINS, DeliveryJob, job_from_row
from domain.broadcasts import SendBatchInput
from domain.outcome import overall_status
from domain.types import OPEN_DELIVERY_STATUSES


@dataclass(frozen=True)
class Position:
    """Where a walk through a page's deliveries is: after this recipient's delivery."""

    recipient_id: uuid.UUID
    delivery_id: uuid.UUID


# The pending deliveries of the channel to the broadcast's recipients in (after, through]
# (through ix_notifications_broadcast).
_PENDING_IN_RANGE = """
    FROM notifications n JOIN deliveries d ON d.notification_id = n.id
    WHERE n.broadcast_id = :broadcast_id AND n.tenant_id = :tenant_id
        AND (CAST(:after AS uuid) IS NULL OR n.recipient_id > :after)
        AND (CAST(:through AS uuid) IS NULL OR n.recipient_id <= :through)
        AND d.channel = :channel AND d.status = 'pending'
        AND (d.address IS NOT NULL OR d.channel IN ('push', 'webhook'))
"""

# Those nobody holds, in recipient order from `position`. SKIP LOCKED: a row another batch is
# claiming at this moment is that batch's.
_CLAIM = text(f"""
    WITH candidate AS (
        SELECT d.id {_PENDING_IN_RANGE}
            AND (CAST(:from_recipient AS uuid) IS NULL
                 OR (n.recipient_id, d.id) > (:from_recipient, :from_delivery))
            AND (d.send_claimed_until IS NULL OR d.send_claimed_until < now())
        ORDER BY n.recipient_id, d.id
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    ), d AS (
        UPDATE deliveries SET send_claimed_until = {CLAIMED_UNTIL}
        FROM candidate
        WHERE deliveries.id = candidate.id AND deliveries.status = 'pending'
            AND (deliveries.send_claimed_until IS NULL OR deliveries.send_claimed_until < now())
        RETURNING deliveries.*
    )
    SELECT {JOB_COLUMNS} FROM d {JOB_JOINS}
    ORDER BY n.recipient_id, d.id
""")


async def claim_chunk(
    session: AsyncSession,
    batch: SendBatchInput,
    position: Position | None,
    limit: int,
    lease_seconds: float,
) -> list[DeliveryJob]:
    """Claim up to `limit` of the batch's pending deliveries (its channel, its broadcast's
    recipients in (after, through], through None: to the end) past `position`, in recipient
    order, for `lease_seconds`; their jobs, as a single send reads its own. Fewer than
    `limit`: none are left past the last one (but those other batches hold)."""
    rows = await session.execute(
        _CLAIM,
        _range(batch)
        | {
            "from_recipient": position.recipient_id if position else None,
            "from_delivery": position.delivery_id if position else None,
            "limit": limit,
            "lease_seconds": lease_seconds,
        },
    )
    return [job_from_row(row, claimed=True, claim_held_for=None) for row in rows]


_HELD = text(f"""
    SELECT count(*) AS held,
           greatest(max(extract(epoch FROM d.send_claimed_until - now())), 0) AS longest
    {_PENDING_IN_RANGE} AND d.send_claimed_until >= now()
""")


def _range(batch: SendBatchInput) -> dict[str, Any]:
    return {
        "broadcast_id": batch.broadcast_id,
        "tenant_id": batch.tenant_id,
        "channel": batch.channel,
        "after": batch.after,
        "through": batch.through,
    }


async def held_elsewhere(session: AsyncSession, batch: SendBatchInput) -> tuple[int, float | None]:
    """The batch's pending deliveries another attempt still holds (a batch running, or one
    whose worker died with them claimed), and how long the longest claim has left."""
    row = (await session.execute(_HELD, _range(batch))).one()
    return row.held, None if row.longest is None else float(row.longest)


@dataclass(frozen=True)
class Sent:
    delivery_id: uuid.UUID
    provider: str
    provider_message_id: str | None
    provider_response: dict[str, Any]
    subject: str
    template_version_id: uuid.UUID | None
    failovers: list[dict[str, str | None]]  # [{provider, moved_to, reason}] on the way


@dataclass(frozen=True)
class Unsent:
    """A claimed delivery not sent: failed for good (`final`), left pending for the next sweep
    with its error, or (`error` None) never tried (the batch was cancelled first)."""

    delivery_id: uuid.UUID
    provider: str | None
    error: str | None
    reason: str | None  # the failure's type (domain.send_failures), for a final failure
    final: bool
    provider_response: dict[str, Any]
    failovers: list[dict[str, str | None]]


# A delivery's failover notes, as db/deliveries.append_failover writes one, stamped now.
_FAILOVERS = """coalesce(d.failover_log, '[]'::jsonb) || coalesce((
    SELECT jsonb_agg(note || jsonb_build_object('at', now()))
    FROM jsonb_array_elements(v.failovers) note
), '[]'::jsonb)"""

# The sends a provider accepted. A status a webhook already moved it to stays (as mark_sent).
_RECORD_SENT = text(f"""
    UPDATE deliveries d
    SET status = CASE WHEN d.status = 'pending' THEN 'sent' ELSE d.status END,
        provider = v.provider, provider_message_id = v.message_id,
        provider_response = v.response, subject = v.subject,
        template_version_id = v.template_version_id, error = NULL,
        sent_at = coalesce(d.sent_at, now()), send_claimed_until = NULL,
        failover_log = CASE WHEN jsonb_array_length(v.failovers) = 0 THEN d.failover_log
                            ELSE {_FAILOVERS} END,
        updated_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:providers AS text[]), CAST(:message_ids AS text[]),
                CAST(:responses AS jsonb[]), CAST(:subjects AS text[]),
                CAST(:template_version_ids AS uuid[]), CAST(:failovers AS jsonb[]))
         AS v(id, provider, message_id, response, subject, template_version_id, failovers)
    WHERE d.id = v.id
""")

# The attempts that failed (or never happened): each made counts in retry_count, as a single
# send's failed attempt does; the claim is given back so the next sweep may go at once.
_RECORD_UNSENT = text(f"""
    UPDATE deliveries d
    SET status = CASE WHEN v.final THEN 'failed' ELSE d.status END,
        status_reason = CASE WHEN v.final THEN v.reason ELSE d.status_reason END,
        failed_at = CASE WHEN v.final THEN now() ELSE d.failed_at END,
        provider = coalesce(v.provider, d.provider), error = coalesce(v.error, d.error),
        provider_response = coalesce(v.response, d.provider_response),
        retry_count = d.retry_count + CASE WHEN v.error IS NULL THEN 0 ELSE 1 END,
        send_claimed_until = NULL,
        failover_log = CASE WHEN jsonb_array_length(v.failovers) = 0 THEN d.failover_log
                            ELSE {_FAILOVERS} END,
        updated_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:providers AS text[]), CAST(:errors AS text[]),
                CAST(:reasons AS text[]), CAST(:finals AS boolean[]),
                CAST(:responses AS jsonb[]), CAST(:failovers AS jsonb[]))
         AS v(id, provider, error, reason, final, response, failovers)
    WHERE d.id = v.id AND d.status = 'pending'
""")

# Every channel's newest delivery of each notification a chunk settled something of.
_LATEST = text("""
    SELECT DISTINCT ON (d.notification_id, d.channel) d.notification_id, d.status
    FROM deliveries d WHERE d.notification_id = ANY(CAST(:ids AS uuid[]))
    ORDER BY d.notification_id, d.channel, d.created_at DESC
""")

# The notifications' statuses and the broadcast's counters, in one statement.
_SETTLE = text("""
    WITH settled AS (
        UPDATE notifications n SET status = v.status, updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[])) AS v(id, status)
        WHERE n.id = v.id AND n.status IS DISTINCT FROM v.status
    )
    UPDATE broadcasts SET sent = sent + :sent, failed = failed + :failed
    WHERE id = :broadcast_id AND (:sent > 0 OR :failed > 0)
""")


async def record_chunk(
    session: AsyncSession,
    broadcast_id: uuid.UUID,
    jobs: list[DeliveryJob],
    sent: list[Sent],
    unsent: list[Unsent],
) -> None:
    """A chunk's outcomes in one transaction (the caller's): the sent and unsent deliveries,
    each in one statement; the status of every notification none of whose deliveries is open
    any more (domain.outcome.overall_status); the broadcast's sent and failed counters."""
    if sent:
        await session.execute(
            _RECORD_SENT,
            {
                "ids": [s.delivery_id for s in sent],
                "providers": [s.provider for s in sent],
                "message_ids": [s.provider_message_id for s in sent],
                "responses": [json.dumps(s.provider_response) for s in sent],
                "subjects": [s.subject for s in sent],
                "template_version_ids": [s.template_version_id for s in sent],
                "failovers": [json.dumps(s.failovers) for s in sent],
            },
        )
    if unsent:
        await session.execute(
            _RECORD_UNSENT,
            {
                "ids": [u.delivery_id for u in unsent],
                "providers": [u.provider for u in unsent],
                "errors": [u.error for u in unsent],
                "reasons": [u.reason for u in unsent],
                "finals": [u.final for u in unsent],
                "responses": [json.dumps(u.provider_response) if u.error else None for u in unsent],
                "failovers": [json.dumps(u.failovers) for u in unsent],
            },
        )
    failed = sum(1 for u in unsent if u.final)
    settled_ids = {s.delivery_id for s in sent} | {u.delivery_id for u in unsent if u.final}
    notifications = sorted({j.notification.id for j in jobs if j.delivery.id in settled_ids})
    latest: dict[uuid.UUID, list[str]] = {}
    if notifications:
        for row in await session.execute(_LATEST, {"ids": notifications}):
            latest.setdefault(row.notification_id, []).append(row.status)
    finished = {
        notification_id: overall_status(statuses)
        for notification_id, statuses in latest.items()
        if not OPEN_DELIVERY_STATUSES & set(statuses)
    }
    await session.execute(
        _SETTLE,
        {
            "ids": list(finished),
            "statuses": [str(status) for status in finished.values()],
            "sent": len(sent),
            "failed": failed,
            "broadcast_id": broadcast_id,
        },
    )
