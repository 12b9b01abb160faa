"""Bookkeeping activities of the notification workflow (run as local activities)."""

import uuid

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import deliveries as store
from domain.channel_selection import missing_address_reason, opt_out_reason, requested_channels
from domain.contracts import ChannelState, PrepareInput, PrepareResult, RecordOutcomeInput
from domain.preferences import effective_preferences
from domain.types import DeliveryStatus, NotificationStatus


class PlanningActivities:
    def __init__(self, sessions: async_sessionmaker):
        self._sessions = sessions

    @activity.defn(name="prepare_notification")
    async def prepare_notification(self, input: PrepareInput) -> PrepareResult:
        """Decide each channel (pending or suppressed, with why) and write one delivery row per channel."""
        notification_id = uuid.UUID(input.notification_id)
        async with self._sessions.begin() as session:
            loaded = await store.load_notification_context(
                session, notification_id, uuid.UUID(input.tenant_id)
            )
            if loaded is None:
                raise ApplicationError("notification not found", type="DeliveryNotFound", non_retryable=True)
            if loaded.deliveries:  # a retry of this step after it committed: return what it decided
                return PrepareResult([_state(d) for d in loaded.deliveries])
            notification, recipient = loaded.notification, loaded.recipient
            prefs = effective_preferences(loaded.preference_defaults, recipient.preference_overrides)
            rows = []
            for channel in requested_channels(notification.channels, prefs):
                reason = opt_out_reason(channel, notification.event_key, prefs) or missing_address_reason(
                    channel, recipient.email, recipient.phone
                )
                rows.append(
                    dict(
                        id=store.delivery_id_for(notification_id, channel),
                        tenant_id=notification.tenant_id,
                        notification_id=notification_id,
                        channel=channel,
                        address={"email": recipient.email, "sms": recipient.phone}.get(channel),
                        status=DeliveryStatus.SUPPRESSED if reason else DeliveryStatus.PENDING,
                        status_reason=reason,
                    )
                )
            await store.insert_deliveries(session, rows)
            await store.set_notification_status(session, notification_id, _status_after_plan(notification, rows))
        return PrepareResult(
            [ChannelState(str(r["id"]), r["channel"], r["status"], r["status_reason"]) for r in rows]
        )

    @activity.defn(name="record_outcome")
    async def record_outcome(self, input: RecordOutcomeInput) -> None:
        """Record what the workflow decided: failures, cancellations and the notification's status."""
        async with self._sessions.begin() as session:
            for channel in input.channels:
                if channel.status == DeliveryStatus.FAILED:
                    await store.update_delivery(
                        session,
                        uuid.UUID(channel.delivery_id),
                        only_if_open=True,
                        status=DeliveryStatus.FAILED,
                        error=channel.error,
                        failed_at=store.now(),
                    )
                elif channel.status == DeliveryStatus.CANCELLED:
                    await store.update_delivery(
                        session,
                        uuid.UUID(channel.delivery_id),
                        only_if_open=True,
                        status=DeliveryStatus.CANCELLED,
                        status_reason=channel.reason,
                    )
            await store.set_notification_status(
                session, uuid.UUID(input.notification_id), input.notification_status
            )


def _status_after_plan(notification, rows: list[dict]) -> NotificationStatus:
    if not any(r["status"] == DeliveryStatus.PENDING for r in rows):
        return NotificationStatus.SUPPRESSED
    if notification.send_at and notification.send_at > store.now():
        return NotificationStatus.SCHEDULED
    return NotificationStatus.SENDING


def _state(delivery) -> ChannelState:
    return ChannelState(str(delivery.id), delivery.channel, delivery.status, delivery.status_reason, delivery.error)
