"""The maintenance jobs, run as the Schedules run them: purge, retry failed deliveries, failure
monitor."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from db.booking_models import Booking, FailureAlert, ProcessedEvent
from db.broadcast_models import Broadcast, BroadcastRecipient
from db.maintenance import retryable_failures
from db.models import Delivery, Notification, Recipient, Tenant
from domain.maintenance import FailureMonitorInput, PurgeInput, RetryFailedInput
from temporal_clients.maintenance import ensure_maintenance_schedules, maintenance_schedules
from tests.e2e.bookings_factory import new_address, new_booking_id
from tests.e2e.test_email_smtp import email_request
from workflows.maintenance import (
    FailureRateMonitorWorkflow,
    PurgeLogsWorkflow,
    RetryFailedDeliveriesWorkflow,
)


async def run(stack, workflow, input):
    return await stack.client.execute_workflow(
        workflow, input, id=f"maintenance-test-{uuid.uuid4()}", task_queue=stack.settings.task_queue
    )


async def old_notification(
    sessions, tenant_id, days_old: int, status: str, broadcast_id: uuid.UUID | None = None
) -> uuid.UUID:
    created = datetime.now(UTC) - timedelta(days=days_old)
    notification_id = uuid.uuid4()
    async with sessions.begin() as session:
        recipient_id = await session.scalar(
            insert(Recipient)
            .values(id=uuid.uuid4(), tenant_id=tenant_id, external_id=f"r-{uuid.uuid4()}")
            .returning(Recipient.id)
        )
        await session.execute(
            insert(Notification).values(
                id=notification_id,
                tenant_id=tenant_id,
                recipient_id=recipient_id,
                event_key="payment.completed",
                priority="normal",
                context={},
                idempotency_key=str(notification_id),
                request_digest=b"0" * 32,
                workflow_id=f"w-{notification_id}",
                status=status,
                created_at=created,
                updated_at=created,
                broadcast_id=broadcast_id,
            )
        )
        await session.execute(
            insert(Delivery).values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                notification_id=notification_id,
                channel="email",
                status="sent",
                created_at=created,
            )
        )
    return notification_id


async def test_the_purge_deletes_finished_logs_past_the_retention_in_batches(stack, sessions):
    old = [await old_notification(sessions, stack.tenant_id, 100, "sent") for _ in range(3)]
    recent = await old_notification(sessions, stack.tenant_id, 10, "sent")
    waiting = await old_notification(
        sessions, stack.tenant_id, 100, "scheduled"
    )  # its send_at is still ahead
    async with sessions.begin() as session:
        await session.execute(
            insert(ProcessedEvent).values(
                tenant_id=stack.tenant_id,
                event_id="old-event",
                type="booking.created",
                digest=b"0" * 32,
                received_at=datetime.now(UTC) - timedelta(days=100),
            )
        )

    result = await run(stack, PurgeLogsWorkflow.run, PurgeInput(retention_days=90, batch_size=2))
    assert result.deleted["notifications"] >= 3 and result.deleted["processed_events"] >= 1
    async with sessions() as session:
        left = set(
            await session.scalars(
                select(Notification.id).where(Notification.id.in_([*old, recent, waiting]))
            )
        )
        deliveries = await session.scalar(
            select(Delivery.id).where(Delivery.notification_id.in_(old)).limit(1)
        )
    assert (
        left == {recent, waiting} and deliveries is None
    )  # deliveries went with their notification


async def old_broadcast(
    sessions, tenant_id, status: str, created_days_ago: int, finished_days_ago: int | None
) -> uuid.UUID:
    """A broadcast to three listed recipients, made `created_days_ago`, finished (if it is)
    `finished_days_ago`."""
    now, broadcast_id = datetime.now(UTC), uuid.uuid4()
    created = now - timedelta(days=created_days_ago)
    async with sessions.begin() as session:
        await session.execute(
            insert(Broadcast).values(
                id=broadcast_id,
                tenant_id=tenant_id,
                idempotency_key=str(broadcast_id),
                request_digest=b"0" * 32,
                event_key="newsletter.sent",
                priority="normal",
                audience_kind="recipients",
                workflow_id=f"broadcast-{tenant_id}-{broadcast_id}",
                status=status,
                total=3,
                created_at=created,
                started_at=created,
                finished_at=None
                if finished_days_ago is None
                else now - timedelta(days=finished_days_ago),
            )
        )
        recipients = await session.scalars(
            insert(Recipient).returning(Recipient.id),
            [{"tenant_id": tenant_id, "external_id": f"r-{uuid.uuid4()}"} for _ in range(3)],
        )
        await session.execute(
            insert(BroadcastRecipient),
            [{"broadcast_id": broadcast_id, "recipient_id": r} for r in recipients],
        )
    return broadcast_id


async def test_the_purge_deletes_finished_broadcasts_past_the_retention(stack, sessions):
    old = [
        await old_broadcast(sessions, stack.tenant_id, status, 101, 100)
        for status in ("completed", "cancelled", "failed")
    ]
    running = await old_broadcast(sessions, stack.tenant_id, "running", 100, None)
    paused = await old_broadcast(sessions, stack.tenant_id, "paused", 100, None)
    recent = await old_broadcast(sessions, stack.tenant_id, "completed", 101, 10)
    # The old broadcast's notifications: a sent one goes by age, one still waiting stays, its
    # broadcast gone (whichever purge runs first).
    sent = await old_notification(sessions, stack.tenant_id, 100, "sent", old[0])
    waiting = await old_notification(sessions, stack.tenant_id, 100, "scheduled", old[0])
    kept = await old_notification(sessions, stack.tenant_id, 100, "scheduled", running)

    result = await run(stack, PurgeLogsWorkflow.run, PurgeInput(retention_days=90, batch_size=2))
    assert result.deleted["broadcasts"] >= 3  # one a batch (2 // 100, at least one)
    ours = [*old, running, paused, recent]
    async with sessions() as session:
        left = set(await session.scalars(select(Broadcast.id).where(Broadcast.id.in_(ours))))
        audiences = set(
            await session.scalars(
                select(BroadcastRecipient.broadcast_id).where(
                    BroadcastRecipient.broadcast_id.in_(ours)
                )
            )
        )
        rows = await session.execute(
            select(Notification.id, Notification.broadcast_id).where(
                Notification.id.in_([sent, waiting, kept])
            )
        )
        notifications = {notification: broadcast for notification, broadcast in rows}
    assert left == {running, paused, recent}
    assert audiences == left  # a purged broadcast's listed audience went with it
    assert notifications == {waiting: None, kept: running}


async def test_a_transiently_failed_delivery_is_retried_once_as_a_new_chain(stack, smtp, sessions):
    transient, permanent = new_address(), new_address()
    smtp.refused_addresses[transient] = "451 4.3.0 Mailbox busy"
    smtp.refused_addresses[permanent] = "550 5.1.1 No such user"
    first = (await stack.api.post("/v1/notifications", json=email_request(transient))).json()
    other = (await stack.api.post("/v1/notifications", json=email_request(permanent))).json()
    await stack.wait_for_status(first["id"], "failed")
    await stack.wait_for_status(other["id"], "failed")
    smtp.refused_addresses.clear()  # the mailbox is fine again

    result = await run(stack, RetryFailedDeliveriesWorkflow.run, RetryFailedInput())
    assert result.retried >= 1
    await smtp.wait_for(transient)
    assert smtp.to(permanent) == []  # a permanent failure is not retried
    async with sessions() as session:
        retry = await session.scalar(
            select(Notification).where(
                Notification.idempotency_key == f"retry1-email-{first['id']}"
            )
        )
    assert (retry.event_key, retry.channels, retry.context) == (
        "payment.completed",
        ["email"],
        email_request(transient)["context"],
    )
    await stack.wait_for_status(str(retry.id), "sent")
    again = await run(stack, RetryFailedDeliveriesWorkflow.run, RetryFailedInput())
    assert again.retried == 0 and len(smtp.to(transient)) == 1


async def test_a_failure_rate_over_the_threshold_alerts_once_and_tells_the_operations_contact(
    make_stack, temporal_env, smtp, sessions
):
    async with make_stack(
        temporal_env, failure_rate_threshold=0.001, failure_rate_min_deliveries=2
    ) as stack:
        operations = new_address()
        async with sessions.begin() as session:
            await session.execute(
                update(Tenant)
                .where(Tenant.id == stack.tenant_id)
                .values(operations_email=operations)
            )
        for _ in range(2):
            address = new_address()
            smtp.refused_addresses[address] = "550 5.1.1 No such user"
            failed = (await stack.api.post("/v1/notifications", json=email_request(address))).json()
            await stack.wait_for_status(failed["id"], "failed")

        result = await run(stack, FailureRateMonitorWorkflow.run, FailureMonitorInput())
        assert result.alerts >= 2 and result.notified >= 1  # this tenant, and the email provider
        await smtp.wait_for(operations)
        alerts = (await stack.api.get("/v1/alerts")).json()["data"]
        assert [(a["total"], a["failed"]) for a in alerts] == [(2, 2)]
        health = await stack.health_details()
        assert "email:smtp" in [a["provider"] for a in health["alerts"]]

        again = await run(stack, FailureRateMonitorWorkflow.run, FailureMonitorInput())
        assert again.notified == 0 and len(smtp.to(operations)) == 1  # one alert an hour
        async with sessions() as session:
            rows = await session.scalars(
                select(FailureAlert).where(FailureAlert.tenant_id == stack.tenant_id)
            )
            assert len(list(rows)) == 1


async def test_maintenance_schedules_are_created_once_and_follow_the_settings(stack):
    ids = await ensure_maintenance_schedules(stack.client, stack.settings)
    assert ids == await ensure_maintenance_schedules(stack.client, stack.settings)  # idempotent
    assert len(ids) == 5
    purge = stack.client.get_schedule_handle(f"herald-{stack.settings.task_queue}-purge-logs")
    description = await purge.describe()
    assert description.schedule.action.workflow == "PurgeLogsWorkflow"
    assert description.schedule.action.task_queue == stack.settings.task_queue

    sweep = stack.client.get_schedule_handle(
        f"herald-{stack.settings.task_queue}-stranded-broadcasts"
    )
    assert (await sweep.describe()).schedule.spec.intervals[0].every == timedelta(minutes=2)

    shorter = stack.settings.model_copy(
        update={"log_retention_days": 30, "broadcast_sweep_minutes": 5}
    )
    await ensure_maintenance_schedules(stack.client, shorter)
    [input] = await stack.client.data_converter.decode(
        (await purge.describe()).schedule.action.args, [PurgeInput]
    )
    assert input.retention_days == 30
    assert (await sweep.describe()).schedule.spec.intervals[0].every == timedelta(minutes=5)
    assert set(maintenance_schedules(shorter)) == set(ids)
    for schedule_id in ids:
        await stack.client.get_schedule_handle(
            schedule_id
        ).delete()  # do not let them fire in other tests


async def failed_notice(
    sessions, tenant_id, event_key: str, booking: str, start: datetime
) -> uuid.UUID:
    notification_id = await old_notification(sessions, tenant_id, 0, "failed")
    context = {"booking_id": booking, "start": start.isoformat()}
    async with sessions.begin() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(event_key=event_key, context=context)
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.notification_id == notification_id)
            .values(status="failed", retry_count=4, failed_at=datetime.now(UTC))
        )
    return notification_id


async def test_a_failed_reminder_is_retried_only_while_it_is_still_true(stack, sessions):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    live, cancelled, moved = new_booking_id(), new_booking_id(), new_booking_id()
    async with sessions.begin() as session:
        for booking, status, at in (
            (live, "confirmed", start),
            (cancelled, "cancelled", start),
            (moved, "rescheduled", start + timedelta(hours=2)),
        ):
            await session.execute(
                insert(Booking).values(
                    tenant_id=stack.tenant_id,
                    id=booking,
                    organizer_id="org",
                    start_at=at,
                    end_at=at + timedelta(minutes=30),
                    status=status,
                    payload={},
                    workflow_id="w",
                )
            )
    retried = await failed_notice(sessions, stack.tenant_id, "booking.reminder", live, start)
    stale = await failed_notice(sessions, stack.tenant_id, "booking.reminder", cancelled, start)
    outdated = await failed_notice(sessions, stack.tenant_id, "booking.reminder", moved, start)
    cancellation = await failed_notice(
        sessions, stack.tenant_id, "booking.cancellation", cancelled, start
    )

    async with sessions() as session:
        found = await retryable_failures(session, datetime.now(UTC) - timedelta(minutes=5), 4, 1000)
    ids = {notification.id for _, notification in found}
    assert {retried, cancellation} <= ids and not {stale, outdated} & ids


async def test_failures_that_ended_early_on_the_provider_side_are_retried(stack, sessions):
    start = datetime.now(UTC) + timedelta(days=1)
    circuit = await failed_notice(
        sessions, stack.tenant_id, "payment.completed", new_booking_id(), start
    )
    refused = await failed_notice(
        sessions, stack.tenant_id, "payment.completed", new_booking_id(), start
    )
    async with sessions.begin() as session:
        for notification_id, kind in (
            (circuit, "ProviderUnavailable"),
            (refused, "PermanentSendError"),
        ):
            await session.execute(
                update(Delivery)
                .where(Delivery.notification_id == notification_id)
                .values(retry_count=1, status_reason=kind)
            )
    async with sessions() as session:
        found = await retryable_failures(session, datetime.now(UTC) - timedelta(minutes=5), 4, 1000)
    ids = {notification.id for _, notification in found}
    assert circuit in ids and refused not in ids
