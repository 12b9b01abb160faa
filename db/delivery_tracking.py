"""Applying provider webhook events to deliveries, inside the caller's transaction."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from domain.delivery_status import STAMP_COLUMNS, StatusChange
from domain.provider_events import INBOX, ProviderEvent
from domain.types import DeliveryStatus

# The provider names a send through each webhook's provider is recorded under
# (channels/registry.py: a second Twilio sender number is its own provider).
PROVIDER_NAMES = {
    "twilio": ["twilio", "twilio_secondary"],
    "sendgrid": ["sendgrid"],
    "ses": ["ses"],
    "mailgun": ["mailgun"],
    "vonage": ["vonage"],
    INBOX: ["database"],  # an in-app message's reads and clicks
}
PROVIDER_CHANNELS = {
    "twilio": "sms",
    "vonage": "sms",
    "sendgrid": "email",
    "ses": "email",
    "mailgun": "email",
    INBOX: "in_app",
}


@dataclass(frozen=True)
class TrackedDelivery:
    id: uuid.UUID
    tenant_id: uuid.UUID
    channel: str
    address: str | None
    status: str
    recipient_id: uuid.UUID
    event_key: str
    workflow_id: str | None  # its notification's own; None for a broadcast's (it has none)


# Locked until the transaction ends, so two events of one message apply one after the other.
_SELECT = """
    SELECT d.id, d.tenant_id, d.channel, d.address, d.status,
           n.recipient_id, n.event_key,
           -- a broadcast's notification has no workflow of its own to tell
           CASE WHEN n.broadcast_id IS NULL THEN n.workflow_id END AS workflow_id
    FROM deliveries d JOIN notifications n ON n.id = d.notification_id
    WHERE {match}
    LIMIT 1
    FOR UPDATE OF d
"""
# The delivery id a provider echoes is in every email's Message-ID: an event names it only for
# a delivery this provider sent, or another provider's signed event could move it.
_BY_DELIVERY_ID = text(
    _SELECT.format(
        match="d.id = :delivery_id AND d.channel = :channel AND d.provider = ANY(:providers)"
    )
)
_BY_MESSAGE_ID = text(
    _SELECT.format(match="d.provider = ANY(:providers) AND d.provider_message_id = :message_id")
)


async def lock_delivery(session: AsyncSession, event: ProviderEvent) -> TrackedDelivery | None:
    """The delivery the event is about: by the delivery id the provider echoed, else by the
    provider's message id. None when Herald never sent that message."""
    delivery_id = _uuid(event.delivery_id)
    row = None
    if delivery_id is not None:
        row = (
            await session.execute(
                _BY_DELIVERY_ID,
                {
                    "delivery_id": delivery_id,
                    "channel": PROVIDER_CHANNELS[event.provider],
                    "providers": PROVIDER_NAMES[event.provider],
                },
            )
        ).one_or_none()
    if row is None and event.message_id:
        row = (
            await session.execute(
                _BY_MESSAGE_ID,
                {"providers": PROVIDER_NAMES[event.provider], "message_id": event.message_id},
            )
        ).one_or_none()
    return TrackedDelivery(**row._mapping) if row else None


_FIRST_SIGHTING = text("""
    INSERT INTO seen_provider_events (provider, event_id) VALUES (:provider, :event_id)
    ON CONFLICT DO NOTHING
    RETURNING 1
""")


async def first_sighting(session: AsyncSession, provider: str, event_id: str) -> bool:
    """Record the event id; False when it was recorded before (a redelivered event).

    A concurrent transaction holding the same id makes this wait for its outcome, so two
    deliveries of one batch at once still apply each event once."""
    return (
        await session.scalar(_FIRST_SIGHTING, {"provider": provider, "event_id": event_id})
        is not None
    )


_STAMPS = frozenset(STAMP_COLUMNS.values())


async def record_change(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    change: StatusChange,
    occurred_at: datetime,
    error: str | None,
    provider_response: dict[str, Any],
) -> None:
    """Write what `apply_report` decided: the status, the stage's first timestamp, the
    failure's explanation, and the provider's report as the latest provider response."""
    if change.stamp not in _STAMPS:
        raise ValueError(f"not a timestamp column: {change.stamp!r}")
    statement = text(f"""
        UPDATE deliveries
        SET status = :status,
            {change.stamp} = coalesce({change.stamp}, :occurred_at),
            error = coalesce(:error, error),
            provider_response = :provider_response,
            updated_at = now()
        WHERE id = :delivery_id
    """).bindparams(bindparam("provider_response", type_=JSONB))
    await session.execute(
        statement,
        {
            "delivery_id": delivery_id,
            "status": str(change.status),
            "occurred_at": occurred_at,
            "error": error,
            "provider_response": provider_response,
        },
    )


@dataclass(frozen=True)
class ReportedDelivery:
    """A delivery one report was recorded on (record_report_on_many)."""

    id: uuid.UUID
    status: str  # after the report
    moved: bool  # the status changed
    workflow_id: str | None  # its notification's own; None for a broadcast's (it has none)
    notification_status: str


async def record_report_on_many(
    session: AsyncSession,
    delivery_ids: list[uuid.UUID],
    channel: str,
    changes: Mapping[DeliveryStatus, StatusChange],
    occurred_at: datetime,
    provider_response: dict[str, Any],
) -> list[ReportedDelivery]:
    """One report on many deliveries of a channel, in one statement: what `record_change`
    writes for each, as `changes` (domain.delivery_status.report_on_each_status) decides by the
    delivery's status; a delivery in a status it leaves out is not touched. Returns the
    deliveries recorded on.

    The rows are locked in id order first, so two bulk reports at once (a recipient's two tabs
    both marking everything read) take turns instead of deadlocking."""
    stamps = {change.stamp for change in changes.values()}
    if len(stamps) != 1 or not stamps <= _STAMPS:
        raise ValueError(f"one report dates one timestamp column, not {stamps!r}")
    [stamp] = stamps
    before, after = zip(*((s, c.status) for s, c in changes.items()), strict=True)
    statement = text(f"""
        WITH target AS (
            SELECT id, status FROM deliveries
            WHERE id = ANY(:ids) AND channel = :channel
            ORDER BY id
            FOR UPDATE
        )
        UPDATE deliveries d
        SET status = rule.after,
            {stamp} = coalesce(d.{stamp}, :occurred_at),
            provider_response = :provider_response,
            updated_at = now()
        FROM target,
             unnest(CAST(:before AS text[]), CAST(:after AS text[])) AS rule(before, after),
             notifications n
        WHERE d.id = target.id AND rule.before = target.status AND n.id = d.notification_id
        RETURNING d.id, rule.after AS status, rule.before <> rule.after AS moved,
                  CASE WHEN n.broadcast_id IS NULL THEN n.workflow_id END AS workflow_id,
                  n.status AS notification_status
    """).bindparams(bindparam("provider_response", type_=JSONB))
    rows = await session.execute(
        statement,
        {
            "ids": delivery_ids,
            "channel": channel,
            "before": [str(s) for s in before],
            "after": [str(s) for s in after],
            "occurred_at": occurred_at,
            "provider_response": provider_response,
        },
    )
    return sorted((ReportedDelivery(**row._mapping) for row in rows), key=lambda d: d.id)


_RECORDED_STATUS = text("SELECT status FROM deliveries WHERE id = :id AND tenant_id = :tenant_id")


async def recorded_status(
    session: AsyncSession, delivery_id: uuid.UUID, tenant_id: uuid.UUID
) -> str | None:
    """The delivery's status as recorded; None if the tenant has no such delivery."""
    status: str | None = await session.scalar(
        _RECORDED_STATUS, {"id": delivery_id, "tenant_id": tenant_id}
    )
    return status


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
