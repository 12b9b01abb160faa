"""Activities of the maintenance Schedules: purge old logs, retry failed deliveries, watch
failure rates, refresh the statistics' daily rollup, start stranded broadcasts."""

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from config.settings import Settings
from db import maintenance as store
from db.recipients import upsert_recipient
from domain.contacts import address_external_id
from domain.maintenance import (
    DailyStatsInput,
    DailyStatsResult,
    FailureMonitorInput,
    FailureMonitorResult,
    PurgeCutoffs,
    PurgeInput,
    PurgeResult,
    RetryFailedInput,
    RetryFailedResult,
    StrandedBroadcastsInput,
    StrandedBroadcastsResult,
    hour_of,
    over_threshold,
    retry_key,
)
from domain.types import Channel, Priority
from services.daily_stats import refresh_daily_stats
from services.new_notifications import NewNotification, accept, idempotency_key_digest
from services.stranded_broadcasts import restart_stranded_broadcasts

ALERT_EVENT_KEY = "operations.failure_rate"


class MaintenanceActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings):
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="purge_logs")
    async def purge_logs(self, input: PurgeInput) -> PurgeResult:
        cutoffs = PurgeCutoffs.of(input, _now())
        deleted = {}
        for table in store.PURGED_TABLES:
            deleted[table] = 0
            batch_size = store.purge_batch_size(table, input.batch_size)
            for _ in range(input.max_batches):
                async with self._sessions.begin() as session:  # one short transaction per batch
                    count = await store.purge_batch(session, table, cutoffs, batch_size)
                deleted[table] += count
                activity.heartbeat(table, deleted[table])
                if count < batch_size:
                    break
        return PurgeResult(deleted)

    @activity.defn(name="refresh_daily_stats")
    async def refresh_daily_stats(self, input: DailyStatsInput) -> DailyStatsResult:
        return await refresh_daily_stats(
            self._sessions,
            _now().date(),
            input,
            computed=lambda day: activity.heartbeat(day.isoformat()),
        )

    @activity.defn(name="restart_stranded_broadcasts")
    async def restart_stranded_broadcasts(
        self, input: StrandedBroadcastsInput
    ) -> StrandedBroadcastsResult:
        return await restart_stranded_broadcasts(
            self._sessions, activity.client(), self._settings, input, _now()
        )

    @activity.defn(name="retry_failed_deliveries")
    async def retry_failed_deliveries(self, input: RetryFailedInput) -> RetryFailedResult:
        """Each transiently failed delivery gets a new notification for its channel (a new
        chain, with a key derived from the first notification), up to the retry budget."""
        since = _now() - timedelta(minutes=input.window_minutes)
        retried = exhausted = 0
        async with self._sessions() as session:
            failures = await store.retryable_failures(
                session, since, self._settings.delivery_max_attempts, input.limit
            )
        for delivery, notification in failures:
            key = retry_key(
                notification.idempotency_key,
                str(notification.id),
                delivery.channel,
                self._settings.failed_delivery_retries,
            )
            if key is None:
                exhausted += 1
                continue
            retried += await self._send(
                notification.tenant_id,
                notification.recipient_id,
                key,
                event_key=notification.event_key,
                priority=notification.priority,
                channels=[delivery.channel],
                context=notification.context,
            )
        return RetryFailedResult(retried, exhausted)

    @activity.defn(name="check_failure_rates")
    async def check_failure_rates(self, input: FailureMonitorInput) -> FailureMonitorResult:
        """Alert per tenant and per provider (all tenants' deliveries on one channel); a
        tenant's alert also goes to its operations contact."""
        now = _now()
        async with self._sessions() as session:
            counts = await store.failure_counts(
                session, now - timedelta(minutes=input.window_minutes)
            )
        by_subject: dict[tuple[str, str, uuid.UUID | None], list[int]] = defaultdict(lambda: [0, 0])
        for count in counts:
            for key in (
                ("tenant", str(count.tenant_id), count.tenant_id),
                ("provider", self._provider(count.channel, count.provider), None),
            ):
                by_subject[key][0] += count.total
                by_subject[key][1] += count.failed
        alerts = notified = 0
        for (scope, subject, tenant_id), (total, failed) in by_subject.items():
            if not over_threshold(
                total,
                failed,
                self._settings.failure_rate_threshold,
                self._settings.failure_rate_min_deliveries,
            ):
                continue
            async with self._sessions.begin() as session:
                alert = await store.open_alert(
                    session,
                    dict(
                        tenant_id=tenant_id,
                        scope=scope,
                        subject=subject,
                        window_start=hour_of(now),
                        total=total,
                        failed=failed,
                        rate=failed / total,
                    ),
                )
                contact = await store.operations_contact(session, tenant_id) if tenant_id else None
            alerts += 1
            if contact and alert.notified_at is None:
                # Keyed by the alert: a retry after a crash here sends the same notification once.
                await self._alert_contact(tenant_id, contact, alert, input.window_minutes)
                async with self._sessions.begin() as session:
                    await store.mark_notified(session, alert.id)
                notified += 1
        return FailureMonitorResult(alerts, notified)

    async def _alert_contact(self, tenant_id, address: str, alert, minutes: int) -> None:
        total, failed = alert.total, alert.failed
        async with self._sessions.begin() as session:
            recipient = await upsert_recipient(
                session, tenant_id, address_external_id(address, None), {"email": address}
            )
        rate = f"{failed / total:.0%}"
        await self._send(
            tenant_id,
            recipient.id,
            f"failure-alert-{alert.id}",
            event_key=ALERT_EVENT_KEY,
            priority=Priority.HIGH,
            channels=[Channel.EMAIL],
            context={
                "subject": f"Herald: {rate} of notifications failed in the last {minutes} minutes",
                "message": f"{failed} of {total} deliveries failed in the last {minutes} minutes "
                f"(alert threshold {self._settings.failure_rate_threshold:.0%}). "
                "See GET /v1/logs?status=failed.",
                "failed": failed,
                "total": total,
            },
        )

    async def _send(
        self, tenant_id: uuid.UUID, recipient_id: uuid.UUID, key: str, **fields: Any
    ) -> bool:
        """Accept the notification exactly as the API does; False when a previous run made it
        already (its workflow is started again, which is harmless: starts are idempotent)."""
        async with self._sessions() as session:
            accepted = await accept(
                session,
                activity.client(),
                self._settings,
                NewNotification(
                    tenant_id=tenant_id,
                    recipient_id=recipient_id,
                    idempotency_key=key,
                    request_digest=idempotency_key_digest(key),
                    **fields,
                ),
            )
        return not accepted.replayed

    def _provider(self, channel: str, provider: str | None) -> str:
        """`email:smtp`: the provider that failed, else the one configured for the channel."""
        configured: dict[str, str] = {
            Channel.EMAIL: self._settings.resolved_email_provider,
            Channel.SMS: self._settings.resolved_sms_provider,
        }
        return f"{channel}:{provider or configured.get(channel, 'database')}"


def _now() -> datetime:
    return datetime.now(UTC)
