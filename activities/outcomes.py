"""What the notification workflow records as it goes (run as local activities): a move to the
next provider (`record_failover`), and at the end what it decided (`record_outcome`)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.bookkeeping import bookkeeping_step
from db import deliveries as store
from db import policy_store
from db.notifications import fail_channels_never_planned
from db.session import autocommit
from domain.contracts import FailoverInput, RecordOutcomeInput
from domain.outcome import DECIDED_ENDS, overall_status
from domain.types import DeliveryStatus


class OutcomeActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions

    @activity.defn(name="record_failover")
    @bookkeeping_step
    async def record_failover(self, input: FailoverInput) -> None:
        """Note on the delivery which provider it left, for which, and why."""
        async with self._sessions.begin() as session:
            await store.append_failover(
                session, input.delivery_id, input.from_provider, input.to_provider, input.reason
            )

    @activity.defn(name="record_outcome")
    @bookkeeping_step
    async def record_outcome(self, input: RecordOutcomeInput) -> None:
        """Record failures, cancellations, given-back slots and the notification's status
        (with its reason, when a bookkeeping step failed for good)."""
        ended = [c for c in input.channels if c.status in DECIDED_ENDS]
        if not ended and not input.release_slots and input.notification_status and not input.reason:
            # The usual end, every channel sent: one UPDATE, which needs no transaction around it.
            async with autocommit(self._sessions) as session:
                await store.set_notification_status(
                    session, input.notification_id, input.notification_status, input.reason
                )
            return
        async with self._sessions.begin() as session:
            for channel in ended:
                await store.update_delivery(
                    session,
                    channel.delivery_id,
                    only_if_open=True,
                    status=channel.status,
                    status_reason=channel.reason,
                    **(
                        {"error": channel.error, "failed_at": store.now()}
                        if channel.status == DeliveryStatus.FAILED
                        else {}
                    ),
                )
            if input.release_slots:
                loaded = await store.load_notification_context(
                    session, input.notification_id, input.tenant_id
                )
                if loaded is not None:
                    for slot in input.release_slots:
                        await policy_store.give_back_slot(
                            session, loaded.recipient.id, slot.kind, slot.window_start
                        )
            if input.reason:  # a bookkeeping step failed for good: show it per channel too
                await fail_channels_never_planned(session, input.notification_id, input.reason)
            status = input.notification_status or await _status_from_latest_deliveries(
                session, input.notification_id
            )
            await store.set_notification_status(
                session, input.notification_id, status, input.reason
            )


async def _status_from_latest_deliveries(session: AsyncSession, notification_id: uuid.UUID) -> str:
    """After a resend, each channel counts with its newest attempt chain."""
    return overall_status(await store.latest_statuses(session, notification_id))
