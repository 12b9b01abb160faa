"""Queries of the maintenance jobs: batched purges, failure counts, alerts."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, DateTime, and_, cast, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.booking_models import Booking, FailureAlert, ProcessedEvent
from db.broadcast_models import Broadcast
from db.daily_stats_models import DailyStatsDay
from db.inbox_models import InboxEvent
from db.integration_models import WebhookMessage
from db.models import Delivery, InAppMessage, Notification, Tenant
from db.operator_models import LoginAttempt, OperatorInvitation, OperatorSession, PasswordReset
from db.tracking_models import SeenProviderEvent
from domain.booking_contracts import BookingStatus
from domain.booking_notices import REMINDER
from domain.broadcasts import FINISHED_BROADCAST_STATUSES, MAX_LISTED_RECIPIENTS
from domain.maintenance import PurgeCutoffs
from domain.send_failures import ATTEMPT_TIMED_OUT, SendFailure
from domain.types import FAILED_DELIVERY_STATUSES, DeliveryStatus, NotificationStatus

FINISHED_NOTIFICATIONS = (
    NotificationStatus.SENT,
    NotificationStatus.PARTIALLY_FAILED,
    NotificationStatus.FAILED,
    NotificationStatus.SUPPRESSED,
    NotificationStatus.DIGESTED,
    NotificationStatus.CANCELLED,
)
FAILED = tuple(FAILED_DELIVERY_STATUSES)
# Failures a later try may overcome: not a refusal of Herald (credentials stay wrong until fixed).
PROVIDER_SIDE_FAILURES = (
    SendFailure.TRANSIENT,
    SendFailure.PROVIDER_UNAVAILABLE,
    ATTEMPT_TIMED_OUT,
)
ATTEMPTED = (
    *FAILED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.OPENED,
    DeliveryStatus.CLICKED,
)


def _purges(cutoffs: PurgeCutoffs) -> dict[str, tuple]:
    """Per purge: the table's key columns and which rows are old enough to go. A notification
    takes its deliveries and in-app message with it (ON DELETE CASCADE); one still waiting
    stays."""
    cutoff = cutoffs.logs
    return {
        # First: the statistics' daily rollup of the days this purge may thin out (the day of
        # the cutoff and before), so they are counted from what their deliveries keep, as the
        # rollup's refresh leaves them (domain/daily_stats.days_to_refresh). A day's counts go
        # with it.
        "daily_stats_days": (
            (DailyStatsDay.day,),
            (DailyStatsDay.day <= cutoff.date(),),  # cutoffs are UTC times
        ),
        "notifications": (
            (Notification.id,),
            (Notification.created_at < cutoff, Notification.status.in_(FINISHED_NOTIFICATIONS)),
        ),
        # A finished broadcast, with its listed audience (broadcast_recipients, ON DELETE
        # CASCADE). Either order would do: its notifications go by their own age and status
        # whether or not it exists. After them, though, those are gone already (created before
        # it finished), so notifications.broadcast_id's ON DELETE SET NULL has next to nothing
        # to update: only one not finished, which stays. Paused ones stay, and topics
        # (configuration).
        "broadcasts": (
            (Broadcast.id,),
            (
                Broadcast.finished_at < cutoff,
                Broadcast.status.in_(tuple(FINISHED_BROADCAST_STATUSES)),
            ),
        ),
        "processed_events": (
            (ProcessedEvent.tenant_id, ProcessedEvent.event_id),
            (ProcessedEvent.received_at < cutoff,),
        ),
        "bookings": ((Booking.tenant_id, Booking.id), (Booking.end_at < cutoff,)),
        "failure_alerts": ((FailureAlert.id,), (FailureAlert.created_at < cutoff,)),
        # Status webhooks' messages once settled (their attempts go with them); a pending one
        # stays until its workflow settles it.
        "webhook_messages": (
            (WebhookMessage.id,),
            (WebhookMessage.created_at < cutoff, WebhookMessage.status != "pending"),
        ),
        # Providers retry an event batch for days, not months: the retention is ample.
        "seen_provider_events": (
            (SeenProviderEvent.provider, SeenProviderEvent.event_id),
            (SeenProviderEvent.received_at < cutoff,),
        ),
        # The dashboard's access: sign-in attempts (the limits read the last 15 minutes),
        # sessions (none lasts more than 7 days), invitations and password resets (a week at
        # most). The audit log stays.
        "login_attempts": ((LoginAttempt.id,), (LoginAttempt.at < cutoff,)),
        "operator_sessions": ((OperatorSession.id,), (OperatorSession.created_at < cutoff,)),
        "operator_invitations": (
            (OperatorInvitation.id,),
            (OperatorInvitation.created_at < cutoff,),
        ),
        "password_resets": ((PasswordReset.id,), (PasswordReset.created_at < cutoff,)),
        # The inbox's event log. Each recipient's inbox_cursors row stays, so the numbering
        # goes on where it was: a stream resuming from a purged number is told to refetch.
        "inbox_events": (
            (InboxEvent.recipient_id, InboxEvent.seq),
            (InboxEvent.created_at < cutoffs.inbox_events,),
        ),
        # Hidden from the feed since they expired; kept a grace for clocks that disagree.
        "expired_inbox_messages": (
            (InAppMessage.id,),
            (InAppMessage.expires_at < cutoffs.expired_messages,),
        ),
        # Done with: read, and archived long enough ago. Unread ones stay with their
        # notification.
        "archived_inbox_messages": (
            (InAppMessage.id,),
            (
                InAppMessage.read_at.is_not(None),
                InAppMessage.archived_at < cutoffs.archived_messages,
            ),
        ),
    }


# The purges' names, in the order a run takes them.
PURGED_TABLES = tuple(_purges(PurgeCutoffs(datetime.min, datetime.min, datetime.min, datetime.min)))

# A purge whose rows take many others with them deletes fewer per batch, so a batch's
# transaction stays short: a broadcast's listed audience is up to MAX_LISTED_RECIPIENTS rows.
# (PurgeInput's 1,000 a batch: 10 broadcasts, at most 100,000 of their recipients' rows.)
BATCH_DIVISORS = {"broadcasts": MAX_LISTED_RECIPIENTS // 100}


def purge_batch_size(table: str, batch_size: int) -> int:
    """The rows one batch of `table`'s purge deletes at most (PurgeInput.batch_size, less for
    the purges in BATCH_DIVISORS)."""
    return max(1, batch_size // BATCH_DIVISORS.get(table, 1))


async def purge_batch(
    session: AsyncSession, table: str, cutoffs: PurgeCutoffs, batch_size: int
) -> int:
    """Delete at most `batch_size` old rows: DELETE ... WHERE key IN (SELECT ... LIMIT n), so
    each transaction is short and locks only the rows it deletes."""
    keys, conditions = _purges(cutoffs)[table]
    key = keys[0] if len(keys) == 1 else tuple_(*keys)
    model = keys[0].class_
    result = await session.execute(
        delete(model).where(key.in_(select(*keys).where(*conditions).limit(batch_size)))
    )
    # A DELETE's result is a CursorResult, the one that counts rows; `execute` is typed for any
    # statement.
    if not isinstance(result, CursorResult):
        raise TypeError(f"a DELETE returned a {type(result).__name__}, not a CursorResult")
    return result.rowcount


@dataclass
class FailureCount:
    tenant_id: uuid.UUID
    channel: str
    provider: str | None  # None: it failed before any provider took it
    total: int
    failed: int


async def failure_counts(session: AsyncSession, since: datetime) -> list[FailureCount]:
    """Attempted deliveries since `since`, per tenant, channel and provider. Walking tenant by
    tenant lets PostgreSQL use the (tenant_id, created_at) index of deliveries."""
    rows = await session.execute(
        select(
            Delivery.tenant_id,
            Delivery.channel,
            Delivery.provider,
            func.count().label("total"),
            func.count().filter(Delivery.status.in_(FAILED)).label("failed"),
        )
        .where(
            Delivery.tenant_id.in_(select(Tenant.id)),
            Delivery.created_at >= since,
            Delivery.status.in_(ATTEMPTED),
        )
        .group_by(Delivery.tenant_id, Delivery.channel, Delivery.provider)
    )
    return [FailureCount(**row._mapping) for row in rows.all()]


async def open_alert(session: AsyncSession, values: dict[str, Any]) -> FailureAlert:
    """This hour's alert for the subject: the one already recorded, else a new one."""
    await session.execute(
        insert(FailureAlert)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(
            index_elements=[FailureAlert.scope, FailureAlert.subject, FailureAlert.window_start]
        )
    )
    alert = await session.scalar(
        select(FailureAlert).where(
            FailureAlert.scope == values["scope"],
            FailureAlert.subject == values["subject"],
            FailureAlert.window_start == values["window_start"],
        )
    )
    if alert is None:  # the insert above wrote it, or found it there
        raise LookupError(f"no {values['scope']} alert for {values['subject']} after writing one")
    return alert


async def mark_notified(session: AsyncSession, alert_id: uuid.UUID) -> None:
    await session.execute(
        update(FailureAlert).where(FailureAlert.id == alert_id).values(notified_at=func.now())
    )


async def recent_alerts(
    session: AsyncSession,
    since: datetime,
    *,
    tenant_id: uuid.UUID | None = None,
    scope: str | None = None,
) -> list[FailureAlert]:
    query = select(FailureAlert).where(FailureAlert.created_at >= since)
    if tenant_id is not None:
        query = query.where(FailureAlert.tenant_id == tenant_id)
    if scope is not None:
        query = query.where(FailureAlert.scope == scope)
    return list(await session.scalars(query.order_by(FailureAlert.created_at.desc()).limit(100)))


async def retryable_failures(
    session: AsyncSession, since: datetime, max_attempts: int, limit: int
) -> list[tuple[Delivery, Notification]]:
    """Deliveries that failed since `since` for transient reasons: after using every attempt
    (a permanent failure stops at the attempt it happens on), or on a provider-side failure. A
    booking reminder only while it is still true: its booking live, not moved, not yet started."""
    reminder_still_true = and_(
        Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.RESCHEDULED)),
        Booking.start_at > func.now(),
        Booking.start_at == cast(Notification.context["start"].astext, DateTime(timezone=True)),
    )
    rows = await session.execute(
        select(Delivery, Notification)
        .join(Notification, Notification.id == Delivery.notification_id)
        .outerjoin(
            Booking,
            and_(
                Booking.tenant_id == Notification.tenant_id,
                Booking.id == Notification.context["booking_id"].astext,
            ),
        )
        .where(
            Delivery.status == DeliveryStatus.FAILED,
            Delivery.failed_at >= since,
            # Ended on a provider-side failure (retries spent in the retry window, an open
            # circuit, a timeout) that the workflow recorded as the failure's type; or, with
            # DELIVERY_MAX_ATTEMPTS set (0: no limit), used every attempt.
            or_(
                Delivery.status_reason.in_(PROVIDER_SIDE_FAILURES),
                *([Delivery.retry_count >= max_attempts] if max_attempts else []),
            ),
            or_(Notification.event_key != REMINDER, reminder_still_true),
        )
        .order_by(Delivery.failed_at)
        .limit(limit)
    )
    return [(delivery, notification) for delivery, notification in rows.all()]


async def operations_contact(session: AsyncSession, tenant_id: uuid.UUID) -> str | None:
    """Where the tenant wants its failure-rate alerts emailed, if anywhere."""
    return await session.scalar(select(Tenant.operations_email).where(Tenant.id == tenant_id))
